//! The one error type of the server. Every variant is one of the error
//! objects of the spec's `errors.rst` (as ruled in DECISIONS.md); the HTTP
//! layer renders it (`http::error`).

/// Result with the server's error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404 `Object not found`: `Nonexistent ${object}`.
    #[error("Nonexistent {0}")]
    NotFound(&'static str),
    /// 500 `Server error`. The cause is logged, never sent.
    #[error("server error: {0:#}")]
    Server(#[from] anyhow::Error),
    /// 409 `Invalid foreign key`.
    #[error("The {object} does not contain a valid {key} reference")]
    InvalidForeignKey {
        object: &'static str,
        key: &'static str,
    },
    /// 400 `Bad object` with a finished text.
    #[error("{0}")]
    BadObject(String),
    /// 400 `Invalid identifier`: `kind` is `slug` or `uuid`.
    #[error("Expected {kind} but received {}", .values.join(", "))]
    InvalidIdentifier {
        kind: &'static str,
        values: Vec<String>,
    },
    /// 401 `Invalid username`.
    #[error("Invalid username {0} is not a valid username")]
    InvalidUsername(String),
    /// 401 `Authentication failure` with its text.
    #[error("{0}")]
    Authentication(String),
    /// 409 `Slug already exists` / `Slugs already exist`.
    #[error("slugs already exist: {0:?}")]
    SlugsExist(Vec<String>),
    /// 409 for a taken org-role name: errors.rst has no error of its own for
    /// it, so it is the closest one, `Slug already exists`, naming the name.
    #[error("Name {0} already exists on another object")]
    NameExists(String),
    /// 401 `Authorization failure`: `${user} is not authorized to ${action}`.
    #[error("{user} is not authorized to {action}")]
    Authorization { user: String, action: String },
    /// 405 `Method not allowed`: the object cannot be deleted while other
    /// objects still refer to it (HTTP names the methods left in `Allow`).
    #[error("The method specified is not allowed for the {object} identified")]
    InUse { object: &'static str },
    /// 400 `Bad query value`.
    #[error("Parameter {key} contained invalid value {value}")]
    BadQueryValue { key: String, value: String },
    /// 409 `Username already exists`.
    #[error("Username {0} already exists")]
    UsernameExists(String),
    /// 429 `Too many requests`, retry after the given seconds.
    #[error("Too many failed login attempts; try again in {0} seconds")]
    TooManyRequests(u64),
    /// 413 request body over the configured limit.
    #[error("The request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
}

impl Error {
    /// `${object} does not have a ${field} field`
    pub fn unknown_field(object: &str, field: &str) -> Self {
        Self::BadObject(format!("{object} does not have a {field} field"))
    }
    /// `The ${object} is missing a ${field}`
    pub fn missing_field(object: &str, field: &str) -> Self {
        Self::BadObject(format!("The {object} is missing a {field}"))
    }
    /// `Field ${field} of ${object} should be ${expected} but was sent as ${received}`
    pub fn invalid_field(object: &str, field: &str, expected: &str, received: &str) -> Self {
        Self::BadObject(format!(
            "Field {field} of {object} should be {expected} but was sent as {received}"
        ))
    }
    /// The body is not JSON at all.
    pub fn unparseable_body() -> Self {
        Self::BadObject("The request body could not be parsed as valid JSON".into())
    }
    pub fn bad_query(key: &str, value: &str) -> Self {
        Self::BadQueryValue {
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }
    pub fn authentication(text: &str) -> Self {
        Self::Authentication(text.to_owned())
    }
    pub fn bad_token() -> Self {
        Self::authentication("Bad API token")
    }
    pub fn unauthorized(user: &str, action: impl Into<String>) -> Self {
        Self::Authorization {
            user: user.to_owned(),
            action: action.into(),
        }
    }
    pub fn server(cause: impl Into<anyhow::Error>) -> Self {
        Self::Server(cause.into())
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Server(e.into())
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(e: sea_orm::TransactionError<Error>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}
