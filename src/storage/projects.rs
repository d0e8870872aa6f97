//! Placeholder: filled in by the projects work.
