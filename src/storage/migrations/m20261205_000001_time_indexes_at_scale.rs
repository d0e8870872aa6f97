//! Two time indexes reshaped by the scale benchmark (a million times;
//! bench/results.md):
//! - `idx_times_user_live` (`user_id`, `newest`, `deleted_at`, `sort_at`,
//!   `id`) becomes `idx_times_user_dates`, the same columns and then
//!   `date_worked`. A user's date range (`GET /times?user=U&start=…&end=…`)
//!   checks each date in the index and reads from the table only the rows
//!   it returns, and its count is answered by the index alone. Without the
//!   date SQLite counted a user's range by scanning every live time in
//!   `idx_times_sums` (covering, so it looked cheaper): its statistics
//!   average `deleted_at` over each distinct deletion time and took
//!   `deleted_at IS NULL` to match ~50 rows when it matches nearly all
//!   (110 ms instead of 1 ms). The new index is made before the old one is
//!   dropped: MySQL wants an index that begins with `user_id` for the
//!   foreign key at every moment.
//! - `idx_times_sums` puts `date_worked` before `user_id`: a summary by
//!   project and week or month first sums each project's days
//!   (`storage::reports::group_sums`), a GROUP BY the index already
//!   delivers in order instead of sorting every time (~750 → ~205 ms
//!   uncached at a million times). Summaries led by the user sort more
//!   than before (by user and project 0.16 → 1.0 s): the index gives one
//!   order, and hours per project per period is the report to make fast.

use sea_orm_migration::prelude::*;

use super::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000001_time_indexes_at_scale"
    }
}

#[derive(Iden, Clone, Copy)]
enum Times {
    Table,
    Id,
    UserId,
    ProjectUuid,
    Newest,
    DeletedAt,
    SortAt,
    DateWorked,
    Duration,
}

fn drop_named(name: &str) -> IndexDropStatement {
    Index::drop().name(name).table(Times::Table).to_owned()
}

const USER_LIVE: [Times; 5] = [
    Times::UserId,
    Times::Newest,
    Times::DeletedAt,
    Times::SortAt,
    Times::Id,
];

const SUMS_BY_USER: [Times; 6] = [
    Times::Newest,
    Times::DeletedAt,
    Times::ProjectUuid,
    Times::UserId,
    Times::DateWorked,
    Times::Duration,
];

const SUMS_BY_DATE: [Times; 6] = [
    Times::Newest,
    Times::DeletedAt,
    Times::ProjectUuid,
    Times::DateWorked,
    Times::UserId,
    Times::Duration,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In a transaction on every backend (sea-orm's default is PostgreSQL
    /// only): on SQLite it is all or nothing, and on one connection, which
    /// sees its own DROP INDEX when it re-creates the name (a pooled
    /// connection still holding the old schema would refuse the CREATE as
    /// "already exists"). MySQL commits each statement regardless.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let user_dates = [&USER_LIVE[..], &[Times::DateWorked]].concat();
        m.create_index(index("idx_times_user_dates", Times::Table, &user_dates))
            .await?;
        m.drop_index(drop_named("idx_times_user_live")).await?;
        m.drop_index(drop_named("idx_times_sums")).await?;
        m.create_index(index("idx_times_sums", Times::Table, &SUMS_BY_DATE))
            .await?;
        super::refresh_sqlite_statistics(m, "times").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(drop_named("idx_times_sums")).await?;
        m.create_index(index("idx_times_sums", Times::Table, &SUMS_BY_USER))
            .await?;
        m.create_index(index("idx_times_user_live", Times::Table, &USER_LIVE))
            .await?;
        m.drop_index(drop_named("idx_times_user_dates")).await?;
        super::refresh_sqlite_statistics(m, "times").await
    }
}
