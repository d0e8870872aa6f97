//! Time entries: the list and its filters, visibility, validation of new
//! and updated times, revisions, and deletion.
//!
//! Visibility (DECISIONS.md): a caller sees their own times, the times of
//! projects where they are spectator or manager, and every time when they
//! are a site spectator, manager or admin. The list applies this inside
//! the query, so counts and pages hold only visible times.
//!
//! Split by concern: `query` (the list, its filters, one time), `view`
//! (how a time is shown, rendered in batches), `stream` (the list read
//! batch by batch, for streaming), `input` (reading a time object) and
//! `commands` (create, update, delete).

mod commands;
mod input;
mod query;
pub(crate) mod references;
mod stream;
mod view;

pub use commands::{create, delete, update};
pub use input::SPECS;
pub(crate) use query::resolve_filter;
pub use query::{count, get, list, PageCache, TimeQuery};
pub use stream::{export_times, TimeExport};
pub(crate) use view::render;
pub use view::TimeView;
