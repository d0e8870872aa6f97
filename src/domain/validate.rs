//! Validated input: identifiers (slugs, usernames, uuids, dates, URIs) and
//! a reader for request objects that produces the spec's `Bad object`
//! errors with the type names of DECISIONS.md.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::error::catalogue::bad_object;
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

/// The well-formed values of a repeatable query filter, to look up.
pub fn filter_lookups(values: &[String], well_formed: fn(&str) -> bool) -> Vec<String> {
    values
        .iter()
        .filter(|v| !v.is_empty() && well_formed(v))
        .cloned()
        .collect()
}

/// What the values of a repeatable query filter (`user`, `project`,
/// `activity`) name, as the reference reads them (DECISIONS.md): empty
/// values are ignored, and none left is no filter (`None`); values that
/// name nothing (`named` gives `None`, malformed ones included) are
/// dropped; only when every value names nothing is it `Bad query value`,
/// naming them all.
pub fn filter_ids<T>(
    key: &str,
    values: &[String],
    named: impl Fn(&str) -> Option<T>,
) -> Result<Option<Vec<T>>> {
    let sent: Vec<String> = values.iter().filter(|v| !v.is_empty()).cloned().collect();
    if sent.is_empty() {
        return Ok(None);
    }
    let ids: Vec<T> = sent.iter().filter_map(|v| named(v)).collect();
    if ids.is_empty() {
        return Err(Error::bad_query_values(key, &sent));
    }
    Ok(Some(ids))
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
    /// The value, borrowed; `Null` and `Absent` both give `None`.
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// What a field of a request object holds: its JSON type and its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string of at most `max` characters (and, with `bytes`, bytes: a
    /// MySQL `TEXT` holds 65,535 bytes).
    Text {
        max: usize,
        bytes: bool,
    },
    /// A slug.
    Slug,
    /// An array of at most 100 slugs; `[]` is refused unless `empty_ok`.
    Slugs {
        empty_ok: bool,
    },
    /// An absolute URI, or `""`.
    Uri,
    /// A `YYYY-MM-DD` date.
    Date,
    /// An integer from 0 to `MAX_DURATION`.
    Duration,
    Flag,
    Username,
    /// An email address, or `""`.
    Email,
    /// Any JSON object; the object's own code reads its entries.
    Object,
}

impl Kind {
    /// The JSON type the field must have.
    fn json_type(self) -> &'static str {
        match self {
            Kind::Text { .. } | Kind::Slug | Kind::Uri | Kind::Date => "string",
            Kind::Username | Kind::Email => "string",
            Kind::Slugs { .. } => "array",
            Kind::Duration => "number",
            Kind::Flag => "boolean",
            Kind::Object => "object",
        }
    }
}

/// One field of an object as a request may send it.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: Kind,
    /// Must be sent, and not as `""`, on create.
    pub required: bool,
    /// May be sent as `null` (cleared).
    pub nullable: bool,
    /// `""` is refused on update too (fields required on create, passwords).
    pub not_empty: bool,
    /// What the field means, for the API's description ("" when its name
    /// and kind say it all).
    pub about: &'static str,
}

impl FieldSpec {
    pub const fn new(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            kind,
            required: false,
            nullable: false,
            not_empty: false,
            about: "",
        }
    }
    pub const fn about(self, about: &'static str) -> Self {
        Self { about, ..self }
    }
    pub const fn required(self) -> Self {
        Self {
            required: true,
            not_empty: true,
            ..self
        }
    }
    pub const fn nullable(self) -> Self {
        Self {
            nullable: true,
            ..self
        }
    }
    pub const fn not_empty(self) -> Self {
        Self {
            not_empty: true,
            ..self
        }
    }
}

/// The required `name` of an activity, project, org-role or token.
pub const NAME_FIELD: FieldSpec = FieldSpec::new(
    "name",
    Kind::Text {
        max: MAX_NAME_LEN,
        bytes: false,
    },
)
.required();

/// The required `slug` of an activity or org-role.
pub const SLUG_FIELD: FieldSpec = FieldSpec::new("slug", Kind::Slug).required();

