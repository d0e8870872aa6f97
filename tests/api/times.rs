//! Time entries: list filters, visibility, create/update validation,
//! revisions, deletion, pagination and concurrent updates.
//!
//! Projects, activities and project roles are made by the `fixture`
//! functions straight in the database, so these tests do not depend on the
//! project and activity endpoints.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use timesync::storage::entities::{activity, project, project_slug, project_user, time};
use timesync::storage::{self, users};

use crate::helpers::*;

/// Database fixtures for times: activities, projects, roles.
pub mod fixture {
    use super::*;

    /// Creates an activity with `slug`; returns its uuid.
    pub async fn activity(app: &TestApp, slug: &str) -> String {
        let uuid = uuid::Uuid::new_v4().to_string();
        let now = storage::now_millis();
        activity::Entity::insert(activity::ActiveModel {
            uuid: Set(uuid.clone()),
            revision: Set(1),
            newest: Set(true),
            name: Set(format!("{slug} activity")),
            slug: Set(Some(slug.to_owned())),
            live_slug: Set(Some(slug.to_owned())),
            created_at: Set(now),
            updated_at: Set(None),
            deleted_at: Set(None),
            sort_at: Set(now),
            ..Default::default()
        })
        .exec(app.db.conn())
        .await
        .expect("insert activity");
        uuid
    }

    /// Gives the activity a new slug, as a new revision (as the activity
    /// endpoints do).
    pub async fn reslug_activity(app: &TestApp, uuid: &str, new_slug: &str) {
        let conn = app.db.conn();
        let old = activity::Entity::find()
            .filter(activity::Column::Uuid.eq(uuid))
            .filter(activity::Column::Newest.eq(true))
            .one(conn)
            .await
            .unwrap()
            .expect("activity");
        activity::Entity::update_many()
            .col_expr(activity::Column::Newest, false.into())
            .col_expr(activity::Column::LiveSlug, Option::<String>::None.into())
            .filter(activity::Column::Id.eq(old.id))
            .exec(conn)
            .await
            .unwrap();
        let now = storage::now_millis();
        activity::Entity::insert(activity::ActiveModel {
            uuid: Set(uuid.to_owned()),
            revision: Set(old.revision + 1),
            newest: Set(true),
            name: Set(old.name),
            slug: Set(Some(new_slug.to_owned())),
            live_slug: Set(Some(new_slug.to_owned())),
            created_at: Set(old.created_at),
            updated_at: Set(Some(now)),
            deleted_at: Set(None),
            sort_at: Set(now),
            ..Default::default()
        })
        .exec(conn)
        .await
        .unwrap();
    }

    /// Soft-deletes an activity: its current row loses its slugs.
    pub async fn delete_activity(app: &TestApp, uuid: &str) {
        activity::Entity::update_many()
            .col_expr(activity::Column::Slug, Option::<String>::None.into())
            .col_expr(activity::Column::LiveSlug, Option::<String>::None.into())
            .col_expr(activity::Column::DeletedAt, storage::now_millis().into())
            .filter(activity::Column::Uuid.eq(uuid))
            .filter(activity::Column::Newest.eq(true))
            .exec(app.db.conn())
            .await
            .unwrap();
    }

    /// Creates a project with `slugs` and an optional default activity
    /// (uuid); returns its uuid.
    pub async fn project(app: &TestApp, slugs: &[&str], default_activity: Option<&str>) -> String {
        let uuid = uuid::Uuid::new_v4().to_string();
        let now = storage::now_millis();
        let conn = app.db.conn();
        project::Entity::insert(project::ActiveModel {
            uuid: Set(uuid.clone()),
            revision: Set(1),
            newest: Set(true),
            name: Set(format!("{} project", slugs[0])),
            uri: Set(None),
            default_activity: Set(default_activity.map(str::to_owned)),
            created_at: Set(now),
            updated_at: Set(None),
            deleted_at: Set(None),
            sort_at: Set(now),
            ..Default::default()
        })
        .exec(conn)
        .await
        .expect("insert project");
        set_project_slugs(app, &uuid, slugs).await;
        uuid
    }

    /// Replaces the current slugs of a project (empty: as when it is deleted).
    pub async fn set_project_slugs(app: &TestApp, uuid: &str, slugs: &[&str]) {
        let conn = app.db.conn();
        project_slug::Entity::delete_many()
            .filter(project_slug::Column::ProjectUuid.eq(uuid))
            .exec(conn)
            .await
            .unwrap();
        for slug in slugs {
            project_slug::Entity::insert(project_slug::ActiveModel {
                slug: Set((*slug).to_owned()),
                project_uuid: Set(uuid.to_owned()),
            })
            .exec_without_returning(conn)
            .await
            .expect("insert project slug");
        }
    }

    /// Roles of a user on a project.
    #[derive(Debug, Clone, Copy)]
    pub struct Roles {
        pub member: bool,
        pub spectator: bool,
        pub manager: bool,
    }
    pub const MEMBER: Roles = Roles {
        member: true,
        spectator: false,
        manager: false,
    };
    pub const SPECTATOR_ONLY: Roles = Roles {
        member: false,
        spectator: true,
        manager: false,
    };
    pub const MANAGER_ONLY: Roles = Roles {
        member: false,
        spectator: false,
        manager: true,
    };

    pub async fn user_id(app: &TestApp, username: &str) -> i64 {
        users::find_by_username(app.db.conn(), username)
            .await
            .unwrap()
            .expect("user")
            .id
    }

    /// Gives `username` `roles` on the project `project_uuid`.
    pub async fn role(app: &TestApp, project_uuid: &str, username: &str, roles: Roles) {
        let user_id = user_id(app, username).await;
        project_user::Entity::insert(project_user::ActiveModel {
            project_uuid: Set(project_uuid.to_owned()),
            user_id: Set(user_id),
            member: Set(roles.member),
            spectator: Set(roles.spectator),
            manager: Set(roles.manager),
        })
        .exec_without_returning(app.db.conn())
        .await
        .expect("insert project role");
    }
}

use fixture::{MANAGER_ONLY, MEMBER, SPECTATOR_ONLY};

