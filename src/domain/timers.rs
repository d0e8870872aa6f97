//! Running timers (issue 16): one per user, kept in the database so that
//! they survive restarts and are shared by every instance. Starting,
//! editing and stopping check what `POST /times` checks (the caller must
//! be a member of the project, site admins excepted; the project and
//! activities must exist); stopping turns the timer into a time entry in
//! the same transaction that removes it, so two concurrent stops make
//! exactly one time.
//!
//! Every write locks the caller's user row first (`store::lock_owner`):
//! the operations of one user's timer are serialised on every backend.
//! Deleting a project or activity a timer uses is refused (405), as for
//! one a time uses (`activities::delete`, `projects::delete`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::domain::times::references::{
    default_activities, hold_references, keep, require_member, resolve_activities, resolve_project,
};
use crate::domain::times::{self, TimeView};
use crate::domain::validate::{self, Field, FieldSpec, Kind, Mode};
use crate::domain::Caller;
use crate::error::{Error, Result};
use crate::storage::timers::{self as store, TimerFields, TimerRow};
use crate::storage::times::{self as time_store, NewRevision};
use crate::storage::{self, Catalogue, Conn, Db, Tx};

const NOTES: FieldSpec = FieldSpec::new(
    "notes",
    Kind::Text {
        max: validate::MAX_TEXT_LEN,
        bytes: false,
    },
)
.nullable();
const ISSUE_URI: FieldSpec = FieldSpec::new("issue_uri", Kind::Uri).nullable();
/// Fields of the object of `POST /timer/start` (`project` required) and
/// `POST /timer`, checked as a time's are.
pub const TIMER_SPECS: [FieldSpec; 4] = [
    FieldSpec::new("project", Kind::Slug).required(),
    // `[]`: the project's default activity.
    FieldSpec::new("activities", Kind::Slugs { empty_ok: true }),
    ISSUE_URI,
    NOTES,
];
/// Fields of the object of `POST /timer/stop` (overrides of the new time).
pub const STOP_SPECS: [FieldSpec; 3] = [
    FieldSpec::new("date_worked", Kind::Date).not_empty(),
    ISSUE_URI,
    NOTES,
];

/// A running timer as shown to its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningTimer {
    /// RFC 3339, UTC, milliseconds.
    pub started_at: String,
    /// Whole seconds since it started.
    pub elapsed: i64,
    /// The project's current slug (the first in order when it has several).
    pub project: String,
    /// The activities' current slugs, sorted.
    pub activities: Vec<String>,
    pub notes: Option<String>,
    pub issue_uri: Option<String>,
}

/// `GET /timer`: the caller's running timer, if any.
pub async fn current(db: &Db, caller: &Caller) -> Result<Option<RunningTimer>> {
    match store::find(db.conn(), caller.id).await? {
        Some((row, activities)) => Ok(Some(view(db.conn(), &row, &activities).await?)),
        None => Ok(None),
    }
}

/// `POST /timer/start`: starts a timer for the caller; a timer already
/// running is stopped first and its time saved (as Toggl does).
pub async fn start(db: &Db, caller: &Caller, object: &Map<String, Value>) -> Result<RunningTimer> {
    let input = read_timer(object, Mode::Create)?;
    let project_slug = input.project.clone().value().unwrap_or_default();
    let activity_slugs = input.activities.clone().value().filter(|a| !a.is_empty());
    let (input, project_slug, activity_slugs) = (&input, &project_slug, &activity_slugs);
    let catalogue = &db.catalogue().await?;
    db.write(|tx| async move {
        store::lock_owner(&tx, caller.id).await?;
        if let Some((running, activities)) = store::find(&tx, caller.id).await? {
            save_time(
                &tx,
                catalogue,
                caller,
                &running,
                activities,
                &StopInput::NONE,
            )
            .await?;
            store::remove(&tx, caller.id).await?;
        }
        let project_uuid = resolve_project(catalogue, "timer", project_slug)?;
        let activity_uuids = match &activity_slugs {
            Some(slugs) => resolve_activities(catalogue, "timer", slugs)?,
            None => default_activities(catalogue, "timer", &project_uuid)?,
        };
        hold_references(&tx, "timer", Some(&project_uuid), &activity_uuids).await?;
        require_member(catalogue, caller, &project_uuid, caller.id, project_slug)?;
        let fields = TimerFields {
            project_uuid,
            activity_uuids,
            notes: input.notes.clone().value(),
            issue_uri: input.issue_uri.clone().value(),
            started_at: storage::now_millis(),
        };
        store::insert(&tx, caller.id, fields).await?;
        shown(&tx, caller).await
    })
    .await
}

