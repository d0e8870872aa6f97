//! Storage's own error type: the domain never sees the driver's errors.
//! The database's refusals are classified here once — a unique key that is
//! taken, a transaction that lost a deadlock — so that no caller inspects
//! driver error codes.

use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Result of a storage operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A unique key that another row holds (a lost race for it).
    #[error("{0} is already taken")]
    Taken(Taken),
    /// A deadlock or serialization failure: the transaction was rolled back
    /// and may simply be run again (`Db::write` does, a few times).
    #[error("transaction lost a conflict: {0}")]
    Transient(DbErr),
    /// Any other database failure.
    #[error("database error: {0}")]
    Db(DbErr),
}

/// Which unique key was taken, with the values the write tried to claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Slugs of an activity, project or org-role.
    Slugs(Vec<String>),
    /// A username (compared in any letter case).
    Username(String),
    /// The name of an org-role.
    Name(String),
}

impl std::fmt::Display for Taken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Taken::Slugs(slugs) => write!(f, "slugs {}", slugs.join(", ")),
            Taken::Username(name) => write!(f, "username {name}"),
            Taken::Name(name) => write!(f, "name {name}"),
        }
    }
}

impl Error {
    /// True when running the transaction again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Transient(_))
    }

    /// A "not found" the driver reports (e.g. a row that vanished).
    pub(crate) fn missing(what: &str) -> Self {
        Error::Db(DbErr::RecordNotFound(what.to_owned()))
    }
}

/// Storage's own error is a write failure too (for writes that need no
/// error of the layers above, e.g. in tests).
impl super::WriteFailure for Error {
    fn is_transient(&self) -> bool {
        Error::is_transient(self)
    }
}

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        if is_transient_conflict(&e) {
            Error::Transient(e)
        } else {
            Error::Db(e)
        }
    }
}

/// Maps a unique violation of a write to `Taken(key)`; other errors pass
/// as usual. Every write of a unique key goes through this.
pub(crate) fn taken_as(key: Taken) -> impl FnOnce(DbErr) -> Error {
    move |e| {
        if is_unique_violation(&e) {
            Error::Taken(key)
        } else {
            e.into()
        }
    }
}

/// True when `e` is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// True when `e` is a deadlock or serialization failure (SQLSTATE 40001 on
/// MySQL/MariaDB and PostgreSQL, 40P01 on PostgreSQL).
fn is_transient_conflict(e: &DbErr) -> bool {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            match inner.as_ref() {
                sea_orm::sqlx::Error::Database(db) => {
                    matches!(db.code().as_deref(), Some("40001") | Some("40P01"))
                }
                _ => false,
            }
        }
        _ => false,
    }
}
