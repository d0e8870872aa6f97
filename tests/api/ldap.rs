//! Tests of the ldap work.
