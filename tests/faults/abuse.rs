//! Abuse: login throttling per username and per client address, body,
//! header and query-string limits, slow clients, and SQL injection in every
//! query parameter and path segment of the read endpoints.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::support::{client, login, post_body, seed, time_object, Postgres, Server};
use timesync::storage::entities::{activity, project, time, time_activity, user};
use timesync::storage::Db;

/// A seeded SQLite database and a server on it with extra `env`.
async fn seeded_server(
    dir: &tempfile::TempDir,
    times: usize,
    env: &[(&str, &str)],
) -> (Server, String) {
    let url = format!("sqlite://{}", dir.path().join("ts.sqlite3").display());
    (seeded_server_on(&url, dir, times, env).await, url)
}

/// Seeds the fresh database `url` (plus `times` times) and starts a
/// server on it with extra `env`.
async fn seeded_server_on(
    url: &str,
    dir: &tempfile::TempDir,
    times: usize,
    env: &[(&str, &str)],
) -> Server {
    seed(url).await;
    let mut all = vec![("DATABASE_URL", url)];
    all.extend_from_slice(env);
    let server = Server::start(&all, &dir.path().join("server.log"));
    if times > 0 {
        // A few times to find (or not) through the injection attempts.
        let http = client();
        let token = login(&http, &server.base, "admin", "admin").await;
        for i in 0..times {
            let r = http
                .post(server.url("/v0/times"))
                .json(&post_body(&token, time_object(&format!("time {i}"))))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    }
    server
}

/// A client whose connections come from the loopback address `from`
/// (Linux routes all of 127.0.0.0/8 to lo).
fn client_from(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

async fn try_login(
    http: &reqwest::Client,
    server: &Server,
    user: &str,
    password: &str,
) -> (u16, Option<String>, Value) {
    let body = json!({"auth": {"type": "password", "username": user, "password": password}});
    let r = http
        .post(server.url("/v0/login"))
        .header("x-forwarded-for", "203.0.113.7")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, r.json().await.unwrap())
}

#[track_caller]
fn assert_throttled((status, retry, body): &(u16, Option<String>, Value)) {
    assert_eq!(*status, 429, "{body}");
    assert_eq!(body["error"], "Too many requests", "{body}");
    let secs: u64 = retry.as_deref().expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
}

/// After TIMESYNC_LOGIN_FAILURES_PER_MINUTE failures for one username,
/// that username is refused from any address (even with its password),
/// and after as many failures from one address, every login from that
/// address is refused; others are not. X-Forwarded-For changes nothing
/// (the server throttles the peer address it sees).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_throttling_per_username_and_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = seeded_server(&dir, 0, &[("TIMESYNC_LOGIN_FAILURES_PER_MINUTE", "3")]).await;
    let (a, b, c, d) = (
        client_from("127.0.0.2"),
        client_from("127.0.0.3"),
        client_from("127.0.0.4"),
        client_from("127.0.0.5"),
    );
    for _ in 0..3 {
        let (status, _, body) = try_login(&a, &server, "user1", "wrong").await;
        assert_eq!(status, 401, "{body}");
    }
    assert_throttled(&try_login(&a, &server, "user1", "wrong").await);
    // Per username: the right password from another address is refused.
    assert_throttled(&try_login(&b, &server, "user1", "password").await);
    assert_throttled(&try_login(&b, &server, "USER1", "password").await);
    // That address is not throttled for other usernames.
    assert_eq!(try_login(&b, &server, "user2", "password").await.0, 200);

    // Per address: failures for three different usernames from c.
    for name in ["ghost1", "ghost2", "ghost3"] {
        assert_eq!(try_login(&c, &server, name, "nope").await.0, 401);
    }
    assert_throttled(&try_login(&c, &server, "admin", "admin").await);
    assert_eq!(try_login(&d, &server, "admin", "admin").await.0, 200);
}

