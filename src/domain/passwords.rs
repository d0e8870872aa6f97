//! bcrypt password hashing, on a pool of dedicated threads that run at the
//! lowest scheduling priority, so that a login never stalls the async
//! runtime and hashing only fills cores that requests leave idle.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;

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

type BcryptJob = Box<dyn FnOnce() + Send>;

/// The queue of the bcrypt threads: one thread per core, each under Linux's
/// SCHED_IDLE policy (a thread's policy is its own): with logins alone they
/// use every core; next to requests the scheduler gives the cores to the
/// requests first and preempts hashing the moment a request wakes, so a
/// burst of logins cannot delay reads. (Nice 19, tried first, left reads
/// beside logins at 2.2× their p99 alone once reads took ~2 ms.)
fn bcrypt_queue() -> &'static mpsc::Sender<BcryptJob> {
    static QUEUE: OnceLock<mpsc::Sender<BcryptJob>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<BcryptJob>();
        let receiver = Arc::new(Mutex::new(receiver));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        for n in 0..cores {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("bcrypt-{n}"))
                .spawn(move || bcrypt_worker(&receiver));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a bcrypt thread");
            }
        }
        sender
    })
}

fn bcrypt_worker(receiver: &Mutex<mpsc::Receiver<BcryptJob>>) {
    use thread_priority::{
        set_current_thread_priority, set_thread_priority_and_policy, thread_native_id,
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
    };
    let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
    if let Err(e) = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle) {
        tracing::warn!(error = ?e, "bcrypt thread not idle-scheduled; trying nice 19");
        if let Err(e) = set_current_thread_priority(ThreadPriority::Min) {
            tracing::warn!(error = ?e, "bcrypt thread keeps normal priority");
        }
    }
    loop {
        // The lock is held only while waiting for the next job.
        let job = match receiver.lock() {
            Ok(r) => r.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // A panicking job fails only its own request (its answer channel
        // is dropped); the thread goes on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Runs CPU-heavy bcrypt work on the bcrypt threads and awaits its result.
async fn run_bcrypt<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let (answer, result) = tokio::sync::oneshot::channel();
    let job: BcryptJob = Box::new(move || {
        let _ = answer.send(work());
    });
    bcrypt_queue()
        .send(job)
        .map_err(|_| anyhow::anyhow!("bcrypt threads stopped"))?;
    result.await.context("bcrypt job failed")
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

    #[tokio::test]
    async fn hashing_runs_on_named_threads_scheduled_when_cores_are_idle() {
        let (name, stat) = run_bcrypt(|| {
            let name = std::thread::current().name().map(str::to_owned);
            (name, std::fs::read_to_string("/proc/thread-self/stat"))
        })
        .await
        .unwrap();
        assert!(name.unwrap().starts_with("bcrypt-"));
        // Field 41 of stat is the scheduling policy (5: SCHED_IDLE);
        // fields after the parenthesised command name (field 2) are
        // space-separated, from field 3.
        let stat = stat.unwrap();
        let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
        let policy: i32 = after_comm.split(' ').nth(41 - 3).unwrap().parse().unwrap();
        assert_eq!(policy, 5);
    }
}
