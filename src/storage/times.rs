//! Time entries: the filtered, visibility-limited list, and revision rows
//! (see `revisions`) with their activities (`time_activities`). Lookups of
//! users, projects and activities live with their tables.
//!
//! Related rows are always loaded for a whole page at once with `IN (...)`
//! queries (split into chunks of `CHUNK` keys so that no backend's
//! bind-parameter limit is reached), never one query per time.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, Order,
    QueryFilter, QueryOrder, QuerySelect,
};

pub use super::entities::time::Model as TimeRow;
use super::entities::{activity, project, time, time_activity};
use super::revisions::{self, RevisionColumns, Revisioned};
use super::{Db, Result, CHUNK};

impl Revisioned for time::Entity {
    const COLUMNS: RevisionColumns<time::Column> = RevisionColumns {
        id: time::Column::Id,
        uuid: time::Column::Uuid,
        revision: time::Column::Revision,
        newest: time::Column::Newest,
        deleted_at: time::Column::DeletedAt,
        sort_at: time::Column::SortAt,
    };
    const NAME: &'static str = "time";
}

/// What `GET /times` selects. Every field is evaluated in SQL.
#[derive(Debug, Clone, Default)]
pub struct TimeFilter {
    /// Only times of these users (`None`: any user).
    pub user_ids: Option<Vec<i64>>,
    /// Only times of these projects, by uuid.
    pub project_uuids: Option<Vec<String>>,
    /// Only times with at least one of these activities, by uuid.
    pub activity_uuids: Option<Vec<String>>,
    /// `date_worked` on or after.
    pub start: Option<NaiveDate>,
    /// `date_worked` on or before.
    pub end: Option<NaiveDate>,
    pub include_deleted: bool,
    /// Only times created, updated or deleted at or after (ms); deleted
    /// ones included.
    pub since: Option<i64>,
    /// Only the times this viewer may see; `None`: all.
    pub visible_to: Option<Viewer>,
}

/// A user who sees their own times and those of the projects they watch
/// (spectator or manager), as the catalogue knows them: with none, the
/// condition is the user alone, a range of `idx_times_user_dates`.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: i64,
    /// Project uuids.
    pub watched_projects: Vec<String>,
}

impl TimeFilter {
    /// What the list sorts by first (`revisions::sort_key`).
    pub fn sort_key(&self) -> sea_orm::sea_query::SimpleExpr {
        revisions::sort_key(time::Column::SortAt, self.since)
    }

    /// The matching rows in list order (`sort_at`, then id).
    pub fn list_select(&self) -> sea_orm::Select<time::Entity> {
        time::Entity::find()
            .filter(self.condition())
            .order_by(self.sort_key(), Order::Asc)
            .order_by(time::Column::Id, Order::Asc)
    }

    /// The SQL condition on `times` rows (shared with reports).
    pub fn condition(&self) -> Condition {
        let mut cond = Condition::all().add(time::Column::Newest.eq(true));
        match self.since {
            Some(since) => cond = cond.add(revisions::changed_since::<time::Entity>(since)),
            None if !self.include_deleted => cond = cond.add(time::Column::DeletedAt.is_null()),
            None => {}
        }
        if let Some(ids) = &self.user_ids {
            cond = cond.add(time::Column::UserId.is_in(ids.clone()));
        }
        if let Some(uuids) = &self.project_uuids {
            cond = cond.add(time::Column::ProjectUuid.is_in(uuids.clone()));
        }
        if let Some(uuids) = &self.activity_uuids {
            cond = cond.add(
                time::Column::Id.in_subquery(
                    Query::select()
                        .column(time_activity::Column::TimeId)
                        .from(time_activity::Entity)
                        .and_where(time_activity::Column::ActivityUuid.is_in(uuids.clone()))
                        .to_owned(),
                ),
            );
        }
        if let Some(start) = self.start {
            cond = cond.add(time::Column::DateWorked.gte(start));
        }
        if let Some(end) = self.end {
            cond = cond.add(time::Column::DateWorked.lte(end));
        }
        if let Some(viewer) = &self.visible_to {
            let own = time::Column::UserId.eq(viewer.user_id);
            cond = cond.add(match viewer.watched_projects.as_slice() {
                [] => Condition::all().add(own),
                projects => Condition::any()
                    .add(own)
                    .add(time::Column::ProjectUuid.is_in(projects.iter().cloned())),
            });
        }
        cond
    }
}

