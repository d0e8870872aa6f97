//! Faults, abuse and scale-out: the real `timesync` binary over HTTP while
//! PostgreSQL crashes, the server is stopped, SQLite is written from many
//! requests at once, clients misbehave, and two servers share a database.
//! docs/reliability.md lists what each test shows.

mod faults {
    pub mod abuse;
    pub mod support;
}

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use timesync::storage::users::NewUser;
use timesync::storage::Db;

use faults::support::{
    assert_times_consistent, client, login, post_body, seed, time_object, Acked, Postgres, Server,
    REQUEST_BOUND,
};

/// Counters the writers of a burst share with the test driving it.
#[derive(Default)]
struct Burst {
    stop: AtomicBool,
    acked: AtomicUsize,
    server_errors: AtomicUsize,
}

/// What one writer saw.
#[derive(Default)]
struct WriterLog {
    acked: Vec<Acked>,
    /// Non-2xx answers: status, body, X-Request-Id header.
    failures: Vec<(u16, Value, String)>,
    /// The request that failed without an HTTP answer, if any (it ends
    /// the writer).
    transport_error: Option<String>,
}

/// Writes until told to stop (or the server goes away): creates a time,
/// then alternately updates it and creates another. Every request must
/// finish within `REQUEST_BOUND` — a hung request fails the test.
async fn writer(base: String, token: String, worker: usize, burst: Arc<Burst>) -> WriterLog {
    let http = client();
    let mut log = WriterLog::default();
    let mut own: Option<String> = None;
    for i in 0..5_000 {
        if burst.stop.load(Ordering::SeqCst) {
            break;
        }
        let (url, notes) = match (&own, i % 2) {
            (Some(uuid), 1) => (format!("{base}/v0/times/{uuid}"), format!("w{worker}-u{i}")),
            _ => (format!("{base}/v0/times"), format!("w{worker}-c{i}")),
        };
        let started = Instant::now();
        let sent = http
            .post(&url)
            .json(&post_body(&token, time_object(&notes)))
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                assert!(!e.is_timeout(), "request hung past {REQUEST_BOUND:?}: {e}");
                log.transport_error = Some(format!("{e:#}"));
                break;
            }
        };
        let status = resp.status().as_u16();
        let request_id = resp
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = match resp.json().await {
            Ok(v) => v,
            Err(e) => {
                log.transport_error = Some(format!("body: {e:#}"));
                break;
            }
        };
        assert!(
            started.elapsed() <= REQUEST_BOUND,
            "a request took {:?}",
            started.elapsed()
        );
        if (200..300).contains(&status) {
            let uuid = body["uuid"].as_str().expect("uuid").to_owned();
            let revision = body["revision"].as_i64().expect("revision") as i32;
            log.acked.push(Acked {
                uuid: uuid.clone(),
                revision,
                notes,
            });
            own = Some(uuid);
            burst.acked.fetch_add(1, Ordering::SeqCst);
        } else {
            if status == 500 {
                burst.server_errors.fetch_add(1, Ordering::SeqCst);
            }
            log.failures.push((status, body, request_id));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    log
}

fn start_writers(
    base: &str,
    token: &str,
    n: usize,
    burst: &Arc<Burst>,
) -> Vec<tokio::task::JoinHandle<WriterLog>> {
    (0..n)
        .map(|w| tokio::spawn(writer(base.into(), token.into(), w, burst.clone())))
        .collect()
}

async fn join_writers(handles: Vec<tokio::task::JoinHandle<WriterLog>>) -> Vec<WriterLog> {
    let mut logs = Vec::new();
    for h in handles {
        logs.push(h.await.expect("writer task"));
    }
    logs
}

