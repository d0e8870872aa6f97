//! `POST /login`: password and LDAP authentication, issuing tokens.

use std::net::IpAddr;

use serde_json::Value;

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

/// Authenticates the body's `auth` block; returns a token.
pub async fn login(ctx: &LoginContext<'_>, body: &Value, client: Option<IpAddr>) -> Result<String> {
    let auth = body
        .get("auth")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::authentication(authentication::MISSING_CREDENTIALS))?;
    let kind = match auth.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) | None => return Err(Error::authentication(authentication::TYPE_REQUIRED)),
    };
    let enabled = match kind {
        "password" => ctx.modules.password,
        "ldap" => ctx.modules.ldap && ctx.ldap.is_some(),
        _ => false,
    };
    if !enabled {
        return Err(Error::Authentication(authentication::invalid_type(kind)));
    }
    let (Some(Value::String(username)), Some(Value::String(password))) =
        (auth.get("username"), auth.get("password"))
    else {
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
