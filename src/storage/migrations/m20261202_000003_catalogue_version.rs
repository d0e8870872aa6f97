//! Issue 15: the catalogue version. The read-mostly catalogue — users and
//! their org-roles, projects with their slugs and members, activities — is
//! served from memory (`storage::catalogue`). Every instance checks one
//! counter per request to know whether its copy is current; triggers bump
//! the counter in the same transaction as every write of a catalogue table,
//! whoever makes it (the server, `timesync` subcommands, an import, a
//! database client), so no write path can forget it (`change_counters`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000003_catalogue_version"
    }
}

/// The tables the catalogue is built from.
pub const CATALOGUE_TABLES: [&str; 7] = [
    "users",
    "org_roles",
    "user_org_roles",
    "projects",
    "project_slugs",
    "project_users",
    "activities",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        super::change_counters::create(m, "catalogue", &CATALOGUE_TABLES, 1).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        super::change_counters::drop(m, "catalogue", &CATALOGUE_TABLES).await
    }
}
