//! Indexes for `since` (changes since a time) on the lists.
//!
//! On the revisioned tables, "changed at or after" is `sort_at >= ?` (the
//! current revision's time) or `deleted_at >= ?`, both on current rows
//! (`newest`). The first side is a range on the list indexes
//! (`newest, sort_at, id`) every such table has; times' `idx_times_live`
//! (`newest, deleted_at, …`) serves the second, and activities and
//! projects get `(newest, deleted_at)` here. Users are changed in place:
//! `created_at`, `updated_at` or `deleted_at >= ?`, one index each.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000002_changes_since"
    }
}

#[derive(Iden, Clone, Copy)]
enum Activities {
    Table,
    Newest,
    DeletedAt,
}

#[derive(Iden, Clone, Copy)]
enum Projects {
    Table,
    Newest,
    DeletedAt,
}

#[derive(Iden, Clone, Copy)]
enum Users {
    Table,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

/// Name, table and columns of each index.
fn indexes() -> Vec<(&'static str, DynIden, Vec<DynIden>)> {
    vec![
        (
            "idx_activities_deleted",
            Activities::Table.into_iden(),
            vec![
                Activities::Newest.into_iden(),
                Activities::DeletedAt.into_iden(),
            ],
        ),
        (
            "idx_projects_deleted",
            Projects::Table.into_iden(),
            vec![
                Projects::Newest.into_iden(),
                Projects::DeletedAt.into_iden(),
            ],
        ),
        (
            "idx_users_created",
            Users::Table.into_iden(),
            vec![Users::CreatedAt.into_iden()],
        ),
        (
            "idx_users_updated",
            Users::Table.into_iden(),
            vec![Users::UpdatedAt.into_iden()],
        ),
        (
            "idx_users_deleted",
            Users::Table.into_iden(),
            vec![Users::DeletedAt.into_iden()],
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, cols) in indexes() {
            let mut index = Index::create();
            index.name(name).table(table);
            for col in cols {
                index.col(col);
            }
            m.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in indexes() {
            m.drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
