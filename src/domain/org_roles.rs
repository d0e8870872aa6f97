//! Organization roles (`/users/org-roles`): a unique name and a unique
//! slug. Anyone authenticated reads them; site managers and admins manage
//! them. They are deleted for good, and only while no user holds them.

use serde_json::{Map, Value};

use crate::domain::ids::Slug;
use crate::domain::validate::{self, FieldSpec, Mode};
use crate::domain::{Caller, Listing, Page};
use crate::error::catalogue::action;
use crate::error::{Error, Result};
use crate::storage::org_roles::OrgRoleRow;
use crate::storage::{self, Conn, Db};

const OBJECT: &str = "org-role";
/// The fields a create or update may send, in the order of model.rst.
pub const SPECS: [FieldSpec; 2] = [validate::NAME_FIELD, validate::SLUG_FIELD];

/// An org-role as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRoleView {
    pub name: String,
    pub slug: String,
}

impl From<OrgRoleRow> for OrgRoleView {
    fn from(row: OrgRoleRow) -> Self {
        Self {
            name: row.name,
            slug: row.slug,
        }
    }
}

pub async fn list(db: &Db, page: Page) -> Result<Listing<OrgRoleView>> {
    let (rows, total) = storage::org_roles::list(db.conn(), page).await?;
    Ok(Listing {
        items: rows.into_iter().map(Into::into).collect(),
        total,
    })
}

pub async fn get(db: &Db, slug: &Slug) -> Result<OrgRoleView> {
    storage::org_roles::find_by_slug(db.conn(), slug)
        .await?
        .map(Into::into)
        .ok_or(Error::NotFound(OBJECT))
}

/// The name and slug sent (each `None` when not sent); a name of only
/// spaces is no name.
fn read_input(object: &Map<String, Value>, mode: Mode) -> Result<(Option<String>, Option<String>)> {
    let fields = validate::read(OBJECT, object, &SPECS, mode)?;
    let name = fields.string("name").value();
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(Error::missing_field(OBJECT, "name"));
    }
    Ok((name, fields.string("slug").value()))
}

/// 409 when `name` or `slug` belongs to a role other than `own_id`.
async fn check_unique(conn: &impl Conn, name: &str, slug: &str, own_id: Option<i64>) -> Result<()> {
    let other = |row: &OrgRoleRow| Some(row.id) != own_id;
    if let Some(row) = storage::org_roles::find_by_slug(conn, slug).await? {
        if other(&row) {
            return Err(Error::SlugsExist(vec![slug.to_owned()]));
        }
    }
    if let Some(row) = storage::org_roles::find_by_name(conn, name).await? {
        if other(&row) {
            return Err(Error::NameExists(name.to_owned()));
        }
    }
    Ok(())
}

pub async fn create(db: &Db, caller: &Caller, object: &Map<String, Value>) -> Result<OrgRoleView> {
    caller.require(caller.is_manager(), action::CREATE_ORG_ROLES)?;
    let (name, slug) = read_input(object, Mode::Create)?;
    let (name, slug) = (&name.unwrap_or_default(), &slug.unwrap_or_default());
    db.write(|tx| async move {
        check_unique(&tx, name, slug, None).await?;
        Ok(storage::org_roles::insert(&tx, name, slug).await?.into())
    })
    .await
}

/// Renames a role (name and/or slug). Users refer to roles by id, so a
/// new slug shows on every user holding the role.
pub async fn update(
    db: &Db,
    caller: &Caller,
    slug: &Slug,
    object: &Map<String, Value>,
) -> Result<OrgRoleView> {
    caller.require(caller.is_manager(), action::UPDATE_ORG_ROLES)?;
    let (new_name, new_slug) = &read_input(object, Mode::Update)?;
    db.write(|tx| async move {
        let row = storage::org_roles::find_by_slug(&tx, slug)
            .await?
            .ok_or(Error::NotFound(OBJECT))?;
        let name = new_name.clone().unwrap_or_else(|| row.name.clone());
        let slug = new_slug.clone().unwrap_or_else(|| row.slug.clone());
        if name == row.name && slug == row.slug {
            return Ok(row.into());
        }
        check_unique(&tx, &name, &slug, Some(row.id)).await?;
        Ok(storage::org_roles::update(&tx, row.id, &name, &slug)
            .await?
            .into())
    })
    .await
}

/// Deletes a role for good; refused with 405 while a (not deleted) user
/// holds it. Deleted users lose it.
pub async fn delete(db: &Db, caller: &Caller, slug: &Slug) -> Result<()> {
    caller.require(caller.is_manager(), action::DELETE_ORG_ROLES)?;
    db.write(|tx| async move {
        let row = storage::org_roles::find_by_slug_for_update(&tx, slug)
            .await?
            .ok_or(Error::NotFound(OBJECT))?;
        if storage::org_roles::held_by_live_user(&tx, row.id).await? {
            return Err(Error::InUse { object: OBJECT });
        }
        storage::org_roles::delete(&tx, row.id).await?;
        Ok(())
    })
    .await
}
