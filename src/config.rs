//! Configuration, parsed once at start-up into a typed struct.
//!
//! Sources, strongest first: command-line flags, the process environment, a
//! `.env` file in the working directory (loaded by `main` before parsing).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Args;

/// A secret string whose `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// A database URL whose `Debug`/`Display` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                write!(f, "{u}")
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = [
            "sqlite:",
            "postgres://",
            "postgresql://",
            "mysql://",
            "mariadb://",
        ]
        .iter()
        .any(|p| s.starts_with(p));
        if !ok {
            return Err("expected a sqlite://, postgres:// or mysql:// URL".into());
        }
        // SeaORM knows MariaDB as MySQL.
        Ok(Self(match s.strip_prefix("mariadb://") {
            Some(rest) => format!("mysql://{rest}"),
            None => s.to_owned(),
        }))
    }
}

/// Which login types `/login` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthModules {
    pub password: bool,
    pub ldap: bool,
}

/// Settings shared by every subcommand that opens the database.
#[derive(Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://FILE, postgres://… or mysql://…
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://timesync.sqlite3"
    )]
    pub database_url: DatabaseUrl,
}

/// Settings of `timesync serve`.
#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 8000)]
    pub port: u16,
    /// Key that signs tokens, at least 32 bytes. Without it a random key is
    /// generated once and kept in the database.
    #[arg(long, env = "SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Secret>,
    /// Name of this installation; tokens of other instances are refused.
    #[arg(long, env = "INSTANCE_NAME", default_value = "timesync")]
    pub instance_name: String,
    /// JSON list of login types: "password", "ldap".
    #[arg(long, env = "TIMESYNC_AUTH_MODULES")]
    pub auth_modules: Option<String>,
    /// LDAP server, e.g. ldaps://ldap.example.org
    #[arg(long, env = "TIMESYNC_LDAP_URL")]
    pub ldap_url: Option<String>,
    /// Where users are searched, e.g. ou=People,dc=example,dc=org
    #[arg(long, env = "TIMESYNC_LDAP_SEARCH_BASE")]
    pub ldap_search_base: Option<String>,
    /// Upgrade ldap:// connections with StartTLS.
    #[arg(long, env = "TIMESYNC_LDAP_STARTTLS", default_value_t = false)]
    pub ldap_starttls: bool,
    /// DN to bind as before searching (directories refusing anonymous search).
    #[arg(long, env = "TIMESYNC_LDAP_BIND_DN")]
    pub ldap_bind_dn: Option<String>,
    /// Password of TIMESYNC_LDAP_BIND_DN.
    #[arg(long, env = "TIMESYNC_LDAP_BIND_PASSWORD", hide_env_values = true)]
    pub ldap_bind_password: Option<Secret>,
    /// Seconds an LDAP connect or operation may take.
    #[arg(long, env = "TIMESYNC_LDAP_TIMEOUT", default_value_t = 5)]
    pub ldap_timeout: u64,
    /// Page size of lists when a request sends no `limit` (0: everything).
    #[arg(long, env = "TIMESYNC_DEFAULT_LIMIT", default_value_t = 0)]
    pub default_limit: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "TIMESYNC_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Failed logins per minute, per username and per client address, before 429.
    #[arg(long, env = "TIMESYNC_LOGIN_FAILURES_PER_MINUTE", default_value_t = 10)]
    pub login_failures_per_minute: u32,
    /// Address of a separate listener serving Prometheus metrics at
    /// /metrics, e.g. 127.0.0.1:9100 (off when unset).
    #[arg(long, env = "TIMESYNC_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Skip applying migrations at start-up.
    #[arg(long)]
    pub no_migrate: bool,
    /// The address people open the web app at, e.g. https://time.example.org
    /// (https makes the session cookie `Secure`; forms must come from it).
    #[arg(long, env = "TIMESYNC_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event (coloured on a terminal).
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// Logging settings, accepted by every subcommand.
#[derive(Args, Clone, Debug, Default)]
pub struct LogArgs {
    /// Log filter in tracing's EnvFilter syntax, e.g. `info` or `warn,timesync=debug`.
    #[arg(long = "log", env = "TIMESYNC_LOG", global = true)]
    pub filter: Option<String>,
    /// Log line format.
    #[arg(long, env = "TIMESYNC_LOG_FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,
    /// Log every SQL statement with its duration (statements only, no bound values).
    #[arg(
        long,
        env = "TIMESYNC_LOG_SQL",
        global = true,
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub log_sql: bool,
}

/// LDAP settings, present when LDAP is configured.
#[derive(Clone, Debug)]
pub struct LdapConfig {
    pub url: String,
    pub search_base: String,
    pub starttls: bool,
    pub bind_dn: Option<String>,
    pub bind_password: Option<Secret>,
    pub timeout: Duration,
}

/// The validated configuration of a running server.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub bind: IpAddr,
    pub port: u16,
    /// `None`: take (or create) the key stored in the database.
    pub secret_key: Option<Secret>,
    pub instance_name: String,
    pub auth_modules: AuthModules,
    pub ldap: Option<LdapConfig>,
    pub default_limit: u64,
    pub max_body_bytes: usize,
    pub login_failures_per_minute: u32,
    /// Where `/metrics` is served; `None`: metrics are off.
    pub metrics_bind: Option<SocketAddr>,
    pub migrate: bool,
    /// `TIMESYNC_PUBLIC_URL`: origin of the web app, when configured.
    pub public_url: Option<url::Url>,
}

