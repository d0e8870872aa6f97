//! Placeholder: filled in by the org_roles work.
