//! The one error type of the server. Every variant is one of the error
//! objects of the spec's `errors.rst` (as ruled in DECISIONS.md); the HTTP
//! layer renders it (`http::error`). Every text comes from `catalogue`.

pub mod catalogue;

/// Result with the server's error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404 `Object not found`: `Nonexistent ${object}`.
    #[error("{}", catalogue::not_found(.0))]
    NotFound(&'static str),
    /// 500 `Server error`. The cause is logged, never sent.
    #[error("server error: {0:#}")]
    Server(#[from] anyhow::Error),
    /// 409 `Invalid foreign key`.
    #[error("{}", catalogue::invalid_foreign_key(object, key))]
    InvalidForeignKey {
        object: &'static str,
        key: &'static str,
    },
    /// 400 `Bad object` with a finished text.
    #[error("{0}")]
    BadObject(String),
    /// 400 `Invalid identifier`: `kind` is `slug` or `uuid`.
    #[error("{}", catalogue::invalid_identifier(kind, values))]
    InvalidIdentifier {
        kind: &'static str,
        values: Vec<String>,
    },
    /// 401 `Invalid username`.
    #[error("{}", catalogue::invalid_username(.0))]
    InvalidUsername(String),
    /// 401 `Authentication failure` with its text.
    #[error("{0}")]
    Authentication(String),
    /// 409 `Slug already exists` / `Slugs already exist`.
    #[error("{}", catalogue::slugs_exist(.0))]
    SlugsExist(Vec<String>),
    /// 409 for a taken org-role name: errors.rst has no error of its own for
    /// it, so it is the closest one, `Slug already exists`, naming the name.
    #[error("{}", catalogue::name_exists(.0))]
    NameExists(String),
    /// 401 `Authorization failure`: `${user} is not authorized to ${action}`.
    #[error("{}", catalogue::unauthorized(user, action))]
    Authorization { user: String, action: String },
    /// 405 `Method not allowed`: the object cannot be deleted while other
    /// objects still refer to it (HTTP names the methods left in `Allow`).
    #[error("{}", catalogue::method_not_allowed(object))]
    InUse { object: &'static str },
    /// 400 `Bad query value`.
    #[error("{}", catalogue::bad_query_value(key, value))]
    BadQueryValue { key: String, value: String },
    /// 409 `Username already exists`.
    #[error("{}", catalogue::username_exists(.0))]
    UsernameExists(String),
    /// 429 `Too many requests`, retry after the given seconds.
    #[error("{}", catalogue::too_many_requests(*.0))]
    TooManyRequests(u64),
    /// 413 request body over the configured limit.
    #[error("{}", catalogue::payload_too_large(*.0))]
    PayloadTooLarge(usize),
}

impl Error {
    /// `${object} does not have a ${field} field`
    pub fn unknown_field(object: &str, field: &str) -> Self {
        Self::BadObject(catalogue::bad_object::unknown_field(object, field))
    }
    /// `The ${object} is missing a ${field}`
    pub fn missing_field(object: &str, field: &str) -> Self {
        Self::BadObject(catalogue::bad_object::missing_field(object, field))
    }
    /// `Field ${field} of ${object} should be ${expected} but was sent as ${sent}`
    pub fn invalid_field(object: &str, field: &str, expected: &str, sent: &str) -> Self {
        Self::BadObject(catalogue::bad_object::invalid_field(
            object, field, expected, sent,
        ))
    }
    /// The body is not JSON at all.
    pub fn unparseable_body() -> Self {
        Self::BadObject(catalogue::bad_object::UNPARSEABLE_BODY.into())
    }
    /// `Bad query value` naming one value.
    pub fn bad_query(key: &str, value: &str) -> Self {
        Self::BadQueryValue {
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }
    /// `Bad query value` naming every value of a repeated key (joined by `,`).
    pub fn bad_query_values(key: &str, values: &[String]) -> Self {
        Self::BadQueryValue {
            key: key.to_owned(),
            value: values.join(","),
        }
    }
    /// `Authentication failure` with one of `catalogue::authentication`'s texts.
    pub fn authentication(text: &str) -> Self {
        Self::Authentication(text.to_owned())
    }
    pub fn bad_token() -> Self {
        Self::authentication(catalogue::authentication::BAD_TOKEN)
    }
    /// `Authorization failure` with one of `catalogue::action`'s actions.
    pub fn unauthorized(user: &str, action: impl Into<String>) -> Self {
        Self::Authorization {
            user: user.to_owned(),
            action: action.into(),
        }
    }
    /// 409 `Invalid foreign key`.
    pub fn foreign_key(object: &'static str, key: &'static str) -> Self {
        Self::InvalidForeignKey { object, key }
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
