//! Users (`/users`): listing, creation, in-place updates and soft
//! deletion, with the permission rules of users.rst and DECISIONS.md.
//! Usernames are case-insensitive everywhere, shown as created, and stay
//! reserved after deletion.

use serde_json::{Map, Value};

use crate::domain::ids::Username;
use crate::domain::validate::{
    self, Field, FieldSpec, Fields, Kind, Mode, MAX_NAME_LEN, MAX_TEXT_LEN,
};
use crate::domain::{passwords, Caller, Listing, Page};
use crate::error::catalogue::action;
use crate::error::{Error, Result};
use crate::storage::users::{NewUser, UserRow};
use crate::storage::{self, Catalogue, Conn, Db};

const OBJECT: &str = "user";

const NAME: Kind = Kind::Text {
    max: MAX_NAME_LEN,
    bytes: false,
};

/// The fields `POST /users` may send, in the order of model.rst.
pub const CREATE_SPECS: [FieldSpec; 11] = [
    FieldSpec::new("display_name", NAME).nullable(),
    // The spec's own POST /users example spells it so.
    FieldSpec::new("displayname", NAME)
        .nullable()
        .about("Same as `display_name` (spelled so in the spec's example)."),
    FieldSpec::new("username", Kind::Username).required(),
    // `null`: no password (an LDAP-only account).
    FieldSpec::new("password", NAME).not_empty().nullable(),
    FieldSpec::new("email", Kind::Email).nullable(),
    // `null` is an empty list.
    FieldSpec::new("org-roles", Kind::Slugs { empty_ok: true })
        .nullable()
        .about("Org-role slugs."),
    FieldSpec::new("active", Kind::Flag),
    FieldSpec::new("site_spectator", Kind::Flag),
    FieldSpec::new("site_manager", Kind::Flag),
    FieldSpec::new("site_admin", Kind::Flag),
    FieldSpec::new(
        "meta",
        Kind::Text {
            max: MAX_TEXT_LEN,
            bytes: true,
        },
    )
    .nullable(),
];

/// `POST /users/:username`: the same but `username` (it cannot change)
/// and a `null` password.
pub const UPDATE_SPECS: [FieldSpec; 10] = [
    CREATE_SPECS[0],
    CREATE_SPECS[1],
    FieldSpec::new("password", NAME).not_empty(),
    CREATE_SPECS[4],
    CREATE_SPECS[5],
    CREATE_SPECS[6],
    CREATE_SPECS[7],
    CREATE_SPECS[8],
    CREATE_SPECS[9],
    CREATE_SPECS[10],
];

/// A user as the API shows it (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub display_name: Option<String>,
    pub username: String,
    pub email: Option<String>,
    pub org_roles: Vec<String>,
    pub site_spectator: bool,
    pub site_manager: bool,
    pub site_admin: bool,
    pub active: bool,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub deleted_at: Option<String>,
    pub meta: Option<String>,
}

fn view(row: UserRow, org_roles: Vec<String>) -> UserView {
    UserView {
        display_name: row.display_name,
        username: row.username,
        email: row.email,
        org_roles,
        site_spectator: row.site_spectator,
        site_manager: row.site_manager,
        site_admin: row.site_admin,
        active: row.active,
        created_at: validate::wire_date(row.created_at),
        updated_at: validate::wire_date_opt(row.updated_at),
        deleted_at: validate::wire_date_opt(row.deleted_at),
        meta: row.meta,
    }
}