/// Creating an object (required fields must be sent) or updating one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// Checks a request object against `specs` (listed in the order of
/// model.rst) in the ruled order: fields that are not allowed, then
/// missing fields, then JSON types, then forms. The first failure
/// answers, with the catalogue's text.
pub fn read<'a>(
    object: &'static str,
    map: &'a Map<String, Value>,
    specs: &[FieldSpec],
    mode: Mode,
) -> Result<Fields<'a>> {
    if let Some(field) = map.keys().find(|k| !specs.iter().any(|s| s.name == *k)) {
        return Err(Error::unknown_field(object, field));
    }
    if mode == Mode::Create {
        for spec in specs.iter().filter(|s| s.required) {
            match map.get(spec.name) {
                None => return Err(Error::missing_field(object, spec.name)),
                Some(Value::String(s)) if s.is_empty() => {
                    return Err(Error::missing_field(object, spec.name))
                }
                _ => {}
            }
        }
    }
    for spec in specs {
        match map.get(spec.name) {
            None => {}
            Some(Value::Null) if spec.nullable => {}
            Some(value) if json_type(value) == spec.kind.json_type() => {}
            Some(value) if spec.kind == Kind::Email => {
                return Err(bad(bad_object::invalid_email(
                    object,
                    spec.name,
                    json_type(value),
                )))
            }
            Some(value) => {
                return Err(bad(bad_object::wrong_type(
                    object,
                    spec.name,
                    spec.kind.json_type(),
                    json_type(value),
                )))
            }
        }
    }
    for spec in specs {
        if let Some(value) = map.get(spec.name) {
            check_form(object, spec, value)?;
        }
    }
    Ok(Fields { map })
}

fn bad(text: String) -> Error {
    Error::BadObject(text)
}

/// The form of a value already of the right JSON type (or an allowed null).
fn check_form(object: &str, spec: &FieldSpec, value: &Value) -> Result<()> {
    let field = spec.name;
    if let Value::String(s) = value {
        if s.is_empty() && spec.not_empty {
            let expected = if spec.kind == Kind::Slug {
                "slug"
            } else {
                "string"
            };
            return Err(bad(bad_object::empty_string(object, field, expected)));
        }
    }
    match (spec.kind, value) {
        (Kind::Text { max, bytes }, Value::String(s)) => {
            let chars = s.chars().count();
            if chars > max {
                return Err(bad(bad_object::too_long(
                    object,
                    field,
                    max,
                    "characters",
                    chars,
                )));
            }
            if bytes && s.len() > max {
                return Err(bad(bad_object::too_long(
                    object,
                    field,
                    max,
                    "bytes",
                    s.len(),
                )));
            }
        }
        (Kind::Slug, Value::String(s)) if s.is_empty() => {
            return Err(bad(bad_object::empty_string(object, field, "slug")))
        }
        (Kind::Slug, Value::String(s)) if !is_slug(s) => {
            return Err(bad(bad_object::invalid_slug(object, field, s)))
        }
        (Kind::Slugs { empty_ok }, Value::Array(items)) => {
            if items.is_empty() && !empty_ok {
                return Err(bad(bad_object::empty_array(object, field)));
            }
            if items.len() > MAX_LIST_LEN {
                return Err(bad(bad_object::too_many(
                    object,
                    field,
                    MAX_LIST_LEN,
                    items.len(),
                )));
            }
            if let Some(item) = items.iter().find(|i| !i.is_string()) {
                return Err(bad(bad_object::invalid_slugs(
                    object,
                    field,
                    json_type(item),
                )));
            }
            if items.iter().any(|i| !i.as_str().is_some_and(is_slug)) {
                return Err(bad(bad_object::invalid_slugs(
                    object,
                    field,
                    "invalid slug",
                )));
            }
        }
        (Kind::Uri, Value::String(s)) if !s.is_empty() && !is_absolute_uri(s) => {
            return Err(bad(bad_object::invalid_uri(object, field, s)))
        }
        (Kind::Date, Value::String(s)) if parse_date(s).is_none() => {
            return Err(bad(bad_object::invalid_date(object, field, s)))
        }
        (Kind::Duration, Value::Number(n)) => return check_duration(object, field, n),
        (Kind::Username, Value::String(s)) if !is_username(s) => {
            return Err(bad(bad_object::invalid_username(object, field, s)))
        }
        (Kind::Email, Value::String(s)) if !s.is_empty() && !is_email(s) => {
            return Err(bad(bad_object::invalid_email(object, field, "string")))
        }
        (Kind::Email, Value::String(s)) if s.chars().count() > MAX_NAME_LEN => {
            let chars = s.chars().count();
            return Err(bad(bad_object::too_long(
                object,
                field,
                MAX_NAME_LEN,
                "characters",
                chars,
            )));
        }
        _ => {}
    }
    Ok(())
}

/// An integer in `0..=MAX_DURATION`; 3.5 and 1e308 are not.
fn check_duration(object: &str, field: &str, n: &serde_json::Number) -> Result<()> {
    if let Some(i) = n.as_i64() {
        return match i {
            i if i < 0 => Err(bad(bad_object::negative_number(object, field))),
            i if i > MAX_DURATION => Err(bad(bad_object::number_too_large(
                object,
                field,
                MAX_DURATION,
            ))),
            _ => Ok(()),
        };
    }
    if n.is_u64() {
        return Err(bad(bad_object::number_too_large(
            object,
            field,
            MAX_DURATION,
        )));
    }
    // A float (3.5, and also 1e308 or 5.0: not written as an integer).
    if n.as_f64().is_some_and(|f| f < 0.0) {
        Err(bad(bad_object::negative_number(object, field)))
    } else {
        Err(bad(bad_object::non_integer(object, field)))
    }
}

