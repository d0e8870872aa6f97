//! Property tests of the input parsers: the strict JSON body parser, the
//! identifier validators and the token decoder never panic on any input,
//! and agree with their definitions where one exists.

use base64::Engine;
use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{Map, Value};
use timesync::domain::tokens::{TokenError, Tokens, TOKEN_LIFETIME_MS};
use timesync::domain::validate::{
    is_absolute_uri, is_slug, is_username, parse_date, parse_uuid, MAX_IDENT_LEN,
};
use timesync::error::Error;
use timesync::http::json::{self, MAX_DEPTH};

const KEY: &[u8] = b"a-property-test-secret-of-32-bytes-or-more";

/// JSON values without floats (whose text form may not round-trip exactly).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i32..1000).prop_map(|n| Value::from(f64::from(n) / 4.0)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(8, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn is_bad_object(e: &Error) -> bool {
    matches!(e, Error::BadObject(_))
}

/// The slug rule spelled out: dash-separated non-empty runs of `[a-z0-9]`,
/// at least one letter, at most 64 characters.
fn slug_by_definition(s: &str) -> bool {
    s.len() <= MAX_IDENT_LEN
        && s.split('-').all(|run| {
            !run.is_empty()
                && run
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && s.bytes().any(|b| b.is_ascii_lowercase())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(e) = json::parse(&bytes) {
            prop_assert!(is_bad_object(&e), "{e:?}");
        }
    }

    #[test]
    fn json_parser_agrees_with_serde_json_on_json_like_text(
        text in r#"[\[\]{}",:0-9a-z.eE+\- \\]{0,48}"#
    ) {
        match json::parse(text.as_bytes()) {
            // Whatever the strict parser accepts is JSON, with the same value.
            Ok(v) => prop_assert_eq!(Some(v), serde_json::from_str::<Value>(&text).ok()),
            // What it refuses is refused with the spec's error.
            Err(e) => prop_assert!(is_bad_object(&e)),
        }
    }

    #[test]
    fn json_parser_round_trips_values(v in json_value()) {
        let text = serde_json::to_string(&v).unwrap();
        prop_assert_eq!(json::parse(text.as_bytes()).ok(), Some(v.clone()));
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        prop_assert_eq!(json::parse(pretty.as_bytes()).ok(), Some(v));
    }

    #[test]
    fn json_parser_refuses_duplicate_keys(
        key in "[a-z]{1,8}", a in json_value(), b in json_value(), depth in 0usize..5
    ) {
        let inner = format!(
            "{{{k}:{a},{k}:{b}}}",
            k = serde_json::to_string(&key).unwrap(),
            a = serde_json::to_string(&a).unwrap(),
            b = serde_json::to_string(&b).unwrap()
        );
        let text = format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth));
        let e = json::parse(text.as_bytes()).unwrap_err();
        prop_assert!(e.to_string().contains("more than once"), "{e}");
    }

    #[test]
    fn json_parser_limits_depth(depth in 1usize..200, object in any::<bool>()) {
        let (open, close) = if object { (r#"{"a":"#, "}") } else { ("[", "]") };
        let text = format!("{}0{}", open.repeat(depth), close.repeat(depth));
        let parsed = json::parse(text.as_bytes());
        prop_assert_eq!(parsed.is_ok(), depth <= MAX_DEPTH, "depth {}", depth);
    }

    #[test]
    fn slug_check_matches_its_definition(s in any::<String>()) {
        prop_assert_eq!(is_slug(&s), slug_by_definition(&s));
    }

    #[test]
    fn slugs_from_the_pattern_are_accepted(s in "[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,5}") {
        prop_assert_eq!(is_slug(&s), s.bytes().any(|b| b.is_ascii_lowercase()));
    }

    #[test]
    fn near_slugs_are_refused(
        s in "[a-z]{1,8}", bad in r"[A-Z_ .~/\-]", at_start in any::<bool>()
    ) {
        // An uppercase letter or foreign character anywhere, or a dash at an end.
        let t = if at_start { format!("{bad}{s}") } else { format!("{s}{bad}") };
        prop_assert!(!is_slug(&t), "{t}");
    }

    #[test]
    fn usernames_from_the_pattern_are_accepted(s in "[A-Za-z0-9._~-]{1,64}") {
        prop_assert_eq!(is_username(&s), !s.eq_ignore_ascii_case("org-roles"));
    }

    #[test]
    fn username_check_never_accepts_other_characters(s in any::<String>()) {
        if is_username(&s) {
            prop_assert!(!s.is_empty() && s.len() <= MAX_IDENT_LEN);
            prop_assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        }
    }

    #[test]
    fn dates_round_trip(days in 0i32..3_652_059) {
        // Every day of years 1..=9999.
        let date = NaiveDate::from_num_days_from_ce_opt(days + 1).unwrap();
        let text = date.format("%Y-%m-%d").to_string();
        prop_assert_eq!(parse_date(&text), Some(date));
    }

    #[test]
    fn date_parser_accepts_only_real_dates_in_the_exact_form(s in any::<String>()) {
        if let Some(d) = parse_date(&s) {
            prop_assert_eq!(d.format("%Y-%m-%d").to_string(), s);
        }
    }

    #[test]
    fn date_like_text_is_a_date_exactly_when_the_calendar_says_so(
        y in 0u32..10000, m in 0u32..14, d in 0u32..33
    ) {
        let text = format!("{y:04}-{m:02}-{d:02}");
        let real = NaiveDate::from_ymd_opt(y as i32, m, d);
        prop_assert_eq!(parse_date(&text), real);
    }

    #[test]
    fn uuids_round_trip_in_any_case(n in any::<u128>(), upper in any::<bool>()) {
        let canonical = uuid::Uuid::from_u128(n).hyphenated().to_string();
        let sent = if upper { canonical.to_uppercase() } else { canonical.clone() };
        prop_assert_eq!(parse_uuid(&sent), Some(canonical));
    }

    #[test]
    fn uuid_parser_returns_only_canonical_uuids(s in any::<String>()) {
        if let Some(u) = parse_uuid(&s) {
            prop_assert_eq!(u.len(), 36);
            prop_assert_eq!(u.clone(), s.to_lowercase());
            prop_assert!(uuid::Uuid::parse_str(&u).is_ok());
        }
    }

    #[test]
    fn absolute_uris_are_accepted(
        scheme in "(https?|ftp)", host in "[a-z]{1,10}(\\.[a-z]{2,5}){1,2}",
        path in "(/[a-zA-Z0-9_.~-]{0,8}){0,4}"
    ) {
        let uri = format!("{scheme}://{host}{path}");
        prop_assert!(is_absolute_uri(&uri), "{uri}");
    }

    #[test]
    fn uri_check_never_panics_and_refuses_whitespace(s in any::<String>()) {
        if is_absolute_uri(&s) {
            prop_assert!(s.contains("://") && !s.chars().any(char::is_whitespace));
        }
    }

    #[test]
    fn token_decoder_refuses_arbitrary_strings(s in any::<String>()) {
        let tokens = Tokens::new(KEY, "timesync");
        prop_assert!(tokens.verify(&s, 0).is_err());
    }

    #[test]
    fn token_decoder_refuses_arbitrary_jwt_shapes(
        parts in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 3)
    ) {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = parts.iter().map(|p| b64.encode(p)).collect::<Vec<_>>().join(".");
        let tokens = Tokens::new(KEY, "timesync");
        prop_assert!(tokens.verify(&token, 0).is_err());
    }

    #[test]
    fn tampered_tokens_are_refused(
        username in "[a-z]{1,12}", index in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_-]"
    ) {
        let tokens = Tokens::new(KEY, "timesync");
        let token = tokens.issue(&username, 1_000);
        let i = index.index(token.len());
        let original = &token[i..=i];
        prop_assume!(original != "." && original != replacement.as_str());
        let tampered = format!("{}{replacement}{}", &token[..i], &token[i + 1..]);
        prop_assert!(tokens.verify(&tampered, 1_000).is_err(), "{tampered}");
    }
}