/// `POST /timer`: changes the fields sent of the running timer (404 when
/// none runs). Its start stays.
pub async fn edit(db: &Db, caller: &Caller, object: &Map<String, Value>) -> Result<RunningTimer> {
    let input = read_timer(object, Mode::Update)?;
    let project_slug = input.project.clone().value();
    let activity_slugs = input.activities.clone().value();
    let (input, project_slug, activity_slugs) = (&input, &project_slug, &activity_slugs);
    let catalogue = &db.catalogue().await?;
    db.write(|tx| async move {
        store::lock_owner(&tx, caller.id).await?;
        let (running, current_activities) = store::find(&tx, caller.id)
            .await?
            .ok_or(Error::NotFound("timer"))?;
        let project_uuid = match &project_slug {
            Some(slug) => resolve_project(catalogue, "timer", slug)?,
            None => running.project_uuid.clone(),
        };
        let activity_uuids = match &activity_slugs {
            Some(slugs) if !slugs.is_empty() => resolve_activities(catalogue, "timer", slugs)?,
            Some(_) => default_activities(catalogue, "timer", &project_uuid)?,
            None => current_activities,
        };
        hold_references(&tx, "timer", Some(&project_uuid), &activity_uuids).await?;
        if let Some(slug) = &project_slug {
            require_member(catalogue, caller, &project_uuid, caller.id, slug)?;
        }
        let fields = TimerFields {
            project_uuid,
            activity_uuids,
            notes: keep(input.notes.clone(), &running.notes),
            issue_uri: keep(input.issue_uri.clone(), &running.issue_uri),
            started_at: running.started_at,
        };
        store::update(&tx, caller.id, fields).await?;
        shown(&tx, caller).await
    })
    .await
}

/// `POST /timer/stop`: turns the running timer into a time entry of the
/// caller (`duration` = whole seconds elapsed, `date_worked` = the UTC
/// date it started, unless the object overrides it, `notes` or
/// `issue_uri`) and removes it, in one transaction; 404 when none runs.
pub async fn stop(db: &Db, caller: &Caller, object: &Map<String, Value>) -> Result<TimeView> {
    let fields = validate::read("time", object, &STOP_SPECS, Mode::Update)?;
    let overrides = StopInput {
        date_worked: fields.date("date_worked").value(),
        notes: fields.string("notes"),
        issue_uri: fields.string("issue_uri"),
    };
    let overrides = &overrides;
    let catalogue = &db.catalogue().await?;
    db.write(|tx| async move {
        store::lock_owner(&tx, caller.id).await?;
        let (running, activities) = store::find(&tx, caller.id)
            .await?
            .ok_or(Error::NotFound("timer"))?;
        let time = save_time(&tx, catalogue, caller, &running, activities, overrides).await?;
        if !store::remove(&tx, caller.id).await? {
            // Only reachable without the owner lock; never save twice.
            return Err(Error::NotFound("timer"));
        }
        Ok(time)
    })
    .await
}

/// `DELETE /timer`: discards the running timer; 404 when none runs.
pub async fn discard(db: &Db, caller: &Caller) -> Result<()> {
    db.write(|tx| async move {
        store::lock_owner(&tx, caller.id).await?;
        if !store::remove(&tx, caller.id).await? {
            return Err(Error::NotFound("timer"));
        }
        Ok(())
    })
    .await
}

