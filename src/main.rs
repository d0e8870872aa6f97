use std::process::ExitCode;

fn main() -> ExitCode {
    // A `.env` file fills in what the real environment does not set.
    let _ = dotenvy::dotenv();
    let cli = match timesync::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    if let Err(e) = timesync::telemetry::init_logging(&cli.log) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    // Storage reads TIMESYNC_LOG_SQL when it opens the pool; the flag sets
    // it here, before any other thread exists.
    if cli.log.log_sql {
        std::env::set_var("TIMESYNC_LOG_SQL", "1");
    } else {
        std::env::remove_var("TIMESYNC_LOG_SQL");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(timesync::cli::run(cli))
}
