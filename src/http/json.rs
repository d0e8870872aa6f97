//! Strict JSON parsing of request bodies: duplicate keys and nesting
//! deeper than 64 levels are refused (serde_json would silently keep the
//! last duplicate).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{catalogue::bad_object, Error};

/// Deepest accepted nesting of arrays and objects.
pub const MAX_DEPTH: usize = 64;

const DUPLICATE: &str = "duplicate key ";
const TOO_DEEP: &str = "too deep";

/// Parses `bytes` as one JSON value, or the spec's `Bad object` error.
pub fn parse(bytes: &[u8]) -> Result<Value, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict { depth: 0 }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v));
    value.map_err(|e| {
        let msg = e.to_string();
        if !e.is_data() {
            Error::unparseable_body()
        } else if let Some(rest) = msg.strip_prefix(DUPLICATE) {
            let key = rest.split(" at line").next().unwrap_or(rest);
            Error::BadObject(bad_object::duplicate_key(key))
        } else if msg.starts_with(TOO_DEEP) {
            Error::BadObject(bad_object::nested_too_deep(MAX_DEPTH))
        } else {
            Error::unparseable_body()
        }
    })
}

struct Strict {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(A::Error::custom(TOO_DEEP));
        }
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict {
            depth: self.depth + 1,
        })? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(A::Error::custom(TOO_DEEP));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(A::Error::custom(format!("{DUPLICATE}{key}")));
            }
            let v = map.next_value_seed(Strict {
                depth: self.depth + 1,
            })?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(
            parse(br#"{"a":[1,2.5,"x",null,true]}"#).unwrap()["a"][2],
            "x"
        );
        let e = parse(br#"{"a":1,"a":2}"#).unwrap_err().to_string();
        assert!(e.contains("key a more than once"), "{e}");
        assert_eq!(
            parse(b"{nope").unwrap_err().to_string(),
            "The request body could not be parsed as valid JSON"
        );
        assert_eq!(
            parse(b"").unwrap_err().to_string(),
            "The request body could not be parsed as valid JSON"
        );
        assert_eq!(
            parse(b"{} {}").unwrap_err().to_string(),
            "The request body could not be parsed as valid JSON"
        );
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert!(parse(deep.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("deeper than 64"));
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(parse(ok.as_bytes()).is_ok());
        let very_deep = "[".repeat(100_000);
        assert!(parse(very_deep.as_bytes()).is_err());
    }
}