/// The fields of a timer object after type checks.
struct TimerInput {
    project: Field<String>,
    activities: Field<Vec<String>>,
    notes: Field<String>,
    issue_uri: Field<String>,
}

fn read_timer(object: &Map<String, Value>, mode: Mode) -> Result<TimerInput> {
    let fields = validate::read("timer", object, &TIMER_SPECS, mode)?;
    Ok(TimerInput {
        project: fields.string("project"),
        activities: fields.slugs("activities"),
        notes: fields.string("notes"),
        issue_uri: fields.string("issue_uri"),
    })
}

/// What a stop may override of the new time.
struct StopInput {
    date_worked: Option<chrono::NaiveDate>,
    notes: Field<String>,
    issue_uri: Field<String>,
}

impl StopInput {
    /// Nothing overridden (a timer stopped by starting another).
    const NONE: StopInput = StopInput {
        date_worked: None,
        notes: Field::Absent,
        issue_uri: Field::Absent,
    };
}

/// Writes the time entry of a stopping timer (revision 1, the caller's).
async fn save_time(
    tx: &Tx,
    catalogue: &Catalogue,
    caller: &Caller,
    running: &TimerRow,
    activity_uuids: Vec<String>,
    overrides: &StopInput,
) -> Result<TimeView> {
    let now = storage::now_millis();
    let elapsed = (now - running.started_at).max(0) / 1000;
    let duration = i32::try_from(elapsed.min(validate::MAX_DURATION)).unwrap_or(i32::MAX);
    let date_worked = match overrides.date_worked {
        Some(date) => date,
        None => started(running.started_at).date_naive(),
    };
    hold_references(tx, "time", Some(&running.project_uuid), &activity_uuids).await?;
    let slug = storage::projects::slugs_by_project(tx, std::slice::from_ref(&running.project_uuid))
        .await?
        .remove(&running.project_uuid)
        .and_then(|s| s.into_iter().next())
        .unwrap_or_default();
    require_member(catalogue, caller, &running.project_uuid, caller.id, &slug)?;
    let row = time_store::insert_revision(
        tx,
        NewRevision {
            uuid: uuid::Uuid::new_v4().to_string(),
            revision: 1,
            user_id: caller.id,
            project_uuid: running.project_uuid.clone(),
            duration,
            notes: keep(overrides.notes.clone(), &running.notes),
            issue_uri: keep(overrides.issue_uri.clone(), &running.issue_uri),
            date_worked,
            created_at: now,
            updated_at: None,
            activity_uuids,
        },
    )
    .await?;
    times::render(tx, catalogue, vec![row], false)
        .await?
        .pop()
        .ok_or_else(|| Error::server(anyhow::anyhow!("rendering a time gave no view")))
}

/// The caller's timer as just written in `tx`.
async fn shown(tx: &Tx, caller: &Caller) -> Result<RunningTimer> {
    let (row, activities) = store::find(tx, caller.id)
        .await?
        .ok_or_else(|| Error::server(anyhow::anyhow!("the timer just written is gone")))?;
    view(tx, &row, &activities).await
}

fn started(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

async fn view(conn: &impl Conn, row: &TimerRow, activity_uuids: &[String]) -> Result<RunningTimer> {
    let project =
        storage::projects::slugs_by_project(conn, std::slice::from_ref(&row.project_uuid))
            .await?
            .remove(&row.project_uuid)
            .and_then(|s| s.into_iter().next())
            .unwrap_or_default();
    let mut activities: Vec<String> = storage::activities::current_of(conn, activity_uuids)
        .await?
        .into_iter()
        .filter_map(|a| a.live_slug)
        .collect();
    activities.sort();
    Ok(RunningTimer {
        started_at: started(row.started_at).to_rfc3339_opts(SecondsFormat::Millis, true),
        elapsed: (storage::now_millis() - row.started_at).max(0) / 1000,
        project,
        activities,
        notes: row.notes.clone(),
        issue_uri: row.issue_uri.clone(),
    })
}
