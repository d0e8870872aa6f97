//! The schemas of the objects a POST sends, made from the very field
//! declarations the domain's reader checks them against
//! (`validate::read`): what is documented is what is read.

use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::PartialSchema;

use crate::domain::validate::{FieldSpec, Kind, MAX_DURATION, MAX_IDENT_LEN, MAX_LIST_LEN};
use crate::domain::validate::{MAX_NAME_LEN, MAX_URI_LEN};
use crate::http::views::Roles;

pub const SLUG_PATTERN: &str = r"^[a-z0-9]+(-[a-z0-9]+)*$";
const USERNAME_PATTERN: &str = r"^[A-Za-z0-9._~-]+$";

/// The JSON type of `kind`, with `null` when the field may be null.
fn json_type(kind: Type, nullable: bool) -> utoipa::openapi::schema::SchemaType {
    if nullable {
        [kind, Type::Null].into_iter().collect()
    } else {
        kind.into()
    }
}

fn about(spec: &FieldSpec) -> Option<&'static str> {
    (!spec.about.is_empty()).then_some(spec.about)
}

/// The schema of one field, as the reader accepts it.
fn field(spec: &FieldSpec) -> RefOr<Schema> {
    let scalar = |kind: Type| {
        ObjectBuilder::new()
            .schema_type(json_type(kind, spec.nullable))
            .description(about(spec))
    };
    // `""` is refused where `not_empty` (and counts as missing on create).
    let string = || scalar(Type::String).min_length(spec.not_empty.then_some(1));
    let schema: Schema = match spec.kind {
        Kind::Text { max, .. } => string()
            .max_length((max < usize::MAX).then_some(max))
            .into(),
        Kind::Slug => string()
            .pattern(Some(SLUG_PATTERN))
            .max_length(Some(MAX_IDENT_LEN))
            .into(),
        Kind::Username => string()
            .pattern(Some(USERNAME_PATTERN))
            .max_length(Some(MAX_IDENT_LEN))
            .into(),
        Kind::Uri => string()
            .format(Some(SchemaFormat::Custom("uri".into())))
            .max_length(Some(MAX_URI_LEN))
            .into(),
        Kind::Date => string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .into(),
        Kind::Email => string().max_length(Some(MAX_NAME_LEN)).into(),
        Kind::Duration => scalar(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(MAX_DURATION))
            .into(),
        Kind::Flag => scalar(Type::Boolean).into(),
        Kind::Slugs { .. } => ArrayBuilder::new()
            .schema_type(json_type(Type::Array, spec.nullable))
            .items(Ref::from_schema_name("Slug"))
            .max_items(Some(MAX_LIST_LEN))
            .description(about(spec))
            .into(),
        // The one object field is a project's members: username → roles.
        Kind::Object => scalar(Type::Object)
            .additional_properties(Some(AdditionalProperties::RefOr(
                Ref::from_schema_name("Roles").into(),
            )))
            .into(),
    };
    schema.into()
}

/// The schema of an object whose fields are `specs`; with `required`, the
/// fields required on create are listed as such (for bodies that only
/// ever create).
pub fn object(specs: &[FieldSpec], description: &str, required: bool) -> RefOr<Schema> {
    let mut builder = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description));
    for spec in specs {
        builder = builder.property(spec.name, field(spec));
        if required && spec.required {
            builder = builder.required(spec.name);
        }
    }
    Schema::Object(builder.build()).into()
}

/// The schemas the objects refer to.
pub fn referenced(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    let slug = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "A slug: lowercase letters, digits and single inner dashes, with at least one letter.",
        ))
        .pattern(Some(SLUG_PATTERN))
        .max_length(Some(MAX_IDENT_LEN));
    schemas.push(("Slug".into(), Schema::Object(slug.build()).into()));
    schemas.push(("Roles".into(), Roles::schema()));
}

/// Declares `$name`, the OpenAPI schema of a POST's object with the fields
/// `$specs` (a body type for `request_body = Envelope<$name>`).
macro_rules! request_object {
    ($(#[$doc:meta])* $name:ident, $specs:expr, $description:literal, required = $required:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::http::openapi::objects::object(&$specs, $description, $required)
            }
        }

        impl utoipa::ToSchema for $name {
            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                $crate::http::openapi::objects::referenced(schemas);
            }
        }
    };
}
pub(crate) use request_object;
