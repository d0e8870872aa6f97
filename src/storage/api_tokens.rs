//! Personal API tokens: rows keyed by the SHA-256 of the secret.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Order, QueryFilter,
    QueryOrder,
};

use super::entities::api_token;
pub use api_token::Model as ApiTokenRow;

/// The fields of a new token.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub user_id: i64,
    pub name: String,
    pub scope: String,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewApiToken) -> Result<ApiTokenRow, DbErr> {
    let id = api_token::Entity::insert(api_token::ActiveModel {
        user_id: Set(new.user_id),
        name: Set(new.name),
        scope: Set(new.scope),
        token_hash: Set(new.token_hash),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
        last_used_at: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    api_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("inserted API token".into()))
}

/// The tokens of one user, oldest first.
pub async fn of_user(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<ApiTokenRow>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by(api_token::Column::Id, Order::Asc)
        .all(db)
        .await
}

/// The token whose secret hashes to `hash`.
pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<ApiTokenRow>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash))
        .one(db)
        .await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<ApiTokenRow>, DbErr> {
    api_token::Entity::find_by_id(id).one(db).await
}

/// Revokes (deletes) the token `id`; false when it was already gone.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    let result = api_token::Entity::delete_many()
        .filter(api_token::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Records a use of the token `id` at `now`.
pub async fn touch(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<(), DbErr> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, now.into())
        .filter(api_token::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// The user who owns a token.
pub async fn owner(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<super::users::UserRow>, DbErr> {
    super::entities::user::Entity::find_by_id(user_id)
        .one(db)
        .await
}
