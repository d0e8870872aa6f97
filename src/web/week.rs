//! My week (the landing page): a week's entries by day with daily and
//! weekly totals, the form to add an entry, and editing and deleting one.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::ids::{Identifier, TimeId};
use crate::domain::projects::ProjectQuery;
use crate::domain::times::{TimeQuery, TimeView};
use crate::domain::{activities, projects, timers, times, validate, Caller, Page};
use crate::error::Error;
use crate::http::AppState;
use crate::web::error::{plain_words, WebResult};
use crate::web::session::{CheckedForm, Session};
use crate::web::{encode, format_duration, parse_duration, Chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show))
        .route("/entries", post(add))
        .route("/entries/{uuid}", get(edit).post(save))
        .route("/entries/{uuid}/delete", post(delete))
        .route("/timer/start", post(start_timer))
        .route("/timer/stop", post(stop_timer))
        .route("/timer/discard", post(discard_timer))
}

/// The caller's running timer, as the week page shows it.
pub struct TimerView {
    pub project: String,
    pub activities: String,
    pub notes: String,
    /// Whole seconds at rendering; the script counts on from there.
    pub elapsed_seconds: i64,
    pub elapsed: String,
    pub started: String,
}

fn timer_view(timer: timers::RunningTimer) -> TimerView {
    let started = chrono::DateTime::parse_from_rfc3339(&timer.started_at)
        .map(|t| t.format("%H:%M UTC, %-d %b").to_string())
        .unwrap_or(timer.started_at);
    let s = timer.elapsed.max(0);
    TimerView {
        project: timer.project,
        activities: timer.activities.join(", "),
        notes: timer.notes.unwrap_or_default(),
        elapsed_seconds: s,
        elapsed: format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
        started,
    }
}

/// One choice of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
    /// For projects: the slug of their default activity ("" when none).
    pub default_activity: String,
}

/// What was wrong with each field of the entry form.
#[derive(Default)]
pub struct EntryErrors {
    pub general: Option<String>,
    pub project: Option<String>,
    pub activities: Option<String>,
    pub duration: Option<String>,
    pub date: Option<String>,
    pub notes: Option<String>,
    pub issue_uri: Option<String>,
}

impl EntryErrors {
    fn any(&self) -> bool {
        self.general.is_some()
            || self.project.is_some()
            || self.activities.is_some()
            || self.duration.is_some()
            || self.date.is_some()
            || self.notes.is_some()
            || self.issue_uri.is_some()
    }
}

/// The entry form's values, as typed.
#[derive(Default)]
pub struct EntryForm {
    /// `/entries` to add, `/entries/<uuid>` to save an edit.
    pub action: String,
    pub submit: &'static str,
    pub project: String,
    pub activities: Vec<String>,
    pub duration: String,
    pub date: String,
    pub notes: String,
    pub issue_uri: String,
    pub errors: EntryErrors,
}

pub struct EntryRow {
    pub uuid: String,
    pub project: String,
    pub activities: String,
    pub duration: String,
    pub notes: String,
    pub issue_uri: String,
    pub can_edit: bool,
    pub can_delete: bool,
}

pub struct DayView {
    pub heading: String,
    pub date: String,
    pub is_today: bool,
    pub entries: Vec<EntryRow>,
    pub total: String,
}

#[derive(Template)]
#[template(path = "week.html")]
struct WeekPage {
    chrome: Chrome,
    /// The user whose week this is.
    user: String,
    own: bool,
    heading: String,
    prev_href: String,
    next_href: String,
    this_week_href: String,
    days: Vec<DayView>,
    total: String,
    csrf: String,
    form: EntryForm,
    projects: Vec<Choice>,
    activities: Vec<Choice>,
    timer: Option<TimerView>,
    timer_error: Option<String>,
}

#[derive(Template)]
#[template(path = "entry.html")]
struct EntryPage {
    chrome: Chrome,
    csrf: String,
    form: EntryForm,
    projects: Vec<Choice>,
    activities: Vec<Choice>,
    uuid: String,
    back_href: String,
    can_delete: bool,
}

