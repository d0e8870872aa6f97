//! Server settings kept in the database (the generated token key).

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use super::entities::setting;
use super::Result;

pub const SECRET_KEY: &str = "secret_key";

pub async fn get(db: &impl ConnectionTrait, name: &str) -> Result<Option<String>> {
    Ok(setting::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(|s| s.value))
}

/// Stores `value` under `name` unless a value is there already; returns the
/// stored value (so concurrent first starts agree on one).
pub async fn get_or_insert(db: &impl ConnectionTrait, name: &str, value: String) -> Result<String> {
    if let Some(existing) = get(db, name).await? {
        return Ok(existing);
    }
    let row = setting::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(value),
    };
    if let Err(e) = setting::Entity::insert(row).exec(db).await {
        if !super::is_unique_violation(&e) {
            return Err(e.into());
        }
    }
    get(db, name)
        .await?
        .ok_or_else(|| super::Error::missing(name))
}
