//! Building and running the server: `Application::build` checks and opens
//! the database (locking a SQLite file against a second server), migrates,
//! resolves the token key and binds the port (0 picks a free one, which
//! tests use) and, when asked, the metrics port, so callers and tests run
//! the real thing.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
use crate::domain::accounts;
use crate::domain::throttle::LoginThrottle;
use crate::domain::tokens::Tokens;
use crate::http::middleware::HEADER_READ_TIMEOUT;
use crate::http::{api_router, AppState};
use crate::monitoring;
use crate::preflight::{self, SqliteServeLock};
use crate::storage::{settings, Db};

pub struct Application {
    listener: TcpListener,
    /// The separate `/metrics` listener, when metrics are on.
    metrics: Option<(TcpListener, PrometheusHandle)>,
    state: AppState,
    /// Held while serving a SQLite file.
    _sqlite_lock: Option<SqliteServeLock>,
    /// Password of the `root` account created on first run, to show once.
    pub initial_root_password: Option<String>,
    /// Migrations applied by this start.
    pub applied_migrations: Vec<String>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        preflight::check_database(&config.database_url).await?;
        let db = Db::connect(&config.database_url).await?;
        let sqlite_lock = match preflight::sqlite_file(&config.database_url)? {
            Some(file) if config.database_url.is_sqlite() => Some(SqliteServeLock::acquire(&file)?),
            _ => None,
        };
        let applied_migrations = if config.migrate {
            db.migrate().await?
        } else {
            Vec::new()
        };
        let secret = match &config.secret_key {
            Some(key) => key.expose().as_bytes().to_vec(),
            None => {
                let generated = accounts::random_password(64);
                let stored =
                    settings::get_or_insert(db.conn(), settings::SECRET_KEY, generated.clone())
                        .await
                        .context("storing the generated SECRET_KEY")?;
                if stored == generated {
                    tracing::warn!("SECRET_KEY is not set: generated a random key and stored it in the database");
                } else {
                    tracing::info!("SECRET_KEY is not set: using the key stored in the database");
                }
                stored.into_bytes()
            }
        };
        let tokens = Tokens::new(&secret, &config.instance_name);
        let initial_root_password = accounts::ensure_first_account(&db)
            .await
            .map_err(|e| anyhow::anyhow!("creating the first account: {e}"))?;
        let listener = TcpListener::bind((config.bind, config.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", config.bind, config.port))?;
        let metrics = match config.metrics_bind {
            Some(addr) => {
                let listener = TcpListener::bind(addr).await.with_context(|| {
                    format!("cannot listen on {addr} (TIMESYNC_METRICS_BIND) for metrics")
                })?;
                Some((listener, monitoring::install()?))
            }
            None => None,
        };
        let state = AppState {
            db,
            caches: Arc::default(),
            tokens,
            throttle: Arc::new(LoginThrottle::new(config.login_failures_per_minute)),
            config: Arc::new(config),
        };
        Ok(Self {
            listener,
            metrics,
            state,
            _sqlite_lock: sqlite_lock,
            initial_root_password,
            applied_migrations,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Address of the metrics listener, when metrics are on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .map(|(l, _)| l.local_addr().expect("bound listener has an address"))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting, closes
    /// idle connections and finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let db = self.state.db.clone();
        // Dropped (so aborted) when serving ends.
        let mut metrics = tokio::task::JoinSet::new();
        if let Some((listener, handle)) = self.metrics {
            metrics.spawn(monitoring::serve(listener, handle, db.clone()));
        }
        let app = api_router(self.state);
        serve(self.listener, app, shutdown).await;
        drop(metrics);
        db.close().await;
        Ok(())
    }
}

/// The accept loop. Unlike `axum::serve`, it gives hyper a timer so that
/// `HEADER_READ_TIMEOUT` applies: a connection that does not deliver a
/// request's headers in time is closed.
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // E.g. out of file descriptors: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req)
        });
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(());
    while connections.join_next().await.is_some() {}
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
