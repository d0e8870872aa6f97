//! Personal API tokens (issue 16): long-lived credentials for
//! integrations, made with a login token and revocable.
//!
//! A token is `tsk_` followed by 43 base64url characters (32 random
//! bytes): the prefix tells logs and secret scanners it from a JWT (which
//! starts `eyJ`). Only its SHA-256 is stored; it is looked up by that hash
//! and the hashes are compared again in constant time. `read` tokens are
//! refused on every POST and DELETE (`Caller::require_write`).
//! `last_used_at` is written at most once a minute per token: an
//! in-memory clock per instance (`UseClock`) plus the stored value.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rand::RngCore;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::caller::{Credential, Scope};
use crate::domain::ids::TokenId;
use crate::domain::validate::{self, Field, FieldSpec, Kind, Mode};
use crate::domain::Caller;
use crate::error::{Error, Result};
use crate::storage::api_tokens::{self as store, ApiTokenRow, NewApiToken};
use crate::storage::users::UserRow;
use crate::storage::{self, Db};

/// What every API token starts with.
pub const PREFIX: &str = "tsk_";
/// `last_used_at` is written at most this often per token.
pub const USE_WRITE_INTERVAL_MS: i64 = 60_000;
/// The object of `POST /tokens`.
pub const SPECS: [FieldSpec; 3] = [
    validate::NAME_FIELD,
    FieldSpec::new("expires_at", Kind::Date)
        .nullable()
        .about("The last day the token works (UTC), today or later; null: never expires."),
    FieldSpec::new(
        "scope",
        Kind::Text {
            max: 16,
            bytes: false,
        },
    )
    .about("`write` (the default) or `read` (GET only)."),
];
const OBJECT: &str = "token";

/// A token as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// `YYYY-MM-DD`: the last day the token works (UTC).
    pub expires_at: Option<String>,
    /// RFC 3339, UTC; at most a minute old while the token is in use.
    pub last_used_at: Option<String>,
}

/// A new token: its description and the secret, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedApiToken {
    pub info: ApiTokenInfo,
    pub token: String,
}

/// `POST /tokens`: a new token of the caller. Needs a login token.
pub async fn create(
    db: &Db,
    caller: &Caller,
    object: &Map<String, Value>,
) -> Result<CreatedApiToken> {
    if caller.credential != Credential::Login {
        return Err(caller.forbidden("create API tokens with an API token"));
    }
    let fields = validate::read(OBJECT, object, &SPECS, Mode::Create)?;
    let name = fields.string("name").value().unwrap_or_default();
    let scope = match fields.string("scope") {
        Field::Absent | Field::Null => Scope::Write,
        Field::Value(s) => Scope::parse(&s)
            .ok_or_else(|| Error::invalid_field(OBJECT, "scope", "\"read\" or \"write\"", &s))?,
    };
    let now = storage::now_millis();
    let expires_at = match fields.date("expires_at") {
        Field::Absent | Field::Null => None,
        Field::Value(date) if date < today(now) => {
            return Err(Error::invalid_field(
                OBJECT,
                "expires_at",
                "ISO-8601 date not in the past",
                &date.to_string(),
            ))
        }
        Field::Value(date) => Some(end_of(date)),
    };
    let token = generate();
    let new = &NewApiToken {
        user_id: caller.id,
        name,
        scope: scope.as_str().to_owned(),
        token_hash: hash(&token),
        created_at: now,
        expires_at,
    };
    let row = db
        .write(|tx| async move { Ok::<_, Error>(store::insert(&tx, new.clone()).await?) })
        .await?;
    Ok(CreatedApiToken {
        info: info(row),
        token,
    })
}

/// `GET /tokens`: the tokens of the caller, or (site admins) of `user`.
pub async fn list(db: &Db, caller: &Caller, user: Option<&str>) -> Result<Vec<ApiTokenInfo>> {
    let user_id = match user {
        None => caller.id,
        Some(name) => {
            let found = storage::users::find_by_username(db.conn(), name)
                .await?
                .filter(|u| u.deleted_at.is_none());
            match found {
                Some(u) if u.id == caller.id => u.id,
                Some(u) => {
                    caller.require(caller.is_admin(), "list the API tokens of other users")?;
                    u.id
                }
                None => return Err(Error::bad_query("user", name)),
            }
        }
    };
    Ok(store::of_user(db.conn(), user_id)
        .await?
        .into_iter()
        .map(info)
        .collect())
}

