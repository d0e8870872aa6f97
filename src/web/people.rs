//! People: site managers and admins list, create, deactivate users and set
//! their site roles; everyone edits their own profile and password.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::domain::ids::{Identifier, Username};
use crate::domain::login::{login, Credentials, LoginContext};
use crate::domain::users::UserView;
use crate::domain::{users, validate, Page};
use crate::error::Error;
use crate::http::AppState;
use crate::web::error::{named_flags, shown, WebResult};
use crate::web::session::{CheckedForm, Session};
use crate::web::Chrome;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/people", get(list).post(create))
        .route("/people/{username}", get(show).post(update))
        .route("/profile", get(profile).post(save_profile))
        .route("/profile/password", post(change_password))
}

pub struct PersonRow {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub roles: String,
    pub active: bool,
}

#[derive(Default)]
pub struct NewPerson {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub spectator: bool,
    pub manager: bool,
    pub admin: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    chrome: Chrome,
    csrf: String,
    people: Vec<PersonRow>,
    form: NewPerson,
    may_grant_admin: bool,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    csrf: String,
    person: UserView,
    may_grant_admin: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    chrome: Chrome,
    csrf: String,
    me: UserView,
    roles: String,
    profile_error: Option<String>,
    password_error: Option<String>,
    saved: Option<&'static str>,
}

fn roles_of(user: &UserView) -> String {
    named_flags(&[
        (user.site_admin, "admin"),
        (user.site_manager, "manager"),
        (user.site_spectator, "spectator"),
    ])
}

fn require_manager(session: &Session) -> Result<(), Error> {
    session
        .caller
        .require(session.caller.is_manager(), "manage people")
}

async fn people_page(state: &AppState, session: &Session, form: NewPerson) -> WebResult {
    require_manager(session)?;
    let listing = users::list(&state.db, false, &[], None, Page::default()).await?;
    let mut people: Vec<PersonRow> = listing
        .items
        .iter()
        .map(|u| PersonRow {
            username: u.username.clone(),
            display_name: u.display_name.clone().unwrap_or_default(),
            email: u.email.clone().unwrap_or_default(),
            roles: roles_of(u),
            active: u.active,
        })
        .collect();
    people.sort_by_key(|p| p.username.to_lowercase());
    let invalid = form.error.is_some();
    let page = PeoplePage {
        chrome: Chrome::new(session, "people"),
        csrf: session.csrf.clone(),
        people,
        form,
        may_grant_admin: session.caller.is_admin(),
    };
    Ok(super::form_page(session, &page, invalid))
}

async fn list(State(state): State<AppState>, session: Session) -> WebResult {
    people_page(&state, &session, NewPerson::default()).await
}

async fn create(State(state): State<AppState>, session: Session, form: CheckedForm) -> WebResult {
    let mut person = NewPerson {
        username: form.get("username").to_owned(),
        display_name: form.get("display_name").to_owned(),
        email: form.get("email").to_owned(),
        spectator: form.checked("site_spectator"),
        manager: form.checked("site_manager"),
        admin: form.checked("site_admin"),
        error: None,
    };
    let message = if !validate::is_username(&person.username) {
        "Enter a username of letters, digits and - . _ ~ (at most 64).".to_owned()
    } else if !person.email.is_empty() && !validate::is_email(&person.email) {
        "Enter an email address like name@example.org, or leave it empty.".to_owned()
    } else {
        let text = |v: &str| if v.is_empty() { Value::Null } else { v.into() };
        let mut object = Map::new();
        object.insert("username".into(), person.username.clone().into());
        let password = form.raw("password");
        if !password.is_empty() {
            object.insert("password".into(), password.into());
        }
        object.insert("display_name".into(), text(&person.display_name));
        object.insert("email".into(), text(&person.email));
        object.insert("site_spectator".into(), person.spectator.into());
        object.insert("site_manager".into(), person.manager.into());
        object.insert("site_admin".into(), person.admin.into());
        match users::create(&state.db, &session.caller, &object).await {
            Ok(user) => {
                return Ok(super::see_other(
                    &session,
                    &format!("/people/{}", super::encode(&user.username)),
                ))
            }
            Err(e) => shown(e)?,
        }
    };
    person.error = Some(message);
    people_page(&state, &session, person).await
}

async fn person_page(
    state: &AppState,
    session: &Session,
    username: &str,
    error: Option<String>,
) -> WebResult {
    require_manager(session)?;
    let person = users::get(&state.db, &Username::parse(username)?, false).await?;
    let invalid = error.is_some();
    let page = PersonPage {
        chrome: Chrome::new(session, "people"),
        csrf: session.csrf.clone(),
        person,
        may_grant_admin: session.caller.is_admin(),
        error,
    };
    Ok(super::form_page(session, &page, invalid))
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(username): Path<String>,
) -> WebResult {
    person_page(&state, &session, &username, None).await
}

