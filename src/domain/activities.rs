//! Activities: reading, creating, revising and soft-deleting them.
//! Site managers and admins write; every authenticated user reads.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::domain::ids::Slug;
use crate::domain::validate::{self, FieldSpec, Mode};
use crate::domain::{Caller, Listing, Page};
use crate::error::catalogue::{action, bad_object};
use crate::error::{Error, Result};
use crate::storage::activities::{self as store, ActivityRow};
use crate::storage::{self, Conn, Db};

/// An activity as shown to clients.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityView {
    pub name: String,
    /// `null` once deleted.
    pub slug: Option<String>,
    pub uuid: String,
    pub revision: i32,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub deleted_at: Option<String>,
    /// Older revisions, newest first (`include_revisions`).
    pub parents: Option<Vec<ActivityView>>,
}

impl ActivityView {
    fn of(row: ActivityRow) -> Self {
        Self {
            name: row.name,
            slug: row.slug,
            uuid: row.uuid,
            revision: row.revision,
            created_at: validate::wire_date(row.created_at),
            updated_at: validate::wire_date_opt(row.updated_at),
            deleted_at: validate::wire_date_opt(row.deleted_at),
            parents: None,
        }
    }
}

/// The fields a create or update may send, in the order of model.rst.
pub const SPECS: [FieldSpec; 2] = [validate::NAME_FIELD, validate::SLUG_FIELD];
const OBJECT: &str = "activity";

/// Views of `rows`, with their parents when `include_revisions` (one query
/// for the whole page).
async fn views(
    db: &Db,
    rows: Vec<ActivityRow>,
    include_revisions: bool,
) -> Result<Vec<ActivityView>> {
    let parents = if include_revisions {
        let uuids: Vec<String> = rows.iter().map(|r| r.uuid.clone()).collect();
        let mut by_uuid: HashMap<String, Vec<ActivityView>> = HashMap::new();
        for parent in store::parents_of(db.conn(), &uuids).await? {
            by_uuid
                .entry(parent.uuid.clone())
                .or_default()
                .push(ActivityView::of(parent));
        }
        Some(by_uuid)
    } else {
        None
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut view = ActivityView::of(row);
            if let Some(parents) = &parents {
                view.parents = Some(parents.get(&view.uuid).cloned().unwrap_or_default());
            }
            view
        })
        .collect())
}

/// `GET /activities`, from the catalogue (parents excepted); with `since`
/// (ms), only those changed at or after it, deleted ones included.
pub async fn list(
    db: &Db,
    include_deleted: bool,
    include_revisions: bool,
    since: Option<i64>,
    page: Page,
) -> Result<Listing<ActivityView>> {
    let catalogue = db.catalogue().await?;
    let matching: Vec<&ActivityRow> = catalogue
        .activities()
        .iter()
        .filter(|a| match since {
            Some(since) => crate::domain::projects::changed_since(a.sort_at, a.deleted_at, since),
            None => include_deleted || a.deleted_at.is_none(),
        })
        .collect();
    let total = matching.len() as u64;
    let rows = crate::domain::projects::page_of(matching, page)
        .cloned()
        .collect();
    Ok(Listing {
        items: views(db, rows, include_revisions).await?,
        total,
    })
}

/// `GET /activities/:slug`, from the catalogue (parents excepted).
pub async fn get(db: &Db, slug: &Slug, include_revisions: bool) -> Result<ActivityView> {
    let row = db
        .catalogue()
        .await?
        .activity_by_slug(slug)
        .cloned()
        .ok_or(Error::NotFound(OBJECT))?;
    let mut views = views(db, vec![row], include_revisions).await?;
    views.pop().ok_or(Error::NotFound(OBJECT))
}

/// The slug is someone else's: 409 `Slug already exists`.
fn slug_taken(slug: &str) -> Error {
    Error::SlugsExist(vec![slug.to_owned()])
}

