//! Users and their organization roles.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{Set, Unchanged},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

pub use super::entities::user::Model as UserRow;
use super::entities::{org_role, user, user_org_role};
use super::{Page, Result, CHUNK};

/// The user whose username matches `username` in any letter case.
pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<UserRow>> {
    Ok(user::Entity::find()
        .filter(user::Column::UsernameKey.eq(super::username_key(username)))
        .one(db)
        .await?)
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(user::Entity::find().count(db).await?)
}

/// Fields of a new user.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub password: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub site_spectator: bool,
    pub site_manager: bool,
    pub site_admin: bool,
    pub active: bool,
    pub meta: Option<String>,
}

/// Inserts a user; a username taken in any letter case is
/// `Taken::Username`.
pub async fn insert(db: &impl ConnectionTrait, new: NewUser, now: i64) -> Result<UserRow> {
    let taken = super::taken_as(super::Taken::Username(new.username.clone()));
    let row = user::ActiveModel {
        username_key: Set(super::username_key(&new.username)),
        username: Set(new.username),
        password: Set(new.password),
        display_name: Set(new.display_name),
        email: Set(new.email),
        site_spectator: Set(new.site_spectator),
        site_manager: Set(new.site_manager),
        site_admin: Set(new.site_admin),
        active: Set(new.active),
        meta: Set(new.meta),
        created_at: Set(now),
        // Null until the first update, as for every other object.
        updated_at: Set(None),
        deleted_at: Set(None),
        ..Default::default()
    };
    let id = user::Entity::insert(row)
        .exec(db)
        .await
        .map_err(taken)?
        .last_insert_id;
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| super::Error::missing("inserted user"))
}

/// Which users a list shows.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub include_deleted: bool,
    /// Users holding any of these org-roles (by id); `None`: no role filter.
    pub role_ids: Option<Vec<i64>>,
    /// Only users created, updated or deleted at or after (ms), deleted
    /// ones included.
    pub since: Option<i64>,
}

/// A page of users in the spec's list order (`updated_at`, else
/// `created_at`, oldest first, then id), and the count before paging.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &UserFilter,
    page: Page,
) -> Result<(Vec<UserRow>, u64)> {
    let mut condition = Condition::all();
    match filter.since {
        // Each side is a range on an index of its own.
        Some(since) => {
            condition = condition.add(
                Condition::any()
                    .add(user::Column::CreatedAt.gte(since))
                    .add(user::Column::UpdatedAt.gte(since))
                    .add(user::Column::DeletedAt.gte(since)),
            )
        }
        None if !filter.include_deleted => {
            condition = condition.add(user::Column::DeletedAt.is_null())
        }
        None => {}
    }
    if let Some(role_ids) = &filter.role_ids {
        let holders = Query::select()
            .column(user_org_role::Column::UserId)
            .from(user_org_role::Entity)
            .and_where(user_org_role::Column::OrgRoleId.is_in(role_ids.iter().copied()))
            .to_owned();
        condition = condition.add(user::Column::Id.in_subquery(holders));
    }
    let total = user::Entity::find()
        .filter(condition.clone())
        .count(db)
        .await?;
    let sort_at = Func::coalesce([
        Expr::col(user::Column::UpdatedAt),
        Expr::col(user::Column::CreatedAt),
    ]);
    let query = user::Entity::find()
        .filter(condition)
        .order_by(Expr::expr(sort_at), Order::Asc)
        .order_by_asc(user::Column::Id);
    Ok((super::paginate(query, page).all(db).await?, total))
}

/// The org-role slugs of each of `user_ids` (sorted), in one query.
pub async fn role_slugs(
    db: &impl ConnectionTrait,
    user_ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>> {
    let mut by_user: HashMap<i64, Vec<String>> = HashMap::new();
    if user_ids.is_empty() {
        return Ok(by_user);
    }
    let query = Query::select()
        .column((user_org_role::Entity, user_org_role::Column::UserId))
        .column((org_role::Entity, org_role::Column::Slug))
        .from(user_org_role::Entity)
        .inner_join(
            org_role::Entity,
            Expr::col((org_role::Entity, org_role::Column::Id))
                .equals((user_org_role::Entity, user_org_role::Column::OrgRoleId)),
        )
        .and_where(
            Expr::col((user_org_role::Entity, user_org_role::Column::UserId))
                .is_in(user_ids.iter().copied()),
        )
        .order_by((org_role::Entity, org_role::Column::Slug), Order::Asc)
        .to_owned();
    for row in db.query_all(&query).await? {
        let user_id: i64 = row.try_get_by_index(0)?;
        let slug: String = row.try_get_by_index(1)?;
        by_user.entry(user_id).or_default().push(slug);
    }
    Ok(by_user)
}

/// The user matching `username` in any letter case, locked for update
/// (concurrent updates of one user are serialised; SQLite serialises
/// writers anyway).
pub async fn find_for_update(db: &impl ConnectionTrait, username: &str) -> Result<Option<UserRow>> {
    Ok(user::Entity::find()
        .filter(user::Column::UsernameKey.eq(super::username_key(username)))
        .lock_exclusive()
        .one(db)
        .await?)
}

/// Writes every changeable field of `row` (users are updated in place).
pub async fn save(db: &impl ConnectionTrait, row: &UserRow) -> Result<()> {
    Ok(user::ActiveModel {
        id: Unchanged(row.id),
        password: Set(row.password.clone()),
        display_name: Set(row.display_name.clone()),
        email: Set(row.email.clone()),
        site_spectator: Set(row.site_spectator),
        site_manager: Set(row.site_manager),
        site_admin: Set(row.site_admin),
        active: Set(row.active),
        meta: Set(row.meta.clone()),
        updated_at: Set(row.updated_at),
        deleted_at: Set(row.deleted_at),
        ..Default::default()
    }
    .update(db)
    .await
    .map(|_| ())?)
}

/// Replaces the org-roles of user `user_id`.
pub async fn set_roles(db: &impl ConnectionTrait, user_id: i64, role_ids: &[i64]) -> Result<()> {
    user_org_role::Entity::delete_many()
        .filter(user_org_role::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if role_ids.is_empty() {
        return Ok(());
    }
    let rows = role_ids
        .iter()
        .map(|&org_role_id| user_org_role::ActiveModel {
            user_id: Set(user_id),
            org_role_id: Set(org_role_id),
        });
    user_org_role::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// Soft-deletes user `id`.
pub async fn mark_deleted(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<()> {
    Ok(user::Entity::update_many()
        .col_expr(user::Column::DeletedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())?)
}
/// Usernames (as stored) of the users `ids`.
pub async fn usernames(db: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(i64, String)> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::Username)
            .filter(user::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// The undeleted users whose lower-cased usernames are `keys`: (key, id).
pub async fn users_by_keys(
    db: &impl ConnectionTrait,
    keys: &[String],
) -> Result<Vec<(String, i64)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::UsernameKey.is_in(keys.iter().cloned()))
        .filter(user::Column::DeletedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.username_key, u.id))
        .collect())
}
