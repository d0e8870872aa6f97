//! Placeholder: filled in by the activities work.
