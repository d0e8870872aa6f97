//! Tests of the projects work.
