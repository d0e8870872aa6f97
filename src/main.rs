use std::process::ExitCode;

fn main() -> ExitCode {
    limit_malloc_arenas();
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

/// Caps glibc's malloc at two arenas per core (unless `MALLOC_ARENA_MAX`
/// says otherwise), before the runtime starts its threads. glibc's own cap
/// is eight per core: every thread that meets a locked arena may get one
/// of its own (the runtime's workers, the database driver's threads, the
/// bcrypt threads), and each arena keeps the memory freed into it. On two
/// cores, four arenas took the benchmark's peak RSS from 63 to 49 MiB with
/// reads as fast as before; two arenas (42 MiB) cost reads ~6 %
/// (bench/results.md).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = i32::try_from(2 * cores).unwrap_or(i32::MAX);
        // SAFETY: mallopt only sets a parameter of the allocator, and it
        // runs before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
