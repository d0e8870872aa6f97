//! TimeSync: a time-tracking REST API server implementing the OSU Open
//! Source Lab's TimeSync API v0.
//!
//! Layers, each depending only on the one below: `http` (routes,
//! extractors, error mapping) → `domain` (validation, permissions,
//! revisions) → `storage` (one query layer for SQLite, PostgreSQL and
//! MySQL/MariaDB).

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod monitoring;
pub mod preflight;
pub mod progress;
pub mod seed;
pub mod storage;
pub mod telemetry;
pub mod transfer;
pub mod web;
