//! Tests of the foundation work.
