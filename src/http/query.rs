//! Typed query strings. `Query<T>` deserialises `T` from the request's
//! query; the same `T` derives `IntoParams`, so what is parsed is what the
//! OpenAPI document describes.
//!
//! The rules of v0 clients: a key may repeat (a `Vec` field takes every
//! value, any other field the first); unknown keys are ignored; a value
//! that does not parse is `Bad query value` naming the key and that value.
//! Fields are read in the order the struct declares them, so with several
//! bad values the first field's is reported.

use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;

use crate::domain::times::TimeQuery;
use crate::error::Error;

/// `T` read from the query string.
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        parse(parts.uri.query()).map(Query)
    }
}

/// Deserialises `T` from a query string (`None`: no query).
pub fn parse<T: DeserializeOwned>(query: Option<&str>) -> Result<T, Error> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    T::deserialize(QueryDeserializer { pairs: &pairs }).map_err(|e| match e {
        QueryError::Placed(e) => e,
        // Only a type that cannot be read from a query at all gets here.
        QueryError::Refused(msg) => Error::server(anyhow::anyhow!("query type: {msg}")),
    })
}

/// An `include_*` flag: true when present with any value but `false`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|v| Flag(v != "false"))
    }
}

/// A count of objects (`skip`, `limit`): ASCII digits only, within the
/// databases' signed 64-bit offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = String::deserialize(d)?;
        v.parse::<u64>()
            .ok()
            .filter(|_| v.bytes().all(|b| b.is_ascii_digit()))
            .filter(|n| i64::try_from(*n).is_ok())
            .map(Count)
            .ok_or_else(|| de::Error::custom("not a count"))
    }
}

/// A point in time of `since`: an RFC 3339 timestamp (`2026-12-01T21:30:00Z`,
/// any offset, fractions beyond milliseconds dropped) or milliseconds since
/// the epoch (ASCII digits). Held as milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since(pub i64);

impl<'de> Deserialize<'de> for Since {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = String::deserialize(d)?;
        let millis = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            v.parse::<i64>().ok()
        } else {
            chrono::DateTime::parse_from_rfc3339(&v)
                .ok()
                .map(|t| t.timestamp_millis())
        };
        millis
            .map(Since)
            .ok_or_else(|| de::Error::custom("not a timestamp"))
    }
}

/// `since` of the lists that serve synchronisation (`GET /times`,
/// `/projects`, `/activities`, `/users`).
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SinceQuery {
    /// Only objects created, updated or deleted at or after this time
    /// (RFC 3339, e.g. `2026-12-01T21:30:00.000Z`, or milliseconds since
    /// the epoch), deleted ones included whatever `include_deleted` says.
    /// Send the `X-Next-Since` header of the previous answer to get what
    /// changed since then; changes near the boundary may come twice.
    #[param(value_type = Option<String>, example = "2026-12-01T21:30:00.000Z")]
    since: Option<Since>,
}

impl SinceQuery {
    /// Milliseconds since the epoch, when sent.
    pub fn millis(self) -> Option<i64> {
        self.since.map(|s| s.0)
    }
}

/// The filters of `GET /times`, shared with `GET /reports/summary`.
/// Their values are checked by the domain (`Bad query value` too).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeFilters {
    /// Only times of these users (repeatable).
    user: Option<Vec<String>>,
    /// Only times on these projects, by slug (repeatable).
    project: Option<Vec<String>>,
    /// Only times with these activities, by slug (repeatable).
    activity: Option<Vec<String>>,
    /// Only times worked on or after this date (`YYYY-MM-DD`).
    #[param(format = Date)]
    start: Option<String>,
    /// Only times worked on or before this date (`YYYY-MM-DD`).
    #[param(format = Date)]
    end: Option<String>,
    /// Include deleted times.
    #[serde(default)]
    #[param(value_type = Option<bool>)]
    include_deleted: Flag,
}

