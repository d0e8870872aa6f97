//! Projects and activities: everyone browses; site managers and admins
//! create, rename, re-slug and delete them; they and a project's managers
//! manage its members and their roles. Each action is shown only to those
//! the domain lets take it, and the domain decides again on submit.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::domain::ids::{Identifier, Slug};
use crate::domain::projects::{ProjectQuery, ProjectView, Roles};
use crate::domain::{activities, projects, validate, Caller, Page};
use crate::error::Error;
use crate::http::AppState;
use crate::web::error::{named_flags, shown, WebResult};
use crate::web::session::{CheckedForm, Session};
use crate::web::Chrome;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list).post(create))
        .route("/projects/{slug}", get(show).post(rename))
        .route("/projects/{slug}/members", post(members))
        .route("/projects/{slug}/delete", post(delete))
        .route("/activities", get(activity_list).post(activity_create))
        .route("/activities/{slug}", post(activity_rename))
        .route("/activities/{slug}/delete", post(activity_delete))
}

pub struct ProjectRow {
    pub name: String,
    pub slug: String,
    pub slugs: String,
    pub default_activity: String,
    pub members: usize,
    pub my_roles: String,
}

/// Values of the project form (create or rename).
#[derive(Default)]
pub struct ProjectForm {
    pub name: String,
    pub slugs: String,
    pub uri: String,
    pub default_activity: String,
    pub error: Option<String>,
}

pub struct ActivityChoice {
    pub slug: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    chrome: Chrome,
    csrf: String,
    projects: Vec<ProjectRow>,
    can_create: bool,
    form: ProjectForm,
    activities: Vec<ActivityChoice>,
    action: String,
    submit: &'static str,
}

pub struct MemberRow {
    pub index: usize,
    pub username: String,
    pub member: bool,
    pub spectator: bool,
    pub manager: bool,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    chrome: Chrome,
    csrf: String,
    slug: String,
    name: String,
    slugs: String,
    uri: String,
    default_activity: String,
    members: Vec<MemberRow>,
    can_edit: bool,
    can_manage_members: bool,
    form: ProjectForm,
    activities: Vec<ActivityChoice>,
    members_error: Option<String>,
    action: String,
    submit: &'static str,
}

fn roles_text(roles: &Roles) -> String {
    named_flags(&[
        (roles.member, "member"),
        (roles.spectator, "spectator"),
        (roles.manager, "manager"),
    ])
}

fn my_roles(caller: &Caller, project: &ProjectView) -> Option<Roles> {
    let me = validate::username_key(&caller.username);
    project
        .users
        .as_ref()?
        .iter()
        .find(|(name, _)| validate::username_key(name) == me)
        .map(|(_, roles)| *roles)
}

async fn activity_choices(state: &AppState) -> WebResult<Vec<ActivityChoice>> {
    Ok(
        activities::list(&state.db, false, false, None, Page::default())
            .await?
            .items
            .into_iter()
            .filter_map(|a| {
                Some(ActivityChoice {
                    slug: a.slug?,
                    name: a.name,
                })
            })
            .collect(),
    )
}

async fn projects_page(state: &AppState, session: &Session, form: ProjectForm) -> WebResult {
    let caller = &session.caller;
    let listing = projects::list(&state.db, &ProjectQuery::default(), Page::default()).await?;
    let mut rows: Vec<ProjectRow> = listing
        .items
        .iter()
        .map(|p| ProjectRow {
            name: p.name.clone(),
            slug: p.slugs.first().cloned().unwrap_or_default(),
            slugs: p.slugs.join(", "),
            default_activity: p.default_activity.clone().unwrap_or_default(),
            members: p.users.as_ref().map_or(0, BTreeMap::len),
            my_roles: my_roles(caller, p)
                .map(|r| roles_text(&r))
                .unwrap_or_default(),
        })
        .collect();
    rows.sort_by_key(|r| r.name.to_lowercase());
    let invalid = form.error.is_some();
    let page = ProjectsPage {
        chrome: Chrome::new(session, "projects"),
        csrf: session.csrf.clone(),
        projects: rows,
        can_create: caller.is_manager(),
        form,
        activities: activity_choices(state).await?,
        action: "/projects".into(),
        submit: "Create project",
    };
    Ok(super::form_page(session, &page, invalid))
}

async fn list(State(state): State<AppState>, session: Session) -> WebResult {
    projects_page(&state, &session, ProjectForm::default()).await
}

