//! Validated input: identifiers (slugs, usernames, uuids, dates, URIs) and
//! a reader for request objects that produces the spec's `Bad object`
//! errors with the type names of DECISIONS.md.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Longest slug or username.
pub const MAX_IDENT_LEN: usize = 64;
/// Longest name, display name or email.
pub const MAX_NAME_LEN: usize = 255;
/// Longest URI.
pub const MAX_URI_LEN: usize = 2048;
/// Longest `notes` or `meta`.
pub const MAX_TEXT_LEN: usize = 65_535;
/// Most slugs on a project, activities on a time.
pub const MAX_LIST_LEN: usize = 100;
/// Largest duration in seconds.
pub const MAX_DURATION: i64 = 2_147_483_647;

/// `^[a-z0-9]+(-[a-z0-9]+)*$`, with at least one letter, at most 64 chars.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_IDENT_LEN
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// One or more of `A-Z a-z 0-9 - . _ ~`, at most 64 chars, not `org-roles`.
pub fn is_username(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_IDENT_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        && !s.eq_ignore_ascii_case("org-roles")
}

/// The lookup key of a username (usernames are case-insensitive).
pub fn username_key(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// A real calendar date in exactly `YYYY-MM-DD` form.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A UUID in any letter case; returns the lowercase hyphenated form.
pub fn parse_uuid(s: &str) -> Option<String> {
    if s.len() != 36 {
        return None;
    }
    uuid::Uuid::parse_str(s)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// An absolute URI (scheme and authority), at most 2,048 chars.
pub fn is_absolute_uri(s: &str) -> bool {
    if s.len() > MAX_URI_LEN || s.chars().any(char::is_whitespace) {
        return false;
    }
    match url::Url::parse(s) {
        Ok(u) => u.has_host() && s.contains("://"),
        Err(_) => false,
    }
}

/// The spec's name for the JSON type of `v`.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Value of one field of a request object.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    /// Not sent: keep the current value (updates) or use the default.
    Absent,
    /// Sent as `null`.
    Null,
    Value(T),
}

impl<T> Field<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
    /// The value; `Null` and `Absent` both give `None`.
    pub fn value(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// Reads the fields of a request object, checking names and types.
pub struct ObjectReader<'a> {
    object: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> ObjectReader<'a> {
    /// Refuses any field not in `allowed` (`${object} does not have a ${field} field`).
    pub fn new(
        object: &'static str,
        map: &'a Map<String, Value>,
        allowed: &[&str],
    ) -> Result<Self> {
        if let Some(field) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::unknown_field(object, field));
        }
        Ok(Self { object, map })
    }

    pub fn object(&self) -> &'static str {
        self.object
    }

    pub fn has(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    /// `Field ${field} of ${object} should be ${expected} but was sent as ${received}`
    pub fn invalid(&self, field: &str, expected: &str, received: &Value) -> Error {
        Error::invalid_field(self.object, field, expected, json_type(received))
    }

    pub fn missing(&self, field: &str) -> Error {
        Error::missing_field(self.object, field)
    }

    fn raw(&self, field: &str) -> Field<&'a Value> {
        match self.map.get(field) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(v) => Field::Value(v),
        }
    }

    /// A string of at most `max` characters.
    pub fn string(&self, field: &str, max: usize) -> Result<Field<String>> {
        match self.raw(field) {
            Field::Value(Value::String(s)) if s.chars().count() <= max => Ok(Field::Value(s.clone())),
            Field::Value(Value::String(_)) => Err(Error::BadObject(format!(
                "Field {field} of {} should be string of at most {max} characters but was sent as string",
                self.object
            ))),
            Field::Value(v) => Err(self.invalid(field, "string", v)),
            Field::Null => Ok(Field::Null),
            Field::Absent => Ok(Field::Absent),
        }
    }

    /// A string that must be sent, non-empty (required fields).
    pub fn required_string(&self, field: &str, max: usize) -> Result<String> {
        match self.string(field, max)? {
            Field::Value(s) if !s.is_empty() => Ok(s),
            Field::Value(_) => Err(self.missing(field)),
            Field::Null | Field::Absent => Err(self.missing(field)),
        }
    }

    pub fn boolean(&self, field: &str) -> Result<Field<bool>> {
        match self.raw(field) {
            Field::Value(Value::Bool(b)) => Ok(Field::Value(*b)),
            Field::Value(v) => Err(self.invalid(field, "boolean", v)),
            Field::Null => Ok(Field::Null),
            Field::Absent => Ok(Field::Absent),
        }
    }

    /// An integer in `0..=max`; floats such as 3.5 or 1e308 are refused.
    pub fn non_negative_integer(&self, field: &str, max: i64) -> Result<Field<i64>> {
        match self.raw(field) {
            Field::Value(Value::Number(n)) => match n.as_i64() {
                Some(i) if (0..=max).contains(&i) => Ok(Field::Value(i)),
                _ => Err(Error::invalid_field(
                    self.object,
                    field,
                    "positive integer",
                    "number",
                )),
            },
            Field::Value(v) => Err(self.invalid(field, "positive integer", v)),
            Field::Null => Ok(Field::Null),
            Field::Absent => Ok(Field::Absent),
        }
    }

    /// A slug.
    pub fn slug(&self, field: &str) -> Result<Field<String>> {
        match self.raw(field) {
            Field::Value(Value::String(s)) if is_slug(s) => Ok(Field::Value(s.clone())),
            Field::Value(v) => Err(self.invalid(field, "slug", v)),
            Field::Null => Ok(Field::Null),
            Field::Absent => Ok(Field::Absent),
        }
    }

    /// An array of at most 100 slugs, duplicates removed (order kept).
    pub fn slugs(&self, field: &str) -> Result<Field<Vec<String>>> {
        match self.raw(field) {
            Field::Value(Value::Array(items)) => {
                if items.len() > MAX_LIST_LEN {
                    return Err(Error::BadObject(format!(
                        "Field {field} of {} should be array of slugs of at most {MAX_LIST_LEN} items but was sent as array",
                        self.object
                    )));
                }
                let mut out: Vec<String> = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) if is_slug(s) => {
                            if !out.contains(s) {
                                out.push(s.clone());
                            }
                        }
                        _ => {
                            return Err(self.invalid(
                                field,
                                "array of slugs",
                                &Value::Array(items.clone()),
                            ))
                        }
                    }
                }
                Ok(Field::Value(out))
            }
            Field::Value(v) => Err(self.invalid(field, "array of slugs", v)),
            Field::Null => Ok(Field::Null),
            Field::Absent => Ok(Field::Absent),
        }
    }

    /// An absolute URI, or `""`.
    pub fn uri(&self, field: &str) -> Result<Field<String>> {
        match self.raw(field) {
            Field::Value(Value::String(s)) if s.is_empty() || is_absolute_uri(s) => {
                Ok(Field::Value(s.clone()))
            }
            Field::Value(v) => Err(self.invalid(field, "URI", v)),
            Field::Null => Ok(Field::Null),
            Field::Absent => Ok(Field::Absent),
        }
    }

    /// A `YYYY-MM-DD` date.
    pub fn date(&self, field: &str) -> Result<Field<NaiveDate>> {
        match self.raw(field) {
            Field::Value(Value::String(s)) => match parse_date(s) {
                Some(d) => Ok(Field::Value(d)),
                None => Err(self.invalid(field, "ISO-8601 date", &Value::String(s.clone()))),
            },
            Field::Value(v) => Err(self.invalid(field, "ISO-8601 date", v)),
            Field::Null => Ok(Field::Null),
            Field::Absent => Ok(Field::Absent),
        }
    }

    /// The raw JSON value, for fields with their own shape (e.g. a project's `users`).
    pub fn value(&self, field: &str) -> Field<&'a Value> {
        self.raw(field)
    }
}

