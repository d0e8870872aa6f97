//! Issue 15: the times version, a change counter (`change_counters`) like
//! the catalogue's, bumped by every write of `times` and `time_activities`.
//! List counts (`X-Total-Count`), time pages and summaries are cached for
//! one value of this counter (and of the catalogue's, which decides
//! visibility and names: `storage::VersionedCache`), so a read-mostly load
//! computes each once per change of the data, on every instance, instead
//! of once per request or per second.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000001_times_version"
    }
}

/// The tables a time is stored in.
const TIME_TABLES: [&str; 2] = ["times", "time_activities"];

/// Rows of the counter: concurrent writers of times rarely share one.
pub const TIME_STRIPES: u32 = 16;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        super::change_counters::create(m, "times", &TIME_TABLES, TIME_STRIPES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        super::change_counters::drop(m, "times", &TIME_TABLES).await
    }
}
