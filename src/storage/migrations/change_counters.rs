//! Change counters: a one-row table `<name>_version` whose `version`
//! triggers bump in the same transaction as every write of the tables it
//! watches, whoever makes the write (the server, `timesync` subcommands, an
//! import, another instance, a database client). Readers compare it with
//! the value a cached result was computed at (`storage::catalogue`,
//! `storage::VersionedCache`).
//!
//! The triggers run per statement on PostgreSQL and per row elsewhere.
//! MySQL/MariaDB with binary logging on needs `log_bin_trust_function_creators`
//! (or SUPER) to create triggers: docs/deploy.md.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

/// Creates the counter `<name>_version` (rows 1..=`stripes`, at 1) and its
/// triggers on `tables` (named `<name>_bump_<table>[_<op>]`). A trigger
/// bumps one row, chosen by the writing session on PostgreSQL and MySQL:
/// a bump locks its row until the transaction ends, so with one row every
/// write of those tables would wait for the one before to commit. Readers
/// take the sum, which grows with every commit all the same.
pub async fn create(
    m: &SchemaManager<'_>,
    name: &str,
    tables: &[&str],
    stripes: u32,
) -> Result<(), DbErr> {
    let counter = Alias::new(format!("{name}_version"));
    m.create_table(
        Table::create()
            .table(counter.clone())
            .col(ColumnDef::new("id").integer().not_null().primary_key())
            .col(ColumnDef::new("version").big_integer().not_null())
            .to_owned(),
    )
    .await?;
    let mut rows = Query::insert();
    rows.into_table(counter)
        .columns([Alias::new("id"), Alias::new("version")]);
    for stripe in 1..=stripes {
        rows.values_panic([stripe.into(), 1.into()]);
    }
    m.exec_stmt(rows.to_owned()).await?;
    let db = m.get_connection();
    let row = match (stripes, db.get_database_backend()) {
        (1, _) => "1".to_owned(),
        (_, DatabaseBackend::Postgres) => format!("1 + pg_backend_pid() % {stripes}"),
        (_, DatabaseBackend::MySql) => format!("1 + CONNECTION_ID() % {stripes}"),
        // One writer at a time.
        _ => "1".to_owned(),
    };
    let bump = format!("UPDATE {name}_version SET version = version + 1 WHERE id = {row}");
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.execute_unprepared(&format!(
                "CREATE FUNCTION {name}_bump() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN {bump}; RETURN NULL; END $$"
            ))
            .await?;
            for table in tables {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {name}_bump_{table} \
                     AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                     FOR EACH STATEMENT EXECUTE FUNCTION {name}_bump()"
                ))
                .await?;
            }
        }
        backend => {
            // MySQL's trigger body is one statement; SQLite's a block.
            let body = match backend {
                DatabaseBackend::MySql => bump,
                _ => format!("BEGIN {bump}; END"),
            };
            for table in tables {
                for op in ["insert", "update", "delete"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name}_bump_{table}_{op} AFTER {op} ON {table} \
                         FOR EACH ROW {body}"
                    ))
                    .await?;
                }
            }
        }
    }
    Ok(())
}

/// Drops what `create` made.
pub async fn drop(m: &SchemaManager<'_>, name: &str, tables: &[&str]) -> Result<(), DbErr> {
    let db = m.get_connection();
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            for table in tables {
                db.execute_unprepared(&format!(
                    "DROP TRIGGER IF EXISTS {name}_bump_{table} ON {table}"
                ))
                .await?;
            }
            db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {name}_bump()"))
                .await?;
        }
        _ => {
            for table in tables {
                for op in ["insert", "update", "delete"] {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS {name}_bump_{table}_{op}"
                    ))
                    .await?;
                }
            }
        }
    }
    m.drop_table(
        Table::drop()
            .table(Alias::new(format!("{name}_version")))
            .to_owned(),
    )
    .await
}
