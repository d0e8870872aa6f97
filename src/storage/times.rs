//! Placeholder: filled in by the times work.
