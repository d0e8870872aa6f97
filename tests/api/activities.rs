//! Tests of the activities work.
