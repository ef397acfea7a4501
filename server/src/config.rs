//! Command line and environment configuration.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

/// Clearance: a live launch clearance register.
///
/// Every option can also be set through the environment variable shown.
// No `Debug`: the struct holds the database URL, which may carry a password.
#[derive(Parser)]
#[command(name = "server", version, about)]
pub struct Cli {
    /// Register file (TOML). Without it the embedded Thesmios register is served.
    #[arg(long, env = "CLEARANCE_REGISTER", global = true, value_name = "PATH")]
    pub register: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the register over HTTP (the default).
    Serve,
    /// Validate the register file and print what it declares; exit 1 if invalid.
    CheckRegister,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    database_url: Option<String>,

    /// Seconds between readings of the readiness source.
    #[arg(long, env = "CLEARANCE_REFRESH_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    refresh_secs: u64,

    /// Largest number of pooled PostgreSQL connections.
    #[arg(long, env = "CLEARANCE_DB_MAX_CONNECTIONS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_connections: u32,
}

impl ServeArgs {
    pub fn database_url(&self) -> Option<SecretString> {
        self.database_url.clone().map(SecretString::from)
    }

    pub fn refresh_interval(&self) -> Duration {
        Duration::from_secs(self.refresh_secs)
    }
}
