//! Organization roles: a name and a slug, hard-deleted, held by users
//! through `user_org_roles`.

use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::entities::{org_role, user, user_org_role};
use super::{Page, Result};
pub use org_role::Model as OrgRoleRow;

/// A page of org-roles in creation order, and how many there are.
pub async fn list(db: &impl ConnectionTrait, page: Page) -> Result<(Vec<OrgRoleRow>, u64)> {
    let total = org_role::Entity::find().count(db).await?;
    let query = org_role::Entity::find().order_by_asc(org_role::Column::Id);
    Ok((super::paginate(query, page).all(db).await?, total))
}

pub async fn find_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<OrgRoleRow>> {
    Ok(org_role::Entity::find()
        .filter(org_role::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// Role `slug`, locked until the transaction ends (a delete).
pub async fn find_by_slug_for_update(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<OrgRoleRow>> {
    Ok(org_role::Entity::find()
        .filter(org_role::Column::Slug.eq(slug))
        .lock_exclusive()
        .one(db)
        .await?)
}

fn with_slugs(slugs: &[String]) -> sea_orm::Select<org_role::Entity> {
    org_role::Entity::find().filter(org_role::Column::Slug.is_in(slugs.iter().cloned()))
}

/// The roles among `slugs` that exist (in no particular order).
pub async fn find_by_slugs(db: &impl ConnectionTrait, slugs: &[String]) -> Result<Vec<OrgRoleRow>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(with_slugs(slugs).all(db).await?)
}

/// `find_by_slugs` for a transaction about to give these roles to a user:
/// the rows are share-locked, so a concurrent delete of a role either
/// waits and then sees its new holder (405), or wins and the role is
/// reported missing here; never a foreign-key failure.
pub async fn find_by_slugs_to_assign(
    db: &impl ConnectionTrait,
    slugs: &[String],
) -> Result<Vec<OrgRoleRow>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(with_slugs(slugs).lock_shared().all(db).await?)
}

/// The role whose name equals `name` in any letter case (names are unique
/// case-insensitively on every backend, as MySQL's collation would make them).
pub async fn find_by_name(db: &impl ConnectionTrait, name: &str) -> Result<Option<OrgRoleRow>> {
    Ok(org_role::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(org_role::Column::Name))).eq(name.to_lowercase()))
        .one(db)
        .await?)
}

/// A new role; a taken name or slug (a lost race) is `Taken::Slugs`.
pub async fn insert(db: &impl ConnectionTrait, name: &str, slug: &str) -> Result<OrgRoleRow> {
    org_role::ActiveModel {
        name: Set(name.to_owned()),
        slug: Set(slug.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(slug_taken(slug))
}

/// A race for a role's name or slug is reported as its slug (errors.rst
/// has no error of its own for a taken name).
fn slug_taken(slug: &str) -> impl FnOnce(sea_orm::DbErr) -> super::Error {
    super::taken_as(super::Taken::Slugs(vec![slug.to_owned()]))
}

/// Sets the name and slug of role `id`.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    name: &str,
    slug: &str,
) -> Result<OrgRoleRow> {
    org_role::ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        slug: Set(slug.to_owned()),
    }
    .update(db)
    .await
    .map_err(slug_taken(slug))
}

/// True when a user that is not deleted holds role `id`.
pub async fn held_by_live_user(db: &impl ConnectionTrait, id: i64) -> Result<bool> {
    let live = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::DeletedAt.is_null())
        .into_query();
    let n = user_org_role::Entity::find()
        .filter(user_org_role::Column::OrgRoleId.eq(id))
        .filter(user_org_role::Column::UserId.in_subquery(live))
        .count(db)
        .await?;
    Ok(n > 0)
}

/// Deletes role `id` and what deleted users still hold of it.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    user_org_role::Entity::delete_many()
        .filter(user_org_role::Column::OrgRoleId.eq(id))
        .exec(db)
        .await?;
    org_role::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