impl TimeFilters {
    /// The domain's query of these filters.
    pub fn into_query(self, include_revisions: bool) -> TimeQuery {
        TimeQuery {
            users: self.user.unwrap_or_default(),
            projects: self.project.unwrap_or_default(),
            activities: self.activity.unwrap_or_default(),
            start: self.start,
            end: self.end,
            include_deleted: self.include_deleted.0,
            include_revisions,
            since: None,
        }
    }
}

/// Errors while deserialising.
#[derive(Debug)]
enum QueryError {
    /// A type refused a value; the reader of that value places it as
    /// `Bad query value` with its key and value.
    Refused(String),
    /// The final error object.
    Placed(Error),
}

impl QueryError {
    /// `Bad query value` for `key`'s `value` unless already placed.
    fn place(self, key: &str, value: &str) -> Self {
        match self {
            QueryError::Refused(_) => QueryError::Placed(Error::bad_query(key, value)),
            placed => placed,
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            QueryError::Refused(msg) => f.write_str(msg),
            QueryError::Placed(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for QueryError {}

impl de::Error for QueryError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        QueryError::Refused(msg.to_string())
    }
}

/// The whole query: a map from key to its values.
struct QueryDeserializer<'a> {
    pairs: &'a [(String, String)],
}

impl<'a> QueryDeserializer<'a> {
    fn values(&self, key: &'a str) -> Values<'a> {
        let values = self
            .pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect();
        Values { key, values }
    }
}

impl<'de, 'a> Deserializer<'de> for QueryDeserializer<'a> {
    type Error = QueryError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        let mut keys: Vec<&'a str> = Vec::new();
        for (k, _) in self.pairs {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
        visitor.visit_map(Entries::new(self, keys))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, QueryError> {
        let present = fields
            .iter()
            .copied()
            .filter(|f| self.pairs.iter().any(|(k, _)| k == f))
            .collect();
        visitor.visit_map(Entries::new(self, present))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// The present keys, in the order they are read, with their values.
struct Entries<'a> {
    query: QueryDeserializer<'a>,
    keys: std::vec::IntoIter<&'a str>,
    next: Option<Values<'a>>,
}

impl<'a> Entries<'a> {
    fn new(query: QueryDeserializer<'a>, keys: Vec<&'a str>) -> Self {
        Self {
            query,
            keys: keys.into_iter(),
            next: None,
        }
    }
}

impl<'de, 'a> de::MapAccess<'de> for Entries<'a> {
    type Error = QueryError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, QueryError> {
        let Some(key) = self.keys.next() else {
            return Ok(None);
        };
        self.next = Some(self.query.values(key));
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, QueryError> {
        let Some(values) = self.next.take() else {
            return Err(de::Error::custom("value before key"));
        };
        let (key, first) = (values.key, values.first().value);
        // A sequence places its own items' errors.
        seed.deserialize(values).map_err(|e| e.place(key, first))
    }
}

/// Every value of one key: a sequence takes them all, anything else the
/// first.
struct Values<'a> {
    key: &'a str,
    values: Vec<&'a str>,
}

impl<'a> Values<'a> {
    fn first(&self) -> One<'a> {
        One {
            value: self.values.first().copied().unwrap_or(""),
        }
    }
}

/// The `deserialize_option` and `deserialize_newtype_struct` of a
/// deserializer of present values: both see through to the value itself.
macro_rules! see_through_wrappers {
    ($de:lifetime) => {
        fn deserialize_option<V: Visitor<$de>>(self, visitor: V) -> Result<V::Value, QueryError> {
            visitor.visit_some(self)
        }

        fn deserialize_newtype_struct<V: Visitor<$de>>(
            self,
            _: &'static str,
            visitor: V,
        ) -> Result<V::Value, QueryError> {
            visitor.visit_newtype_struct(self)
        }
    };
}

impl<'de, 'a> Deserializer<'de> for Values<'a> {
    type Error = QueryError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        self.first().deserialize_any(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_seq(Items {
            key: self.key,
            values: self.values.into_iter(),
        })
    }