/// A configuration value that cannot be used; names the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

fn config_error(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        reason: reason.into(),
    }
}

/// Minimum length of `SECRET_KEY`, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Validates the raw arguments into a configuration.
    pub fn from_args(args: ServeArgs) -> Result<Self, ConfigError> {
        if let Some(key) = &args.secret_key {
            if key.expose().len() < MIN_SECRET_BYTES {
                return Err(config_error(
                    "SECRET_KEY",
                    format!("must be at least {MIN_SECRET_BYTES} bytes long"),
                ));
            }
        }
        if args.instance_name.trim().is_empty() {
            return Err(config_error("INSTANCE_NAME", "must not be empty"));
        }
        let ldap = match (&args.ldap_url, &args.ldap_search_base) {
            (Some(url), base) if !url.trim().is_empty() => {
                let parsed = url::Url::parse(url)
                    .map_err(|e| config_error("TIMESYNC_LDAP_URL", e.to_string()))?;
                if !matches!(parsed.scheme(), "ldap" | "ldaps") {
                    return Err(config_error(
                        "TIMESYNC_LDAP_URL",
                        "must start with ldap:// or ldaps://",
                    ));
                }
                let base = base
                    .clone()
                    .filter(|b| !b.trim().is_empty())
                    .ok_or_else(|| {
                        config_error(
                            "TIMESYNC_LDAP_SEARCH_BASE",
                            "must be set when TIMESYNC_LDAP_URL is set",
                        )
                    })?;
                if args.ldap_timeout == 0 {
                    return Err(config_error("TIMESYNC_LDAP_TIMEOUT", "must be at least 1"));
                }
                Some(LdapConfig {
                    url: url.clone(),
                    search_base: base,
                    starttls: args.ldap_starttls,
                    bind_dn: args.ldap_bind_dn.clone().filter(|s| !s.is_empty()),
                    bind_password: args.ldap_bind_password.clone(),
                    timeout: Duration::from_secs(args.ldap_timeout),
                })
            }
            _ => None,
        };
        let auth_modules = parse_auth_modules(args.auth_modules.as_deref(), ldap.is_some())?;
        if args.max_body_bytes == 0 {
            return Err(config_error("TIMESYNC_MAX_BODY_BYTES", "must be positive"));
        }
        let public_url = match args.public_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                let url = url::Url::parse(raw)
                    .map_err(|e| config_error("TIMESYNC_PUBLIC_URL", e.to_string()))?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(config_error(
                        "TIMESYNC_PUBLIC_URL",
                        "must be an http:// or https:// URL with a host",
                    ));
                }
                Some(url)
            }
        };
        Ok(Self {
            database_url: args.database.database_url,
            bind: args.bind,
            port: args.port,
            secret_key: args.secret_key,
            instance_name: args.instance_name,
            auth_modules,
            ldap,
            default_limit: args.default_limit,
            max_body_bytes: args.max_body_bytes,
            login_failures_per_minute: args.login_failures_per_minute,
            metrics_bind: args.metrics_bind,
            migrate: !args.no_migrate,
            public_url,
        })
    }
}

/// `TIMESYNC_AUTH_MODULES`: a JSON list. Unset or empty means `password`,
/// plus `ldap` when LDAP is configured; unknown names are ignored with a warning.
pub fn parse_auth_modules(
    raw: Option<&str>,
    ldap_configured: bool,
) -> Result<AuthModules, ConfigError> {
    let default = AuthModules {
        password: true,
        ldap: ldap_configured,
    };
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(default);
    };
    let names: Vec<String> = serde_json::from_str(raw).map_err(|_| {
        config_error(
            "TIMESYNC_AUTH_MODULES",
            "must be a JSON list of strings, e.g. [\"password\",\"ldap\"]",
        )
    })?;
    if names.is_empty() {
        return Ok(default);
    }
    let mut modules = AuthModules {
        password: false,
        ldap: false,
    };
    for name in names {
        match name.as_str() {
            "password" => modules.password = true,
            "ldap" => modules.ldap = true,
            other => tracing::warn!(module = other, "ignoring unknown authentication module"),
        }
    }
    if modules.ldap && !ldap_configured {
        return Err(config_error(
            "TIMESYNC_AUTH_MODULES",
            "lists ldap but TIMESYNC_LDAP_URL is not set",
        ));
    }
    Ok(modules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_modules_default_and_parse() {
        assert_eq!(
            parse_auth_modules(None, false).unwrap(),
            AuthModules {
                password: true,
                ldap: false
            }
        );
        assert_eq!(
            parse_auth_modules(Some(""), true).unwrap(),
            AuthModules {
                password: true,
                ldap: true
            }
        );
        assert_eq!(
            parse_auth_modules(Some(r#"["ldap","bogus"]"#), true).unwrap(),
            AuthModules {
                password: false,
                ldap: true
            }
        );
        assert!(parse_auth_modules(Some("password"), false).is_err());
    }

    #[test]
    fn database_url_hides_password() {
        let url: DatabaseUrl = "postgres://u:hunter2@h/db".parse().unwrap();
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!(!url.to_string().contains("hunter2"));
        assert!("http://x".parse::<DatabaseUrl>().is_err());
        let m: DatabaseUrl = "mariadb://u:p@h/db".parse().unwrap();
        assert_eq!(m.expose(), "mysql://u:p@h/db");
    }
}
