//! Users and their organization roles.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::entities::user;
pub use super::entities::user::Model as UserRow;

/// The user whose username matches `username` in any letter case.
pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<UserRow>, DbErr> {
    user::Entity::find()
        .filter(user::Column::UsernameKey.eq(crate::domain::validate::username_key(username)))
        .one(db)
        .await
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    user::Entity::find().count(db).await
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

/// Inserts a user; a username taken in any letter case is a unique violation.
pub async fn insert(db: &impl ConnectionTrait, new: NewUser, now: i64) -> Result<UserRow, DbErr> {
    let row = user::ActiveModel {
        username_key: Set(crate::domain::validate::username_key(&new.username)),
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
        updated_at: Set(Some(now)),
        deleted_at: Set(None),
        ..Default::default()
    };
    let id = user::Entity::insert(row).exec(db).await?.last_insert_id;
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("inserted user".into()))
}
