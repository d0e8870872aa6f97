//! The `timesync` command line: one function per subcommand.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::app::{shutdown_signal, Application};
use crate::config::{Config, DatabaseArgs, DatabaseUrl, LogArgs, ServeArgs};
use crate::domain::accounts;
use crate::progress::{ProgressArgs, Unit};
use crate::storage::Db;
use crate::transfer;

#[derive(Parser, Debug)]
#[command(
    name = "timesync",
    version,
    about = "TimeSync time-tracking API server"
)]
pub struct Cli {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Parses the command line (with the environment and `.env` behind the
/// flags). On a bad value that came from the environment, the message names
/// the variable rather than the flag the user never typed.
pub fn parse() -> Result<Cli, ExitCode> {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command();
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|m| Cli::from_arg_matches(&m));
    parsed.map_err(|e| {
        if let Some(message) = env_value_error(&command, &e) {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
        let _ = e.print();
        ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
    })
}

/// `invalid PORT: …` when the rejected value is the one the environment
/// variable behind the flag holds (and the flag itself was not given).
fn env_value_error(command: &clap::Command, e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        e.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        return None;
    }
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let flag = text(ContextKind::InvalidArg)?;
    let value = text(ContextKind::InvalidValue)?;
    let long = flag
        .split_whitespace()
        .next()?
        .strip_prefix("--")?
        .to_owned();
    let typed =
        std::env::args().any(|a| a == format!("--{long}") || a.starts_with(&format!("--{long}=")));
    let variable = all_args(command)
        .find(|a| a.get_long() == Some(long.as_str()))?
        .get_env()?
        .to_str()?
        .to_owned();
    if typed || std::env::var(&variable).ok()? != value {
        return None;
    }
    let reason = std::error::Error::source(e)
        .map(|s| format!(": {s}"))
        .or_else(|| {
            let valid = e.get(ContextKind::ValidValue)?;
            Some(format!(" (expected one of {valid})"))
        })
        .unwrap_or_default();
    Some(format!("invalid {variable} '{value}'{reason}"))
}

fn all_args(command: &clap::Command) -> Box<dyn Iterator<Item = &clap::Arg> + '_> {
    Box::new(
        command
            .get_arguments()
            .chain(command.get_subcommands().flat_map(all_args)),
    )
}

#[derive(Subcommand, Debug)]
// Parsed once per process: the size of the `serve` settings does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Apply migrations (unless --no-migrate), then serve the API.
    Serve(ServeArgs),
    /// Bring the database schema up to date and print what was applied.
    Migrate(DatabaseArgs),
    /// Create a site-admin account; prompts for what is missing.
    CreateAccount(CreateAccountArgs),
    /// Fill an empty database with a reproducible data set (benchmarks, demos).
    Seed(SeedCommandArgs),
    /// Write the whole database as one versioned JSON document (a backup).
    Export(ExportArgs),
    /// Restore an export document into an empty database, all or nothing.
    Import(ImportArgs),
    /// Move a timesync-node database into the (empty) configured database.
    ImportNode(ImportNodeArgs),
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// File to write (standard output when missing).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub progress: ProgressArgs,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Export document to read ("-" for standard input).
    pub file: PathBuf,
    #[command(flatten)]
    pub progress: ProgressArgs,
}

#[derive(Args, Debug)]
pub struct ImportNodeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The timesync-node database: a SQLite file or sqlite:, postgres:// or mysql:// URL.
    #[arg(long)]
    pub from: String,
    #[command(flatten)]
    pub progress: ProgressArgs,
}

#[derive(Args, Debug)]
pub struct SeedCommandArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub seed: crate::seed::SeedArgs,
    #[command(flatten)]
    pub progress: ProgressArgs,
}

#[derive(Args, Debug)]
pub struct CreateAccountArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Username of the new account.
    #[arg(short = 'u', long = "user", alias = "username")]
    pub user: Option<String>,
    /// Password of the new account (prompted without echo when missing).
    #[arg(short = 'p', long)]
    pub password: Option<String>,
}

pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::CreateAccount(args) => create_account(args).await,
        Command::Seed(args) => seed(args).await,
        Command::Export(args) => export(args).await,
        Command::Import(args) => import(args).await,
        Command::ImportNode(args) => import_node(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each said once: drivers often
/// repeat their cause in their own message.
pub fn describe(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Opens the database of a command after checking that it can be reached.
async fn open(url: &DatabaseUrl) -> anyhow::Result<Db> {
    crate::preflight::check_database(url).await?;
    Db::connect(url).await
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::from_args(args)?;
    tracing::info!(database = %config.database_url, "starting");
    let app = Application::build(config).await?;
    for name in &app.applied_migrations {
        tracing::info!(migration = %name, "applied migration");
    }
    let mut banner = String::new();
    if let Some(password) = &app.initial_root_password {
        // Shown once, on stdout only (never logged).
        banner.push_str(&format!(
            "Created the site-admin account 'root' with password: {password}\n\
             Log in and change it; it will not be shown again.\n"
        ));
    }
    let addr = app.local_addr();
    tracing::info!(%addr, "listening");
    banner.push_str(&format!(
        "Listening on http://{addr}\n  web app:  http://{addr}/\n  \
         API docs: http://{addr}/docs (OpenAPI: http://{addr}/v0/openapi.json)\n"
    ));
    if let Some(metrics) = app.metrics_addr() {
        tracing::info!(addr = %metrics, "serving metrics");
        banner.push_str(&format!("  metrics:  http://{metrics}/metrics\n"));
    }
    // Not println!: a reader that went away (a closed pipe) must not stop the server.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    app.run_until(shutdown_signal()).await
}

async fn migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    let db = open(&args.database_url).await?;
    let applied = db.migrate().await?;
    if applied.is_empty() {
        println!("The database schema is up to date.");
    }
    for name in applied {
        println!("Applied {name}");
    }
    db.close().await;
    Ok(())
}

fn prompt(question: &str) -> anyhow::Result<String> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn create_account(args: CreateAccountArgs) -> anyhow::Result<()> {
    let username = match args.user {
        Some(u) => u,
        None => prompt("Username: ")?,
    };
    let password = match args.password {
        Some(p) => p,
        None if std::io::stdin().is_terminal() => {
            let first = rpassword::prompt_password("Password: ")?;
            let again = rpassword::prompt_password("Password (again): ")?;
            anyhow::ensure!(first == again, "the passwords do not match");
            first
        }
        None => prompt("Password: ")?,
    };
    let db = open(&args.database.database_url).await?;
    db.migrate().await?;
    let result = accounts::create_site_admin(&db, &username, &password).await;
    db.close().await;
    result.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("Created the site-admin account '{username}'.");
    Ok(())
}

async fn seed(args: SeedCommandArgs) -> anyhow::Result<()> {
    let created = transfer::NewSqliteFile::before_connect(&args.database.database_url);
    let db = open(&args.database.database_url).await?;
    db.migrate().await?;
    let started = std::time::Instant::now();
    let progress = args.progress.start("seed", Unit::Items("times"));
    let result = crate::seed::seed(&db, &args.seed, &progress).await;
    progress.finish();
    db.close().await;
    if result.is_err() {
        created.remove();
    }
    let report = result?;
    println!(
        "Seeded {} users, {} activities, {} projects, {} times ({} time revisions) in {:.1} s.",
        report.users,
        report.activities,
        report.projects,
        report.times,
        report.time_revisions,
        started.elapsed().as_secs_f64()
    );
    println!(
        "Site admin: admin / {}; users user1…user{}: password \"password\".",
        args.seed.admin_password, args.seed.users
    );
    Ok(())
}

async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let db = open(&args.database.database_url).await?;
    let progress = args.progress.start("export", Unit::Items("rows"));
    let result = match &args.output {
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            transfer::export::export(&db, &mut out, &progress).await
        }
        Some(path) => {
            // Written aside and renamed, so a failed export leaves no half file.
            let mut partial = path.as_os_str().to_owned();
            partial.push(".partial");
            let partial = PathBuf::from(partial);
            let file = std::fs::File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?;
            let mut out = std::io::BufWriter::new(file);
            let result = transfer::export::export(&db, &mut out, &progress).await;
            drop(out);
            match result {
                Ok(counts) => {
                    std::fs::rename(&partial, path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    Ok(counts)
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    Err(e)
                }
            }
        }
    };
    progress.finish();
    db.close().await;
    for (table, n) in result? {
        eprintln!("exported {}: {n}", table.name());
    }
    Ok(())
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let progress = args.progress.start("import", Unit::Bytes);
    let input: Box<dyn std::io::Read + Send> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        if let Some(size) = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
        {
            progress.set_length(size);
        }
        Box::new(file)
    };
    let input = progress.wrap_read(input);
    let created = transfer::NewSqliteFile::before_connect(&args.database.database_url);
    let db = open(&args.database.database_url).await?;
    let result = async {
        db.migrate().await?;
        transfer::import::import(&db, input, &progress).await
    }
    .await;
    progress.finish();
    db.close().await;
    if result.is_err() {
        created.remove();
    }
    for (table, n) in result? {
        println!("imported {}: {n}", table.name());
    }
    Ok(())
}

async fn import_node(args: ImportNodeArgs) -> anyhow::Result<()> {
    let created = transfer::NewSqliteFile::before_connect(&args.database.database_url);
    let db = open(&args.database.database_url).await?;
    let progress = args.progress.start("import-node", Unit::Items("rows"));
    let result = async {
        db.migrate().await?;
        transfer::node::import_node(&db, &args.from, &progress).await
    }
    .await;
    progress.finish();
    db.close().await;
    if result.is_err() {
        created.remove();
    }
    println!("Imported from timesync-node:\n{}", result?);
    Ok(())
}
