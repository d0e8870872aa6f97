//! The authenticated caller of a request, and the site-wide permission
//! questions every resource asks about it.

use crate::domain::api_tokens;
use crate::domain::tokens::Tokens;
use crate::error::{Error, Result};
use crate::storage::{self, Db};

/// Who is making the request. Only `authenticate` makes one, so holding a
/// `Caller` proves the token was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: i64,
    /// As stored (the display case).
    pub username: String,
    pub site_spectator: bool,
    pub site_manager: bool,
    pub site_admin: bool,
    /// What the request authenticated with.
    pub credential: Credential,
}

/// The kind of token a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A 30-minute token from `POST /login` (password or LDAP).
    Login,
    /// A personal API token (`domain::api_tokens`).
    ApiToken { id: i64, scope: Scope },
}

/// What a personal API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// GET only.
    Read,
    /// Everything its user may do.
    Write,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.site_admin
    }
    /// Site managers and admins: create/update/delete projects and
    /// activities, create users, manage org-roles.
    pub fn is_manager(&self) -> bool {
        self.site_manager || self.site_admin
    }
    /// Site spectators, managers and admins see every time.
    pub fn sees_all_times(&self) -> bool {
        self.site_spectator || self.site_manager || self.site_admin
    }
    /// Refuses a request that changes something (POST, DELETE) made with
    /// a `read` API token.
    pub fn require_write(&self) -> Result<()> {
        let read_only = matches!(
            self.credential,
            Credential::ApiToken {
                scope: Scope::Read,
                ..
            }
        );
        self.require(!read_only, "make changes with a read-only API token")
    }
    /// `Authorization failure` for this caller and `action`.
    pub fn forbidden(&self, action: &str) -> Error {
        Error::unauthorized(&self.username, action)
    }
    /// `Ok` when `allowed`, else the `Authorization failure` for `action`.
    pub fn require(&self, allowed: bool, action: &str) -> Result<()> {
        if allowed {
            Ok(())
        } else {
            Err(self.forbidden(action))
        }
    }
}

/// Checks a token — a login token, or a personal API token (`tsk_…`) —
/// and loads its user, who must exist, be active and not be deleted; any
/// failure is `Bad API token`.
pub async fn authenticate(db: &Db, tokens: &Tokens, token: &str) -> Result<Caller> {
    let (user, credential) = if token.starts_with(api_tokens::PREFIX) {
        api_tokens::authenticate(db, tokens.api_token_uses(), token).await?
    } else {
        let claims = tokens
            .verify(token, storage::now_millis())
            .map_err(|_| Error::bad_token())?;
        let user = db
            .catalogue()
            .await?
            .user_by_name(&claims.sub)
            .cloned()
            .ok_or_else(Error::bad_token)?;
        (user, Credential::Login)
    };
    if !user.active || user.deleted_at.is_some() {
        return Err(Error::bad_token());
    }
    Ok(Caller {
        id: user.id,
        username: user.username,
        site_spectator: user.site_spectator,
        site_manager: user.site_manager,
        site_admin: user.site_admin,
        credential,
    })
}
