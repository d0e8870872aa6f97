//! Storage: the one query layer that serves SQLite, PostgreSQL and
//! MySQL/MariaDB. Everything above this module reaches the database only
//! through the handles (`Db`, `Tx`, `Snapshot`, `Conn`) and functions
//! here, and sees only storage's own `Error`. It imports nothing from the
//! layers above.

pub mod activities;
pub mod api_tokens;
mod bulk;
mod cache;
pub mod catalogue;
mod db;
pub mod entities;
mod error;
pub mod migrations;
pub mod org_roles;
#[cfg(test)]
mod plans;
pub mod projects;
pub mod reports;
pub mod revisions;
pub mod settings;
pub mod timers;
pub mod times;
pub mod users;

use sea_orm::{ConnectionTrait, DatabaseBackend};

pub use cache::{CountCache, VersionedCache, Weigh};
pub use catalogue::{Catalogue, Versions};
pub use db::{Conn, Db, Snapshot, Tx, WriteFailure, WRITE_ATTEMPTS, WRITE_TX_LIMIT};
pub(crate) use error::{is_unique_violation, taken_as};
pub use error::{Error, Result, Taken};
pub use migrations::Migrator;

/// A page of a list: skip `skip` rows, then return at most `limit` (`None`: all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    pub skip: u64,
    pub limit: Option<u64>,
}

/// Keys per `IN (...)` list: far below the bind limits of SQLite (32,766),
/// PostgreSQL and MySQL (65,535).
pub const CHUNK: usize = 500;

/// Applies `page` to a query. SQLite and MySQL refuse an OFFSET without a
/// LIMIT, so skipping without a limit uses the largest limit every
/// backend accepts.
pub fn paginate<Q: sea_orm::QuerySelect>(query: Q, page: Page) -> Q {
    match (page.skip, page.limit) {
        (0, None) => query,
        (skip, limit) => query.offset(skip).limit(limit.unwrap_or(i64::MAX as u64)),
    }
}

/// The key usernames are unique and looked up by: usernames compare in
/// any letter case.
pub fn username_key(username: &str) -> String {
    username.to_ascii_lowercase()
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Runs `statements` in order and returns the rows they yield. SQLite
/// takes them in one call to the driver's thread (it runs a string of
/// statements, binding the values in order); elsewhere they go one by
/// one. Only the rows are returned: SQLite's count of changed rows after
/// a string of statements would be that of the last.
pub async fn together(
    db: &impl ConnectionTrait,
    statements: Vec<sea_orm::Statement>,
) -> Result<Vec<sea_orm::QueryResult>> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        let mut rows = Vec::new();
        for statement in statements {
            rows.extend(db.query_all_raw(statement).await?);
        }
        return Ok(rows);
    }
    Ok(db
        .query_all_raw(db::Statements::new(statements).into_statement())
        .await?)
}

/// Refreshes the planner's statistics after a bulk load (seed, import):
/// without them a freshly filled PostgreSQL plans a list page as a full
/// sort (9 ms instead of 0.1 ms), and SQLite may pick a weak index.
pub async fn analyze(db: &impl ConnectionTrait) -> Result<()> {
    const TABLES: &str = "users, org_roles, user_org_roles, activities, projects, \
                          project_slugs, project_users, times, time_activities";
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => "ANALYZE".to_owned(),
        DatabaseBackend::Postgres => format!("ANALYZE {TABLES}"),
        _ => format!("ANALYZE TABLE {TABLES}"),
    };
    db.execute_unprepared(&sql).await?;
    Ok(())
}

/// After rows were inserted with explicit ids (seed, import), moves
/// PostgreSQL's id sequences past them. MySQL and SQLite do this by
/// themselves.
pub async fn reset_id_sequences(db: &impl ConnectionTrait) -> Result<()> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    for table in ["users", "org_roles", "activities", "projects", "times"] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
        .await?;
    }
    Ok(())
}
