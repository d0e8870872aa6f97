//! Indexes found by the issue-15 benchmark (bench/results.md):
//! - `idx_times_user_live` (`user_id`, `newest`, `deleted_at`, `sort_at`,
//!   `id`): a user's current times in list order. `GET /times?user=U` (with
//!   or without a date range) was a walk of the whole list index, checking
//!   each time's user and date, because no index both narrows to the user
//!   and keeps list order.
//! - `idx_times_sums` (`newest`, `deleted_at`, `project_uuid`, `user_id`,
//!   `date_worked`, `duration`): every column a summary reads, so grouping
//!   the current times scans one index instead of looking up each row in
//!   the table (3× faster on SQLite at 50,000 times).

use sea_orm_migration::prelude::*;

use super::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000004_time_indexes"
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "idx_times_user_live",
            Times::Table,
            &[
                Times::UserId,
                Times::Newest,
                Times::DeletedAt,
                Times::SortAt,
                Times::Id,
            ],
        ))
        .await?;
        m.create_index(index(
            "idx_times_sums",
            Times::Table,
            &[
                Times::Newest,
                Times::DeletedAt,
                Times::ProjectUuid,
                Times::UserId,
                Times::DateWorked,
                Times::Duration,
            ],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_times_sums", "idx_times_user_live"] {
            m.drop_index(Index::drop().name(name).table(Times::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
