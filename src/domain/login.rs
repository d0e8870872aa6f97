//! `POST /login`: password and LDAP authentication, issuing tokens.

use std::net::IpAddr;

use crate::config::{AuthModules, LdapConfig};
use crate::domain::throttle::LoginThrottle;
use crate::domain::tokens::Tokens;
use crate::domain::{ldap, passwords, validate};
use crate::error::catalogue::authentication;
use crate::error::{Error, Result};
use crate::storage::{self, Db};

/// What login needs from the server.
pub struct LoginContext<'a> {
    pub db: &'a Db,
    pub tokens: &'a Tokens,
    pub modules: AuthModules,
    pub ldap: Option<&'a LdapConfig>,
    pub throttle: &'a LoginThrottle,
}

/// The `auth` block of a login as sent; each part `None` when missing or
/// not a string. (No `Debug`: it holds a password.)
#[derive(Default)]
pub struct Credentials {
    pub kind: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Authenticates the `auth` block (`None`: none, or not an object);
/// returns a token.
pub async fn login(
    ctx: &LoginContext<'_>,
    auth: Option<&Credentials>,
    client: Option<IpAddr>,
) -> Result<String> {
    let auth = auth.ok_or_else(|| Error::authentication(authentication::MISSING_CREDENTIALS))?;
    let kind = auth
        .kind
        .as_deref()
        .ok_or_else(|| Error::authentication(authentication::TYPE_REQUIRED))?;
    let enabled = match kind {
        "password" => ctx.modules.password,
        "ldap" => ctx.modules.ldap && ctx.ldap.is_some(),
        _ => false,
    };
    if !enabled {
        return Err(Error::Authentication(authentication::invalid_type(kind)));
    }
    let (Some(username), Some(password)) = (&auth.username, &auth.password) else {
        return Err(Error::authentication(authentication::MISSING_CREDENTIALS));
    };

    let mut keys = vec![format!("user:{}", validate::username_key(username))];
    if let Some(ip) = client {
        keys.push(format!("ip:{ip}"));
    }
    ctx.throttle.check(&keys).map_err(Error::TooManyRequests)?;

    let user = if validate::is_username(username) {
        storage::users::find_by_username(ctx.db.conn(), username).await?
    } else {
        None
    };
    let accepted = match kind {
        "password" => {
            // Always spend one bcrypt verification, user or not.
            let stored = user.as_ref().and_then(|u| u.password.clone());
            passwords::verify(password.clone(), stored).await && user.is_some()
        }
        _ => {
            let ldap_cfg = ctx.ldap.expect("checked above");
            ldap::authenticate(ldap_cfg, username, password).await?
        }
    };
    match user {
        Some(u) if accepted && u.active && u.deleted_at.is_none() => {
            Ok(ctx.tokens.issue(&u.username, storage::now_millis()))
        }
        _ => {
            ctx.throttle.fail(&keys);
            Err(Error::authentication(authentication::INCORRECT_LOGIN))
        }
    }
}