/// Waits (bounded) until `counter` reaches `at_least`.
async fn reach(counter: &AtomicUsize, at_least: usize, limit: Duration, what: &str) {
    let deadline = Instant::now() + limit;
    while counter.load(Ordering::SeqCst) < at_least {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A `Server error` object whose text quotes the request's id.
#[track_caller]
fn assert_server_error(status: u16, body: &Value, request_id: &str) {
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"], "Server error", "{body}");
    assert_eq!(body["status"], 500, "{body}");
    assert!(!request_id.is_empty(), "no X-Request-Id");
    let text = body["text"].as_str().unwrap_or_default();
    assert!(text.contains(request_id), "{text} lacks {request_id}");
}

/// (a) PostgreSQL crashes (immediate shutdown) during a burst of writes
/// and comes back: meanwhile every request gets a 500 `Server error` with
/// its request id within the bound; the same server process recovers;
/// no acknowledged write is lost and none is half-written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL installed (initdb); scripts/test.sh runs it"]
async fn postgres_crash_during_writes_loses_no_acknowledged_write() {
    let mut pg = tokio::task::block_in_place(Postgres::start);
    seed(&pg.url()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = pg.url();
    let server = Server::start(&[("DATABASE_URL", &url)], &dir.path().join("server.log"));
    let http = client();
    let token = login(&http, &server.base, "admin", "admin").await;
    let burst = Arc::new(Burst::default());
    let writers = start_writers(&server.base, &token, 6, &burst);

    reach(
        &burst.acked,
        30,
        Duration::from_secs(60),
        "writes before the crash",
    )
    .await;
    tokio::task::block_in_place(|| pg.crash());
    reach(
        &burst.server_errors,
        3,
        Duration::from_secs(45),
        "server errors",
    )
    .await;
    // A read while the database is down: the same bounded 500.
    let started = Instant::now();
    let r = http
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert!(started.elapsed() <= REQUEST_BOUND);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_server_error(r.status().as_u16(), &r.json().await.unwrap(), &id);

    let acked_while_down = burst.acked.load(Ordering::SeqCst);
    tokio::task::block_in_place(|| pg.launch());
    reach(
        &burst.acked,
        acked_while_down + 30,
        Duration::from_secs(60),
        "writes after PostgreSQL is back",
    )
    .await;
    burst.stop.store(true, Ordering::SeqCst);
    let logs = join_writers(writers).await;

    let r = http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "recovered without a restart");
    let mut acked = Vec::new();
    for log in logs {
        assert_eq!(log.transport_error, None, "the server stays up");
        for (status, body, id) in &log.failures {
            assert_server_error(*status, body, id);
        }
        acked.extend(log.acked);
    }
    drop(server);
    assert_times_consistent(&pg.url(), &acked).await;
}

/// (a') PostgreSQL stops answering without closing anything (all its
/// processes SIGSTOPped, as behind a network partition): reads and writes
/// get a 500 `Server error` with the request id within the request timeout
/// (30 s) instead of hanging; once PostgreSQL answers again the server
/// serves again, and nothing acknowledged is lost or half-written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL installed (initdb); scripts/test.sh runs it"]
async fn postgres_that_stops_answering_gets_bounded_server_errors() {
    let pg = tokio::task::block_in_place(Postgres::start);
    let url = pg.url();
    seed(&url).await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[("DATABASE_URL", &url)], &dir.path().join("server.log"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let token = login(&http, &server.base, "admin", "admin").await;
    let post = |notes: &str| {
        http.post(server.url("/v0/times"))
            .json(&post_body(&token, time_object(notes)))
            .send()
    };
    let r = post("before").await.unwrap();
    assert_eq!(r.status(), 200);
    let before: Value = r.json().await.unwrap();
    let mut acked = vec![Acked {
        uuid: before["uuid"].as_str().unwrap().to_owned(),
        revision: 1,
        notes: "before".into(),
    }];

    pg.freeze();
    let started = Instant::now();
    let answers = futures::future::join_all([
        post("frozen 1"),
        post("frozen 2"),
        http.get(server.url(&format!("/v0/times?token={token}")))
            .send(),
        http.get(server.url("/healthz")).send(),
    ])
    .await;
    for answer in answers {
        let r = answer.expect("an answer, not a client timeout");
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_server_error(r.status().as_u16(), &r.json().await.unwrap(), &id);
    }
    let took = started.elapsed();
    assert!(took <= Duration::from_secs(40), "answered after {took:?}");
    pg.thaw();

    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let r = post("after").await.unwrap();
        if r.status() == 200 {
            let v: Value = r.json().await.unwrap();
            acked.push(Acked {
                uuid: v["uuid"].as_str().unwrap().to_owned(),
                revision: 1,
                notes: "after".into(),
            });
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {}", r.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(server);
    assert_times_consistent(&url, &acked).await;
}

/// (b) SIGTERM during a burst of writes: the server finishes what it
/// acknowledged and exits cleanly; after a restart every 2xx write is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_writes_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ts.sqlite3").display());
    seed(&url).await;
    let log = dir.path().join("server.log");
    let mut server = Server::start(&[("DATABASE_URL", &url)], &log);
    let token = login(&client(), &server.base, "admin", "admin").await;
    let burst = Arc::new(Burst::default());
    let writers = start_writers(&server.base, &token, 6, &burst);
    reach(&burst.acked, 40, Duration::from_secs(60), "writes").await;
    let status = tokio::task::block_in_place(|| server.terminate());
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    let logs = join_writers(writers).await;
    let mut acked = Vec::new();
    for log in logs {
        assert!(
            log.transport_error.is_some(),
            "writer ends when the server is gone"
        );
        assert!(log.failures.is_empty(), "{:?}", log.failures);
        acked.extend(log.acked);
    }
    assert!(acked.len() >= 40);

    let server = Server::start(&[("DATABASE_URL", &url)], &log);
    let http = client();
    for a in acked.iter().filter(|a| a.revision == 1).take(20) {
        let r = http
            .get(server.url(&format!("/v0/times/{}?token={token}", a.uuid)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{a:?} after restart");
    }
    drop(server);
    assert_times_consistent(&url, &acked).await;
}

/// (c) 32 requests at once on SQLite, creates and updates of the same
/// times, three rounds, while another connection pool on the same file
/// (as a second process such as `timesync create-account` would) keeps
/// committing writes: every answer is a 2xx (no `database is locked`),
/// and each time ends with one revision per successful update.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_writers_never_see_database_locked() {
    const ROUNDS: usize = 3;
    const TIMES: usize = 4;
    const UPDATES_PER_TIME: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ts.sqlite3").display());
    seed(&url).await;
    let server = Server::start(&[("DATABASE_URL", &url)], &dir.path().join("server.log"));
    let http = client();
    let token = login(&http, &server.base, "admin", "admin").await;
    let mut times = Vec::new();
    for i in 0..TIMES {
        let r = http
            .post(server.url("/v0/times"))
            .json(&post_body(&token, time_object(&format!("base {i}"))))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        times.push(v["uuid"].as_str().unwrap().to_owned());
    }
    let outside_stop = Arc::new(AtomicBool::new(false));
    let outside = tokio::spawn(outside_writer(url.clone(), outside_stop.clone()));
    let mut acked = Vec::new();
    for round in 0..ROUNDS {
        let start = Arc::new(tokio::sync::Barrier::new(32));
        let mut tasks = Vec::new();
        for k in 0..32 {
            let (http, start, token) = (http.clone(), start.clone(), token.clone());
            let (path, notes) = if k < TIMES * UPDATES_PER_TIME {
                let uuid = &times[k % TIMES];
                (format!("/v0/times/{uuid}"), format!("r{round}-u{k}"))
            } else {
                ("/v0/times".to_owned(), format!("r{round}-c{k}"))
            };
            let url = server.url(&path);
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                let r = http
                    .post(url)
                    .json(&post_body(&token, time_object(&notes)))
                    .send()
                    .await
                    .expect("answer");
                let status = r.status().as_u16();
                let text = r.text().await.unwrap();
                (status, text, notes)
            }));
        }
        for t in tasks {
            let (status, text, notes) = t.await.unwrap();
            assert!(!text.contains("locked"), "{text}");
            assert_eq!(status, 200, "{text}");
            let v: Value = serde_json::from_str(&text).unwrap();
            acked.push(Acked {
                uuid: v["uuid"].as_str().unwrap().to_owned(),
                revision: v["revision"].as_i64().unwrap() as i32,
                notes,
            });
        }
    }
    outside_stop.store(true, Ordering::SeqCst);
    assert!(outside.await.unwrap() > 0, "the outside writer wrote");
    for uuid in &times {
        let r = http
            .get(server.url(&format!("/v0/times/{uuid}?token={token}")))
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["revision"], 1 + ROUNDS * UPDATES_PER_TIME, "{v}");
    }
    drop(server);
    assert_times_consistent(&url, &acked).await;
}

