//! The identifiers a path names an object by, each parsed once (by the
//! HTTP layer's path extractor) into its own type: a function that takes a
//! `Slug` cannot be handed an unchecked string. A malformed value is
//! `Invalid identifier` naming its kind.

use std::fmt;
use std::ops::Deref;

use crate::domain::validate;
use crate::error::{Error, Result};

/// An identifier read from a path segment.
pub trait Identifier: Sized {
    /// Parses `raw`; a malformed value is `Invalid identifier`.
    fn parse(raw: &str) -> Result<Self>;
}

fn invalid(kind: &'static str, raw: &str) -> Error {
    Error::InvalidIdentifier {
        kind,
        values: vec![raw.to_owned()],
    }
}

/// A string identifier: its type, its kind in `Invalid identifier`, and
/// how a raw value becomes the identifier (`None`: malformed).
macro_rules! text_identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $parse:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl Identifier for $name {
            fn parse(raw: &str) -> Result<Self> {
                let parse: fn(&str) -> Option<String> = $parse;
                parse(raw).map(Self).ok_or_else(|| invalid($kind, raw))
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_identifier!(
    /// A slug (activity, project, org-role).
    Slug,
    "slug",
    |raw| validate::is_slug(raw).then(|| raw.to_owned())
);
text_identifier!(
    /// A username as sent (lookups ignore letter case).
    Username,
    "username",
    |raw| validate::is_username(raw).then(|| raw.to_owned())
);
text_identifier!(
    /// A time's uuid, in its lower-case hyphenated form.
    TimeId,
    "uuid",
    validate::parse_uuid
);

/// The id of a personal API token (a positive integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenId(pub i64);

impl Identifier for TokenId {
    fn parse(raw: &str) -> Result<Self> {
        raw.parse()
            .ok()
            .filter(|id| *id > 0)
            .map(Self)
            .ok_or_else(|| invalid("id", raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_identifiers_name_their_kind_and_value() {
        assert_eq!(&*Slug::parse("gwm").unwrap(), "gwm");
        assert_eq!(
            &*TimeId::parse("C3706E79-1C9A-4765-8D7F-89B4544CAD56").unwrap(),
            "c3706e79-1c9a-4765-8d7f-89b4544cad56"
        );
        assert_eq!(TokenId::parse("7").unwrap(), TokenId(7));
        for (error, kind, value) in [
            (Slug::parse("Bad_Slug").unwrap_err(), "slug", "Bad_Slug"),
            (
                Username::parse("bad name").unwrap_err(),
                "username",
                "bad name",
            ),
            (TimeId::parse("12345").unwrap_err(), "uuid", "12345"),
            (TokenId::parse("0").unwrap_err(), "id", "0"),
        ] {
            match error {
                Error::InvalidIdentifier { kind: k, values } => {
                    assert_eq!((k, values), (kind, vec![value.to_owned()]));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