    see_through_wrappers!('de);

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, QueryError> {
        self.first().deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// The values of a repeated key as a sequence; what an item's type
/// refuses is `Bad query value` with that item.
struct Items<'a> {
    key: &'a str,
    values: std::vec::IntoIter<&'a str>,
}

impl<'de> de::SeqAccess<'de> for Items<'_> {
    type Error = QueryError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, QueryError> {
        let Some(value) = self.values.next() else {
            return Ok(None);
        };
        seed.deserialize(One { value })
            .map(Some)
            .map_err(|e| e.place(self.key, value))
    }
}

/// One value of a key.
struct One<'a> {
    value: &'a str,
}

impl<'de> Deserializer<'de> for One<'_> {
    type Error = QueryError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_str(self.value)
    }

    see_through_wrappers!('de);

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, QueryError> {
        let value: de::value::StrDeserializer<'_, QueryError> = self.value.into_deserializer();
        visitor.visit_enum(value)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Json,
        Csv,
    }

    #[derive(Debug, Deserialize)]
    struct Sample {
        tag: Option<Vec<String>>,
        name: Option<String>,
        #[serde(default)]
        on: Flag,
        skip: Option<Count>,
        limit: Option<Count>,
        kind: Option<Kind>,
        since: Option<Since>,
    }

    fn sample(query: &str) -> Result<Sample, String> {
        parse::<Sample>(Some(query)).map_err(|e| e.to_string())
    }

    #[test]
    fn repeated_first_and_ignored_keys() {
        let s = sample("tag=a&name=x&tag=b%20c&name=y&other=1&token=t").unwrap();
        assert_eq!(s.tag.unwrap(), ["a", "b c"]);
        assert_eq!(s.name.as_deref(), Some("x"));
        assert!(!s.on.0);
        let none = parse::<Sample>(None).unwrap();
        assert!(none.tag.is_none() && none.skip.is_none() && none.kind.is_none());
    }

    #[test]
    fn flags_counts_and_enums() {
        assert!(sample("on").unwrap().on.0);
        assert!(sample("on=1").unwrap().on.0);
        assert!(!sample("on=false").unwrap().on.0);
        assert_eq!(sample("skip=5").unwrap().skip, Some(Count(5)));
        assert_eq!(sample("limit=0").unwrap().limit, Some(Count(0)));
        assert_eq!(sample("kind=csv").unwrap().kind, Some(Kind::Csv));
        assert_eq!(sample("kind=json").unwrap().kind, Some(Kind::Json));
        let bad = |q: &str| sample(q).unwrap_err();
        assert_eq!(bad("skip=-1"), "Parameter skip contained invalid value -1");
        assert_eq!(
            bad("skip=%2B1"),
            "Parameter skip contained invalid value +1"
        );
        assert_eq!(
            bad("limit=9223372036854775808"),
            "Parameter limit contained invalid value 9223372036854775808"
        );
        assert_eq!(
            bad("kind=xml"),
            "Parameter kind contained invalid value xml"
        );
        // Fields are read in declaration order, whatever the query's order.
        assert_eq!(
            bad("kind=x&limit=y&skip=z"),
            "Parameter skip contained invalid value z"
        );
    }

    #[test]
    fn since_takes_rfc3339_or_millis() {
        let since = |q: &str| sample(q).map(|s| s.since.map(|s| s.0));
        assert_eq!(since("since=0"), Ok(Some(0)));
        assert_eq!(since("since=1764624600123"), Ok(Some(1_764_624_600_123)));
        assert_eq!(
            since("since=2025-12-01T21:30:00.123Z"),
            Ok(Some(1_764_624_600_123))
        );
        assert_eq!(
            since("since=2025-12-01T22:30:00.123%2B01:00"),
            Ok(Some(1_764_624_600_123))
        );
        for bad in [
            "",
            "-1",
            "%2B5",
            "1.5",
            "9223372036854775808",
            "2025-12-01",
            "2025-12-01T21:30:00",
            "yesterday",
        ] {
            assert_eq!(
                since(&format!("since={bad}")),
                Err(format!(
                    "Parameter since contained invalid value {}",
                    bad.replace("%2B", "+")
                ))
            );
        }
    }
}