/// Formats a stored timestamp (ms) as the wire's `YYYY-MM-DD` (UTC).
pub fn wire_date(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `wire_date` for optional timestamps.
pub fn wire_date_opt(millis: Option<i64>) -> Option<String> {
    millis.map(wire_date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slugs() {
        for ok in ["e", "my-username", "bossperson", "a1", "1a", "a-1-b"] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in [
            "",
            "--2cool--",
            "!ir0ck~",
            "@username",
            "123",
            "A",
            "a--b",
            "-a",
            "a-",
            "a_b",
            &"a".repeat(65),
        ] {
            assert!(!is_slug(bad), "{bad}");
        }
    }

    #[test]
    fn usernames() {
        for ok in ["user1", "User.One", "a_b-c~d", "X"] {
            assert!(is_username(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a/b",
            "ünï",
            "org-roles",
            "ORG-ROLES",
            &"a".repeat(65),
        ] {
            assert!(!is_username(bad), "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert!(parse_date("2015-02-28").is_some());
        assert!(parse_date("2016-02-29").is_some());
        for bad in [
            "2015-02-30",
            "2015-2-3",
            "20150203",
            "2015-02-03T00:00",
            "",
            "abcd-ef-gh",
            "+015-02-03",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn uris_and_uuids() {
        assert!(is_absolute_uri(
            "https://github.com/osuosl/timesync/issues/52"
        ));
        assert!(is_absolute_uri("http://example.com"));
        for bad in [
            "example.com",
            "/relative",
            "mailto:a@b.c",
            "http://",
            "not a uri",
            "https://a b.com",
        ] {
            assert!(!is_absolute_uri(bad), "{bad}");
        }
        assert_eq!(
            parse_uuid("C3706E79-1C9A-4765-8D7F-89B4544CAD56").as_deref(),
            Some("c3706e79-1c9a-4765-8d7f-89b4544cad56")
        );
        assert!(parse_uuid("c3706e791c9a47658d7f89b4544cad56").is_none());
        assert!(parse_uuid("nope").is_none());
    }

    #[test]
    fn reader_errors_follow_the_spec() {
        let body = json!({"name": 5, "slug": "ok", "extra": 1});
        let map = body.as_object().unwrap();
        let err = ObjectReader::new("activity", map, &["name", "slug"])
            .err()
            .unwrap();
        assert_eq!(err.to_string(), "activity does not have a extra field");
        let r = ObjectReader::new("activity", map, &["name", "slug", "extra"]).unwrap();
        assert_eq!(
            r.required_string("name", 255).unwrap_err().to_string(),
            "Field name of activity should be string but was sent as number"
        );
        assert_eq!(
            r.required_string("missing", 255).unwrap_err().to_string(),
            "The activity is missing a missing"
        );
        let d = json!({"duration": 3.5, "big": 1e308, "neg": -1, "ok": 12});
        let r = ObjectReader::new(
            "time",
            d.as_object().unwrap(),
            &["duration", "big", "neg", "ok"],
        )
        .unwrap();
        for f in ["duration", "big", "neg"] {
            assert!(r.non_negative_integer(f, MAX_DURATION).is_err(), "{f}");
        }
        assert_eq!(
            r.non_negative_integer("ok", MAX_DURATION).unwrap(),
            Field::Value(12)
        );
    }
}