/// Writes `request` on a fresh connection and reads the answer until the
/// server closes it or `limit` passes; the raw answer.
async fn raw(server: &Server, request: &[u8], limit: Duration) -> String {
    let addr = server.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    // The server may answer (and close) before reading all of a huge request.
    let _ = s.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(limit, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn healthy(server: &Server) {
    let r = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "the server survives");
}

/// Oversized bodies (with a length or chunked), a huge header, too many
/// headers, and an oversized query string get clean 4xx answers, and the
/// server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_header_and_query_limits() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = seeded_server(&dir, 0, &[("TIMESYNC_MAX_BODY_BYTES", "65536")]).await;
    let http = client();
    let token = login(&http, &server.base, "admin", "admin").await;

    let mut object = time_object("x");
    object["notes"] = json!("n".repeat(100_000));
    let r = http
        .post(server.url("/v0/times"))
        .json(&post_body(&token, object))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 413, "{body}");

    // Chunked: no Content-Length to refuse up front.
    let chunk = "a".repeat(16 * 1024);
    let mut request =
        b"POST /v0/times HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..8 {
        request.extend(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
    }
    request.extend(b"0\r\n\r\n");
    let answer = raw(&server, &request, Duration::from_secs(15)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: {}\r\nConnection: close\r\n\r\n",
        "h".repeat(1024 * 1024)
    );
    let answer = raw(&server, huge.as_bytes(), Duration::from_secs(15)).await;
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "huge header: {answer:.200}"
    );
    healthy(&server).await;

    let mut many = String::from("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for i in 0..500 {
        many.push_str(&format!("X-Header-{i}: v\r\n"));
    }
    many.push_str("Connection: close\r\n\r\n");
    let answer = raw(&server, many.as_bytes(), Duration::from_secs(15)).await;
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "many headers: {answer:.200}"
    );
    healthy(&server).await;

    let long = "a".repeat(9 * 1024);
    let r = http
        .get(server.url(&format!("/v0/times?token={token}&notes={long}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "Bad query value", "{body}");
    healthy(&server).await;
}

/// A client that sends its headers and then trickles the body is cut off
/// by the request timeout (30 s) instead of holding the request forever;
/// the server keeps serving others meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_body_is_cut_off_by_the_request_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = seeded_server(&dir, 0, &[]).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(
        b"POST /v0/times HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let (mut rd, mut wr) = s.into_split();
    let trickle = tokio::spawn(async move {
        // One byte every 200 ms: 100000 bytes would take hours.
        for _ in 0..400 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if wr.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    healthy(&server).await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(45), async {
        let mut buf = [0u8; 4096];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    if out.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    trickle.abort();
    assert!(read.is_ok(), "the slow request was not cut off within 45 s");
    let elapsed = started.elapsed();
    let answer = String::from_utf8_lossy(&out);
    // The request timeout's answer: a Server error (the transaction, if
    // any, is dropped with the request).
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
    assert!(
        elapsed >= Duration::from_secs(25),
        "cut off after {elapsed:?}"
    );
    healthy(&server).await;
}

/// Reads from `stream` until the server closes it (or `limit` passes);
/// the time that took.
async fn closed_within(
    stream: &mut tokio::net::tcp::OwnedReadHalf,
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(limit, async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await
    .ok()
    .map(|()| started.elapsed())
}

/// A client trickling its headers (slowloris), or opening a connection and
/// sending nothing, is disconnected after the header read timeout (10 s);
/// the server keeps serving others meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_idle_connections_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = seeded_server(&dir, 0, &[]).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let trickling = TcpStream::connect(&addr).await.unwrap();
    let idle = TcpStream::connect(&addr).await.unwrap();
    let (mut trickle_rd, mut trickle_wr) = trickling.into_split();
    let (mut idle_rd, _idle_wr) = idle.into_split();
    trickle_wr
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for i in 0..200 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if trickle_wr
                .write_all(format!("X-{i}: v\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    });
    healthy(&server).await;
    let (slow, quiet) = tokio::join!(
        closed_within(&mut trickle_rd, Duration::from_secs(25)),
        closed_within(&mut idle_rd, Duration::from_secs(25)),
    );
    trickle.abort();
    let slow = slow.expect("a client trickling headers is disconnected");
    let quiet = quiet.expect("an idle connection is disconnected");
    assert!(slow >= Duration::from_secs(8), "{slow:?}");
    assert!(quiet >= Duration::from_secs(8), "{quiet:?}");
    healthy(&server).await;
}

/// Row counts of the tables the injections aim at.
async fn table_counts(url: &str) -> [u64; 5] {
    let db = Db::connect(&url.parse().unwrap()).await.unwrap();
    let c = db.conn();
    let counts = [
        user::Entity::find().count(c).await.unwrap(),
        time::Entity::find().count(c).await.unwrap(),
        time_activity::Entity::find().count(c).await.unwrap(),
        project::Entity::find().count(c).await.unwrap(),
        activity::Entity::find().count(c).await.unwrap(),
    ];
    db.close().await;
    counts
}

const INJECTIONS: &[&str] = &[
    "' OR 1=1 --",
    "\"; DROP TABLE times; --",
    "%27",
    "%27%20OR%20%271%27%3D%271",
    "1; DELETE FROM users",
    "') OR ('1'='1",
    "admin'--",
    "\\'; SELECT pg_sleep(10); --",
    "ünïcødé' ∀ 🚀 \u{202e}",
    "nul\u{0}byte",
    "1 UNION SELECT password FROM users",
];

/// SQL injection in every query parameter and path segment of the list
/// and get endpoints is inert: the answer is a well-formed 400/404 error
/// object or a list without the rows it tried to reach, and the tables
/// are intact afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_injection_in_parameters_and_paths_is_inert() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url) = seeded_server(&dir, 3, &[]).await;
    injections_are_inert(&server, &url).await;
}

/// The same on PostgreSQL, which refuses some text SQLite takes (NUL bytes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL installed (initdb); scripts/test.sh runs it"]
async fn sql_injection_in_parameters_and_paths_is_inert_on_postgres() {
    let pg = tokio::task::block_in_place(Postgres::start);
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server_on(&pg.url(), &dir, 3, &[]).await;
    injections_are_inert(&server, &pg.url()).await;
}

async fn injections_are_inert(server: &Server, url: &str) {
    let http = client();
    let token = login(&http, &server.base, "admin", "admin").await;
    let before = table_counts(url).await;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();

    // (list path, query parameters it reads)
    let lists: &[(&str, &[&str])] = &[
        (
            "/v0/times",
            &[
                "user",
                "project",
                "activity",
                "start",
                "end",
                "include_deleted",
                "include_revisions",
                "since",
                "skip",
                "limit",
            ],
        ),
        (
            "/v0/users",
            &["role", "include_deleted", "since", "skip", "limit"],
        ),
        ("/v0/users/org-roles", &["skip", "limit"]),
        (
            "/v0/projects",
            &[
                "user",
                "include_deleted",
                "include_revisions",
                "since",
                "skip",
                "limit",
            ],
        ),
        (
            "/v0/activities",
            &[
                "include_deleted",
                "include_revisions",
                "since",
                "skip",
                "limit",
            ],
        ),
        (
            "/v0/reports/summary",
            &[
                "group_by", "user", "project", "activity", "start", "end", "format",
            ],
        ),
    ];
    // Filters that name things: an injected value matches nothing.
    let filters = ["user", "project", "activity", "start", "end", "role"];
    let mut checked = 0;
    for (path, params) in lists {
        let r = http
            .get(server.url(&format!("{path}?token={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path} answers without injection");
        for param in *params {
            for inj in INJECTIONS {
                // Both the percent-encoded value and the raw `%27` forms.
                for value in [enc(inj), inj.replace(' ', "%20")] {
                    let target = format!("{path}?token={token}&{param}={value}");
                    let r = http.get(server.url(&target)).send().await.unwrap();
                    let status = r.status().as_u16();
                    let body: Value = r.json().await.unwrap_or(Value::Null);
                    checked += 1;
                    assert!(status < 500, "{target}: {status} {body}");
                    if status >= 400 {
                        assert_eq!(body["status"], status, "{target}: {body}");
                        assert!(body["error"].is_string(), "{target}: {body}");
                    } else if filters.contains(param) && path.ends_with("/summary") {
                        assert_eq!(body["rows"], json!([]), "{target} matched rows");
                    } else if filters.contains(param) {
                        assert_eq!(body, json!([]), "{target} matched rows");
                    }
                }
            }
        }
    }
    let items = [
        "/v0/times/",
        "/v0/users/",
        "/v0/users/org-roles/",
        "/v0/projects/",
        "/v0/activities/",
    ];
    for prefix in items {
        for inj in INJECTIONS {
            let segment = url::form_urlencoded::byte_serialize(inj.as_bytes())
                .collect::<String>()
                .replace('+', "%20");
            let target = format!("{prefix}{segment}?token={token}");
            let r = http.get(server.url(&target)).send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            checked += 1;
            assert!(status == 400 || status == 404, "{target}: {status} {body}");
            assert_eq!(body["status"], status, "{target}: {body}");
            assert!(body["error"].is_string(), "{target}: {body}");
        }
    }
    assert!(checked > 500);
    assert_eq!(table_counts(url).await, before, "tables intact");
    let r = http
        .get(server.url(&format!("/v0/times?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        3
    );
}
