//! Issue 15: the catalogue version. The read-mostly catalogue — users and
//! their org-roles, projects with their slugs and members, activities — is
//! served from memory (`storage::catalogue`). Every instance checks one
//! counter per request to know whether its copy is current; triggers bump
//! the counter in the same transaction as every write of a catalogue table,
//! whoever makes it (the server, `timesync` subcommands, an import, a
//! database client), so no write path can forget it.
//!
//! The triggers run per statement on PostgreSQL and per row elsewhere.
//! MySQL/MariaDB with binary logging on needs `log_bin_trust_function_creators`
//! (or SUPER) to create triggers: docs/deploy.md.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000003_catalogue_version"
    }
}

#[derive(Iden, Clone, Copy)]
enum CatalogueVersion {
    Table,
    Id,
    Version,
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

const BUMP: &str = "UPDATE catalogue_version SET version = version + 1 WHERE id = 1";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CatalogueVersion::Table)
                .col(
                    ColumnDef::new(CatalogueVersion::Id)
                        .integer()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(CatalogueVersion::Version)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(CatalogueVersion::Table)
                .columns([CatalogueVersion::Id, CatalogueVersion::Version])
                .values_panic([1.into(), 1.into()])
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION catalogue_bump() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN {BUMP}; RETURN NULL; END $$"
                ))
                .await?;
                for table in CATALOGUE_TABLES {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER catalogue_bump_{table} \
                         AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump()"
                    ))
                    .await?;
                }
            }
            DatabaseBackend::MySql => {
                for table in CATALOGUE_TABLES {
                    for op in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER catalogue_bump_{table}_{op} AFTER {op} ON {table} \
                             FOR EACH ROW {BUMP}"
                        ))
                        .await?;
                    }
                }
            }
            _ => {
                for table in CATALOGUE_TABLES {
                    for op in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER catalogue_bump_{table}_{op} AFTER {op} ON {table} \
                             BEGIN {BUMP}; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                for table in CATALOGUE_TABLES {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS catalogue_bump_{table} ON {table}"
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP FUNCTION IF EXISTS catalogue_bump()")
                    .await?;
            }
            _ => {
                for table in CATALOGUE_TABLES {
                    for op in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS catalogue_bump_{table}_{op}"
                        ))
                        .await?;
                    }
                }
            }
        }
        m.drop_table(Table::drop().table(CatalogueVersion::Table).to_owned())
            .await
    }
}