/// A new time object.
fn time_obj(user: &str, project: &str, activities: &[&str], date: &str, duration: i64) -> Value {
    json!({
        "duration": duration,
        "user": user,
        "project": project,
        "activities": activities,
        "notes": "some notes",
        "issue_uri": "https://github.com/osuosl/timesync/issues/1",
        "date_worked": date,
    })
}

/// Creates a time through the API; panics unless it succeeds.
async fn create(app: &TestApp, token: &str, object: Value) -> Value {
    let r = app.post("/v0/times", token, object).await;
    r.assert_ok();
    r.body
}

fn uuids(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("array")
        .iter()
        .map(|t| t["uuid"].as_str().unwrap().to_owned())
        .collect()
}

fn total(r: &Resp) -> u64 {
    r.header("x-total-count")
        .expect("x-total-count")
        .parse()
        .unwrap()
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// A site with projects `gwm` (alias `ganeti`, default activity `docs`)
/// and `pgd`, activities `docs`, `dev`, `qa`, and members alice and bob
/// of both.
struct Site {
    app: TestApp,
    root: String,
    alice: String,
    bob: String,
    gwm: String,
    pgd: String,
    docs: String,
    dev: String,
}

async fn site() -> Site {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let alice = app.user("alice", PLAIN).await;
    let bob = app.user("bob", PLAIN).await;
    let docs = fixture::activity(&app, "docs").await;
    let dev = fixture::activity(&app, "dev").await;
    fixture::activity(&app, "qa").await;
    let gwm = fixture::project(&app, &["gwm", "ganeti"], Some(&docs)).await;
    let pgd = fixture::project(&app, &["pgd"], None).await;
    for p in [&gwm, &pgd] {
        for u in ["alice", "bob"] {
            fixture::role(&app, p, u, MEMBER).await;
        }
    }
    Site {
        app,
        root,
        alice,
        bob,
        gwm,
        pgd,
        docs,
        dev,
    }
}

#[tokio::test]
async fn create_then_get_and_list_show_the_time() {
    let s = site().await;
    let body = create(
        &s.app,
        &s.alice,
        time_obj("alice", "gwm", &["dev", "docs"], "2015-04-17", 12000),
    )
    .await;
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    assert_eq!(uuid.len(), 36);
    let expected = json!({
        "duration": 12000,
        "user": "alice",
        "project": ["ganeti", "gwm"],
        "activities": ["dev", "docs"],
        "notes": "some notes",
        "issue_uri": "https://github.com/osuosl/timesync/issues/1",
        "date_worked": "2015-04-17",
        "revision": 1,
        "uuid": uuid,
        "created_at": today(),
        "updated_at": null,
        "deleted_at": null,
    });
    assert_eq!(body, expected);
    let got = s.app.get(&format!("/v0/times/{uuid}"), &s.alice).await;
    got.assert_ok();
    assert_eq!(got.body, expected);
    // Upper-case uuids are accepted.
    let upper = s
        .app
        .get(&format!("/v0/times/{}", uuid.to_uppercase()), &s.alice)
        .await;
    assert_eq!(upper.body, expected);
    let list = s.app.get("/v0/times", &s.alice).await;
    list.assert_ok();
    assert_eq!(list.body, json!([expected]));
    assert_eq!(total(&list), 1);
    // Stored once, as revision 1, with its two activities.
    let rows = time::Entity::find()
        .filter(time::Column::Uuid.eq(uuid.as_str()))
        .all(s.app.db.conn())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].newest);
}

#[tokio::test]
async fn create_uses_the_default_activity_and_accepts_empty_optionals() {
    let s = site().await;
    let body = create(
        &s.app,
        &s.alice,
        json!({"duration": 0, "user": "ALICE", "project": "ganeti", "date_worked": "2016-02-29",
               "issue_uri": "", "notes": ""}),
    )
    .await;
    assert_eq!(body["activities"], json!(["docs"]));
    assert_eq!(body["user"], "alice");
    assert_eq!(body["issue_uri"], "");
    assert_eq!(body["notes"], "");
    assert_eq!(body["duration"], 0);
    // `[]` also falls back to the default.
    let body = create(
        &s.app,
        &s.alice,
        json!({"duration": 2147483647, "user": "alice", "project": "gwm", "activities": [],
               "date_worked": "2016-01-01"}),
    )
    .await;
    assert_eq!(body["activities"], json!(["docs"]));
    assert_eq!(body["duration"], 2147483647);
    assert_eq!(body["notes"], Value::Null);
    assert_eq!(body["issue_uri"], Value::Null);
    // A default activity that was deleted is no default.
    fixture::delete_activity(&s.app, &s.docs).await;
    s.app
        .post(
            "/v0/times",
            &s.alice,
            json!({"duration": 1, "user": "alice", "project": "gwm", "date_worked": "2016-01-01"}),
        )
        .await
        .assert_error(400, "Bad object")
        .assert_text("The time is missing a activities");
}