/// Slugs as typed: separated by commas or spaces.
fn split_slugs(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn read_project_form(form: &CheckedForm) -> ProjectForm {
    ProjectForm {
        name: form.get("name").to_owned(),
        slugs: form.get("slugs").to_owned(),
        uri: form.get("uri").to_owned(),
        default_activity: form.get("default_activity").to_owned(),
        error: None,
    }
}

/// The object of a project create or rename, or what is wrong with it.
fn project_object(form: &ProjectForm) -> Result<Map<String, Value>, String> {
    if form.name.is_empty() {
        return Err("Enter a name for the project.".into());
    }
    let slugs = split_slugs(&form.slugs);
    if slugs.is_empty() {
        return Err("Enter at least one slug (lower-case letters, digits and dashes).".into());
    }
    if let Some(bad) = slugs.iter().find(|s| !validate::is_slug(s)) {
        return Err(format!(
            "“{bad}” cannot be a slug: use lower-case letters, digits and single dashes, with at least one letter."
        ));
    }
    if !form.uri.is_empty() && !validate::is_absolute_uri(&form.uri) {
        return Err("Enter the project’s web address in full, starting with https://.".into());
    }
    let text = |v: &str| if v.is_empty() { Value::Null } else { v.into() };
    let mut object = Map::new();
    object.insert("name".into(), form.name.clone().into());
    object.insert("slugs".into(), slugs.into());
    object.insert("uri".into(), text(&form.uri));
    object.insert("default_activity".into(), text(&form.default_activity));
    Ok(object)
}

/// After a save: to the project's page (by its first slug).
fn shown_project(session: &Session, project: &ProjectView) -> axum::response::Response {
    let slug = project.slugs.first().cloned().unwrap_or_default();
    super::see_other(session, &format!("/projects/{slug}"))
}

async fn create(State(state): State<AppState>, session: Session, form: CheckedForm) -> WebResult {
    let mut values = read_project_form(&form);
    let message = match project_object(&values) {
        Ok(object) => match projects::create(&state.db, &session.caller, &object).await {
            Ok(project) => return Ok(shown_project(&session, &project)),
            Err(e) => shown(e)?,
        },
        Err(message) => message,
    };
    values.error = Some(message);
    projects_page(&state, &session, values).await
}

async fn project_page(
    state: &AppState,
    session: &Session,
    slug: &str,
    form: Option<ProjectForm>,
    members_error: Option<String>,
) -> WebResult {
    let caller = &session.caller;
    let project = projects::get(&state.db, &Slug::parse(slug)?, false).await?;
    let manages = my_roles(caller, &project).is_some_and(|r| r.manager);
    let mut members: Vec<MemberRow> = project
        .users
        .clone()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, (username, roles))| MemberRow {
            index,
            username,
            member: roles.member,
            spectator: roles.spectator,
            manager: roles.manager,
        })
        .collect();
    members.sort_by_key(|m| m.username.to_lowercase());
    let current_slug = project.slugs.first().cloned().unwrap_or_default();
    let form = form.unwrap_or_else(|| ProjectForm {
        name: project.name.clone(),
        slugs: project.slugs.join(", "),
        uri: project.uri.clone().unwrap_or_default(),
        default_activity: project.default_activity.clone().unwrap_or_default(),
        error: None,
    });
    let invalid = form.error.is_some() || members_error.is_some();
    let slug = current_slug;
    let page = ProjectPage {
        chrome: Chrome::new(session, "projects"),
        csrf: session.csrf.clone(),
        slug: slug.clone(),
        name: project.name.clone(),
        slugs: project.slugs.join(", "),
        uri: project.uri.clone().unwrap_or_default(),
        default_activity: project.default_activity.clone().unwrap_or_default(),
        members,
        can_edit: caller.is_manager(),
        can_manage_members: caller.is_manager() || manages,
        form,
        activities: activity_choices(state).await?,
        members_error,
        action: format!("/projects/{slug}"),
        submit: "Save project",
    };
    Ok(super::form_page(session, &page, invalid))
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> WebResult {
    project_page(&state, &session, &slug, None, None).await
}

async fn rename(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    form: CheckedForm,
) -> WebResult {
    let mut values = read_project_form(&form);
    let message = match project_object(&values) {
        Ok(object) => {
            match projects::update(&state.db, &session.caller, &Slug::parse(&slug)?, &object).await
            {
                Ok(project) => return Ok(shown_project(&session, &project)),
                Err(e) => shown(e)?,
            }
        }
        Err(message) => message,
    };
    values.error = Some(message);
    project_page(&state, &session, &slug, Some(values), None).await
}

/// The member map the members form describes: the listed members with
/// their ticked roles (less those ticked for removal), plus a new one.
fn member_map(form: &CheckedForm) -> Result<Value, String> {
    let mut users = Map::new();
    let roles = |prefix: &str| {
        json!({
            "member": form.checked(&format!("{prefix}member")),
            "spectator": form.checked(&format!("{prefix}spectator")),
            "manager": form.checked(&format!("{prefix}manager")),
        })
    };
    for (key, username) in form.pairs() {
        let Some(index) = key.strip_prefix("user_") else {
            continue;
        };
        if form.checked(&format!("remove_{index}")) {
            continue;
        }
        users.insert(username.clone(), roles(&format!("{index}_")));
    }
    let new_user = form.get("new_user");
    if !new_user.is_empty() {
        if !validate::is_username(new_user) {
            return Err(format!("{new_user} is not a username."));
        }
        let new_roles = roles("new_");
        if new_roles
            .as_object()
            .is_some_and(|r| r.values().all(|v| v == false))
        {
            return Err(format!("Tick at least one role for {new_user}."));
        }
        users.insert(new_user.to_owned(), new_roles);
    }
    Ok(Value::Object(users))
}