/// One page of the current revisions matching `filter` in list order,
/// with the activities of each row (`with_activities`).
pub async fn page_with_activities(
    db: &impl ConnectionTrait,
    filter: &TimeFilter,
    page: super::Page,
) -> Result<Vec<(TimeRow, Vec<String>)>> {
    with_activities(db, super::paginate(filter.list_select(), page)).await
}

/// The time rows `select` reads, each with its activity uuids, aggregated
/// in SQL into a JSON array column by a correlated subquery (an index
/// range of `time_activities` per row). One result row per time rather
/// than one per activity, and no second query: each row a driver hands
/// over costs more than the subquery (on SQLite a hand-off between
/// threads per row).
pub async fn with_activities(
    db: &impl ConnectionTrait,
    select: sea_orm::Select<time::Entity>,
) -> Result<Vec<(TimeRow, Vec<String>)>> {
    use sea_orm::{DatabaseBackend, QueryTrait};
    let aggregate = match db.get_database_backend() {
        DatabaseBackend::Sqlite => "json_group_array(activity_uuid)",
        DatabaseBackend::Postgres => "json_agg(activity_uuid)::text",
        // JSON_ARRAYAGG rather than GROUP_CONCAT: MySQL cuts the latter at
        // `group_concat_max_len` (1,024 bytes by default).
        _ => "CAST(JSON_ARRAYAGG(activity_uuid) AS CHAR)",
    };
    let query = select
        .expr_as(
            Expr::cust(format!(
                "(SELECT {aggregate} FROM time_activities WHERE time_activities.time_id = times.id)"
            )),
            "activity_uuids",
        )
        .into_query();
    let mut out = Vec::new();
    for row in db.query_all(&query).await? {
        let time = TimeRow::from_query_result(&row, "")?;
        let uuids: Option<String> = row.try_get("", "activity_uuids")?;
        let activities = match uuids {
            None => Vec::new(),
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                sea_orm::DbErr::Custom(format!("activities of time {}: {e}", time.id))
            })?,
        };
        out.push((time, activities));
    }
    Ok(out)
}

/// Holds the project and activities a time is about to refer to against a
/// concurrent delete (`revisions::hold_live`). Returns whether the project
/// (if any) is live and whether every activity is.
pub async fn hold_references(
    db: &impl ConnectionTrait,
    project_uuid: Option<&str>,
    activity_uuids: &[String],
) -> Result<(bool, bool)> {
    let projects: Vec<String> = project_uuid.into_iter().map(str::to_owned).collect();
    if !revisions::takes_row_locks(db) && activity_uuids.len() <= CHUNK {
        // Nothing to lock: both reads of which are live in one statement.
        let (projects_live, projects_wanted) = revisions::live_count::<project::Entity>(&projects);
        let (activities_live, activities_wanted) =
            revisions::live_count::<activity::Entity>(activity_uuids);
        let query = Query::select()
            .expr_as(projects_live, "projects")
            .expr_as(activities_live, "activities")
            .to_owned();
        let row = db
            .query_one(&query)
            .await?
            .ok_or_else(|| super::Error::missing("live count"))?;
        let live = |column, wanted: usize| -> Result<bool> {
            Ok(row.try_get::<i64>("", column)? == wanted as i64)
        };
        return Ok((
            live("projects", projects_wanted)?,
            live("activities", activities_wanted)?,
        ));
    }
    let project_live = revisions::hold_live::<project::Entity>(db, &projects).await?;
    let activities_live = revisions::hold_live::<activity::Entity>(db, activity_uuids).await?;
    Ok((project_live, activities_live))
}

