//! Moving whole databases in and out: a lossless, versioned JSON backup
//! (`export`/`import`) and a one-shot import of a timesync-node database
//! (`node`). Everything works at the table level on the SeaORM entities.
//!
//! Imports write into an EMPTY database in one transaction: all or nothing.
//!
//! Memory stays bounded: export streams rows straight to the writer, and
//! import parses the document element by element. Measured with the debug
//! build on a `timesync seed --times 50000` database (52,500 time rows,
//! 104,833 time activities, a 26.5 MB document), peak RSS from
//! `/usr/bin/time -v`: export 17 MB, import 25 MB (SQLite); import 20 MB,
//! export 14.5 MB (PostgreSQL). To repeat:
//! ```text
//! DATABASE_URL=sqlite://seed.db timesync seed --times 50000
//! DATABASE_URL=sqlite://seed.db /usr/bin/time -v timesync export -o big.json
//! DATABASE_URL=sqlite://copy.db /usr/bin/time -v timesync import big.json
//! DATABASE_URL=sqlite://copy.db timesync export -o again.json && cmp big.json again.json
//! ```

pub mod export;
pub mod import;
pub mod node;

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{bail, Context};
use sea_orm::sea_query::{ColumnType, Expr, Query};
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, Iterable, PaginatorTrait,
    PrimaryKeyToColumn, Value,
};

use crate::config::DatabaseUrl;
use crate::storage::entities::{
    activity, org_role, project, project_slug, project_user, time, time_activity, user,
    user_org_role,
};

/// Name of the export format, the document's `format` field.
pub const FORMAT: &str = "timesync-export";
/// Version of the export format this build writes and reads.
pub const VERSION: u64 = 1;
/// Rows per multi-row INSERT (well below every backend's parameter limit).
const BATCH_ROWS: usize = 500;

/// The exported tables, in an order that satisfies every foreign key. The
/// `settings` table (it holds the token-signing key) and the migration
/// bookkeeping are never exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Users,
    OrgRoles,
    UserOrgRoles,
    Activities,
    Projects,
    ProjectSlugs,
    ProjectUsers,
    Times,
    TimeActivities,
}

impl Table {
    pub const ALL: [Table; 9] = [
        Table::Users,
        Table::OrgRoles,
        Table::UserOrgRoles,
        Table::Activities,
        Table::Projects,
        Table::ProjectSlugs,
        Table::ProjectUsers,
        Table::Times,
        Table::TimeActivities,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::OrgRoles => "org_roles",
            Table::UserOrgRoles => "user_org_roles",
            Table::Activities => "activities",
            Table::Projects => "projects",
            Table::ProjectSlugs => "project_slugs",
            Table::ProjectUsers => "project_users",
            Table::Times => "times",
            Table::TimeActivities => "time_activities",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The table's columns, in entity order (the order rows are written in).
    pub fn columns(self) -> Vec<ColumnInfo> {
        match self {
            Table::Users => columns::<user::Entity>(),
            Table::OrgRoles => columns::<org_role::Entity>(),
            Table::UserOrgRoles => columns::<user_org_role::Entity>(),
            Table::Activities => columns::<activity::Entity>(),
            Table::Projects => columns::<project::Entity>(),
            Table::ProjectSlugs => columns::<project_slug::Entity>(),
            Table::ProjectUsers => columns::<project_user::Entity>(),
            Table::Times => columns::<time::Entity>(),
            Table::TimeActivities => columns::<time_activity::Entity>(),
        }
    }
}

/// A column's name and type, enough to convert values to and from JSON.
#[derive(Clone, Debug)]
pub struct ColumnInfo {
    pub name: &'static str,
    pub kind: ColumnKind,
    pub primary_key: bool,
}

/// The column types the schema uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    BigInt,
    Int,
    Bool,
    Text,
    Date,
}

impl ColumnKind {
    fn of(t: &ColumnType) -> ColumnKind {
        match t {
            ColumnType::BigInteger => ColumnKind::BigInt,
            ColumnType::Integer => ColumnKind::Int,
            ColumnType::Boolean => ColumnKind::Bool,
            ColumnType::Date => ColumnKind::Date,
            // Strings and text of any length.
            _ => ColumnKind::Text,
        }
    }

