//! Issue 16's extensions: running timers (one per user) and personal API
//! tokens. Conventions as in the initial schema (millisecond timestamps,
//! 36-char uuids).
//!
//! - `timers` is keyed by its user: a second running timer cannot exist.
//!   `timer_activities` lists its activities; both indexes by project or
//!   activity answer "is this object used by a running timer?" when a
//!   project or activity is deleted.
//! - `api_tokens` keeps only the SHA-256 of each secret (unique, the
//!   lookup key); `user_id` lists a user's tokens.

use sea_orm_migration::prelude::*;

use super::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_timers_and_api_tokens"
    }
}

#[derive(Iden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(Iden, Clone, Copy)]
enum Timers {
    Table,
    UserId,
    ProjectUuid,
    Notes,
    IssueUri,
    StartedAt,
}

#[derive(Iden, Clone, Copy)]
enum TimerActivities {
    Table,
    UserId,
    ActivityUuid,
}

#[derive(Iden, Clone, Copy)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Name,
    Scope,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Timers::Table)
                .col(
                    ColumnDef::new(Timers::UserId)
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Timers::ProjectUuid)
                        .string_len(36)
                        .not_null(),
                )
                .col(ColumnDef::new(Timers::Notes).text().null())
                .col(ColumnDef::new(Timers::IssueUri).string_len(2048).null())
                .col(ColumnDef::new(Timers::StartedAt).big_integer().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Timers::Table, Timers::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_timers_project",
            Timers::Table,
            &[Timers::ProjectUuid],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(TimerActivities::Table)
                .col(
                    ColumnDef::new(TimerActivities::UserId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(TimerActivities::ActivityUuid)
                        .string_len(36)
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(TimerActivities::UserId)
                        .col(TimerActivities::ActivityUuid),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(TimerActivities::Table, TimerActivities::UserId)
                        .to(Timers::Table, Timers::UserId),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_timer_activities_activity",
            TimerActivities::Table,
            &[TimerActivities::ActivityUuid],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(ApiTokens::Table)
                .col(
                    ColumnDef::new(ApiTokens::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(ApiTokens::UserId).big_integer().not_null())
                .col(ColumnDef::new(ApiTokens::Name).string_len(255).not_null())
                .col(ColumnDef::new(ApiTokens::Scope).string_len(16).not_null())
                .col(
                    ColumnDef::new(ApiTokens::TokenHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(ApiTokens::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(ApiTokens::ExpiresAt).big_integer().null())
                .col(ColumnDef::new(ApiTokens::LastUsedAt).big_integer().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiTokens::Table, ApiTokens::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_api_tokens_user",
            ApiTokens::Table,
            &[ApiTokens::UserId],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ApiTokens::Table.into_iden(),
            TimerActivities::Table.into_iden(),
            Timers::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
