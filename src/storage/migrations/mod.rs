//! Schema migrations, embedded in the binary and written in the portable
//! sea-query DSL so that SQLite, PostgreSQL and MySQL/MariaDB get the same
//! logical schema.

use sea_orm_migration::prelude::*;

mod change_counters;
mod m20261122_000001_initial;
mod m20261122_000002_lookup_indexes;
mod m20261201_000001_timers_and_api_tokens;
mod m20261202_000002_changes_since;
mod m20261202_000003_catalogue_version;
mod m20261202_000004_time_indexes;
mod m20261203_000001_times_version;
mod m20261204_000001_drop_idx_times_user;
mod m20261205_000001_time_indexes_at_scale;

/// `CREATE INDEX name ON table (cols…)`.
fn index<T: IntoIden + Copy>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for &c in cols {
        idx.col(c);
    }
    idx.to_owned()
}

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_lookup_indexes::Migration),
            Box::new(m20261201_000001_timers_and_api_tokens::Migration),
            Box::new(m20261202_000002_changes_since::Migration),
            Box::new(m20261202_000003_catalogue_version::Migration),
            Box::new(m20261202_000004_time_indexes::Migration),
            Box::new(m20261203_000001_times_version::Migration),
            Box::new(m20261204_000001_drop_idx_times_user::Migration),
            Box::new(m20261205_000001_time_indexes_at_scale::Migration),
        ]
    }
}

/// After a migration re-made indexes of `table`: SQLite forgets the
/// statistics of a dropped index, and a new index without them next to old
/// ones with them misleads its planner (a list page of a million times was
/// planned as a sort of all of them through the new `idx_times_sums`: 2.5 s
/// instead of 0.2 ms). So where `table` had statistics (gathered after a
/// bulk load, `storage::analyze`), they are gathered again; where it had
/// none, every index goes on the planner's defaults alike.
pub(crate) async fn refresh_sqlite_statistics(
    m: &SchemaManager<'_>,
    table: &str,
) -> Result<(), DbErr> {
    let db = m.get_connection();
    if db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
        return Ok(());
    }
    let exists = |sql: &str, values: Vec<sea_orm::Value>| {
        let statement =
            sea_orm::Statement::from_sql_and_values(sea_orm::DatabaseBackend::Sqlite, sql, values);
        async move { Ok::<_, DbErr>(db.query_one_raw(statement).await?.is_some()) }
    };
    // Two statements: the second does not compile before the first ANALYZE.
    let analyzed = exists(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'",
        vec![],
    )
    .await?
        && exists(
            "SELECT 1 FROM sqlite_stat1 WHERE tbl = ?",
            vec![table.into()],
        )
        .await?;
    if analyzed {
        db.execute_unprepared(&format!("ANALYZE \"{table}\""))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Db;
    use sea_orm::{ConnectionTrait, Statement};

    /// The indexes of `times` that have statistics.
    async fn analyzed_time_indexes(db: &Db) -> Vec<String> {
        let rows = db
            .conn()
            .query_all_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "SELECT idx FROM sqlite_stat1 WHERE tbl = 'times' ORDER BY idx",
            ))
            .await
            .unwrap();
        rows.iter().map(|r| r.try_get("", "idx").unwrap()).collect()
    }

    #[tokio::test]
    async fn reshaping_the_time_indexes_keeps_sqlite_statistics_for_each() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("m.sqlite3").display());
        let db = Db::connect(&url.parse().unwrap()).await.unwrap();
        let before = Migrator::migrations().len() as u32 - 1;
        Migrator::up(db.conn(), Some(before)).await.unwrap();
        db.conn()
            .execute_unprepared(
                "INSERT INTO users (username, username_key, display_name, site_admin, \
                 site_manager, site_spectator, active, created_at, updated_at) \
                 VALUES ('u', 'u', 'U', 0, 0, 0, 1, 0, 0); \
                 INSERT INTO times (uuid, revision, newest, user_id, project_uuid, duration, \
                 date_worked, created_at, sort_at) \
                 VALUES ('t', 1, 1, 1, 'p', 60, '2026-01-05', 0, 0)",
            )
            .await
            .unwrap();
        crate::storage::analyze(db.conn()).await.unwrap();
        assert!(analyzed_time_indexes(&db)
            .await
            .contains(&"idx_times_sums".to_owned()));

        Migrator::up(db.conn(), None).await.unwrap();
        let analyzed = analyzed_time_indexes(&db).await;
        for index in ["idx_times_sums", "idx_times_user_dates", "idx_times_live"] {
            assert!(analyzed.contains(&index.to_owned()), "{analyzed:?}");
        }
        assert!(!analyzed.contains(&"idx_times_user_live".to_owned()));
    }
}