/// `DELETE /tokens/:id`: revokes a token of the caller (site admins: any).
/// Someone else's token is `Nonexistent token`, as an unknown one.
pub async fn revoke(db: &Db, caller: &Caller, TokenId(id): TokenId) -> Result<()> {
    db.write(|tx| async move {
        let row = store::find(&tx, id)
            .await?
            .filter(|t| t.user_id == caller.id || caller.is_admin())
            .ok_or(Error::NotFound(OBJECT))?;
        if !store::delete(&tx, row.id).await? {
            return Err(Error::NotFound(OBJECT));
        }
        Ok(())
    })
    .await
}

/// The user and credential of an API token, or `Bad API token` (unknown,
/// revoked or expired).
pub(crate) async fn authenticate(
    db: &Db,
    uses: &UseClock,
    token: &str,
) -> Result<(UserRow, Credential)> {
    let digest = hash(token);
    let row = store::find_by_hash(db.conn(), &digest)
        .await?
        .filter(|row| bool::from(row.token_hash.as_bytes().ct_eq(digest.as_bytes())))
        .ok_or_else(Error::bad_token)?;
    let now = storage::now_millis();
    if row.expires_at.is_some_and(|at| at <= now) {
        return Err(Error::bad_token());
    }
    let scope = Scope::parse(&row.scope).ok_or_else(Error::bad_token)?;
    let user = db
        .catalogue()
        .await?
        .user(row.user_id)
        .cloned()
        .ok_or_else(Error::bad_token)?;
    let stale = row
        .last_used_at
        .is_none_or(|at| now - at >= USE_WRITE_INTERVAL_MS);
    if stale && uses.claim(row.id, now) {
        db.write(|tx| async move { Ok::<_, Error>(store::touch(&tx, row.id, now).await?) })
            .await?;
    }
    Ok((user, Credential::ApiToken { id: row.id, scope }))
}

/// When each token's use was last written by this instance: a token used
/// by many requests at once is written once, not once per request.
#[derive(Debug, Default)]
pub struct UseClock {
    written: Mutex<HashMap<i64, i64>>,
}

impl UseClock {
    /// Most tokens remembered; the map is emptied when full.
    const MAX: usize = 100_000;

    /// True when this request should write the use of token `id` at `now`.
    fn claim(&self, id: i64, now: i64) -> bool {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if written
            .get(&id)
            .is_some_and(|at| now - at < USE_WRITE_INTERVAL_MS)
        {
            return false;
        }
        if written.len() >= Self::MAX {
            written.clear();
        }
        written.insert(id, now);
        true
    }
}

/// A fresh token: the prefix and 32 random bytes.
fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Lowercase hex SHA-256 of the token.
fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn today(now: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .date_naive()
}

/// The first millisecond after the day `date` (UTC).
fn end_of(date: NaiveDate) -> i64 {
    date.succ_opt()
        .unwrap_or(date)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp_millis()
}

fn rfc3339(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn info(row: ApiTokenRow) -> ApiTokenInfo {
    ApiTokenInfo {
        id: row.id,
        name: row.name,
        scope: Scope::parse(&row.scope).unwrap_or(Scope::Read),
        created_at: rfc3339(row.created_at),
        // Stored as the first millisecond after the last valid day.
        expires_at: row.expires_at.map(|at| validate::wire_date(at - 1)),
        last_used_at: row.last_used_at.map(rfc3339),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let a = generate();
        let b = generate();
        assert!(a.starts_with("tsk_") && a.len() == 4 + 43, "{a}");
        assert_ne!(a, b);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn a_token_works_through_its_expiry_date() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let end = end_of(date);
        assert_eq!(validate::wire_date(end - 1), "2026-03-01");
        assert_eq!(validate::wire_date(end), "2026-03-02");
    }

    #[test]
    fn uses_are_written_once_a_minute() {
        let clock = UseClock::default();
        assert!(clock.claim(1, 1_000));
        assert!(!clock.claim(1, 1_000 + USE_WRITE_INTERVAL_MS - 1));
        assert!(clock.claim(2, 1_000));
        assert!(clock.claim(1, 1_000 + USE_WRITE_INTERVAL_MS));
    }
}