/// The org-role slugs of user `id`, sorted.
async fn roles_of(conn: &impl Conn, id: i64) -> Result<Vec<String>> {
    Ok(storage::users::role_slugs(conn, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default())
}

/// One user with its org-roles.
async fn view_one(conn: &impl Conn, row: UserRow) -> Result<UserView> {
    let roles = roles_of(conn, row.id).await?;
    Ok(view(row, roles))
}

/// The ids of the users a `?user=` filter names, by the filter rules of
/// `validate::filter_ids`. Deleted users count: their times and project
/// roles stay.
pub(crate) fn filter_ids(catalogue: &Catalogue, names: &[String]) -> Result<Option<Vec<i64>>> {
    validate::filter_ids("user", names, |name| {
        validate::is_username(name)
            .then(|| catalogue.user_by_name(name).map(|u| u.id))
            .flatten()
    })
}

/// `GET /users`, from the catalogue: `role` slugs (OR), deleted users on
/// request, paginated. A malformed or unknown role is `Bad query value`.
/// With `since` (ms), only users changed at or after it, deleted ones
/// included.
pub async fn list(
    db: &Db,
    include_deleted: bool,
    roles: &[&str],
    since: Option<i64>,
    page: Page,
) -> Result<Listing<UserView>> {
    let catalogue = db.catalogue().await?;
    if let Some(bad) = roles.iter().find(|r| !validate::is_slug(r)) {
        return Err(Error::bad_query("role", bad));
    }
    let role_ids = roles
        .iter()
        .map(|role| {
            catalogue
                .org_role_by_slug(role)
                .map(|r| r.id)
                .ok_or_else(|| Error::bad_query("role", role))
        })
        .collect::<Result<Vec<i64>>>()?;
    let matching: Vec<&UserRow> = catalogue
        .users()
        .iter()
        .filter(|u| match since {
            // Created, updated or deleted since, deleted or not.
            Some(since) => [Some(u.created_at), u.updated_at, u.deleted_at]
                .into_iter()
                .flatten()
                .any(|at| at >= since),
            None => include_deleted || u.deleted_at.is_none(),
        })
        .filter(|u| {
            role_ids.is_empty()
                || catalogue
                    .role_ids(u.id)
                    .iter()
                    .any(|r| role_ids.contains(r))
        })
        .collect();
    let total = matching.len() as u64;
    let items = crate::domain::projects::page_of(matching, page)
        .map(|row| view(row.clone(), catalogue.role_slugs(row.id).to_vec()))
        .collect();
    Ok(Listing { items, total })
}

/// `GET /users/:username` (any letter case).
pub async fn get(db: &Db, username: &Username, include_deleted: bool) -> Result<UserView> {
    let catalogue = db.catalogue().await?;
    let row = catalogue
        .user_by_name(username)
        .filter(|u| include_deleted || u.deleted_at.is_none())
        .ok_or(Error::NotFound(OBJECT))?;
    Ok(view(row.clone(), catalogue.role_slugs(row.id).to_vec()))
}

/// The fields of a user request object, read and checked for shape.
#[derive(Debug)]
struct UserInput {
    display_name: Field<String>,
    email: Field<String>,
    /// A plain password or a client-made bcrypt hash.
    password: Field<String>,
    meta: Field<String>,
    /// `null` is an empty list.
    org_roles: Field<Vec<String>>,
    site_spectator: Field<bool>,
    site_manager: Field<bool>,
    site_admin: Field<bool>,
    active: Field<bool>,
}

impl Default for UserInput {
    fn default() -> Self {
        Self {
            display_name: Field::Absent,
            email: Field::Absent,
            password: Field::Absent,
            meta: Field::Absent,
            org_roles: Field::Absent,
            site_spectator: Field::Absent,
            site_manager: Field::Absent,
            site_admin: Field::Absent,
            active: Field::Absent,
        }
    }
}

impl UserInput {
    /// Checks a request object (`display_name` and its alias `displayname`
    /// together are one field too many).
    fn read(object: &Map<String, Value>, mode: Mode) -> Result<(Self, Fields<'_>)> {
        if object.contains_key("display_name") && object.contains_key("displayname") {
            return Err(Error::unknown_field(OBJECT, "displayname"));
        }
        let specs: &[FieldSpec] = match mode {
            Mode::Create => &CREATE_SPECS,
            Mode::Update => &UPDATE_SPECS,
        };
        let fields = validate::read(OBJECT, object, specs, mode)?;
        let display_name = if fields.has("displayname") {
            fields.string("displayname")
        } else {
            fields.string("display_name")
        };
        let org_roles = match fields.slugs("org-roles") {
            Field::Null => Field::Value(Vec::new()),
            other => other,
        };
        let input = Self {
            display_name,
            email: fields.string("email"),
            password: fields.string("password"),
            meta: fields.string("meta"),
            org_roles,
            site_spectator: fields.flag("site_spectator"),
            site_manager: fields.flag("site_manager"),
            site_admin: fields.flag("site_admin"),
            active: fields.flag("active"),
        };
        Ok((input, fields))
    }
}

/// Who may create a user with these flags: site managers and admins; only
/// admins may make managers or admins.
fn check_create(caller: &Caller, username: &str, input: &UserInput) -> Result<()> {
    caller.require(caller.is_manager(), action::CREATE_USERS)?;
    let raises = matches!(input.site_manager, Field::Value(true))
        || matches!(input.site_admin, Field::Value(true));
    caller.require(
        caller.is_admin() || !raises,
        &action::set_permissions(username),
    )
}

/// Org-role ids for `slugs`; an unknown slug is `Invalid foreign key`.
async fn role_ids(conn: &impl Conn, slugs: &[String]) -> Result<Vec<i64>> {
    let found = storage::org_roles::find_by_slugs_to_assign(conn, slugs).await?;
    if found.len() != slugs.len() {
        return Err(Error::foreign_key(OBJECT, "org-role"));
    }
    Ok(found.into_iter().map(|r| r.id).collect())
}

/// `POST /users`.
pub async fn create(db: &Db, caller: &Caller, object: &Map<String, Value>) -> Result<UserView> {
    caller.require(caller.is_manager(), action::CREATE_USERS)?;
    let (input, fields) = UserInput::read(object, Mode::Create)?;
    let username = fields.string("username").value().unwrap_or_default();
    check_create(caller, &username, &input)?;
    // Hashing is slow: done before the write transaction starts.
    let password = match input.password {
        Field::Value(p) => Some(passwords::storable(p).await?),
        Field::Null | Field::Absent => None,
    };

    let slugs = input.org_roles.clone().value().unwrap_or_default();
    let new = &NewUser {
        username: username.clone(),
        password,
        display_name: input.display_name.value(),
        email: input.email.value(),
        site_spectator: input.site_spectator.value().unwrap_or(false),
        site_manager: input.site_manager.value().unwrap_or(false),
        site_admin: input.site_admin.value().unwrap_or(false),
        active: input.active.value().unwrap_or(true),
        meta: input.meta.value(),
    };
    let (username, slugs) = (&username, &slugs);
    db.write(|tx| async move {
        if storage::users::find_by_username(&tx, username)
            .await?
            .is_some()
        {
            return Err(Error::UsernameExists(username.clone()));
        }
        let role_ids = role_ids(&tx, slugs).await?;
        let row = storage::users::insert(&tx, new.clone(), storage::now_millis()).await?;
        storage::users::set_roles(&tx, row.id, &role_ids).await?;
        view_one(&tx, row).await
    })
    .await
}

/// The fields an update would change on `target` (whose org-roles are
/// `current_roles`), in the order they are checked. A field sent with the
/// value it already has changes nothing, so clients may send a whole
/// object back; a password sent is always a change.
fn changed_fields(
    target: &UserRow,
    current_roles: &[String],
    input: &UserInput,
) -> Vec<&'static str> {
    fn differs<T: PartialEq + Clone>(field: &Field<T>, current: Option<T>) -> bool {
        match field {
            Field::Absent => false,
            Field::Null => current.is_some(),
            Field::Value(v) => current.as_ref() != Some(v),
        }
    }
    let mut changed = Vec::new();
    let mut note = |name, yes: bool| {
        if yes {
            changed.push(name);
        }
    };
    note(
        "site_admin",
        differs(&input.site_admin, Some(target.site_admin)),
    );
    note(
        "site_manager",
        differs(&input.site_manager, Some(target.site_manager)),
    );
    note("active", differs(&input.active, Some(target.active)));
    note(
        "site_spectator",
        differs(&input.site_spectator, Some(target.site_spectator)),
    );
    note(
        "display_name",
        differs(&input.display_name, target.display_name.clone()),
    );
    note("email", differs(&input.email, target.email.clone()));
    note("meta", differs(&input.meta, target.meta.clone()));
    note("password", !input.password.is_absent());
    let roles_differ = match &input.org_roles {
        Field::Value(new) => {
            let mut new = new.clone();
            new.sort();
            new != current_roles
        }
        _ => false,
    };
    note("org-roles", roles_differ);
    changed
}

