//! bcrypt password hashing, always on a blocking thread so that a login
//! never stalls the async runtime.

use std::sync::OnceLock;

use anyhow::Context;
use tokio::sync::Semaphore;

/// bcrypt cost for hashes the server makes (the spec's "10 rounds").
pub const BCRYPT_COST: u32 = 10;

/// True for a bcrypt hash (`$2a$`, `$2b$`, `$2x$`, `$2y$`), as clients send them.
pub fn is_bcrypt_hash(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 60
        && s.starts_with("$2")
        && matches!(b[2], b'a' | b'b' | b'x' | b'y')
        && b[3] == b'$'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && b[6] == b'$'
        && b[7..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'/')
}

/// bcrypt work allowed at once: half the cores (at least one), so a burst
/// of logins cannot starve the requests that need no hashing.
fn bcrypt_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new((cores / 2).max(1))
    })
}

/// Runs CPU-heavy bcrypt work on a blocking thread, within the slots.
async fn run_bcrypt<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _slot = bcrypt_slots()
        .acquire()
        .await
        .context("bcrypt slots closed")?;
    tokio::task::spawn_blocking(work)
        .await
        .context("bcrypt task")
}

/// Hashes a plain password (cost 10).
pub async fn hash(plain: String) -> anyhow::Result<String> {
    run_bcrypt(move || bcrypt::hash(plain, BCRYPT_COST))
        .await?
        .context("bcrypt hash")
}

/// The value to store for a password sent by a client: a bcrypt hash is
/// stored as sent (clients hash before sending), anything else is hashed.
pub async fn storable(sent: String) -> anyhow::Result<String> {
    if is_bcrypt_hash(&sent) {
        Ok(sent)
    } else {
        hash(sent).await
    }
}

/// Checks `plain` against `stored`. Without a stored hash (unknown user,
/// LDAP-only account) it checks against a dummy hash so that the answer
/// takes as long as a wrong password does.
pub async fn verify(plain: String, stored: Option<String>) -> bool {
    run_bcrypt(move || match stored {
        Some(hash) => bcrypt::verify(plain, &hash).unwrap_or(false),
        None => {
            let _ = bcrypt::verify(plain, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| bcrypt::hash("timing equaliser", BCRYPT_COST).expect("bcrypt hash"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_bcrypt_hashes() {
        let h = bcrypt::hash("x", 4).unwrap();
        assert!(is_bcrypt_hash(&h));
        assert!(is_bcrypt_hash(&h.replacen("$2b$", "$2a$", 1)));
        assert!(!is_bcrypt_hash("password"));
        assert!(!is_bcrypt_hash(&h[..59]));
    }

    #[tokio::test]
    async fn verifies_plain_against_stored() {
        let stored = storable("secret".into()).await.unwrap();
        assert!(verify("secret".into(), Some(stored.clone())).await);
        assert!(!verify("wrong".into(), Some(stored.clone())).await);
        assert!(!verify("secret".into(), None).await);
        // A client-hashed password is stored as sent.
        assert_eq!(storable(stored.clone()).await.unwrap(), stored);
    }
}