proptest! {
    // `Tokens::issue` may walk its whole padding search (4^9 layouts) for
    // long subjects, ~0.2 s each in a debug build: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn issued_tokens_verify_until_they_expire(
        username in "[A-Za-z0-9._~-]{1,64}", now in 0i64..4_000_000_000_000
    ) {
        let tokens = Tokens::new(KEY, "timesync");
        let token = tokens.issue(&username, now);
        let claims = tokens.verify(&token, now).expect("fresh token verifies");
        prop_assert_eq!(&claims.sub, &username);
        prop_assert_eq!(claims.iat, now);
        prop_assert_eq!(claims.exp, now + TOKEN_LIFETIME_MS);
        prop_assert_eq!(
            tokens.verify(&token, now + TOKEN_LIFETIME_MS).unwrap_err(),
            TokenError::Expired
        );
        // Another key, another instance, or any changed character: refused.
        prop_assert!(Tokens::new(b"another-secret-key-that-is-long-enough", "timesync")
            .verify(&token, now).is_err());
        prop_assert_eq!(
            Tokens::new(KEY, "elsewhere").verify(&token, now).unwrap_err(),
            TokenError::Issuer
        );
    }

    #[test]
    fn tokens_of_any_subject_verify(username in any::<String>()) {
        let tokens = Tokens::new(KEY, "timesync");
        let token = tokens.issue(&username, 1_000);
        prop_assert_eq!(tokens.verify(&token, 1_000).map(|c| c.sub), Ok(username));
    }
}