/// `local@domain`: one `@` with something on both sides, no whitespace.
pub fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// A request object that passed `read`: typed access to its fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub fn has(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    /// The raw JSON value (for fields with their own shape).
    pub fn value(&self, field: &str) -> Field<&'a Value> {
        match self.map.get(field) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(v) => Field::Value(v),
        }
    }

    fn map<T>(&self, field: &str, f: impl FnOnce(&'a Value) -> Option<T>) -> Field<T> {
        match self.value(field) {
            Field::Value(v) => f(v).map_or(Field::Absent, Field::Value),
            Field::Null => Field::Null,
            Field::Absent => Field::Absent,
        }
    }

    /// A string field (text, slug, URI, username, email).
    pub fn string(&self, field: &str) -> Field<String> {
        self.map(field, |v| v.as_str().map(str::to_owned))
    }
    pub fn flag(&self, field: &str) -> Field<bool> {
        self.map(field, Value::as_bool)
    }
    pub fn integer(&self, field: &str) -> Field<i64> {
        self.map(field, Value::as_i64)
    }
    pub fn date(&self, field: &str) -> Field<NaiveDate> {
        self.map(field, |v| v.as_str().and_then(parse_date))
    }
    /// An array of slugs, duplicates removed (order kept).
    pub fn slugs(&self, field: &str) -> Field<Vec<String>> {
        self.map(field, |v| {
            let mut out: Vec<String> = Vec::new();
            for s in v.as_array()?.iter().filter_map(Value::as_str) {
                if !out.iter().any(|o| o == s) {
                    out.push(s.to_owned());
                }
            }
            Some(out)
        })
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

    const TIME: [FieldSpec; 4] = [
        FieldSpec::new("duration", Kind::Duration).required(),
        FieldSpec::new("project", Kind::Slug).required(),
        FieldSpec::new("activities", Kind::Slugs { empty_ok: false }),
        FieldSpec::new(
            "notes",
            Kind::Text {
                max: 5,
                bytes: false,
            },
        )
        .nullable(),
    ];

    fn text(v: Value, mode: Mode) -> String {
        match read("time", v.as_object().unwrap(), &TIME, mode) {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reader_checks_in_the_ruled_order() {
        let c = Mode::Create;
        let u = Mode::Update;
        assert_eq!(
            text(json!({"x": 1, "duration": "a"}), c),
            "time does not have a x field"
        );
        assert_eq!(
            text(json!({"duration": "a"}), c),
            "The time is missing a project"
        );
        assert_eq!(
            text(json!({"duration": "a", "project": ""}), c),
            "The time is missing a project"
        );
        assert_eq!(
            text(json!({"duration": -1, "project": 5}), c),
            "Field project of time should be string but was sent as number"
        );
        assert_eq!(
            text(json!({"duration": null}), u),
            "Field duration of time should be number but was sent as null"
        );
        assert_eq!(text(json!({"notes": null}), u), "ok");
        assert_eq!(
            text(json!({"duration": -1, "project": "A"}), u),
            "Field duration of time should be positive number but was sent as negative number"
        );
        for d in [json!(3.5), json!(1e308), json!(5.0)] {
            assert_eq!(
                text(json!({ "duration": d }), u),
                "Field duration of time should be positive integer but was sent as non-integer number"
            );
        }
        assert_eq!(
            text(json!({"duration": 2_147_483_648_i64}), u),
            "Field duration of time should be integer of at most 2147483647 but was sent as larger number"
        );
        assert_eq!(
            text(json!({"project": "A b"}), u),
            "Field project of time should be slug but was sent as invalid slug A b"
        );
        assert_eq!(
            text(json!({"project": ""}), u),
            "Field project of time should be slug but was sent as empty string"
        );
        assert_eq!(
            text(json!({"activities": []}), u),
            "Field activities of time should be array of slugs but was sent as empty array"
        );
        assert_eq!(
            text(json!({"activities": ["a", 1]}), u),
            "Field activities of time should be slugs but was sent as array containing at least 1 number"
        );
        assert_eq!(
            text(json!({"activities": ["a", "B"]}), u),
            "Field activities of time should be slugs but was sent as array containing at least 1 invalid slug"
        );
        assert_eq!(
            text(json!({"notes": "ünïcödé"}), u),
            "Field notes of time should be string of at most 5 characters but was sent as string of 7 characters"
        );
        let ok = json!({"duration": 0, "project": "p", "activities": ["a", "a", "b"]});
        let fields = read("time", ok.as_object().unwrap(), &TIME, c).unwrap();
        assert_eq!(
            fields.slugs("activities"),
            Field::Value(vec!["a".into(), "b".into()])
        );
        assert_eq!(fields.integer("duration"), Field::Value(0));
        assert_eq!(fields.string("notes"), Field::Absent);
    }
}
