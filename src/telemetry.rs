//! Logging set-up: the filter (`TIMESYNC_LOG`), the line format
//! (`TIMESYNC_LOG_FORMAT`: human or JSON) and colour (only on a terminal,
//! never with `NO_COLOR`). Log lines go to standard error.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{ConfigError, LogArgs, LogFormat};

/// The filter when `TIMESYNC_LOG` is unset: our events at info, the
/// database drivers only when something is wrong.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn";

/// The statement log of the SQL driver (see `TIMESYNC_LOG_SQL`).
const SQL_DIRECTIVE: &str = "sqlx::query=info";

/// The filter `args` ask for; an invalid one is a configuration error
/// rather than being silently replaced by the default.
pub fn filter(args: &LogArgs) -> Result<EnvFilter, ConfigError> {
    let mut directives = args
        .filter
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .unwrap_or(DEFAULT_FILTER)
        .to_owned();
    if args.log_sql {
        // More specific than `sqlx=…`, so it wins whatever the filter says.
        directives.push(',');
        directives.push_str(SQL_DIRECTIVE);
    }
    EnvFilter::builder()
        .parse(&directives)
        .map_err(|e| ConfigError {
            variable: "TIMESYNC_LOG",
            reason: format!("{e} (expected e.g. `info` or `warn,timesync=debug`)"),
        })
}

/// Whether log lines may carry colour codes: only on a terminal, and not
/// when `NO_COLOR` is set to anything (<https://no-color.org>).
pub fn use_colour(on_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    on_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber. Call once, before anything logs.
pub fn init_logging(args: &LogArgs) -> Result<(), ConfigError> {
    let filter = filter(args)?;
    let colour = use_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format.unwrap_or_default() {
        LogFormat::Human => builder.with_ansi(colour).init(),
        LogFormat::Json => builder
            .json()
            // Fields at the top level; the request id of the enclosing
            // request span under "span".
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(use_colour(true, Some("".as_ref())));
        assert!(!use_colour(true, Some("1".as_ref())));
        assert!(!use_colour(false, None));
    }

    #[test]
    fn invalid_filters_are_refused_and_log_sql_adds_the_driver() {
        let args = |f: &str, sql: bool| LogArgs {
            filter: Some(f.into()),
            log_format: None,
            log_sql: sql,
        };
        assert!(filter(&args("info,sqlx=warn", false)).is_ok());
        let err = filter(&args("info,=bogus=", false)).unwrap_err();
        assert_eq!(err.variable, "TIMESYNC_LOG");
        let with_sql = filter(&args("warn", true)).unwrap().to_string();
        assert!(with_sql.contains("sqlx::query=info"), "{with_sql}");
        assert!(filter(&LogArgs::default()).is_ok());
    }
}
