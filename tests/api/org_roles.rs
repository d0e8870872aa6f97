//! Tests of the org_roles work.
