//! Site-admin accounts made outside the API: the first-run `root` and
//! `timesync create-account`.

use rand::distr::Alphanumeric;
use rand::Rng;

use crate::domain::{passwords, validate};
use crate::error::{catalogue, Error, Result};
use crate::storage::{self, users::NewUser, Db};

/// A random password of `len` letters and digits.
pub fn random_password(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Creates an active site admin. A taken username (any letter case) is
/// `Username already exists`; a malformed one is `Invalid username`.
pub async fn create_site_admin(db: &Db, username: &str, password: &str) -> Result<()> {
    if !validate::is_username(username) {
        return Err(Error::InvalidUsername(username.to_owned()));
    }
    if password.is_empty() {
        return Err(Error::BadObject(
            catalogue::bad_object::EMPTY_PASSWORD.into(),
        ));
    }
    let hash = passwords::storable(password.to_owned()).await?;
    let tx = db.begin_write().await?;
    if storage::users::find_by_username(&*tx, username)
        .await?
        .is_some()
    {
        return Err(Error::UsernameExists(username.to_owned()));
    }
    let new = NewUser {
        username: username.to_owned(),
        password: Some(hash),
        site_admin: true,
        active: true,
        ..Default::default()
    };
    storage::users::insert(&*tx, new, storage::now_millis())
        .await
        .map_err(|e| {
            if storage::is_unique_violation(&e) {
                Error::UsernameExists(username.to_owned())
            } else {
                e.into()
            }
        })?;
    tx.commit().await?;
    Ok(())
}

/// On a database without any user, creates the site admin `root` with a
/// random password and returns that password (to be shown once).
pub async fn ensure_first_account(db: &Db) -> Result<Option<String>> {
    if storage::users::count(db.conn()).await? > 0 {
        return Ok(None);
    }
    let password = random_password(24);
    match create_site_admin(db, "root", &password).await {
        Ok(()) => Ok(Some(password)),
        // Another instance made it first.
        Err(Error::UsernameExists(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