/// Who may change what of `target`: site admins everything; users their
/// own profile and password (not their own flags or `active`); site
/// managers only `site_spectator` of others. Only admins touch (and so
/// restore) deleted users.
fn check_update(caller: &Caller, target: &UserRow, changed: &[&'static str]) -> Result<()> {
    if caller.is_admin() {
        return Ok(());
    }
    let is_self = caller.id == target.id;
    if target.deleted_at.is_some() || (!is_self && !caller.is_manager()) {
        return Err(caller.forbidden(&action::modify_user(&target.username)));
    }
    const FLAGS: &[&str] = &["site_admin", "site_manager", "active", "site_spectator"];
    let refused = changed.iter().find(|field| {
        if is_self {
            FLAGS.contains(field)
        } else {
            // A manager, on someone else.
            **field != "site_spectator"
        }
    });
    match refused {
        None => Ok(()),
        Some(_) if is_self => Err(caller.forbidden(&action::set_permissions(&target.username))),
        Some(_) => Err(caller.forbidden(&action::modify_user_beyond_spectator(&target.username))),
    }
}

/// `POST /users/:username`: updates in place; un-deletes a deleted user.
/// `org-roles`, when sent, replaces the list.
pub async fn update(
    db: &Db,
    caller: &Caller,
    username: &Username,
    object: &Map<String, Value>,
) -> Result<UserView> {
    let load = |row: Option<UserRow>| row.ok_or(Error::NotFound(OBJECT));
    let target = load(storage::users::find_by_username(db.conn(), username).await?)?;
    let (input, _) = UserInput::read(object, Mode::Update)?;
    // Foreign keys, then permissions (which depend on the stored user),
    // before the slow password hashing; again on the locked row.
    if let Field::Value(slugs) = &input.org_roles {
        role_ids(db.conn(), slugs).await?;
    }
    let current_roles = roles_of(db.conn(), target.id).await?;
    check_update(
        caller,
        &target,
        &changed_fields(&target, &current_roles, &input),
    )?;
    let password = match &input.password {
        Field::Value(p) => Some(passwords::storable(p.clone()).await?),
        _ => None,
    };

    let (input, password) = (&input, &password);
    db.write(|tx| async move {
        let row = load(storage::users::find_for_update(&tx, username).await?)?;
        let new_role_ids = match &input.org_roles {
            Field::Value(slugs) => Some(role_ids(&tx, slugs).await?),
            _ => None,
        };
        let current_roles = roles_of(&tx, row.id).await?;
        check_update(caller, &row, &changed_fields(&row, &current_roles, input))?;
        let row = updated(row, input, password.clone());
        storage::users::save(&tx, &row).await?;
        if let Some(ids) = &new_role_ids {
            storage::users::set_roles(&tx, row.id, ids).await?;
        }
        view_one(&tx, row).await
    })
    .await
}

/// `row` with the fields of `input` (and the new password hash) applied,
/// updated now and not deleted.
fn updated(mut row: UserRow, input: &UserInput, password: Option<String>) -> UserRow {
    if let Some(hash) = password {
        row.password = Some(hash);
    }
    let text = |field: &Field<String>, current: &mut Option<String>| match field {
        Field::Absent => {}
        Field::Null => *current = None,
        Field::Value(v) => *current = Some(v.clone()),
    };
    text(&input.display_name, &mut row.display_name);
    text(&input.email, &mut row.email);
    text(&input.meta, &mut row.meta);
    let set = |field: &Field<bool>, current: &mut bool| {
        if let Field::Value(v) = field {
            *current = *v;
        }
    };
    set(&input.site_spectator, &mut row.site_spectator);
    set(&input.site_manager, &mut row.site_manager);
    set(&input.site_admin, &mut row.site_admin);
    set(&input.active, &mut row.active);
    row.updated_at = Some(storage::now_millis());
    row.deleted_at = None;
    row
}

/// `DELETE /users/:username`: site admins only; a soft delete. The user's
/// tokens fail from now on (authentication re-reads the user).
pub async fn delete(db: &Db, caller: &Caller, username: &Username) -> Result<()> {
    caller.require(caller.is_admin(), action::DELETE_USERS)?;
    db.write(|tx| async move {
        let row = storage::users::find_for_update(&tx, username)
            .await?
            .filter(|u| u.deleted_at.is_none())
            .ok_or(Error::NotFound(OBJECT))?;
        storage::users::mark_deleted(&tx, row.id, storage::now_millis()).await?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validate::is_email;

    fn caller(id: i64, spectator: bool, manager: bool, admin: bool) -> Caller {
        Caller {
            id,
            username: format!("u{id}"),
            site_spectator: spectator,
            site_manager: manager,
            site_admin: admin,
            credential: crate::domain::caller::Credential::Login,
        }
    }

    fn target(id: i64) -> UserRow {
        UserRow {
            id,
            username: format!("u{id}"),
            username_key: format!("u{id}"),
            password: None,
            display_name: Some("D".into()),
            email: None,
            site_spectator: false,
            site_manager: false,
            site_admin: false,
            active: true,
            meta: None,
            created_at: 0,
            updated_at: Some(0),
            deleted_at: None,
        }
    }

    #[test]
    fn emails() {
        for ok in ["a@b", "first.last+tag@example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["", "ab", "@b", "a@", "a@b@c", "a b@c", "a@b\n"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn update_permissions() {
        let admin = caller(1, false, false, true);
        let manager = caller(2, false, true, false);
        let plain = caller(3, false, false, false);
        let other = target(9);
        let me = target(3);
        assert!(check_update(&admin, &other, &["site_admin", "email"]).is_ok());
        assert!(check_update(&manager, &other, &["site_spectator"]).is_ok());
        assert!(check_update(&manager, &other, &["email"]).is_err());
        assert!(check_update(&manager, &other, &["site_manager"]).is_err());
        assert!(check_update(&plain, &me, &["email", "password", "org-roles"]).is_ok());
        assert!(check_update(&plain, &me, &["active"]).is_err());
        assert!(check_update(&plain, &other, &[]).is_err());
        let mut gone = target(9);
        gone.deleted_at = Some(1);
        assert!(check_update(&manager, &gone, &[]).is_err());
        assert!(check_update(&admin, &gone, &[]).is_ok());
    }

    #[test]
    fn unchanged_values_are_no_change() {
        let row = target(1);
        let input = UserInput {
            display_name: Field::Value("D".into()),
            site_admin: Field::Value(false),
            org_roles: Field::Value(vec!["b".into(), "a".into()]),
            ..Default::default()
        };
        let roles = vec!["a".to_owned(), "b".to_owned()];
        assert!(changed_fields(&row, &roles, &input).is_empty());
        let input = UserInput {
            email: Field::Value("x@y".into()),
            site_admin: Field::Value(true),
            ..Default::default()
        };
        assert_eq!(
            changed_fields(&row, &[], &input),
            vec!["site_admin", "email"]
        );
    }
}