/// `POST /activities`: site managers and admins.
pub async fn create(db: &Db, caller: &Caller, object: &Map<String, Value>) -> Result<ActivityView> {
    caller.require(caller.is_manager(), action::CREATE_ACTIVITIES)?;
    let fields = validate::read(OBJECT, object, &SPECS, Mode::Create)?;
    let name = fields.string("name").value().unwrap_or_default();
    let slug = fields.string("slug").value().unwrap_or_default();
    let uuid = uuid::Uuid::new_v4().to_string();
    let (name, slug, uuid) = (&name, &slug, &uuid);
    let row = db
        .write(|tx| async move {
            check_name_free(&tx, name, None).await?;
            if store::find_by_slug(&tx, slug).await?.is_some() {
                return Err(slug_taken(slug));
            }
            let row = store::create(&tx, uuid, name, slug, storage::now_millis()).await?;
            Ok(row)
        })
        .await?;
    Ok(ActivityView::of(row))
}

/// 400 when another current activity is named `name` (exactly).
async fn check_name_free(conn: &impl Conn, name: &str, except: Option<&str>) -> Result<()> {
    if store::name_taken(conn, name, except).await? {
        return Err(Error::BadObject(bad_object::name_not_unique(OBJECT)));
    }
    Ok(())
}

/// `POST /activities/:slug`: a new revision with the fields sent changed.
pub async fn update(
    db: &Db,
    caller: &Caller,
    slug: &Slug,
    object: &Map<String, Value>,
) -> Result<ActivityView> {
    caller.require(caller.is_manager(), action::UPDATE_ACTIVITIES)?;
    let fields = validate::read(OBJECT, object, &SPECS, Mode::Update)?;
    let name = fields.string("name").value();
    let new_slug = fields
        .string("slug")
        .value()
        .unwrap_or_else(|| slug.to_string());
    let uuid = store::find_by_slug(db.conn(), slug)
        .await?
        .ok_or(Error::NotFound(OBJECT))?
        .uuid;
    let (name, new_slug, uuid) = (&name, &new_slug, &uuid);
    let row = db
        .write(|tx| async move {
            let current = lock_by_slug(&tx, slug, uuid).await?;
            if let Some(name) = &name {
                check_name_free(&tx, name, Some(uuid)).await?;
            }
            if new_slug != &**slug && store::find_by_slug(&tx, new_slug).await?.is_some() {
                return Err(slug_taken(new_slug));
            }
            let name = name.clone().unwrap_or_else(|| current.name.clone());
            let row = store::revise(&tx, &current, &name, new_slug, storage::now_millis()).await?;
            Ok(row)
        })
        .await?;
    Ok(ActivityView::of(row))
}

/// The current revision of activity `uuid`, locked for writing, provided
/// it still owns `slug`: a concurrent writer may have renamed or deleted
/// it while we waited for the lock.
async fn lock_by_slug(tx: &impl Conn, slug: &str, uuid: &str) -> Result<ActivityRow> {
    store::lock(tx, uuid).await?;
    store::current(tx, uuid)
        .await?
        .filter(|row| row.live_slug.as_deref() == Some(slug))
        .ok_or(Error::NotFound(OBJECT))
}

/// `DELETE /activities/:slug`: soft delete that frees the slug; refused
/// while a current time has the activity.
pub async fn delete(db: &Db, caller: &Caller, slug: &Slug) -> Result<()> {
    caller.require(caller.is_manager(), action::DELETE_ACTIVITIES)?;
    let uuid = store::find_by_slug(db.conn(), slug)
        .await?
        .ok_or(Error::NotFound(OBJECT))?
        .uuid;
    let uuid = &uuid;
    db.write(|tx| async move {
        let current = lock_by_slug(&tx, slug, uuid).await?;
        // A running timer counts as a use (issue 16: refuse, like a time).
        if store::used_by_current_time(&tx, uuid).await?
            || storage::timers::uses_activity(&tx, uuid).await?
        {
            return Err(Error::InUse { object: OBJECT });
        }
        store::soft_delete(&tx, current.id, storage::now_millis()).await?;
        Ok(())
    })
    .await
}

/// The current slugs (`None` when deleted) of the activities `uuids`.
pub async fn slugs_by_uuid(db: &Db, uuids: &[String]) -> Result<HashMap<String, Option<String>>> {
    Ok(store::current_of(db.conn(), uuids)
        .await?
        .into_iter()
        .map(|row| (row.uuid, row.live_slug))
        .collect())
}