/// How many current revisions match `filter`.
pub async fn count(db: &impl ConnectionTrait, filter: &TimeFilter) -> Result<u64> {
    let statement = db.get_database_backend().build(&count_query(filter));
    let row = db.query_one_raw(statement).await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(n as u64)
}

/// `SELECT COUNT(*) AS n` of the current revisions matching `filter`.
pub(crate) fn count_query(filter: &TimeFilter) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .expr_as(Expr::col(sea_orm::sea_query::Asterisk).count(), "n")
        .from(time::Entity)
        .cond_where(filter.condition())
        .to_owned()
}

/// The current revision of the time `uuid`, deleted or not.
pub async fn find_current(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<TimeRow>> {
    revisions::current::<time::Entity>(db, uuid).await
}

/// The current revision of the time `uuid` with its activity uuids,
/// locked for the rest of the write transaction
/// (`revisions::lock_for_current`).
pub async fn lock_current(
    db: &impl ConnectionTrait,
    uuid: &str,
) -> Result<Option<(TimeRow, Vec<String>)>> {
    match revisions::lock_for_current::<time::Entity>(db, uuid).await? {
        Some(current) => Ok(with_activities(db, current.limit(1)).await?.pop()),
        None => Ok(None),
    }
}

/// The older revisions of the times `uuids`, newest first per time.
pub async fn parents(db: &impl ConnectionTrait, uuids: &[String]) -> Result<Vec<TimeRow>> {
    revisions::parents_of::<time::Entity>(db, uuids).await
}

/// The activities of the time rows `time_ids`: (time row id, activity uuid).
pub async fn activity_links(
    db: &impl ConnectionTrait,
    time_ids: &[i64],
) -> Result<Vec<(i64, String)>> {
    let mut links = Vec::new();
    for chunk in time_ids.chunks(CHUNK) {
        links.extend(
            time_activity::Entity::find()
                .select_only()
                .column(time_activity::Column::TimeId)
                .column(time_activity::Column::ActivityUuid)
                .filter(time_activity::Column::TimeId.is_in(chunk.to_vec()))
                .into_tuple::<(i64, String)>()
                .all(db)
                .await?,
        );
    }
    Ok(links)
}

/// The fields of one revision row to write.
#[derive(Debug, Clone)]
pub struct NewRevision {
    pub uuid: String,
    pub revision: i32,
    pub user_id: i64,
    pub project_uuid: String,
    pub duration: i32,
    pub notes: Option<String>,
    pub issue_uri: Option<String>,
    pub date_worked: NaiveDate,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub activity_uuids: Vec<String>,
}

/// Inserts a revision as the current one, with its activities. The caller
/// has retired the previous current revision (if any) in the same transaction.
pub async fn insert_revision(db: &impl ConnectionTrait, new: NewRevision) -> Result<TimeRow> {
    let row = time::ActiveModel {
        uuid: Set(new.uuid),
        revision: Set(new.revision),
        newest: Set(true),
        user_id: Set(new.user_id),
        project_uuid: Set(new.project_uuid),
        duration: Set(new.duration),
        notes: Set(new.notes),
        issue_uri: Set(new.issue_uri),
        date_worked: Set(new.date_worked),
        created_at: Set(new.created_at),
        updated_at: Set(new.updated_at),
        deleted_at: Set(None),
        sort_at: Set(new.updated_at.unwrap_or(new.created_at)),
        ..Default::default()
    };
    let inserted = revisions::insert(db, row, None).await?;
    if !new.activity_uuids.is_empty() {
        time_activity::Entity::insert_many(new.activity_uuids.into_iter().map(|uuid| {
            time_activity::ActiveModel {
                time_id: Set(inserted.id),
                activity_uuid: Set(uuid),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(inserted)
}

/// How `write_revision` ended.
#[derive(Debug)]
pub enum Written {
    /// The new current revision.
    Row(TimeRow),
    /// A reference it newly holds is not live; nothing was written.
    Refused,
    /// The revision to retire is no longer the current one (it was read
    /// before the write, `current_before_write`); nothing was written.
    Stale,
}

/// The current revision of the time `uuid` with its activities, read
/// before a write begins, where the write itself can check that it is
/// still current (`write_revision`): there the write need not read it
/// under a lock inside the writer's turn. `None` elsewhere.
pub async fn current_before_write(
    db: &impl ConnectionTrait,
    uuid: &str,
) -> Result<Option<(TimeRow, Vec<String>)>> {
    if revisions::takes_row_locks(db) {
        return Ok(None);
    }
    let current = time::Entity::find()
        .filter(time::Column::Uuid.eq(uuid))
        .filter(time::Column::Newest.eq(true))
        .limit(1);
    Ok(with_activities(db, current).await?.pop())
}

/// Writes a revision as the current one, with its activities: retires
/// the revision `retire` (if any) and inserts `new`, provided the project
/// and activities it newly refers to (`hold_project`, `hold_activities`)
/// are live, held against a concurrent delete (`hold_references`), and
/// that `retire` is still current. All or nothing.
///
/// SQLite has nothing to lock, so there each statement carries the
/// checks (the retirement those of the references and its row being
/// current; the insert and the links that the statement before changed a
/// row), and the three go to the driver's thread in one call
/// (`together`): a writer's turn is mostly round trips to that thread.
pub async fn write_revision(
    db: &impl ConnectionTrait,
    new: NewRevision,
    retire: Option<i64>,
    hold_project: Option<&str>,
    hold_activities: &[String],
) -> Result<Written> {
    let projects: Vec<String> = hold_project.into_iter().map(str::to_owned).collect();
    if revisions::takes_row_locks(db) || hold_activities.len() > CHUNK {
        if hold_references(db, hold_project, hold_activities).await? != (true, true) {
            return Ok(Written::Refused);
        }
        if let Some(id) = retire {
            self::retire(db, id).await?;
        }
        return Ok(Written::Row(insert_revision(db, new).await?));
    }
    let statements = revision_statements(
        db.get_database_backend(),
        new,
        retire,
        &projects,
        hold_activities,
    )?;
    let rows = super::together(db, statements).await?;
    written_or_not(db, rows, retire).await
}

/// `write_revision` as a write of its own: on SQLite its statements join
/// those of other requests in one call to the driver's thread
/// (`Db::write_statements`); elsewhere a transaction runs
/// `write_revision`. `Refused` covers `Stale` on SQLite.
pub async fn write_revision_alone(
    db: &Db,
    new: NewRevision,
    retire: Option<i64>,
    hold_project: Option<&str>,
    hold_activities: &[String],
) -> Result<Written> {
    if revisions::takes_row_locks(db.conn()) || hold_activities.len() > CHUNK {
        return db
            .write(|tx| {
                let new = new.clone();
                async move { write_revision(&tx, new, retire, hold_project, hold_activities).await }
            })
            .await;
    }
    let projects: Vec<String> = hold_project.into_iter().map(str::to_owned).collect();
    let statements = revision_statements(db.backend(), new, retire, &projects, hold_activities)?;
    let rows = db.write_statements(statements).await?;
    Ok(match rows.first() {
        Some(row) => Written::Row(TimeRow::from_query_result(row, "")?),
        None => Written::Refused,
    })
}

/// `write_revision`'s statements where nothing is locked: each carries
/// its checks, so that they change all or nothing.
fn revision_statements(
    backend: sea_orm::DatabaseBackend,
    new: NewRevision,
    retire: Option<i64>,
    projects: &[String],
    hold_activities: &[String],
) -> Result<Vec<sea_orm::Statement>> {
    let (projects_live, projects_wanted) = revisions::live_count::<project::Entity>(projects);
    let (activities_live, activities_wanted) =
        revisions::live_count::<activity::Entity>(hold_activities);
    let references_live = Expr::expr(projects_live)
        .eq(projects_wanted as i64)
        .and(Expr::expr(activities_live).eq(activities_wanted as i64));
    let changed_a_row = Expr::cust("changes() = 1");
    let mut statements = Vec::new();
    let insert_if = match retire {
        Some(id) => {
            let mut retirement = revisions::retire_statement::<time::Entity>(id);
            retirement
                .and_where(time::Column::Newest.eq(true))
                .and_where(references_live);
            statements.push(backend.build(&retirement));
            changed_a_row.clone()
        }
        None => references_live,
    };
    let fields: [(time::Column, sea_orm::Value); 12] = [
        (time::Column::Uuid, new.uuid.clone().into()),
        (time::Column::Revision, new.revision.into()),
        (time::Column::Newest, true.into()),
        (time::Column::UserId, new.user_id.into()),
        (time::Column::ProjectUuid, new.project_uuid.into()),
        (time::Column::Duration, new.duration.into()),
        (time::Column::Notes, new.notes.into()),
        (time::Column::IssueUri, new.issue_uri.into()),
        (time::Column::DateWorked, new.date_worked.into()),
        (time::Column::CreatedAt, new.created_at.into()),
        (time::Column::UpdatedAt, new.updated_at.into()),
        (
            time::Column::SortAt,
            new.updated_at.unwrap_or(new.created_at).into(),
        ),
    ];
    let row = Query::select()
        .exprs(fields.iter().map(|(_, value)| Expr::value(value.clone())))
        .and_where(insert_if)
        .to_owned();
    let insert = Query::insert()
        .into_table(time::Entity)
        .columns(fields.iter().map(|(column, _)| *column))
        .select_from(row)
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?
        .returning_all()
        .to_owned();
    statements.push(backend.build(&insert));
    let activities = serde_json::to_string(&new.activity_uuids)
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    statements.push(sea_orm::Statement::from_sql_and_values(
        backend,
        "INSERT INTO time_activities (time_id, activity_uuid) \
         SELECT times.id, json_each.value FROM times, json_each(?) \
         WHERE times.uuid = ? AND times.revision = ? AND changes() = 1",
        [activities.into(), new.uuid.into(), new.revision.into()],
    ));
    Ok(statements)
}

/// The written row among `rows`, or why there is none.
async fn written_or_not(
    db: &impl ConnectionTrait,
    rows: Vec<sea_orm::QueryResult>,
    retire: Option<i64>,
) -> Result<Written> {
    if let Some(row) = rows.first() {
        return Ok(Written::Row(TimeRow::from_query_result(row, "")?));
    }
    let stale = match retire {
        Some(id) => time::Entity::find_by_id(id)
            .filter(time::Column::Newest.eq(true))
            .one(db)
            .await?
            .is_none(),
        None => false,
    };
    Ok(if stale {
        Written::Stale
    } else {
        Written::Refused
    })
}

/// Marks the row `id` as no longer the current revision.
pub async fn retire(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    revisions::retire::<time::Entity>(db, id).await
}

/// Soft-deletes the row `id` (the current revision).
pub async fn mark_deleted(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<()> {
    revisions::mark_deleted::<time::Entity>(db, id, now, Vec::new()).await
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;

    /// With `since`, the list sorts by an expression, so that SQLite finds
    /// the changed rows through the indexes of both sides of the OR rather
    /// than walking the whole list index (see `revisions::sort_key`).
    #[test]
    fn since_lists_sort_by_an_expression() {
        let sql = |since| {
            let filter = TimeFilter {
                since,
                ..Default::default()
            };
            time::Entity::find()
                .filter(filter.condition())
                .order_by(filter.sort_key(), Order::Asc)
                .build(DbBackend::Sqlite)
                .to_string()
        };
        let with = sql(Some(5));
        assert!(
            with.contains(r#""sort_at" >= 5 OR "times"."deleted_at" >= 5"#),
            "{with}"
        );
        assert!(with.ends_with(r#"ORDER BY "sort_at" + 0 ASC"#), "{with}");
        let without = sql(None);
        assert!(without.ends_with(r#"ORDER BY "sort_at" ASC"#), "{without}");
        assert!(without.contains(r#""deleted_at" IS NULL"#), "{without}");
    }
}