#[derive(Deserialize, Default)]
struct WeekQuery {
    week: Option<String>,
    user: Option<String>,
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

fn week_href(monday: NaiveDate, user: Option<&str>) -> String {
    match user {
        Some(u) => format!("/?week={monday}&user={}", encode(u)),
        None => format!("/?week={monday}"),
    }
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<WeekQuery>,
) -> WebResult {
    let monday = match query.week.as_deref().filter(|w| !w.is_empty()) {
        Some(w) => monday_of(validate::parse_date(w).ok_or_else(|| Error::bad_query("week", w))?),
        None => monday_of(today()),
    };
    let date = if monday_of(today()) == monday {
        today()
    } else {
        monday
    };
    let form = EntryForm {
        date: date.to_string(),
        ..EntryForm::default()
    };
    week_page(&state, &session, monday, query.user.as_deref(), form).await
}

/// Renders the week of `monday` for `user` (default: the caller) with the
/// add form holding `form` (422 when it has errors).
async fn week_page(
    state: &AppState,
    session: &Session,
    monday: NaiveDate,
    user: Option<&str>,
    form: EntryForm,
) -> WebResult {
    week_page_with(state, session, monday, user, form, None).await
}

async fn week_page_with(
    state: &AppState,
    session: &Session,
    monday: NaiveDate,
    user: Option<&str>,
    mut form: EntryForm,
    timer_error: Option<String>,
) -> WebResult {
    let caller = &session.caller;
    let user = user
        .filter(|u| !u.is_empty())
        .unwrap_or(&caller.username)
        .to_owned();
    let own = validate::username_key(&user) == validate::username_key(&caller.username);
    let sunday = monday + Duration::days(6);
    let query = TimeQuery {
        users: vec![user.clone()],
        start: Some(monday.to_string()),
        end: Some(sunday.to_string()),
        ..TimeQuery::default()
    };
    let listing = times::list(
        &state.db,
        &state.caches.time_pages,
        caller,
        &query,
        Page::default(),
    )
    .await?;
    let mut by_day: BTreeMap<String, Vec<TimeView>> = BTreeMap::new();
    for time in listing.items.iter().cloned() {
        by_day
            .entry(time.date_worked.clone())
            .or_default()
            .push(time);
    }
    let mut week_total = 0i64;
    let days = (0..7)
        .map(|offset| {
            let day = monday + Duration::days(offset);
            let times = by_day.remove(&day.to_string()).unwrap_or_default();
            let total: i64 = times.iter().map(|t| i64::from(t.duration)).sum();
            week_total += total;
            DayView {
                heading: day.format("%A %-d %B").to_string(),
                date: day.to_string(),
                is_today: day == today(),
                entries: times.iter().map(|t| entry_row(caller, t)).collect(),
                total: format_duration(total),
            }
        })
        .collect();
    let (projects, activities) = if own {
        form.action = "/entries".into();
        form.submit = "Add";
        choices(state, caller, &form).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let timer = if own {
        timers::current(&state.db, caller).await?.map(timer_view)
    } else {
        None
    };
    let other = (!own).then_some(user.as_str());
    let page = WeekPage {
        chrome: Chrome::new(session, if own { "week" } else { "" }),
        user: user.clone(),
        own,
        heading: format!(
            "Week {} · {} – {}",
            monday.iso_week().week(),
            monday.format("%-d %b"),
            sunday.format("%-d %b %Y")
        ),
        prev_href: week_href(monday - Duration::days(7), other),
        next_href: week_href(monday + Duration::days(7), other),
        this_week_href: week_href(monday_of(today()), other),
        days,
        total: format_duration(week_total),
        csrf: session.csrf.clone(),
        form,
        projects,
        activities,
        timer,
        timer_error,
    };
    Ok(super::form_page(
        session,
        &page,
        page.form.errors.any() || page.timer_error.is_some(),
    ))
}

fn entry_row(caller: &Caller, time: &TimeView) -> EntryRow {
    let own = validate::username_key(&time.user) == validate::username_key(&caller.username);
    EntryRow {
        uuid: time.uuid.clone(),
        project: time.project.join(", "),
        activities: time.activities.join(", "),
        duration: format_duration(i64::from(time.duration)),
        notes: time.notes.clone().unwrap_or_default(),
        issue_uri: time.issue_uri.clone().unwrap_or_default(),
        // The domain's rules: own times or a site admin may update; own
        // times or site managers may delete.
        can_edit: own || caller.is_admin(),
        can_delete: own || caller.is_manager(),
    }
}

/// The projects the caller may log time on (members; every project for
/// site admins) and all activities, with the form's choices selected. With
/// no activity chosen, the project's default activity is preselected.
async fn choices(
    state: &AppState,
    caller: &Caller,
    form: &EntryForm,
) -> WebResult<(Vec<Choice>, Vec<Choice>)> {
    let query = ProjectQuery {
        users: if caller.is_admin() {
            Vec::new()
        } else {
            vec![caller.username.clone()]
        },
        ..ProjectQuery::default()
    };
    let me = validate::username_key(&caller.username);
    let mut projects: Vec<Choice> = projects::list(&state.db, &query, Page::default())
        .await?
        .items
        .into_iter()
        .filter(|p| {
            caller.is_admin()
                || p.users.as_ref().is_some_and(|users| {
                    users
                        .iter()
                        .any(|(name, roles)| validate::username_key(name) == me && roles.member)
                })
        })
        .filter_map(|p| {
            let slug = p.slugs.first()?.clone();
            Some(Choice {
                selected: form.project == slug,
                label: format!("{} ({slug})", p.name),
                value: slug,
                default_activity: p.default_activity.unwrap_or_default(),
            })
        })
        .collect();
    projects.sort_by_key(|p| p.label.to_lowercase());
    let preselect = if form.activities.is_empty() {
        projects
            .iter()
            .find(|p| p.selected)
            .or(projects.first())
            .map(|p| p.default_activity.clone())
            .filter(|d| !d.is_empty())
            .into_iter()
            .collect()
    } else {
        form.activities.clone()
    };
    let activities = activities::list(&state.db, false, false, None, Page::default())
        .await?
        .items
        .into_iter()
        .filter_map(|a| {
            let slug = a.slug?;
            Some(Choice {
                selected: preselect.contains(&slug),
                label: a.name,
                value: slug,
                default_activity: String::new(),
            })
        })
        .collect();
    Ok((projects, activities))
}

/// Reads the entry form; `Err` holds the form back with its field errors.
fn read_form(
    form: &CheckedForm,
    action: String,
    submit: &'static str,
) -> (EntryForm, Option<Map<String, Value>>) {
    let mut entry = EntryForm {
        action,
        submit,
        project: form.get("project").to_owned(),
        activities: form.all("activities"),
        duration: form.get("duration").to_owned(),
        date: form.get("date").to_owned(),
        notes: form.get("notes").to_owned(),
        issue_uri: form.get("issue_uri").to_owned(),
        errors: EntryErrors::default(),
    };
    let duration = parse_duration(&entry.duration);
    if entry.project.is_empty() {
        entry.errors.project = Some("Choose a project.".into());
    }
    if duration.is_none() {
        entry.errors.duration = Some(if entry.duration.is_empty() {
            "Enter how long you worked, like 1:30, 1.5h, 90m or 1h 30m.".into()
        } else {
            format!(
                "“{}” is not a duration we understand. Write it like 1:30, 1.5h, 90m or 1h 30m.",
                entry.duration
            )
        });
    }
    if validate::parse_date(&entry.date).is_none() {
        entry.errors.date = Some("Enter the date you worked, as YYYY-MM-DD.".into());
    }
    if !entry.issue_uri.is_empty() && !validate::is_absolute_uri(&entry.issue_uri) {
        entry.errors.issue_uri =
            Some("Enter a full web address, starting with https:// or http://.".into());
    }
    if entry.errors.any() {
        return (entry, None);
    }
    let mut object = Map::new();
    object.insert("duration".into(), duration.unwrap_or_default().into());
    object.insert("project".into(), entry.project.clone().into());
    if !entry.activities.is_empty() {
        object.insert("activities".into(), entry.activities.clone().into());
    }
    object.insert("date_worked".into(), entry.date.clone().into());
    let text = |v: &str| {
        if v.is_empty() {
            Value::Null
        } else {
            v.into()
        }
    };
    object.insert("notes".into(), text(&entry.notes));
    object.insert("issue_uri".into(), text(&entry.issue_uri));
    (entry, Some(object))
}

/// Puts a domain refusal next to the field it is about.
fn place_error(errors: &mut EntryErrors, error: &Error) {
    let text = error.to_string();
    let mentions = |field: &str| {
        text.split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|w| w == field)
    };
    match error {
        Error::InvalidForeignKey { key: "project", .. } => {
            errors.project = Some("Choose one of the projects in the list.".into())
        }
        Error::InvalidForeignKey {
            key: "activities", ..
        } => errors.activities = Some("Choose activities from the list.".into()),
        Error::Authorization { action, .. } if action.contains("project") => {
            errors.project = Some(format!(
                "You are not a member of this project, so you may not {}.",
                action
                    .split(" for project")
                    .next()
                    .unwrap_or(action)
                    .replace("create time entries", "log time on it")
            ))
        }
        Error::BadObject(_) if mentions("activities") => {
            errors.activities =
                Some("Choose at least one activity (this project has no default activity).".into())
        }
        Error::BadObject(_) if mentions("duration") => {
            errors.duration = Some("That duration is too long.".into())
        }
        Error::BadObject(_) if mentions("notes") => {
            errors.notes = Some("The notes are too long.".into())
        }
        Error::BadObject(_) if mentions("issue_uri") => {
            errors.issue_uri = Some("Enter a full web address, starting with https://.".into())
        }
        Error::BadObject(_) if mentions("date_worked") => {
            errors.date = Some("Enter the date you worked, as YYYY-MM-DD.".into())
        }
        Error::BadObject(_) if mentions("project") => {
            errors.project = Some("Choose a project.".into())
        }
        other => errors.general = Some(plain_words(other)),
    }
}

/// A refusal the form can show; anything else (server errors) fails the page.
fn form_error(error: &Error) -> bool {
    !matches!(error, Error::Server(_) | Error::NotFound(_))
}

async fn add(State(state): State<AppState>, session: Session, form: CheckedForm) -> WebResult {
    let (mut entry, object) = read_form(&form, "/entries".into(), "Add");
    let week_of = |date: &str| monday_of(validate::parse_date(date).unwrap_or_else(today));
    let Some(mut object) = object else {
        let monday = week_of(&entry.date);
        return week_page(&state, &session, monday, None, entry).await;
    };
    object.insert("user".into(), session.caller.username.clone().into());
    match times::create(&state.db, &session.caller, &object).await {
        Ok(time) => {
            let monday = week_of(&time.date_worked);
            Ok(super::see_other(
                &session,
                &format!("/?week={monday}#day-{}", time.date_worked),
            ))
        }
        Err(e) if form_error(&e) => {
            place_error(&mut entry.errors, &e);
            let monday = week_of(&entry.date);
            week_page(&state, &session, monday, None, entry).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit(
    State(state): State<AppState>,
    session: Session,
    Path(uuid): Path<String>,
) -> WebResult {
    let time = times::get(
        &state.db,
        &session.caller,
        &TimeId::parse(&uuid)?,
        false,
        false,
    )
    .await?;
    let row = entry_row(&session.caller, &time);
    if !row.can_edit {
        return Err(session
            .caller
            .forbidden("update time entries of other users")
            .into());
    }
    let form = EntryForm {
        action: format!("/entries/{}", time.uuid),
        submit: "Save",
        project: time.project.first().cloned().unwrap_or_default(),
        activities: time.activities.clone(),
        duration: format_duration(i64::from(time.duration)),
        date: time.date_worked.clone(),
        notes: row.notes.clone(),
        issue_uri: row.issue_uri.clone(),
        errors: EntryErrors::default(),
    };
    entry_page(&state, &session, form, &time.uuid, row.can_delete).await
}

async fn entry_page(
    state: &AppState,
    session: &Session,
    form: EntryForm,
    uuid: &str,
    can_delete: bool,
) -> WebResult {
    let (projects, activities) = choices(state, &session.caller, &form).await?;
    let monday = monday_of(validate::parse_date(&form.date).unwrap_or_else(today));
    let page = EntryPage {
        chrome: Chrome::new(session, "week"),
        csrf: session.csrf.clone(),
        projects,
        activities,
        uuid: uuid.to_owned(),
        back_href: format!("/?week={monday}"),
        can_delete,
        form,
    };
    Ok(super::form_page(session, &page, page.form.errors.any()))
}

async fn save(
    State(state): State<AppState>,
    session: Session,
    Path(uuid): Path<String>,
    form: CheckedForm,
) -> WebResult {
    let (mut entry, object) = read_form(&form, format!("/entries/{uuid}"), "Save");
    let Some(mut object) = object else {
        return entry_page(&state, &session, entry, &uuid, true).await;
    };
    if entry.activities.is_empty() {
        // An edit keeps at least one activity: none chosen is a mistake.
        object.remove("activities");
        entry.errors.activities = Some("Choose at least one activity.".into());
        return entry_page(&state, &session, entry, &uuid, true).await;
    }
    match times::update(&state.db, &session.caller, &TimeId::parse(&uuid)?, &object).await {
        Ok(time) => {
            let monday = monday_of(validate::parse_date(&time.date_worked).unwrap_or_else(today));
            Ok(super::see_other(
                &session,
                &format!("/?week={monday}#day-{}", time.date_worked),
            ))
        }
        Err(e) if form_error(&e) => {
            place_error(&mut entry.errors, &e);
            entry_page(&state, &session, entry, &uuid, true).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(uuid): Path<String>,
    _form: CheckedForm,
) -> WebResult<Response> {
    let time = times::get(
        &state.db,
        &session.caller,
        &TimeId::parse(&uuid)?,
        false,
        false,
    )
    .await?;
    times::delete(&state.db, &session.caller, &TimeId::parse(&uuid)?).await?;
    let monday = monday_of(validate::parse_date(&time.date_worked).unwrap_or_else(today));
    Ok(super::see_other(&session, &format!("/?week={monday}")))
}

/// Shows the week again with what was wrong with a timer action.
async fn timer_refused(state: &AppState, session: &Session, error: Error) -> WebResult {
    if !form_error(&error) {
        return Err(error.into());
    }
    let form = EntryForm {
        date: today().to_string(),
        ..EntryForm::default()
    };
    let message = match &error {
        Error::BadObject(text) if text.contains("activities") => {
            "Choose an activity: this project has no default activity.".to_owned()
        }
        other => plain_words(other),
    };
    week_page_with(
        state,
        session,
        monday_of(today()),
        None,
        form,
        Some(message),
    )
    .await
}

async fn start_timer(
    State(state): State<AppState>,
    session: Session,
    form: CheckedForm,
) -> WebResult {
    let mut object = Map::new();
    let project = form.get("timer_project");
    if project.is_empty() {
        let missing = Error::BadObject("Choose a project for the timer".into());
        return timer_refused(&state, &session, missing).await;
    }
    object.insert("project".into(), project.into());
    let activities = form.all("timer_activities");
    if !activities.is_empty() {
        object.insert("activities".into(), activities.into());
    }
    let notes = form.get("timer_notes");
    if !notes.is_empty() {
        object.insert("notes".into(), notes.into());
    }
    match timers::start(&state.db, &session.caller, &object).await {
        Ok(_) => Ok(super::see_other(&session, "/#timer")),
        Err(e) => timer_refused(&state, &session, e).await,
    }
}

async fn stop_timer(
    State(state): State<AppState>,
    session: Session,
    _form: CheckedForm,
) -> WebResult {
    match timers::stop(&state.db, &session.caller, &Map::new()).await {
        Ok(time) => {
            let monday = monday_of(validate::parse_date(&time.date_worked).unwrap_or_else(today));
            Ok(super::see_other(
                &session,
                &format!("/?week={monday}#day-{}", time.date_worked),
            ))
        }
        // Stopped elsewhere (another tab or device) in the meantime.
        Err(Error::NotFound(_)) => Ok(super::see_other(&session, "/")),
        Err(e) => timer_refused(&state, &session, e).await,
    }
}

async fn discard_timer(
    State(state): State<AppState>,
    session: Session,
    _form: CheckedForm,
) -> WebResult {
    match timers::discard(&state.db, &session.caller).await {
        Ok(()) | Err(Error::NotFound(_)) => Ok(super::see_other(&session, "/")),
        Err(e) => Err(e.into()),
    }
}
