//! Indexes found by the benchmark (bench/run.sh, 50,000 times):
//! - `idx_times_live` answers the common list — current, undeleted times
//!   in list order — and its count from the index alone, visibility
//!   included (`user_id`, `project_uuid`): counting went from a table walk
//!   (70 ms on SQLite) to an index scan (3 ms).
//! - `(uuid, newest)` on every revisioned table: "the current revision of
//!   this uuid" matches two columns of one index, so no planner (SQLite's
//!   has no statistics on a fresh database) prefers an index on `newest`
//!   alone; that mistake made a time update take 36 ms instead of 0.1 ms.

use sea_orm_migration::prelude::*;

use super::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000002_lookup_indexes"
    }
}

#[derive(Iden, Clone, Copy)]
enum Times {
    Table,
    Uuid,
    Newest,
    DeletedAt,
    SortAt,
    Id,
    UserId,
    ProjectUuid,
}

#[derive(Iden, Clone, Copy)]
enum Activities {
    Table,
    Uuid,
    Newest,
}

#[derive(Iden, Clone, Copy)]
enum Projects {
    Table,
    Uuid,
    Newest,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "idx_times_live",
            Times::Table,
            &[
                Times::Newest,
                Times::DeletedAt,
                Times::SortAt,
                Times::Id,
                Times::UserId,
                Times::ProjectUuid,
            ],
        ))
        .await?;
        m.create_index(index(
            "idx_times_uuid_newest",
            Times::Table,
            &[Times::Uuid, Times::Newest],
        ))
        .await?;
        m.create_index(index(
            "idx_activities_uuid_newest",
            Activities::Table,
            &[Activities::Uuid, Activities::Newest],
        ))
        .await?;
        m.create_index(index(
            "idx_projects_uuid_newest",
            Projects::Table,
            &[Projects::Uuid, Projects::Newest],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("idx_times_live", Times::Table.into_iden()),
            ("idx_times_uuid_newest", Times::Table.into_iden()),
            ("idx_activities_uuid_newest", Activities::Table.into_iden()),
            ("idx_projects_uuid_newest", Projects::Table.into_iden()),
        ] {
            m.drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
