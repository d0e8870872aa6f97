//! Drops `idx_times_user` (`user_id`, `newest`): `idx_times_user_live`
//! (`user_id`, `newest`, `deleted_at`, `sort_at`, `id`) begins with the same
//! two columns and serves every lookup it served (and the foreign key on
//! `user_id`), while each write of a time kept both up to date — three of
//! the ~23 index changes an update (a retired revision and a new one) makes.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000001_drop_idx_times_user"
    }
}

#[derive(Iden)]
enum Times {
    Table,
    UserId,
    Newest,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_times_user")
                .table(Times::Table)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_times_user")
                .table(Times::Table)
                .col(Times::UserId)
                .col(Times::Newest)
                .to_owned(),
        )
        .await
    }
}