/// Commits a user per iteration through its own pool until stopped; the
/// number written.
async fn outside_writer(url: String, stop: Arc<AtomicBool>) -> usize {
    let db = Db::connect(&url.parse().unwrap()).await.unwrap();
    let mut written = 0;
    for i in 0..100_000 {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let new = NewUser {
            username: format!("outside{i}"),
            active: true,
            ..Default::default()
        };
        db.write(|tx| {
            let new = new.clone();
            async move {
                timesync::storage::users::insert(&tx, new, timesync::storage::now_millis()).await
            }
        })
        .await
        .expect("outside write");
        written += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    db.close().await;
    written
}

/// Scale-out: two server processes on one PostgreSQL database with the
/// same SECRET_KEY and INSTANCE_NAME. A token from either is accepted by
/// both, and concurrent updates of one time through both give revisions
/// 2..=n+1, each once, one per successful update (no lost update).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL installed (initdb); scripts/test.sh runs it"]
async fn two_servers_share_tokens_and_serialise_updates() {
    let pg = tokio::task::block_in_place(Postgres::start);
    let url = pg.url();
    seed(&url).await;
    let dir = tempfile::tempdir().unwrap();
    let a = Server::start(&[("DATABASE_URL", &url)], &dir.path().join("a.log"));
    let b = Server::start(&[("DATABASE_URL", &url)], &dir.path().join("b.log"));
    let http = client();
    let token_a = login(&http, &a.base, "admin", "admin").await;
    let token_b = login(&http, &b.base, "user1", "password").await;
    for (server, token) in [(&b, &token_a), (&a, &token_b)] {
        let r = http
            .get(server.url(&format!("/v0/times?token={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "a token of one instance works on the other"
        );
    }
    // A different INSTANCE_NAME is another installation: its tokens fail.
    let other = Server::start(
        &[("DATABASE_URL", &url), ("INSTANCE_NAME", "elsewhere")],
        &dir.path().join("other.log"),
    );
    let r = http
        .get(other.url(&format!("/v0/times?token={token_a}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    drop(other);

    let r = http
        .post(a.url("/v0/times"))
        .json(&post_body(&token_a, time_object("shared")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let created: Value = r.json().await.unwrap();
    let uuid = created["uuid"].as_str().unwrap().to_owned();
    let start = Arc::new(tokio::sync::Barrier::new(24));
    let mut tasks = Vec::new();
    for k in 0..24 {
        let server = if k % 2 == 0 { &a } else { &b };
        let url = server.url(&format!("/v0/times/{uuid}"));
        let (http, start, token) = (http.clone(), start.clone(), token_a.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let notes = format!("update {k}");
            let r = http
                .post(url)
                .json(&post_body(&token, time_object(&notes)))
                .send()
                .await
                .expect("answer");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap(), notes)
        }));
    }
    let mut acked = vec![faults::support::Acked {
        uuid: uuid.clone(),
        revision: 1,
        notes: "shared".into(),
    }];
    for t in tasks {
        let (status, body, notes) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        acked.push(Acked {
            uuid: uuid.clone(),
            revision: body["revision"].as_i64().unwrap() as i32,
            notes,
        });
    }
    let mut revisions: Vec<i32> = acked.iter().map(|a| a.revision).collect();
    revisions.sort();
    assert_eq!(
        revisions,
        (1..=25).collect::<Vec<i32>>(),
        "each revision once"
    );
    let r = http
        .get(b.url(&format!("/v0/times/{uuid}?token={token_a}")))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["revision"], 25, "final revision = 1 + successful updates");
    drop((a, b));
    assert_times_consistent(&url, &acked).await;
}
