//! What `Db::load` sets aside while it fills an empty database with
//! millions of rows (seed, import): the secondary indexes of the tables
//! that get them, maintained row by row in random key order otherwise (a
//! million times took 170 s on SQLite, most of it paging index pages in and
//! out of a small cache), built in one sorted pass each after the rows are
//! in.
//!
//! The definitions are read from the database's own catalogue, not
//! repeated here: the migrations stay the one place they are written, and
//! what is dropped is re-created exactly. SQLite and PostgreSQL run DDL
//! inside the load's transaction, so a failed load rolls the drops back
//! too. MySQL/MariaDB commit DDL implicitly, which would split the load's
//! one transaction: there the indexes stay and are maintained as rows go in.

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use super::Result;

/// The tables bulk loads fill by the million.
const BULK_TABLES: [&str; 2] = ["times", "time_activities"];

/// Indexes dropped for a load, with the statements that re-create them.
#[must_use = "the indexes must be re-created"]
pub struct SetAside {
    indexes: Vec<(String, String)>,
}

/// Drops the secondary indexes of the bulk tables (not those backing a
/// primary key or a constraint); returns how to re-create them.
pub async fn set_aside_indexes(tx: &impl ConnectionTrait) -> Result<SetAside> {
    let backend = tx.get_database_backend();
    let tables = BULK_TABLES.map(|t| format!("'{t}'")).join(", ");
    let sql = match backend {
        // Indexes SQLite makes for constraints have no SQL.
        DatabaseBackend::Sqlite => format!(
            "SELECT name, sql FROM sqlite_master \
             WHERE type = 'index' AND tbl_name IN ({tables}) AND sql IS NOT NULL \
             ORDER BY name"
        ),
        DatabaseBackend::Postgres => format!(
            "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS sql \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid IN ({}) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
             ORDER BY c.relname",
            BULK_TABLES.map(|t| format!("'{t}'::regclass")).join(", ")
        ),
        _ => return Ok(SetAside { indexes: vec![] }),
    };
    let mut indexes = Vec::new();
    for row in tx
        .query_all_raw(Statement::from_string(backend, sql))
        .await?
    {
        let name: String = row.try_get_by_index(0)?;
        let create: String = row.try_get_by_index(1)?;
        tx.execute_unprepared(&format!("DROP INDEX \"{name}\""))
            .await?;
        indexes.push((name, create));
    }
    Ok(SetAside { indexes })
}

/// Re-creates what `set_aside_indexes` dropped.
pub async fn restore_indexes(tx: &impl ConnectionTrait, set_aside: SetAside) -> Result<()> {
    for (_, create) in set_aside.indexes {
        tx.execute_unprepared(&create).await?;
    }
    Ok(())
}
