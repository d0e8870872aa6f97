//! The times list read as a stream (the JSON and CSV streaming of
//! `GET /times`): batch by batch in list order, inside one snapshot.

use super::query::{resolve_filter, TimeQuery};
use super::view::{render_with_activities, TimeView};
use crate::domain::{Caller, Page};
use crate::error::Result;
use crate::storage::reports::{self as store, Cursor};
use crate::storage::times::TimeFilter;
use crate::storage::{Catalogue, Db, Snapshot};

/// Times per export batch: one keyset query (the times with their
/// activities) per batch, and one for parents when asked.
pub const EXPORT_BATCH: u64 = 1_000;

/// The times of an export, read batch by batch in list order inside one
/// `Snapshot`, so a time edited during the export shows once, as it was
/// when the export began.
pub struct TimeExport {
    tx: Snapshot,
    /// Usernames and slugs to show, as the export began.
    catalogue: Catalogue,
    filter: TimeFilter,
    cursor: Cursor,
    /// Rows still to give (`None`: all).
    remaining: Option<u64>,
    /// Render each time with its `parents` (`include_revisions`).
    with_parents: bool,
}

/// Starts the export of the times `query` selects for `caller`; bad
/// filters fail here, before anything is sent. `with_parents` renders each
/// time with its older revisions (the JSON list's `include_revisions`).
pub async fn export_times(
    db: &Db,
    caller: &Caller,
    query: &TimeQuery,
    page: Page,
    with_parents: bool,
) -> Result<TimeExport> {
    let catalogue = db.catalogue().await?;
    let filter = resolve_filter(&catalogue, caller, query)?;
    let tx = db.snapshot().await?;
    Ok(TimeExport {
        tx,
        catalogue,
        filter,
        cursor: Cursor::Start { skip: page.skip },
        remaining: page.limit,
        with_parents,
    })
}

impl TimeExport {
    /// The next batch of at most `EXPORT_BATCH` times (`None` when done),
    /// rendered with the catalogue's names.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<TimeView>>> {
        let want = self.remaining.map_or(EXPORT_BATCH, |r| r.min(EXPORT_BATCH));
        if want == 0 {
            return Ok(None);
        }
        let rows = store::times_from(&self.tx, &self.filter, self.cursor, want).await?;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        self.cursor = Cursor::After {
            sort_at: last.0.sort_at,
            id: last.0.id,
        };
        if let Some(r) = self.remaining.as_mut() {
            *r -= rows.len() as u64;
        }
        if (rows.len() as u64) < want {
            self.remaining = Some(0);
        }
        Ok(Some(
            render_with_activities(&self.tx, &self.catalogue, rows, self.with_parents).await?,
        ))
    }

    /// How many times the export's filter matches before skip/limit, in
    /// the export's snapshot (`X-Total-Count` of a streamed list).
    pub async fn total(&self) -> Result<u64> {
        Ok(crate::storage::times::count(&self.tx, &self.filter).await?)
    }

    /// Ends the read transaction (nothing was written), returning its
    /// connection to the pool in a clean state.
    pub async fn finish(self) -> Result<()> {
        Ok(self.tx.finish().await?)
    }
}