#[tokio::test]
async fn create_refuses_bad_objects() {
    let s = site().await;
    let good = time_obj("alice", "pgd", &["dev"], "2015-04-17", 10);
    let with = |field: &str, value: Value| {
        let mut o = good.clone();
        o[field] = value;
        o
    };
    let without = |field: &str| {
        let mut o = good.clone();
        o.as_object_mut().unwrap().remove(field);
        o
    };
    let long_notes = "x".repeat(65_536);
    let cases: Vec<(Value, &str)> = vec![
        (with("uuid", json!("x")), "time does not have a uuid field"),
        (with("revision", json!(1)), "time does not have a revision field"),
        (without("duration"), "The time is missing a duration"),
        (with("duration", Value::Null), "Field duration of time should be number but was sent as null"),
        (without("user"), "The time is missing a user"),
        (without("project"), "The time is missing a project"),
        (without("date_worked"), "The time is missing a date_worked"),
        (without("activities"), "The time is missing a activities"),
        (with("duration", json!(3.5)), "Field duration of time should be positive integer but was sent as non-integer number"),
        (with("duration", json!(1e308)), "Field duration of time should be positive integer but was sent as non-integer number"),
        (with("duration", json!(-1)), "Field duration of time should be positive number but was sent as negative number"),
        (with("duration", json!(2147483648i64)), "Field duration of time should be integer of at most 2147483647 but was sent as larger number"),
        (with("duration", json!("12")), "Field duration of time should be number but was sent as string"),
        (with("user", json!(5)), "Field user of time should be string but was sent as number"),
        (with("project", json!(5)), "Field project of time should be string but was sent as number"),
        (with("project", json!("Not A Slug")), "Field project of time should be slug but was sent as invalid slug Not A Slug"),
        (with("project", json!(["pgd"])), "Field project of time should be string but was sent as array"),
        (with("activities", json!("dev")), "Field activities of time should be array but was sent as string"),
        (with("activities", json!(["DEV"])), "Field activities of time should be slugs but was sent as array containing at least 1 invalid slug"),
        (with("activities", json!([1])), "Field activities of time should be slugs but was sent as array containing at least 1 number"),
        (with("date_worked", json!("2015-02-30")), "Field date_worked of time should be ISO-8601 date but was sent as 2015-02-30"),
        (with("date_worked", json!("2015-2-3")), "Field date_worked of time should be ISO-8601 date but was sent as 2015-2-3"),
        (with("date_worked", json!(20150203)), "Field date_worked of time should be string but was sent as number"),
        (with("issue_uri", json!("not a uri")), "Field issue_uri of time should be URI but was sent as invalid URI not a uri"),
        (with("issue_uri", json!("example.com/issues/1")), "Field issue_uri of time should be URI but was sent as invalid URI example.com/issues/1"),
        (with("issue_uri", json!(7)), "Field issue_uri of time should be string but was sent as number"),
        (with("notes", json!(7)), "Field notes of time should be string but was sent as number"),
        (with("notes", json!(long_notes)), "Field notes of time should be string of at most 65535 characters but was sent as string of 65536 characters"),
    ];
    for (object, text) in cases {
        s.app
            .post("/v0/times", &s.alice, object.clone())
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    let fk = [
        (with("project", json!("nope")), "project"),
        (with("activities", json!(["dev", "nope"])), "activities"),
        (with("user", json!("nobody")), "user"),
        (with("user", json!("not a username!")), "user"),
    ];
    for (object, key) in fk {
        s.app
            .post("/v0/times", &s.alice, object)
            .await
            .assert_error(409, "Invalid foreign key")
            .assert_text(&format!(
                "The time does not contain a valid {key} reference."
            ));
    }
    // A deleted user is no valid reference either.
    s.app.user("gone", PLAIN).await;
    timesync::storage::entities::user::Entity::update_many()
        .col_expr(
            timesync::storage::entities::user::Column::DeletedAt,
            storage::now_millis().into(),
        )
        .filter(timesync::storage::entities::user::Column::UsernameKey.eq("gone"))
        .exec(s.app.db.conn())
        .await
        .unwrap();
    s.app
        .post("/v0/times", &s.root, with("user", json!("gone")))
        .await
        .assert_error(409, "Invalid foreign key");
    // Nothing was stored by any of these.
    let rows = time::Entity::find().all(s.app.db.conn()).await.unwrap();
    assert!(rows.is_empty());
    // Without credentials.
    s.app
        .post_raw("/v0/times", json!({"object": good}).to_string())
        .await
        .assert_error(401, "Authentication failure");
}

#[tokio::test]
async fn create_checks_permissions() {
    let s = site().await;
    let carol = s.app.user("carol", PLAIN).await;
    let spect = s.app.user("spect", PLAIN).await;
    let siteman = s.app.user("siteman", MANAGER).await;
    fixture::role(&s.app, &s.pgd, "spect", SPECTATOR_ONLY).await;
    fixture::role(&s.app, &s.pgd, "siteman", MANAGER_ONLY).await;
    // Logging time for someone else.
    s.app
        .post(
            "/v0/times",
            &s.alice,
            time_obj("bob", "pgd", &["dev"], "2015-01-01", 1),
        )
        .await
        .assert_error(401, "Authorization failure")
        .assert_text("alice is not authorized to create time entries for bob");
    // Not a member of the project (no role, spectator, or manager only).
    for (token, name) in [(&carol, "carol"), (&spect, "spect"), (&siteman, "siteman")] {
        s.app
            .post(
                "/v0/times",
                token,
                time_obj(name, "pgd", &["dev"], "2015-01-01", 1),
            )
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!(
                "{name} is not authorized to create time entries for project pgd."
            ));
    }
    // A site admin logs time for anyone, member or not.
    let body = create(
        &s.app,
        &s.root,
        time_obj("carol", "pgd", &["dev"], "2015-01-01", 1),
    )
    .await;
    assert_eq!(body["user"], "carol");
    let body = create(
        &s.app,
        &s.root,
        time_obj("root", "pgd", &["dev"], "2015-01-01", 1),
    )
    .await;
    assert_eq!(body["user"], "root");
    let rows = time::Entity::find().all(s.app.db.conn()).await.unwrap();
    assert_eq!(rows.len(), 2);
}

