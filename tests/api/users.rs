//! Tests of the users work.