async fn members(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    form: CheckedForm,
) -> WebResult {
    let message = match member_map(&form) {
        Ok(users) => {
            let mut object = Map::new();
            object.insert("users".into(), users);
            match projects::update(&state.db, &session.caller, &Slug::parse(&slug)?, &object).await
            {
                Ok(_) => {
                    return Ok(super::see_other(
                        &session,
                        &format!("/projects/{slug}#members"),
                    ))
                }
                Err(Error::InvalidForeignKey { .. }) => {
                    format!("There is no user {}.", form.get("new_user"))
                }
                Err(e) => shown(e)?,
            }
        }
        Err(message) => message,
    };
    project_page(&state, &session, &slug, None, Some(message)).await
}

async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    _form: CheckedForm,
) -> WebResult<Response> {
    projects::delete(&state.db, &session.caller, &Slug::parse(&slug)?).await?;
    Ok(super::see_other(&session, "/projects"))
}

// Activities.

pub struct ActivityRow {
    pub name: String,
    pub slug: String,
}

#[derive(Template)]
#[template(path = "activities.html")]
struct ActivitiesPage {
    chrome: Chrome,
    csrf: String,
    activities: Vec<ActivityRow>,
    can_edit: bool,
    error: Option<String>,
    name: String,
    slug: String,
}

async fn activities_page(
    state: &AppState,
    session: &Session,
    error: Option<String>,
    name: String,
    slug: String,
) -> WebResult {
    let mut activities: Vec<ActivityRow> = activity_choices(state)
        .await?
        .into_iter()
        .map(|a| ActivityRow {
            name: a.name,
            slug: a.slug,
        })
        .collect();
    activities.sort_by_key(|a| a.name.to_lowercase());
    let invalid = error.is_some();
    let page = ActivitiesPage {
        chrome: Chrome::new(session, "activities"),
        csrf: session.csrf.clone(),
        activities,
        can_edit: session.caller.is_manager(),
        error,
        name,
        slug,
    };
    Ok(super::form_page(session, &page, invalid))
}

async fn activity_list(State(state): State<AppState>, session: Session) -> WebResult {
    activities_page(&state, &session, None, String::new(), String::new()).await
}

fn activity_object(name: &str, slug: &str) -> Result<Map<String, Value>, String> {
    if name.is_empty() {
        return Err("Enter a name for the activity.".into());
    }
    if !validate::is_slug(slug) {
        return Err(format!(
            "“{slug}” cannot be a slug: use lower-case letters, digits and single dashes, with at least one letter."
        ));
    }
    let mut object = Map::new();
    object.insert("name".into(), name.into());
    object.insert("slug".into(), slug.into());
    Ok(object)
}

async fn activity_create(
    State(state): State<AppState>,
    session: Session,
    form: CheckedForm,
) -> WebResult {
    let (name, slug) = (form.get("name").to_owned(), form.get("slug").to_owned());
    let message = match activity_object(&name, &slug) {
        Ok(object) => match activities::create(&state.db, &session.caller, &object).await {
            Ok(_) => return Ok(super::see_other(&session, "/activities")),
            Err(e) => shown(e)?,
        },
        Err(message) => message,
    };
    activities_page(&state, &session, Some(message), name, slug).await
}

async fn activity_rename(
    State(state): State<AppState>,
    session: Session,
    Path(current): Path<String>,
    form: CheckedForm,
) -> WebResult {
    let (name, slug) = (form.get("name").to_owned(), form.get("slug").to_owned());
    let message = match activity_object(&name, &slug) {
        Ok(object) => {
            match activities::update(&state.db, &session.caller, &Slug::parse(&current)?, &object)
                .await
            {
                Ok(_) => return Ok(super::see_other(&session, "/activities")),
                Err(e) => shown(e)?,
            }
        }
        Err(message) => message,
    };
    activities_page(
        &state,
        &session,
        Some(format!("{current}: {message}")),
        String::new(),
        String::new(),
    )
    .await
}

async fn activity_delete(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    _form: CheckedForm,
) -> WebResult {
    match activities::delete(&state.db, &session.caller, &Slug::parse(&slug)?).await {
        Ok(()) => Ok(super::see_other(&session, "/activities")),
        Err(e) => {
            let message = shown(e)?;
            activities_page(
                &state,
                &session,
                Some(format!("{slug}: {message}")),
                String::new(),
                String::new(),
            )
            .await
        }
    }
}