/// Site roles and the active flag, as the person page's form sets them.
/// Only the flags that change are sent: the domain refuses a manager
/// setting flags they may not touch, even to their current value.
async fn update(
    State(state): State<AppState>,
    session: Session,
    Path(username): Path<String>,
    form: CheckedForm,
) -> WebResult {
    require_manager(&session)?;
    let current = users::get(&state.db, &Username::parse(&username)?, false).await?;
    let mut object = Map::new();
    for (field, now) in [
        ("site_spectator", current.site_spectator),
        ("site_manager", current.site_manager),
        ("site_admin", current.site_admin),
        ("active", current.active),
    ] {
        let wanted = form.checked(field);
        if wanted != now {
            object.insert(field.into(), wanted.into());
        }
    }
    if object.is_empty() {
        return Ok(super::see_other(&session, "/people"));
    }
    match users::update(
        &state.db,
        &session.caller,
        &Username::parse(&username)?,
        &object,
    )
    .await
    {
        Ok(_) => Ok(super::see_other(&session, "/people")),
        Err(e) => {
            let message = shown(e)?;
            person_page(&state, &session, &username, Some(message)).await
        }
    }
}

async fn profile_page(
    state: &AppState,
    session: &Session,
    profile_error: Option<String>,
    password_error: Option<String>,
    saved: Option<&'static str>,
) -> WebResult {
    let me = users::get(
        &state.db,
        &Username::parse(&session.caller.username)?,
        false,
    )
    .await?;
    let invalid = profile_error.is_some() || password_error.is_some();
    let page = ProfilePage {
        chrome: Chrome::new(session, "profile"),
        csrf: session.csrf.clone(),
        roles: roles_of(&me),
        me,
        profile_error,
        password_error,
        saved,
    };
    Ok(super::form_page(session, &page, invalid))
}

#[derive(serde::Deserialize)]
struct ProfileQuery {
    saved: Option<String>,
}

async fn profile(
    State(state): State<AppState>,
    session: Session,
    axum::extract::Query(query): axum::extract::Query<ProfileQuery>,
) -> WebResult {
    let saved = match query.saved.as_deref() {
        Some("password") => Some("Your password was changed."),
        Some(_) => Some("Your profile was saved."),
        None => None,
    };
    profile_page(&state, &session, None, None, saved).await
}

async fn save_profile(
    State(state): State<AppState>,
    session: Session,
    form: CheckedForm,
) -> WebResult {
    let email = form.get("email");
    if !email.is_empty() && !validate::is_email(email) {
        let message = "Enter an email address like name@example.org, or leave it empty.";
        return profile_page(&state, &session, Some(message.into()), None, None).await;
    }
    let text = |v: &str| if v.is_empty() { Value::Null } else { v.into() };
    let object = json!({"display_name": text(form.get("display_name")), "email": text(email)});
    match update_me(&state, &session, object).await? {
        None => Ok(super::see_other(&session, "/profile?saved=profile")),
        Some(message) => profile_page(&state, &session, Some(message), None, None).await,
    }
}

/// Updates the signed-in person with `object`; the message to show when
/// refused.
async fn update_me(
    state: &AppState,
    session: &Session,
    object: Value,
) -> Result<Option<String>, Error> {
    let object = object.as_object().cloned().unwrap_or_default();
    let me = Username::parse(&session.caller.username)?;
    match users::update(&state.db, &session.caller, &me, &object).await {
        Ok(_) => Ok(None),
        Err(e) => shown(e).map(Some),
    }
}

/// Shortest new password accepted here.
const MIN_PASSWORD_LEN: usize = 8;

/// A new password needs the current one, checked like a sign-in (and
/// throttled with sign-ins), so a session left open cannot be taken over.
async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    form: CheckedForm,
) -> WebResult {
    let (current, new, repeat) = (
        form.raw("current_password"),
        form.raw("new_password"),
        form.raw("repeat_password"),
    );
    let problem = if new.chars().count() < MIN_PASSWORD_LEN {
        Some(format!(
            "Choose a new password of at least {MIN_PASSWORD_LEN} characters."
        ))
    } else if new != repeat {
        Some("The new password and its repetition differ.".to_owned())
    } else {
        let ctx = LoginContext {
            db: &state.db,
            tokens: &state.tokens,
            modules: crate::config::AuthModules {
                password: true,
                ldap: false,
            },
            ldap: None,
            throttle: &state.throttle,
        };
        let credentials = Credentials {
            kind: Some("password".to_owned()),
            username: Some(session.caller.username.clone()),
            password: Some(current.to_owned()),
        };
        match login(&ctx, Some(&credentials), Some(peer.ip())).await {
            Ok(_) => None,
            Err(Error::Authentication(_)) => {
                Some("Your current password is not correct.".to_owned())
            }
            Err(e) => Some(shown(e)?),
        }
    };
    if let Some(message) = problem {
        return profile_page(&state, &session, None, Some(message), None).await;
    }
    match update_me(&state, &session, json!({"password": new})).await? {
        None => Ok(super::see_other(&session, "/profile?saved=password")),
        Some(message) => profile_page(&state, &session, None, Some(message), None).await,
    }
}
