//! `timesync export`: the whole database as one versioned JSON document,
//! written row by row as the rows stream in.
//!
//! Layout (one row per line):
//! `{"format":"timesync-export","version":1,"tables":{"users":[ …rows… ],…}}`.
//! Rows are ordered by primary key (strings compared bytewise on every
//! backend) and values are written in column order with fixed formatting,
//! so the same data gives the same bytes whatever the backend.

use std::io::Write;

use anyhow::Context;
use futures::TryStreamExt;
use sea_orm::sea_query::{Expr, Order};
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait,
    IdenStatic, IsolationLevel, Iterable, ModelTrait, PrimaryKeyToColumn, QueryOrder,
    TransactionTrait, Value,
};
use serde_json::Value as Json;

use super::{Table, FORMAT, VERSION};
use crate::progress::Progress;
use crate::storage::entities::{
    activity, org_role, project, project_slug, project_user, time, time_activity, user,
    user_org_role,
};
use crate::storage::Db;

/// Rows written per table, in table order.
pub type Counts = Vec<(Table, u64)>;

/// Writes the export document to `out` from one consistent snapshot,
/// counting the rows written on `progress`.
pub async fn export(db: &Db, out: &mut impl Write, progress: &Progress) -> anyhow::Result<Counts> {
    let tx = match db.backend() {
        DatabaseBackend::Sqlite => db.conn().begin().await,
        _ => {
            db.conn()
                .begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await
        }
    }
    .context("starting the export transaction")?;
    progress.set_stage("counting");
    let mut total = 0;
    for table in Table::ALL {
        total += super::count_rows(&tx, table).await?;
    }
    progress.set_length(total);
    write!(
        out,
        "{{\"format\":{},\"version\":{VERSION},\"tables\":{{",
        Json::from(FORMAT)
    )?;
    let mut counts = Vec::new();
    for (i, table) in Table::ALL.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, "\n{}:[", Json::from(table.name()))?;
        progress.set_stage(table.name());
        let n = match table {
            Table::Users => write_rows::<user::Entity>(&tx, out, progress).await,
            Table::OrgRoles => write_rows::<org_role::Entity>(&tx, out, progress).await,
            Table::UserOrgRoles => write_rows::<user_org_role::Entity>(&tx, out, progress).await,
            Table::Activities => write_rows::<activity::Entity>(&tx, out, progress).await,
            Table::Projects => write_rows::<project::Entity>(&tx, out, progress).await,
            Table::ProjectSlugs => write_rows::<project_slug::Entity>(&tx, out, progress).await,
            Table::ProjectUsers => write_rows::<project_user::Entity>(&tx, out, progress).await,
            Table::Times => write_rows::<time::Entity>(&tx, out, progress).await,
            Table::TimeActivities => write_rows::<time_activity::Entity>(&tx, out, progress).await,
        }
        .with_context(|| format!("exporting {}", table.name()))?;
        out.write_all(b"\n]")?;
        counts.push((table, n));
    }
    out.write_all(b"\n}}\n")?;
    out.flush()?;
    tx.commit().await?;
    Ok(counts)
}

/// Streams one table in primary-key order, one JSON object per line.
async fn write_rows<E: EntityTrait>(
    tx: &DatabaseTransaction,
    out: &mut impl Write,
    progress: &Progress,
) -> anyhow::Result<u64> {
    let backend = tx.get_database_backend();
    let mut select = E::find();
    for key in E::PrimaryKey::iter() {
        let column = key.into_column();
        select = select.order_by(bytewise(backend, column), Order::Asc);
    }
    let mut rows = select.stream(tx).await?;
    let mut n = 0u64;
    while let Some(model) = rows.try_next().await? {
        let mut object = serde_json::Map::new();
        for column in E::Column::iter() {
            object.insert(column.as_str().to_owned(), to_json(model.get(column))?);
        }
        if n > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n")?;
        serde_json::to_writer(&mut *out, &object)?;
        n += 1;
        progress.inc(1);
    }
    Ok(n)
}

/// An ORDER BY expression comparing `column` bytewise: text columns would
/// otherwise follow each server's collation, and the output must not.
fn bytewise<C: ColumnTrait>(backend: DatabaseBackend, column: C) -> Expr {
    let is_text = matches!(
        super::ColumnKind::of(column.def().get_column_type()),
        super::ColumnKind::Text
    );
    match (is_text, backend) {
        (true, DatabaseBackend::Postgres) => {
            Expr::cust(format!("\"{}\" COLLATE \"C\"", column.as_str()))
        }
        (true, DatabaseBackend::MySql) => Expr::cust(format!("BINARY `{}`", column.as_str())),
        _ => Expr::col(column),
    }
}

/// A column value as JSON: integers and booleans as such, dates as
/// `YYYY-MM-DD`, NULL as `null`.
fn to_json(value: Value) -> anyhow::Result<Json> {
    Ok(match value {
        Value::BigInt(v) => v.map_or(Json::Null, Json::from),
        Value::Int(v) => v.map_or(Json::Null, Json::from),
        Value::Bool(v) => v.map_or(Json::Null, Json::from),
        Value::String(v) => v.map_or(Json::Null, Json::from),
        Value::ChronoDate(v) => {
            v.map_or(Json::Null, |d| Json::from(d.format("%Y-%m-%d").to_string()))
        }
        other => anyhow::bail!("a value of an unexpected type: {other:?}"),
    })
}
