//! API tokens: HS256 JWTs whose `iat`/`exp` are milliseconds (DECISIONS.md).
//!
//! Old clients (pymesync) read the payload with *plain* base64, so the
//! header and payload we issue are padded with JSON whitespace until their
//! base64url form uses only characters common to both alphabets and needs
//! no `=` padding. Verification accepts any well-formed HS256 JWT.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::{Deserialize, Serialize};

/// Token lifetime: 30 minutes.
pub const TOKEN_LIFETIME_MS: i64 = 30 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// Username as stored.
    pub sub: String,
    /// Milliseconds since the epoch.
    pub iat: i64,
    /// Milliseconds since the epoch.
    pub exp: i64,
}

/// Why a token was refused (all of them are `Bad API token` to clients).
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    Signature,
    Issuer,
    Expired,
}

/// Issues and checks tokens of one instance.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    instance: String,
    /// When personal API tokens' uses were last written (shared by clones).
    api_token_uses: std::sync::Arc<crate::domain::api_tokens::UseClock>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub fn new(secret: &[u8], instance: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp` is in milliseconds, which the library would misread as
        // seconds: expiry and issuer are checked below instead.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims.clear();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            instance: instance.to_owned(),
            api_token_uses: Default::default(),
        }
    }

    /// The clock that limits `last_used_at` writes of personal API tokens.
    pub fn api_token_uses(&self) -> &crate::domain::api_tokens::UseClock {
        &self.api_token_uses
    }

    /// A token for `username`, valid for 30 minutes from `now_ms`.
    pub fn issue(&self, username: &str, now_ms: i64) -> String {
        let header = pad_json(&[("alg", "\"HS256\"".into()), ("typ", "\"JWT\"".into())]);
        let payload = pad_json(&[
            (
                "iss",
                serde_json::to_string(&self.instance).expect("string serialises"),
            ),
            (
                "sub",
                serde_json::to_string(username).expect("string serialises"),
            ),
            ("exp", (now_ms + TOKEN_LIFETIME_MS).to_string()),
            ("iat", now_ms.to_string()),
        ]);
        let message = format!("{header}.{payload}");
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding, Algorithm::HS256)
                .expect("HMAC signing cannot fail");
        format!("{message}.{signature}")
    }

    /// Checks signature (constant time, in the HMAC library), issuer and
    /// expiry; returns the claims.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<Claims, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => TokenError::Signature,
                _ => TokenError::Malformed,
            })?;
        let claims = data.claims;
        if claims.iss != self.instance {
            return Err(TokenError::Issuer);
        }
        if claims.exp <= now_ms {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// Serialises `fields` as a JSON object, inserting spaces until its
/// base64url encoding is also valid plain base64 without padding.
fn pad_json(fields: &[(&str, String)]) -> String {
    // Gaps where whitespace may go: after `{`, after each `:` and `,`, before `}`.
    let gaps = 2 * fields.len() + 1;
    let build = |spaces: &[usize]| {
        let mut s = String::from("{");
        s.push_str(&" ".repeat(spaces[0]));
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                s.push(',');
                s.push_str(&" ".repeat(spaces[2 * i]));
            }
            s.push('"');
            s.push_str(k);
            s.push_str("\":");
            s.push_str(&" ".repeat(spaces[2 * i + 1]));
            s.push_str(v);
        }
        s.push_str(&" ".repeat(spaces[gaps - 1]));
        s.push('}');
        s
    };
    // Walk through space distributions in a fixed order (mixed radix,
    // 0..=3 spaces per gap); a valid one turns up within a few dozen tries.
    let mut spaces = vec![0usize; gaps];
    for _ in 0..4usize.pow(gaps.min(10) as u32) {
        let json = build(&spaces);
        let encoded = URL_SAFE_NO_PAD.encode(json.as_bytes());
        if json.len() % 3 == 0 && !encoded.contains(['-', '_']) {
            return encoded;
        }
        for s in spaces.iter_mut() {
            *s += 1;
            if *s < 4 {
                break;
            }
            *s = 0;
        }
    }
    // Not reached in practice; the unpadded token is still a valid JWT.
    URL_SAFE_NO_PAD.encode(build(&vec![0; gaps]).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn tokens() -> Tokens {
        Tokens::new(b"0123456789abcdef0123456789abcdef", "timesync")
    }

    #[test]
    fn issued_token_is_plain_base64_readable_and_verifies() {
        let t = tokens();
        for (i, user) in ["root", "a", "someone.with-long_name~x", "Ünïcode?", "x\"y"]
            .iter()
            .enumerate()
        {
            let now = 1_700_000_000_000 + i as i64 * 7919;
            let token = t.issue(user, now);
            let parts: Vec<&str> = token.split('.').collect();
            assert_eq!(parts.len(), 3);
            for part in &parts[..2] {
                assert_eq!(part.len() % 4, 0, "{part}");
                let plain = STANDARD.decode(part).expect("plain base64");
                serde_json::from_slice::<serde_json::Value>(&plain).expect("json");
            }
            let claims = t.verify(&token, now + 1).unwrap();
            assert_eq!(claims.sub, *user);
            assert_eq!(claims.exp, now + TOKEN_LIFETIME_MS);
            assert_eq!(claims.iat, now);
        }
    }

    #[test]
    fn refuses_expired_foreign_and_tampered_tokens() {
        let t = tokens();
        let token = t.issue("root", 1_000);
        assert_eq!(
            t.verify(&token, 1_000 + TOKEN_LIFETIME_MS),
            Err(TokenError::Expired)
        );
        let other = Tokens::new(b"0123456789abcdef0123456789abcdef", "elsewhere");
        assert_eq!(other.verify(&token, 2_000), Err(TokenError::Issuer));
        let rekeyed = Tokens::new(b"ffffffffffffffffffffffffffffffff", "timesync");
        assert_eq!(rekeyed.verify(&token, 2_000), Err(TokenError::Signature));
        assert_eq!(t.verify("not.a.token", 2_000), Err(TokenError::Malformed));
        assert_eq!(t.verify("", 2_000), Err(TokenError::Malformed));
    }

    #[test]
    fn accepts_standard_unpadded_jwt() {
        let key = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let claims = Claims {
            iss: "timesync".into(),
            sub: "u".into(),
            iat: 10,
            exp: 10 + TOKEN_LIFETIME_MS,
        };
        let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
        assert_eq!(tokens().verify(&token, 11).unwrap(), claims);
    }
}