    /// The SQL NULL of this kind.
    pub fn null(self) -> Value {
        match self {
            ColumnKind::BigInt => Value::BigInt(None),
            ColumnKind::Int => Value::Int(None),
            ColumnKind::Bool => Value::Bool(None),
            ColumnKind::Text => Value::String(None),
            ColumnKind::Date => Value::ChronoDate(None),
        }
    }
}

fn columns<E: EntityTrait>() -> Vec<ColumnInfo> {
    let keys: Vec<String> = E::PrimaryKey::iter()
        .map(|k| k.into_column().as_str().to_owned())
        .collect();
    E::Column::iter()
        .map(|c| ColumnInfo {
            name: c.as_str(),
            kind: ColumnKind::of(c.def().get_column_type()),
            primary_key: keys.iter().any(|k| k == c.as_str()),
        })
        .collect()
}

/// Number of rows of `table`.
pub async fn count_rows(db: &impl ConnectionTrait, table: Table) -> Result<u64, sea_orm::DbErr> {
    match table {
        Table::Users => user::Entity::find().count(db).await,
        Table::OrgRoles => org_role::Entity::find().count(db).await,
        Table::UserOrgRoles => user_org_role::Entity::find().count(db).await,
        Table::Activities => activity::Entity::find().count(db).await,
        Table::Projects => project::Entity::find().count(db).await,
        Table::ProjectSlugs => project_slug::Entity::find().count(db).await,
        Table::ProjectUsers => project_user::Entity::find().count(db).await,
        Table::Times => time::Entity::find().count(db).await,
        Table::TimeActivities => time_activity::Entity::find().count(db).await,
    }
}

/// Refuses a target that already holds users or objects.
pub async fn ensure_empty(db: &impl ConnectionTrait) -> anyhow::Result<()> {
    let mut filled = Vec::new();
    for table in Table::ALL {
        let n = count_rows(db, table)
            .await
            .with_context(|| format!("counting the rows of {}", table.name()))?;
        if n > 0 {
            filled.push(format!("{} ({n} rows)", table.name()));
        }
    }
    if !filled.is_empty() {
        bail!(
            "the target database is not empty: {}; import only into a new, empty database",
            filled.join(", ")
        );
    }
    Ok(())
}

/// The SQLite file a command is about to create by connecting to `url`
/// (none for other backends or an existing file). A failed import removes
/// it again, with its side files, instead of leaving an empty database
/// behind.
pub struct NewSqliteFile(Option<PathBuf>);

impl NewSqliteFile {
    /// Call before connecting.
    pub fn before_connect(url: &DatabaseUrl) -> NewSqliteFile {
        let path = url
            .is_sqlite()
            .then(|| SqliteConnectOptions::from_str(url.expose()).ok())
            .flatten()
            .map(|options| options.get_filename().to_owned())
            .filter(|path| path.as_os_str() != ":memory:" && !path.exists());
        NewSqliteFile(path)
    }

    /// Removes the file (after the database was closed).
    pub fn remove(&self) {
        let Some(path) = &self.0 else { return };
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Collects rows of one table and writes them as multi-row INSERTs.
pub struct BatchInsert {
    table: Table,
    columns: Vec<ColumnInfo>,
    rows: Vec<Vec<Value>>,
    /// Rows written so far (flushed or not).
    pub count: u64,
}

impl BatchInsert {
    pub fn new(table: Table) -> Self {
        Self {
            table,
            columns: table.columns(),
            rows: Vec::with_capacity(BATCH_ROWS),
            count: 0,
        }
    }

    pub fn columns(&self) -> &[ColumnInfo] {
        &self.columns
    }

    /// Queues one row (values in column order); flushes a full batch.
    pub async fn push(&mut self, db: &impl ConnectionTrait, row: Vec<Value>) -> anyhow::Result<()> {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
        self.count += 1;
        if self.rows.len() >= BATCH_ROWS {
            self.flush(db).await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self, db: &impl ConnectionTrait) -> anyhow::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut insert = Query::insert();
        insert
            .into_table(sea_orm::sea_query::Alias::new(self.table.name()))
            .columns(
                self.columns
                    .iter()
                    .map(|c| sea_orm::sea_query::Alias::new(c.name)),
            );
        for row in self.rows.drain(..) {
            insert
                .values(row.into_iter().map(Expr::val))
                .context("building an INSERT")?;
        }
        let stmt = db.get_database_backend().build(&insert);
        db.execute_raw(stmt)
            .await
            .with_context(|| format!("inserting into {}", self.table.name()))?;
        Ok(())
    }
}
