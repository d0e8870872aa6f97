//! Reading a time object sent by a client (the checks and texts ruled in
//! DECISIONS.md, by `validate::read`).

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::domain::validate::{self, Field, FieldSpec, Kind, Mode};
use crate::error::Result;

/// The fields a client may send in a time object, in the order of model.rst.
pub const SPECS: [FieldSpec; 7] = [
    FieldSpec::new("duration", Kind::Duration)
        .required()
        .about("Seconds."),
    // Any string: a name no user can have is an invalid reference (409).
    FieldSpec::new(
        "user",
        Kind::Text {
            max: usize::MAX,
            bytes: false,
        },
    )
    .required()
    .about("A username."),
    FieldSpec::new("project", Kind::Slug)
        .required()
        .about("A project slug."),
    // `[]` on create: the project's default activity.
    FieldSpec::new("activities", Kind::Slugs { empty_ok: true })
        .about("Activity slugs (the project's default activity when absent)."),
    FieldSpec::new("date_worked", Kind::Date).required(),
    FieldSpec::new("issue_uri", Kind::Uri).nullable(),
    FieldSpec::new(
        "notes",
        Kind::Text {
            max: validate::MAX_TEXT_LEN,
            bytes: false,
        },
    )
    .nullable(),
];

/// The fields of a time object, checked (before lookups).
pub(super) struct Input {
    pub(super) duration: Field<i32>,
    pub(super) user: Field<String>,
    pub(super) project: Field<String>,
    pub(super) activities: Field<Vec<String>>,
    pub(super) notes: Field<String>,
    pub(super) issue_uri: Field<String>,
    pub(super) date_worked: Field<NaiveDate>,
}

/// Checks a time object; on create every required field is then present.
pub(super) fn read_input(object: &Map<String, Value>, mode: Mode) -> Result<Input> {
    let fields = validate::read("time", object, &SPECS, mode)?;
    let duration = match fields.integer("duration") {
        // The reader bounded it to 0..=MAX_DURATION (= i32::MAX).
        Field::Value(d) => Field::Value(i32::try_from(d).unwrap_or(i32::MAX)),
        _ => Field::Absent,
    };
    Ok(Input {
        duration,
        user: fields.string("user"),
        project: fields.string("project"),
        activities: fields.slugs("activities"),
        notes: fields.string("notes"),
        issue_uri: fields.string("issue_uri"),
        date_worked: fields.date("date_worked"),
    })
}
