//! Tests of the times work.