#[tokio::test]
async fn updates_write_revisions_and_keep_absent_fields() {
    let s = site().await;
    let t = create(
        &s.app,
        &s.alice,
        time_obj("alice", "gwm", &["dev"], "2014-06-10", 12000),
    )
    .await;
    let uuid = t["uuid"].as_str().unwrap();
    let path = format!("/v0/times/{uuid}");
    let r = s
        .app
        .post(
            &path,
            &s.alice,
            json!({"duration": 18000, "date_worked": "2014-06-07"}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["duration"], 18000);
    assert_eq!(r.body["date_worked"], "2014-06-07");
    assert_eq!(r.body["revision"], 2);
    assert_eq!(r.body["uuid"], uuid);
    assert_eq!(r.body["notes"], "some notes");
    assert_eq!(r.body["activities"], json!(["dev"]));
    assert_eq!(r.body["project"], json!(["ganeti", "gwm"]));
    assert_eq!(r.body["created_at"], t["created_at"]);
    assert_eq!(r.body["updated_at"], today());
    // Empty strings and null clear optional fields; activities are replaced.
    let r = s
        .app
        .post(
            &path,
            &s.alice,
            json!({"notes": "", "issue_uri": null, "activities": ["qa", "docs"], "project": "pgd"}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["notes"], "");
    assert_eq!(r.body["issue_uri"], Value::Null);
    assert_eq!(r.body["activities"], json!(["docs", "qa"]));
    assert_eq!(r.body["project"], json!(["pgd"]));
    assert_eq!(r.body["revision"], 3);
    // An empty update still makes a revision, carrying the activities over.
    let r = s.app.post(&path, &s.alice, json!({})).await;
    r.assert_ok();
    assert_eq!(r.body["revision"], 4);
    assert_eq!(r.body["activities"], json!(["docs", "qa"]));

    // History: parents newest first, each with its own fields and activities.
    let h = s
        .app
        .get(&format!("{path}?include_revisions=true"), &s.alice)
        .await;
    h.assert_ok();
    assert_eq!(h.body["revision"], 4);
    let parents = h.body["parents"].as_array().unwrap();
    let revs: Vec<i64> = parents
        .iter()
        .map(|p| p["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(revs, vec![3, 2, 1]);
    assert_eq!(parents[2]["duration"], 12000);
    assert_eq!(parents[2]["activities"], json!(["dev"]));
    assert_eq!(parents[2]["updated_at"], Value::Null);
    assert_eq!(parents[2]["project"], json!(["ganeti", "gwm"]));
    assert_eq!(parents[1]["duration"], 18000);
    assert_eq!(parents[0]["activities"], json!(["docs", "qa"]));
    assert_eq!(parents[0]["project"], json!(["pgd"]));
    assert!(parents.iter().all(|p| p.get("parents").is_none()));
    // Without the flag there is no `parents` key; `false` is no flag.
    let plain = s
        .app
        .get(&format!("{path}?include_revisions=false"), &s.alice)
        .await;
    assert!(plain.body.get("parents").is_none());
    // One current row, four rows in all.
    let rows = time::Entity::find()
        .filter(time::Column::Uuid.eq(uuid))
        .all(s.app.db.conn())
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows.iter().filter(|r| r.newest).count(), 1);
    // The list shows only the current revision.
    let list = s.app.get("/v0/times?include_revisions", &s.alice).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["revision"], 4);
    assert_eq!(list.body[0]["parents"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn update_refuses_bad_objects_and_unknown_times() {
    let s = site().await;
    let t = create(
        &s.app,
        &s.alice,
        time_obj("alice", "gwm", &["dev"], "2015-01-01", 5),
    )
    .await;
    let path = format!("/v0/times/{}", t["uuid"].as_str().unwrap());
    let cases: Vec<(Value, &str)> = vec![
        (json!({"uuid": "x"}), "time does not have a uuid field"),
        (
            json!({"activities": null}),
            "Field activities of time should be array but was sent as null",
        ),
        (
            json!({"activities": []}),
            "Field activities of time should be array of slugs but was sent as empty array",
        ),
        (
            json!({"duration": null}),
            "Field duration of time should be number but was sent as null",
        ),
        (
            json!({"duration": 1.5}),
            "Field duration of time should be positive integer but was sent as non-integer number",
        ),
        (
            json!({"project": null}),
            "Field project of time should be string but was sent as null",
        ),
        (
            json!({"user": null}),
            "Field user of time should be string but was sent as null",
        ),
        (
            json!({"date_worked": null}),
            "Field date_worked of time should be string but was sent as null",
        ),
        (
            json!({"date_worked": "2015-13-01"}),
            "Field date_worked of time should be ISO-8601 date but was sent as 2015-13-01",
        ),
        (
            json!({"issue_uri": "nope"}),
            "Field issue_uri of time should be URI but was sent as invalid URI nope",
        ),
        (
            json!({"notes": false}),
            "Field notes of time should be string but was sent as boolean",
        ),
    ];
    for (object, text) in cases {
        s.app
            .post(&path, &s.alice, object)
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    for (object, key) in [
        (json!({"project": "nope"}), "project"),
        (json!({"activities": ["nope"]}), "activities"),
        (json!({"user": "nobody"}), "user"),
    ] {
        s.app
            .post(&path, &s.root, object)
            .await
            .assert_error(409, "Invalid foreign key")
            .assert_text(&format!(
                "The time does not contain a valid {key} reference."
            ));
    }
    s.app
        .post("/v0/times/not-a-uuid", &s.alice, json!({"duration": 1}))
        .await
        .assert_error(400, "Invalid identifier")
        .assert_text("Expected uuid but received not-a-uuid");
    let unknown = uuid::Uuid::new_v4();
    s.app
        .post(
            &format!("/v0/times/{unknown}"),
            &s.alice,
            json!({"duration": 1}),
        )
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent time");
    // Nothing changed.
    let r = s.app.get(&path, &s.alice).await;
    assert_eq!(r.body["revision"], 1);
    assert_eq!(r.body["duration"], 5);
}

#[tokio::test]
async fn update_checks_permissions() {
    let s = site().await;
    let carol = s.app.user("carol", PLAIN).await;
    let siteman = s.app.user("siteman", MANAGER).await;
    let other = fixture::project(&s.app, &["other"], None).await;
    let t = create(
        &s.app,
        &s.alice,
        time_obj("alice", "gwm", &["dev"], "2015-01-01", 5),
    )
    .await;
    let path = format!("/v0/times/{}", t["uuid"].as_str().unwrap());
    // Neither other users nor site managers may update it.
    for (token, name) in [(&s.bob, "bob"), (&siteman, "siteman")] {
        s.app
            .post(&path, token, json!({"duration": 6}))
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!(
                "{name} is not authorized to modify time {}",
                path.trim_start_matches("/v0/times/")
            ));
    }
    // Only admins change the user; naming oneself is no change.
    s.app
        .post(&path, &s.alice, json!({"user": "bob"}))
        .await
        .assert_error(401, "Authorization failure")
        .assert_text(&format!(
            "alice is not authorized to modify time {}",
            path.trim_start_matches("/v0/times/")
        ));
    let r = s
        .app
        .post(&path, &s.alice, json!({"user": "Alice", "duration": 7}))
        .await;
    r.assert_ok();
    assert_eq!(r.body["user"], "alice");
    // Moving to a project the time's user is not a member of.
    s.app
        .post(&path, &s.alice, json!({"project": "other"}))
        .await
        .assert_error(401, "Authorization failure")
        .assert_text("alice is not authorized to create time entries for project other.");
    fixture::role(&s.app, &other, "alice", MEMBER).await;
    let r = s
        .app
        .post(&path, &s.alice, json!({"project": "other"}))
        .await;
    r.assert_ok();
    assert_eq!(r.body["project"], json!(["other"]));
    // An admin may change the user and move the time anywhere.
    let r = s
        .app
        .post(&path, &s.root, json!({"user": "carol", "project": "pgd"}))
        .await;
    r.assert_ok();
    assert_eq!(r.body["user"], "carol");
    assert_eq!(r.body["project"], json!(["pgd"]));
    // Now carol's: she may update it although not a member of pgd.
    let r = s.app.post(&path, &carol, json!({"notes": "mine"})).await;
    r.assert_ok();
    assert_eq!(r.body["revision"], 5);
    s.app
        .post(&path, &s.alice, json!({"notes": "x"}))
        .await
        .assert_error(401, "Authorization failure");
}

#[tokio::test]
async fn delete_soft_deletes_and_update_undeletes() {
    let s = site().await;
    let siteman = s.app.user("siteman", MANAGER).await;
    let spect = s.app.user("spect", SPECTATOR).await;
    let t = create(
        &s.app,
        &s.alice,
        time_obj("alice", "gwm", &["dev"], "2015-01-01", 5),
    )
    .await;
    let uuid = t["uuid"].as_str().unwrap();
    let path = format!("/v0/times/{uuid}");
    // Other users and site spectators may not delete it.
    for (token, name) in [(&s.bob, "bob"), (&spect, "spect")] {
        s.app
            .delete(&path, token)
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!("{name} is not authorized to delete time {uuid}"));
    }
    let r = s.app.delete(&path, &s.alice).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "");
    s.app
        .get(&path, &s.alice)
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent time");
    s.app
        .delete(&path, &s.alice)
        .await
        .assert_error(404, "Object not found");
    let d = s
        .app
        .get(&format!("{path}?include_deleted=true"), &s.alice)
        .await;
    d.assert_ok();
    assert_eq!(d.body["deleted_at"], today());
    assert_eq!(d.body["revision"], 1);
    // `include_deleted=false` is no flag.
    s.app
        .get(&format!("{path}?include_deleted=false"), &s.alice)
        .await
        .assert_error(404, "Object not found");
    let list = s.app.get("/v0/times", &s.alice).await;
    assert_eq!(list.body, json!([]));
    assert_eq!(total(&list), 0);
    let list = s.app.get("/v0/times?include_deleted=1", &s.alice).await;
    assert_eq!(uuids(&list.body), vec![uuid.to_owned()]);

    // Updating it un-deletes it as a new revision; the old one stays deleted.
    let r = s.app.post(&path, &s.alice, json!({"duration": 9})).await;
    r.assert_ok();
    assert_eq!(r.body["deleted_at"], Value::Null);
    assert_eq!(r.body["revision"], 2);
    let h = s
        .app
        .get(&format!("{path}?include_revisions"), &s.alice)
        .await;
    assert_eq!(h.body["deleted_at"], Value::Null);
    assert_eq!(h.body["parents"][0]["deleted_at"], today());
    assert_eq!(
        uuids(&s.app.get("/v0/times", &s.alice).await.body),
        vec![uuid.to_owned()]
    );

    // Site managers and admins may delete others' times.
    assert_eq!(s.app.delete(&path, &siteman).await.status, 200);
    s.app.post(&path, &s.alice, json!({})).await.assert_ok();
    assert_eq!(s.app.delete(&path, &s.root).await.status, 200);

    s.app
        .delete("/v0/times/12345", &s.root)
        .await
        .assert_error(400, "Invalid identifier")
        .assert_text("Expected uuid but received 12345");
    s.app
        .delete(&format!("/v0/times/{}", uuid::Uuid::new_v4()), &s.root)
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent time");
}

#[tokio::test]
async fn visibility_follows_roles() {
    let s = site().await;
    // carol: no roles; pspect/pman: spectator/manager of gwm; pmem: member
    // of gwm only; site spectator, site manager.
    let carol = s.app.user("carol", PLAIN).await;
    let pspect = s.app.user("pspect", PLAIN).await;
    let pman = s.app.user("pman", PLAIN).await;
    let pmem = s.app.user("pmem", PLAIN).await;
    let sspect = s.app.user("sspect", SPECTATOR).await;
    let sman = s.app.user("sman", MANAGER).await;
    fixture::role(&s.app, &s.gwm, "pspect", SPECTATOR_ONLY).await;
    fixture::role(&s.app, &s.gwm, "pman", MANAGER_ONLY).await;
    fixture::role(&s.app, &s.gwm, "pmem", MEMBER).await;
    let a_gwm = create(
        &s.app,
        &s.alice,
        time_obj("alice", "gwm", &["dev"], "2015-01-01", 1),
    )
    .await;
    let b_pgd = create(
        &s.app,
        &s.bob,
        time_obj("bob", "pgd", &["dev"], "2015-01-02", 1),
    )
    .await;
    let m_gwm = create(
        &s.app,
        &pmem,
        time_obj("pmem", "gwm", &["dev"], "2015-01-03", 1),
    )
    .await;
    let id = |t: &Value| t["uuid"].as_str().unwrap().to_owned();
    let all = vec![id(&a_gwm), id(&b_pgd), id(&m_gwm)];
    let cases: Vec<(&str, &String, Vec<String>)> = vec![
        ("alice", &s.alice, vec![id(&a_gwm)]),
        ("bob", &s.bob, vec![id(&b_pgd)]),
        ("carol", &carol, vec![]),
        ("pspect", &pspect, vec![id(&a_gwm), id(&m_gwm)]),
        ("pman", &pman, vec![id(&a_gwm), id(&m_gwm)]),
        ("pmem", &pmem, vec![id(&m_gwm)]),
        ("sspect", &sspect, all.clone()),
        ("sman", &sman, all.clone()),
        ("root", &s.root, all.clone()),
    ];
    for (name, token, visible) in cases {
        let list = s.app.get("/v0/times", token).await;
        list.assert_ok();
        assert_eq!(uuids(&list.body), visible, "{name}");
        assert_eq!(total(&list), visible.len() as u64, "{name}");
        // Paging counts only visible times.
        let first = s.app.get("/v0/times?limit=1", token).await;
        assert_eq!(total(&first), visible.len() as u64, "{name}");
        assert_eq!(
            uuids(&first.body),
            visible.iter().take(1).cloned().collect::<Vec<_>>()
        );
        for uuid in &all {
            let r = s.app.get(&format!("/v0/times/{uuid}"), token).await;
            if visible.contains(uuid) {
                r.assert_ok();
                assert_eq!(r.body["uuid"], uuid.as_str());
            } else {
                r.assert_error(401, "Authorization failure")
                    .assert_text(&format!("{name} is not authorized to view time {uuid}"));
            }
        }
        // Filters cannot widen what a caller sees.
        let filtered = s.app.get("/v0/times?user=bob", token).await;
        let expect: Vec<String> = visible
            .iter()
            .filter(|u| **u == id(&b_pgd))
            .cloned()
            .collect();
        assert_eq!(uuids(&filtered.body), expect, "{name}");
    }
    s.app
        .get_anon("/v0/times")
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Missing credentials");
    s.app
        .get("/v0/times", "not-a-token")
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");
    s.app
        .get("/v0/times/not-a-uuid", &s.root)
        .await
        .assert_error(400, "Invalid identifier")
        .assert_text("Expected uuid but received not-a-uuid");
    s.app
        .get(&format!("/v0/times/{}", uuid::Uuid::new_v4()), &s.root)
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent time");
    // A path segment that is not UTF-8 is an invalid identifier too.
    s.app
        .get("/v0/times/%FF", &s.root)
        .await
        .assert_error(400, "Invalid identifier")
        .assert_text("Expected uuid but received %FF");
}

/// Times for the filter tests, by (user, project, activities, date).
async fn filter_site() -> (Site, Vec<String>) {
    let s = site().await;
    let specs: [(&str, &str, &[&str], &str); 6] = [
        ("alice", "gwm", &["dev"], "2015-02-27"),
        ("alice", "pgd", &["docs", "dev"], "2015-03-01"),
        ("bob", "gwm", &["docs"], "2015-03-14"),
        ("bob", "pgd", &["qa"], "2015-03-15"),
        ("alice", "gwm", &["qa", "docs"], "2015-02-26"),
        ("bob", "pgd", &["dev"], "2015-03-14"),
    ];
    let mut ids = Vec::new();
    for (user, project, acts, date) in specs {
        let token = if user == "alice" { &s.alice } else { &s.bob };
        let t = create(&s.app, token, time_obj(user, project, acts, date, 60)).await;
        ids.push(t["uuid"].as_str().unwrap().to_owned());
    }
    (s, ids)
}

#[tokio::test]
async fn list_filters_combine() {
    let (s, t) = filter_site().await;
    let pick = |idx: &[usize]| idx.iter().map(|&i| t[i].clone()).collect::<Vec<_>>();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("", pick(&[0, 1, 2, 3, 4, 5])),
        ("user=alice", pick(&[0, 1, 4])),
        ("user=ALICE", pick(&[0, 1, 4])),
        ("user=alice&user=bob", pick(&[0, 1, 2, 3, 4, 5])),
        ("project=pgd", pick(&[1, 3, 5])),
        ("project=ganeti", pick(&[0, 2, 4])),
        ("project=gwm&project=pgd", pick(&[0, 1, 2, 3, 4, 5])),
        ("activity=dev", pick(&[0, 1, 5])),
        // A time with both activities is listed once.
        ("activity=dev&activity=docs", pick(&[0, 1, 2, 4, 5])),
        ("user=alice&project=gwm", pick(&[0, 4])),
        ("user=bob&activity=docs", pick(&[2])),
        ("user=bob&project=gwm&activity=qa", pick(&[])),
        (
            "user=alice&user=bob&project=pgd&activity=qa&activity=dev",
            pick(&[1, 3, 5]),
        ),
        ("start=2015-03-01", pick(&[1, 2, 3, 5])),
        ("end=2015-03-01", pick(&[0, 1, 4])),
        ("start=2015-03-14&end=2015-03-14", pick(&[2, 5])),
        ("start=2015-02-27&end=2015-03-14", pick(&[0, 1, 2, 5])),
        (
            "start=2015-02-27&end=2015-03-14&user=bob&activity=dev",
            pick(&[5]),
        ),
        ("start=2016-01-01", pick(&[])),
        // First occurrence wins for single-valued parameters.
        ("start=2015-03-15&start=2015-01-01", pick(&[3])),
        ("end=2015-02-26&end=bogus", pick(&[4])),
        // Unknown parameters are ignored.
        ("colour=blue&user=alice&sort=desc", pick(&[0, 1, 4])),
    ];
    for (query, expected) in cases {
        let r = s.app.get(&format!("/v0/times?{query}"), &s.root).await;
        r.assert_ok();
        assert_eq!(uuids(&r.body), expected, "{query}");
        assert_eq!(total(&r), expected.len() as u64, "{query}");
    }
}

#[tokio::test]
async fn list_refuses_bad_query_values() {
    let (s, _) = filter_site().await;
    let cases = [
        ("start=2015-02-30", "start", "2015-02-30"),
        ("start=2015-2-3", "start", "2015-2-3"),
        ("end=yesterday", "end", "yesterday"),
        ("end=", "end", ""),
        ("start=2015-03-02&end=2015-03-01", "start", "2015-03-02"),
        ("user=nobody", "user", "nobody"),
        ("user=bad%20name", "user", "bad name"),
        ("project=nope", "project", "nope"),
        ("activity=nope", "activity", "nope"),
        ("activity=--2cool--", "activity", "--2cool--"),
        // Every value names nothing (with one that does, it is dropped:
        // compat_filters.rs).
        ("user=nobody&user=bad%20name", "user", "nobody,bad name"),
        ("limit=-1", "limit", "-1"),
        ("skip=x", "skip", "x"),
    ];
    for (query, key, value) in cases {
        s.app
            .get(&format!("/v0/times?{query}"), &s.alice)
            .await
            .assert_error(400, "Bad query value")
            .assert_text(&format!("Parameter {key} contained invalid value {value}"));
    }
}

#[tokio::test]
async fn pagination_edges_and_order() {
    let (s, t) = filter_site().await;
    let all = s.app.get("/v0/times?limit=0", &s.root).await;
    assert_eq!(uuids(&all.body), t);
    assert_eq!(total(&all), 6);
    assert!(all.header("link").is_none());
    let page = s.app.get("/v0/times?limit=2&skip=2", &s.root).await;
    assert_eq!(uuids(&page.body), t[2..4].to_vec());
    assert_eq!(total(&page), 6);
    let link = page.header("link").expect("link");
    assert!(link.contains("skip=4&limit=2>; rel=\"next\""), "{link}");
    assert!(link.contains("skip=0&limit=2>; rel=\"prev\""), "{link}");
    assert!(!link.contains("token="), "{link}");
    let last = s.app.get("/v0/times?skip=5&limit=5", &s.root).await;
    assert_eq!(uuids(&last.body), t[5..].to_vec());
    let past = s.app.get("/v0/times?skip=10", &s.root).await;
    assert_eq!(past.body, json!([]));
    assert_eq!(total(&past), 6);
    let filtered = s
        .app
        .get("/v0/times?user=bob&limit=2&skip=1", &s.root)
        .await;
    assert_eq!(uuids(&filtered.body), vec![t[3].clone(), t[5].clone()]);
    assert_eq!(total(&filtered), 3);

    // Ties on the timestamp are broken by creation order, in every page.
    time::Entity::update_many()
        .col_expr(time::Column::SortAt, 1_000i64.into())
        .exec(s.app.db.conn())
        .await
        .unwrap();
    let mut paged = Vec::new();
    for skip in 0..3 {
        let r = s
            .app
            .get(&format!("/v0/times?limit=2&skip={}", skip * 2), &s.root)
            .await;
        paged.extend(uuids(&r.body));
    }
    assert_eq!(paged, t);
    // An update moves a time to the end (ordered by updated_at).
    s.app
        .post(
            &format!("/v0/times/{}", t[0]),
            &s.alice,
            json!({"duration": 1}),
        )
        .await
        .assert_ok();
    let r = s.app.get("/v0/times", &s.root).await;
    let mut expected = t[1..].to_vec();
    expected.push(t[0].clone());
    assert_eq!(uuids(&r.body), expected);
}

#[tokio::test]
async fn responses_follow_renamed_and_deleted_projects_and_activities() {
    let s = site().await;
    let t = create(
        &s.app,
        &s.alice,
        time_obj("alice", "gwm", &["dev", "docs"], "2015-01-01", 1),
    )
    .await;
    let path = format!("/v0/times/{}", t["uuid"].as_str().unwrap());
    fixture::set_project_slugs(&s.app, &s.gwm, &["webmgr", "aaa"]).await;
    fixture::reslug_activity(&s.app, &s.dev, "development").await;
    let r = s.app.get(&path, &s.alice).await;
    assert_eq!(r.body["project"], json!(["aaa", "webmgr"]));
    assert_eq!(r.body["activities"], json!(["development", "docs"]));
    // The filters follow the new slugs; the old ones are unknown.
    let by_new = s
        .app
        .get("/v0/times?project=webmgr&activity=development", &s.alice)
        .await;
    assert_eq!(by_new.body.as_array().unwrap().len(), 1);
    s.app
        .get("/v0/times?activity=dev", &s.alice)
        .await
        .assert_error(400, "Bad query value");
    // A deleted activity has no slug and is left out; a deleted project has none.
    fixture::delete_activity(&s.app, &s.docs).await;
    fixture::set_project_slugs(&s.app, &s.gwm, &[]).await;
    let r = s.app.get(&path, &s.alice).await;
    assert_eq!(r.body["activities"], json!(["development"]));
    assert_eq!(r.body["project"], json!([]));
    // The list shows the same, and the time keeps its history.
    let list = s.app.get("/v0/times", &s.alice).await;
    assert_eq!(list.body[0]["activities"], json!(["development"]));
    // Updating keeps the activities by uuid (including the deleted one).
    let r = s.app.post(&path, &s.alice, json!({"duration": 2})).await;
    r.assert_ok();
    fixture::reslug_activity(&s.app, &s.docs, "documentation").await;
    let r = s.app.get(&path, &s.alice).await;
    assert_eq!(
        r.body["activities"],
        json!(["development", "documentation"])
    );
    let _ = s.pgd;
}

#[tokio::test]
async fn concurrent_updates_each_get_the_next_revision() {
    let s = site().await;
    let t = create(
        &s.app,
        &s.alice,
        time_obj("alice", "gwm", &["dev"], "2015-01-01", 0),
    )
    .await;
    let path = format!("/v0/times/{}", t["uuid"].as_str().unwrap());
    const N: i64 = 16;
    let app = &s.app;
    let results = futures::future::join_all((1..=N).map(|i| {
        let path = path.clone();
        let token = if i % 2 == 0 {
            s.alice.clone()
        } else {
            s.root.clone()
        };
        async move { app.post(&path, &token, json!({"duration": i})).await }
    }))
    .await;
    let mut revisions: Vec<i64> = results
        .iter()
        .map(|r| {
            r.assert_ok();
            r.body["revision"].as_i64().unwrap()
        })
        .collect();
    revisions.sort();
    assert_eq!(revisions, (2..=N + 1).collect::<Vec<_>>());
    // Every update is in the history, none lost, exactly one current row.
    let h = s
        .app
        .get(&format!("{path}?include_revisions"), &s.alice)
        .await;
    assert_eq!(h.body["revision"], N + 1);
    let mut durations: Vec<i64> = h.body["parents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["duration"].as_i64().unwrap())
        .chain([h.body["duration"].as_i64().unwrap()])
        .collect();
    durations.sort();
    assert_eq!(durations, (0..=N).collect::<Vec<_>>());
    let rows = time::Entity::find()
        .filter(time::Column::Newest.eq(true))
        .all(s.app.db.conn())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    // Concurrent delete and update: both complete, in some order.
    let (d, u) = tokio::join!(
        s.app.delete(&path, &s.alice),
        s.app.post(&path, &s.alice, json!({"notes": "race"}))
    );
    assert_eq!(d.status, 200, "{}", d.text);
    u.assert_ok();
}

/// A project or activity deleted while times are being created on it:
/// either the delete is refused (a current time uses the object) or the
/// creates that lose the race are refused — never a current time on a
/// deleted object.
///
/// The deletes are sent after 0, 1, … 6 of the creates, in turn, so that
/// some rounds let a delete win; the rounds go on (up to four turns, each
/// giving the deletes a longer head start) until one did, and a run in
/// which no delete won fails: it would have asserted nothing. On PostgreSQL and MariaDB the transactions
/// overlap; on SQLite writers take turns (`Db::write`), so there the
/// race is only about which transaction goes first — the delete still wins
/// when it is first, and the creates after it must be refused.
#[tokio::test]
async fn deletes_racing_time_creation_never_orphan_a_time() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use timesync::storage::entities::time as time_entity;
    use timesync::storage::entities::time_activity;
    const CREATES: usize = 6;
    let s = site().await;
    let app = std::sync::Arc::new(s.app);
    const MAX_ROUNDS: usize = 4 * (CREATES + 1);
    let mut deletes_won = 0;
    let mut rounds = 0;
    while rounds <= CREATES || (deletes_won == 0 && rounds < MAX_ROUNDS) {
        let round = rounds;
        rounds += 1;
        let deletes_after = round % (CREATES + 1);
        let slug = format!("race{round}");
        let project = fixture::project(&app, &[slug.as_str()], None).await;
        fixture::role(&app, &project, "alice", MEMBER).await;
        let act_slug = format!("act{round}");
        let activity = fixture::activity(&app, &act_slug).await;
        let mut creates = Vec::new();
        let mut deletes = Vec::new();
        for i in 0..CREATES {
            if i == deletes_after {
                let project_path = format!("/v0/projects/{slug}");
                let activity_path = format!("/v0/activities/{act_slug}");
                for path in [project_path, activity_path] {
                    let (app, token) = (app.clone(), s.root.clone());
                    deletes.push(tokio::spawn(async move {
                        app.delete(&path, &token).await.status
                    }));
                }
                // Later turns give the deletes a growing head start, so
                // that a delete wins some round even where creates are
                // fast (names resolve in memory): 0, 5, 20, 50 ms.
                let head_start = [0, 5, 20, 50][(round / (CREATES + 1)).min(3)];
                tokio::time::sleep(std::time::Duration::from_millis(head_start)).await;
            }
            let (app, token) = (app.clone(), s.alice.clone());
            let obj = time_obj(
                "alice",
                &slug,
                &[act_slug.as_str()],
                "2015-01-01",
                60 + i as i64,
            );
            creates.push(tokio::spawn(async move {
                app.post("/v0/times", &token, obj).await.status
            }));
        }
        if deletes.is_empty() {
            // The last round: the deletes come after every create.
            for path in [
                format!("/v0/projects/{slug}"),
                format!("/v0/activities/{act_slug}"),
            ] {
                let (app, token) = (app.clone(), s.root.clone());
                deletes.push(tokio::spawn(async move {
                    app.delete(&path, &token).await.status
                }));
            }
        }
        for task in creates {
            let status = task.await.unwrap();
            assert!([200, 409].contains(&status), "create: status {status}");
        }
        let mut deleted = Vec::new();
        for task in deletes {
            let status = task.await.unwrap();
            assert!([200, 405].contains(&status), "delete: status {status}");
            deleted.push(status == 200);
        }
        let live_times_on_project = time_entity::Entity::find()
            .filter(time_entity::Column::ProjectUuid.eq(project.clone()))
            .filter(time_entity::Column::Newest.eq(true))
            .filter(time_entity::Column::DeletedAt.is_null())
            .count(app.db.conn())
            .await
            .unwrap();
        let project_status = app
            .get(&format!("/v0/projects/{slug}"), &s.root)
            .await
            .status;
        assert_eq!(project_status == 404, deleted[0], "project delete vs. GET");
        if deleted[0] {
            assert_eq!(
                live_times_on_project, 0,
                "a current time on a deleted project"
            );
        }
        let activity_status = app
            .get(&format!("/v0/activities/{act_slug}"), &s.root)
            .await
            .status;
        assert_eq!(
            activity_status == 404,
            deleted[1],
            "activity delete vs. GET"
        );
        if deleted[1] {
            let links = time_activity::Entity::find()
                .filter(time_activity::Column::ActivityUuid.eq(activity.clone()))
                .all(app.db.conn())
                .await
                .unwrap();
            for link in links {
                let row = time_entity::Entity::find_by_id(link.time_id)
                    .one(app.db.conn())
                    .await
                    .unwrap()
                    .unwrap();
                assert!(
                    !row.newest || row.deleted_at.is_some(),
                    "a current time uses a deleted activity"
                );
            }
        }
        if deleted.contains(&true) {
            deletes_won += 1;
        }
    }
    eprintln!("a delete won {deletes_won} of {rounds} rounds");
    assert!(
        deletes_won >= 1,
        "no delete won in {rounds} rounds: the race was never tested"
    );
}
