//! Checks made before the database pool opens, so that a wrong
//! `DATABASE_URL` is reported once, plainly, with what to do — instead of a
//! driver message, or a pool that retries for seconds and then reports only
//! that it timed out.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use sea_orm::sqlx::mysql::MySqlConnection;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::Connection;

use crate::config::DatabaseUrl;

/// How long the first connection to a database server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite file `url` names (`None` for an in-memory database).
pub fn sqlite_file(url: &DatabaseUrl) -> anyhow::Result<Option<PathBuf>> {
    let options = SqliteConnectOptions::from_str(url.expose())
        .map_err(|e| anyhow::anyhow!("DATABASE_URL is not a usable SQLite URL: {e}"))?;
    let file = options.get_filename();
    if file.as_os_str().is_empty() {
        bail!(
            "DATABASE_URL={url} names no database file (SQLite would give every connection \
             its own empty temporary database); name one, e.g. sqlite://timesync.sqlite3 \
             (relative to the working directory) or sqlite:///var/lib/timesync/timesync.sqlite3"
        );
    }
    if file.to_string_lossy().starts_with("file:sqlx-in-memory-") {
        return Ok(None);
    }
    Ok(Some(file.to_path_buf()))
}

/// Checks that the database of `url` can be reached: for SQLite that the
/// file's directory exists, for a server one real connection (whose error,
/// e.g. "connection refused", is the one reported).
pub async fn check_database(url: &DatabaseUrl) -> anyhow::Result<()> {
    let raw = url.expose();
    if url.is_sqlite() {
        let Some(file) = sqlite_file(url)? else {
            return Ok(());
        };
        let dir = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            bail!(
                "the directory {} of the SQLite file in DATABASE_URL does not exist: \
                 create it (mkdir -p {}) or point DATABASE_URL at another place",
                dir.display(),
                dir.display()
            );
        }
        return Ok(());
    }
    let (kind, attempt) = if raw.starts_with("mysql:") {
        ("MySQL/MariaDB", connect_once::<MySqlConnection>(raw).await)
    } else {
        ("PostgreSQL", connect_once::<PgConnection>(raw).await)
    };
    attempt.map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to {kind} at {url}: {e}. Check that the server is running and \
             reachable, and the host, port, user, password and database name in DATABASE_URL"
        )
    })
}

async fn connect_once<C: Connection>(url: &str) -> anyhow::Result<()> {
    match tokio::time::timeout(CONNECT_TIMEOUT, C::connect(url)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(e.into()),
        Err(_) => bail!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
    }
}

/// An exclusive lock on a SQLite database file, held while `serve` runs:
/// SQLite serves one instance, and a second `serve` on the same file is
/// refused instead of starting silently. (An advisory `flock`, independent
/// of SQLite's own `fcntl` locks, so other commands such as `export` work.)
#[derive(Debug)]
pub struct SqliteServeLock {
    _file: File,
}

impl SqliteServeLock {
    pub fn acquire(file: &Path) -> anyhow::Result<Self> {
        let handle = File::open(file)
            .with_context(|| format!("cannot open the SQLite file {}", file.display()))?;
        match handle.try_lock() {
            Ok(()) => Ok(Self { _file: handle }),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "another `timesync serve` is already using the SQLite database {}: SQLite \
                 serves a single instance. Stop the other one, or use PostgreSQL or \
                 MySQL/MariaDB to run several (see docs/deploy.md)",
                file.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock the SQLite file {}", file.display()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        let url = |s: &str| s.parse::<DatabaseUrl>().unwrap();
        assert_eq!(
            sqlite_file(&url("sqlite://x/ts.db")).unwrap(),
            Some(PathBuf::from("x/ts.db"))
        );
        assert_eq!(sqlite_file(&url("sqlite::memory:")).unwrap(), None);
        let err = sqlite_file(&url("sqlite://")).unwrap_err().to_string();
        assert!(err.contains("names no database file"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_directory_is_named() {
        let url: DatabaseUrl = "sqlite:///nonexistent/dir/x.db".parse().unwrap();
        let err = check_database(&url).await.unwrap_err().to_string();
        assert!(err.contains("/nonexistent/dir"), "{err}");
        assert!(err.contains("mkdir -p"), "{err}");
    }

    #[test]
    fn a_second_lock_on_one_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ts.sqlite3");
        std::fs::write(&file, b"").unwrap();
        let first = SqliteServeLock::acquire(&file).unwrap();
        let err = SqliteServeLock::acquire(&file).unwrap_err().to_string();
        assert!(err.contains("already using"), "{err}");
        drop(first);
        SqliteServeLock::acquire(&file).unwrap();
    }
}
