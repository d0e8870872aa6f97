//! Reading a time object sent by a client: field types, required and
//! non-null fields, and the uuid in a path.

use serde_json::{Map, Value};

use crate::domain::validate::{self, Field, ObjectReader};
use crate::error::{Error, Result};

/// The fields a client may send in a time object.
pub const FIELDS: &[&str] = &[
    "duration",
    "user",
    "project",
    "activities",
    "notes",
    "issue_uri",
    "date_worked",
];

pub(super) fn parse_uuid(value: &str) -> Result<String> {
    validate::parse_uuid(value).ok_or_else(|| Error::InvalidIdentifier {
        kind: "uuid",
        values: vec![value.to_owned()],
    })
}

/// The fields of a time object after type checks (before lookups).
pub(super) struct Input {
    pub(super) duration: Field<i64>,
    pub(super) user: Field<String>,
    pub(super) project: Field<String>,
    pub(super) activities: Field<Vec<String>>,
    pub(super) notes: Field<String>,
    pub(super) issue_uri: Field<String>,
    pub(super) date_worked: Field<chrono::NaiveDate>,
}

pub(super) fn read_input(object: &Map<String, Value>) -> Result<(Input, ObjectReader<'_>)> {
    let r = ObjectReader::new("time", object, FIELDS)?;
    let input = Input {
        duration: r.non_negative_integer("duration", validate::MAX_DURATION)?,
        // Any string: a name no user can have is an invalid reference (409).
        user: r.string("user", usize::MAX)?,
        project: r.slug("project")?,
        activities: r.slugs("activities")?,
        notes: r.string("notes", validate::MAX_TEXT_LEN)?,
        issue_uri: r.uri("issue_uri")?,
        date_worked: r.date("date_worked")?,
    };
    Ok((input, r))
}

/// A required field: absent or null is `The time is missing a ${field}`.
pub(super) fn required<T>(r: &ObjectReader<'_>, field: &str, value: Field<T>) -> Result<T> {
    value.value().ok_or_else(|| r.missing(field))
}

/// A field that may be left out of an update but never set to null.
pub(super) fn not_null<T>(
    r: &ObjectReader<'_>,
    field: &str,
    expected: &str,
    value: Field<T>,
) -> Result<Option<T>> {
    match value {
        Field::Absent => Ok(None),
        Field::Null => Err(r.invalid(field, expected, &Value::Null)),
        Field::Value(v) => Ok(Some(v)),
    }
}

/// Duration as stored (the reader already bounded it to 0..=i32::MAX).
pub(super) fn duration_i32(d: i64) -> Result<i32> {
    i32::try_from(d)
        .map_err(|_| Error::invalid_field("time", "duration", "positive integer", "number"))
}
