//! What the command lines over a mirror share (`pledgeroll-indexer`,
//! `pledgeroll-directory`, `pledgeroll-sandbox up`): where the mirror is,
//! logging and one line of error, and stopping on Ctrl-C or SIGTERM.

use std::fmt::Display;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tracing_subscriber::EnvFilter;

use crate::db::DbConfig;
use crate::error::IndexError;

/// Where the mirror is: a database URL, or the default SQLite file.
#[derive(Debug, Args, Clone)]
pub struct MirrorArgs {
    /// The mirror's database: postgres://… or sqlite:… (default: a SQLite
    /// file in --data-dir).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where the default SQLite mirror lives (default: ~/.pledgeroll/indexer).
    #[arg(long, env = "PLEDGEROLL_INDEXER_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The Postgres schema to keep the mirror in (created if missing).
    #[arg(long)]
    pub schema: Option<String>,
}

impl MirrorArgs {
    /// The mirror's database settings; the default SQLite file's directory
    /// is created if missing.
    pub fn database(&self) -> Result<DbConfig, IndexError> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => {
                let dir = match &self.data_dir {
                    Some(d) => d.clone(),
                    None => std::env::var_os("HOME")
                        .map(|h| PathBuf::from(h).join(".pledgeroll").join("indexer"))
                        .ok_or_else(|| {
                            IndexError::Config(
                                "no home directory: give --data-dir or --database-url".into(),
                            )
                        })?,
                };
                std::fs::create_dir_all(&dir).map_err(|e| {
                    IndexError::Config(format!(
                        "cannot create the data directory {}: {e}",
                        dir.display()
                    ))
                })?;
                format!("sqlite://{}", dir.join("mirror.sqlite").display())
            }
        };
        let mut config = DbConfig::new(url);
        config.schema = self.schema.clone();
        Ok(config)
    }
}

/// Resolves when the process is asked to stop (Ctrl-C, or SIGTERM).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs a command's `main` on a new async runtime, logging to stderr
/// (`info`, sqlx at `warn`, unless `RUST_LOG` says otherwise): `Ok(true)`
/// exits 0, `Ok(false)` 1, and an error prints one line and exits 1.
pub fn run_command<E: Display>(main: impl Future<Output = Result<bool, E>>) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(main) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
