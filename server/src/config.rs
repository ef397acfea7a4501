//! Command line and environment configuration.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

use app::domain::register::ReadinessSettings;

/// Clearance: a live launch clearance register.
///
/// Every option can also be set through the environment variable shown.
// No `Debug`: the struct holds the database URL and the API token.
#[derive(Parser)]
#[command(name = "server", version, about)]
pub struct Cli {
    /// Register file (TOML). Without it the embedded Thesmios register is served.
    #[arg(long, env = "CLEARANCE_REGISTER", global = true, value_name = "PATH")]
    pub register: Option<PathBuf>,

    /// PostgreSQL connection URL the server serves with: a login role in the group
    /// `clearance_server`, which may not change the ledgers (docs/security.md).
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        global = true,
        value_name = "URL"
    )]
    database_url: Option<String>,

    /// Largest number of pooled PostgreSQL connections.
    #[arg(long, env = "CLEARANCE_DB_MAX_CONNECTIONS", default_value_t = 10, global = true, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_connections: u32,

    /// Development only: serve even as a superuser, a BYPASSRLS role or the
    /// tables' owner (with a loud warning), and migrate at start as before; the
    /// commands migrate too. Never in production: the ledgers' rows could be
    /// rewritten.
    #[arg(long, env = "CLEARANCE_DEV_ALLOW_OWNER_ROLE", global = true, default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub dev_allow_owner_role: bool,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the register over HTTP (the default).
    Serve,
    /// Bring the database schema up to date, as the tables' owner
    /// (CLEARANCE_OWNER_DATABASE_URL; DATABASE_URL when that is not set).
    Migrate(MigrateArgs),
    /// Validate the register file and print what it declares; exit 1 if invalid.
    CheckRegister,
    /// Print the readiness verdict and its reasons; exit 1 when not ready (for CI).
    Check(CheckArgs),
    /// Proof runs.
    #[command(subcommand)]
    Proof(ProofCommand),
    /// Accounts: create the first operator, list, disable.
    #[command(subcommand)]
    Account(AccountCommand),
    /// The tamper-evident launch-room ledgers.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Per-account bearer tokens for the JSON API.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Downloaded launch dossiers.
    #[command(subcommand)]
    Dossier(DossierCommand),
    /// Deployments that report their readiness, and their reporter tokens.
    #[command(subcommand)]
    Deployment(DeploymentCommand),
    /// The transparency log: its signing key.
    #[command(subcommand)]
    Log(crate::log::cli::LogCommand),
    /// Receipts of signed launch acceptance.
    #[command(subcommand)]
    Receipt(crate::log::cli::ReceiptCommand),
    /// Report this deployment's readiness to a Clearance server (run it inside
    /// the deployment). Token from CLEARANCE_REPORT_TOKEN. Exit codes: 0 accepted,
    /// 1 refused (4xx), 2 bad arguments or no token, 3 server unreachable or 5xx.
    Report(ReportArgs),
}

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// PostgreSQL URL of the role that owns the tables; used only to migrate.
    #[arg(
        long,
        env = "CLEARANCE_OWNER_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    owner_database_url: Option<String>,
}

impl MigrateArgs {
    pub fn owner_database_url(&self) -> Option<SecretString> {
        self.owner_database_url.clone().map(SecretString::from)
    }
}

#[derive(Subcommand)]
pub enum DossierCommand {
    /// Check a downloaded dossier's parts against its manifest; print each part
    /// and exit 1 if any is altered, missing or unlisted. Needs no database.
    Verify {
        /// The dossier file (JSON).
        file: PathBuf,
        /// The transparency log's verifier key (`name+id+key`), or a file
        /// holding it: also check the dossier's signature, and the receipts and
        /// chains inside.
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute every tenant's evidence and acceptance hash chains; print each
    /// chain's state and exit 1 at the first broken link of any. With
    /// `--checkpoints` and `--key`, also check the whole transparency log
    /// against checkpoints kept outside the database.
    Verify {
        /// Signed checkpoints kept elsewhere, one after another (as
        /// `GET /api/log/checkpoint` answers them).
        #[arg(long, value_name = "FILE", requires = "key")]
        checkpoints: Option<PathBuf>,
        /// The log's verifier key (`name+id+key`), or a file holding it.
        #[arg(long, requires = "checkpoints")]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token for an account and print it (once: only its hash is
    /// stored). It acts with the account's role.
    Create {
        #[arg(long)]
        email: String,
        /// What the token is for, e.g. `ci`.
        #[arg(long)]
        label: String,
    },
    /// Revoke a token by its id (see `list`).
    Revoke {
        #[arg(long)]
        id: i64,
    },
    /// List tokens (never their values).
    List,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Strict readiness: ready only with no live blocker (or, with --motion, only
    /// when the motion is clear). Without it: not_ready fails (or a blocked motion).
    #[arg(long)]
    pub strict: bool,
    /// Judge one launch motion instead of the whole deployment.
    #[arg(long, value_name = "ID")]
    pub motion: Option<String>,
    /// Ask a running Clearance server (its /api/readiness) instead of evaluating
    /// this environment and database.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

#[derive(Subcommand)]
pub enum ProofCommand {
    /// Record a proof run directly in the database: from a command's output and
    /// its status, or from JUnit XML reports.
    Record(RecordArgs),
    /// Run the proof's command (from the register, or the one after `--`),
    /// streaming its output, and record the run from its exit code. Exits with
    /// the command's own code (128+n when a signal ended it).
    Run(RunArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RunStatus {
    Passed,
    Failed,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("from").required(true).args(["output", "junit"])))]
pub struct RecordArgs {
    /// The proof's id in the register.
    pub proof_id: String,
    /// Needed with `--output`; with `--junit` the reports decide.
    #[arg(
        long,
        value_enum,
        requires = "output",
        required_unless_present = "junit"
    )]
    pub status: Option<RunStatus>,
    /// The run's output: its SHA-256 is stored, and its last 2,000 characters
    /// (secret values of configured dependencies redacted). `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// JUnit XML reports: passed when at least one test ran and none failed or
    /// errored; the excerpt names the failing tests and their messages.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["status", "output"])]
    pub junit: Vec<PathBuf>,
    /// Who ran it, or which CI job.
    #[arg(long, env = "CLEARANCE_ACTOR", default_value = "command line")]
    pub actor: String,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// The proof's id in the register.
    pub proof_id: String,
    /// Who ran it, or which CI job.
    #[arg(long, env = "CLEARANCE_ACTOR", default_value = "command line")]
    pub actor: String,
    /// Record through a running Clearance server (its base URL) with the bearer
    /// token in `CLEARANCE_API_TOKEN`, instead of writing to the database.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The command to run instead of the register's, as separate arguments
    /// (no shell); after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub log: crate::log::cli::LogKeyArgs,

    /// Watch a remote deployment's readiness document instead of this environment.
    #[arg(long, env = "CLEARANCE_READINESS_URL", value_name = "URL")]
    readiness_url: Option<String>,

    /// Name this server's own environment is recorded under. Give processes with
    /// different configurations sharing one database different names.
    #[arg(long, env = "CLEARANCE_SOURCE_NAME", default_value = "environment")]
    pub source_name: String,

    /// Seconds between readings of the readiness source (overrides the register).
    #[arg(long, env = "CLEARANCE_POLL_INTERVAL_SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    poll_interval_secs: Option<u64>,

    /// Seconds a remote source may stay silent before it counts as unreachable
    /// (overrides the register).
    #[arg(long, env = "CLEARANCE_STALE_AFTER_SECS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    stale_after_secs: Option<u64>,

    /// Bearer token that API clients (CI) must present to record proof runs: at
    /// least 32 characters (`openssl rand -hex 32` makes one).
    #[arg(
        long,
        env = "CLEARANCE_API_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        value_parser = long_api_token
    )]
    api_token: Option<String>,

    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "CLEARANCE_SESSION_IDLE_MINUTES", default_value_t = 480, value_parser = clap::value_parser!(u64).range(1..=10_080))]
    session_idle_minutes: u64,

    /// Hours after sign-in after which a session ends, however active.
    #[arg(long, env = "CLEARANCE_SESSION_MAX_HOURS", default_value_t = 168, value_parser = clap::value_parser!(u64).range(1..=8_760))]
    session_max_hours: u64,

    /// Mark the session cookie `Secure` (and name it with the `__Host-` prefix).
    /// Unset, it follows CLEARANCE_PUBLIC_URL: secure when that is https. Set
    /// to false with an https public address, the server refuses to start.
    #[arg(long, env = "CLEARANCE_SECURE_COOKIES", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    secure_cookies: Option<bool>,

    /// Seconds between SIGTERM and no longer accepting connections: `/readyz`
    /// answers 503 meanwhile, so a load balancer stops sending new requests.
    #[arg(long, env = "CLEARANCE_SHUTDOWN_DRAIN_SECS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=300))]
    pub shutdown_drain_secs: u64,

    /// Seconds requests in flight get to finish after that; then the process
    /// exits regardless.
    #[arg(long, env = "CLEARANCE_SHUTDOWN_GRACE_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub shutdown_grace_secs: u64,

    /// Public pages kept in memory per live state (0 renders every request).
    #[arg(long, env = "CLEARANCE_PAGE_CACHE_ENTRIES", default_value_t = 256, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    pub page_cache_entries: u64,

    #[command(flatten)]
    pub public: PublicArgs,

    #[command(flatten)]
    pub edge: EdgeArgs,

    #[command(flatten)]
    pub reporting: ReportingArgs,

    #[command(flatten)]
    pub webhooks: crate::webhooks::WebhookArgs,

    #[command(flatten)]
    pub metrics: crate::metrics::MetricsArgs,

    #[command(flatten)]
    pub mail: crate::mail::MailArgs,
}

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an operator or commercial-owner account. The password is read from
    /// CLEARANCE_NEW_PASSWORD or, when unset, from the first line of stdin.
    Create(CreateAccountArgs),
    /// List every account.
    List,
    /// Disable an account: it can no longer sign in, and its sessions end.
    Disable {
        #[arg(long)]
        email: String,
    },
}

#[derive(clap::Args)]
pub struct CreateAccountArgs {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// `operator` or `commercial-owner` (buyer sponsors join by invitation).
    #[arg(long, value_parser = ["operator", "commercial-owner"])]
    pub role: String,
}

impl Cli {
    pub fn database_url(&self) -> Option<SecretString> {
        self.database_url.clone().map(SecretString::from)
    }
}

impl ServeArgs {
    /// Session lifetimes and cookie security; refused when the public address
    /// is https and the cookies are declared not secure.
    pub fn session_settings(
        &self,
    ) -> Result<crate::auth::session::SessionSettings, crate::public_url::InsecureCookies> {
        Ok(crate::auth::session::SessionSettings {
            idle: Duration::from_secs(self.session_idle_minutes * 60),
            absolute: Duration::from_secs(self.session_max_hours * 3600),
            secure_cookie: crate::public_url::secure_cookies(
                self.public.public_url.as_ref(),
                self.secure_cookies,
            )?,
        })
    }

    /// The register's readiness settings with command-line overrides applied.
    pub fn readiness_settings(&self, register: &ReadinessSettings) -> ReadinessSettings {
        ReadinessSettings {
            url: self.readiness_url.clone().or_else(|| register.url.clone()),
            poll_interval_secs: self
                .poll_interval_secs
                .unwrap_or(register.poll_interval_secs),
            stale_after_secs: self.stale_after_secs.unwrap_or(register.stale_after_secs),
            ..register.clone()
        }
    }

    pub fn api_token(&self) -> Option<SecretString> {
        self.api_token
            .clone()
            .filter(|token| !token.is_empty())
            .map(SecretString::from)
    }
}

/// Refuses a CI token too short to withstand guessing (the server does not
/// start); the empty value means none, as if unset.
fn long_api_token(token: &str) -> Result<String, String> {
    let length = token.chars().count();
    if length == 0 || length >= crate::api::MIN_API_TOKEN_CHARS {
        Ok(token.to_owned())
    } else {
        Err(format!(
            "CLEARANCE_API_TOKEN has {length} characters; it must have at least {} \
             (for example: openssl rand -hex 32)",
            crate::api::MIN_API_TOKEN_CHARS
        ))
    }
}

pub fn seconds(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// Where the public reaches this server.
#[derive(clap::Args)]
pub struct PublicArgs {
    /// The address the public reaches this server at, e.g.
    /// https://clearance.example (scheme, host and port; no path, no query).
    /// Every absolute link is built from it, never from a request's Host
    /// header; when it is https the session cookie is `Secure` and
    /// `Strict-Transport-Security` is sent. Default: http://<LEPTOS_SITE_ADDR>.
    #[arg(long, env = "CLEARANCE_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<crate::public_url::PublicUrl>,
}

impl PublicArgs {
    /// The configured public address, or plain http on `site_addr`.
    pub fn resolve(&self, site_addr: std::net::SocketAddr) -> crate::public_url::PublicUrl {
        self.public_url
            .clone()
            .unwrap_or_else(|| crate::public_url::PublicUrl::from_site_addr(site_addr))
    }
}

/// Limits at the edge: proxies believed, timeouts, connection and event-stream
/// caps (see docs/configuration.md, "Limits at the edge").
#[derive(clap::Args)]
pub struct EdgeArgs {
    /// Proxies whose `Forwarded` / `X-Forwarded-For` headers are believed:
    /// comma-separated CIDR blocks or addresses (e.g. `10.0.0.0/8,::1`).
    /// Empty: the socket peer is the client.
    #[arg(
        long,
        env = "CLEARANCE_TRUSTED_PROXIES",
        default_value = "",
        value_name = "CIDRS"
    )]
    pub trusted_proxies: crate::client_addr::TrustedProxies,

    /// Seconds a connection may take to send a request's headers.
    #[arg(long, env = "CLEARANCE_HEADER_TIMEOUT_SECS", default_value_t = crate::edge::DEFAULT_HEADER_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_timeout_secs: u64,

    /// Seconds a request's body may take to arrive.
    #[arg(long, env = "CLEARANCE_BODY_TIMEOUT_SECS", default_value_t = crate::edge::DEFAULT_BODY_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: u64,

    /// Seconds a connection may carry no bytes either way before it is closed
    /// (above 15: live event streams send a comment every 15 s).
    #[arg(long, env = "CLEARANCE_IDLE_TIMEOUT_SECS", default_value_t = crate::edge::DEFAULT_IDLE_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(20..=3600))]
    pub idle_timeout_secs: u64,

    /// HTTP connections served at once; further ones wait to be accepted. Keep
    /// it below the process's open-file limit (`ulimit -n`).
    #[arg(long, env = "CLEARANCE_MAX_CONNECTIONS", default_value_t = crate::edge::DEFAULT_MAX_CONNECTIONS as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_http_connections: u64,

    /// Live event streams open at once, from everyone (beyond it: 503).
    #[arg(long, env = "CLEARANCE_MAX_EVENT_STREAMS", default_value_t = crate::edge::DEFAULT_MAX_EVENT_STREAMS as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_event_streams: u64,

    /// Live event streams open at once from one client address (beyond it: 429).
    #[arg(long, env = "CLEARANCE_MAX_EVENT_STREAMS_PER_ADDRESS", default_value_t = crate::edge::DEFAULT_MAX_EVENT_STREAMS_PER_ADDRESS as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_event_streams_per_address: u64,
}

impl EdgeArgs {
    pub fn edge_settings(&self) -> crate::edge::EdgeSettings {
        let count = |value: u64| usize::try_from(value).unwrap_or(usize::MAX);
        crate::edge::EdgeSettings {
            trusted_proxies: self.trusted_proxies.clone(),
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            body_timeout: Duration::from_secs(self.body_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            max_connections: count(self.max_http_connections),
            max_event_streams: count(self.max_event_streams),
            max_event_streams_per_address: count(self.max_event_streams_per_address),
        }
    }
}

#[derive(Subcommand)]
pub enum DeploymentCommand {
    /// Create a deployment and print its reporter token once (only its hash is
    /// stored). The token can only report, and only for this deployment. For a
    /// revoked deployment, issues a new token.
    Create {
        /// Lowercase letters, digits and '-', e.g. `production`.
        #[arg(long)]
        name: String,
    },
    /// List deployments and when each last reported (never a token).
    List,
    /// Revoke a deployment's reporter token.
    Revoke {
        #[arg(long)]
        name: String,
    },
}

/// `server report`: the reporter inside a deployment.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The Clearance server, e.g. https://clearance.example.
    #[arg(long, env = "CLEARANCE_SERVER", value_name = "URL")]
    pub server: reqwest::Url,
    /// The deployment reported for (`server deployment create --name`).
    #[arg(long, env = "CLEARANCE_DEPLOYMENT", value_name = "NAME")]
    pub deployment: String,
    /// An HTTP check run from inside the deployment: passed on a 2xx answer
    /// (redirects are not followed); only the status code and latency are sent.
    /// Repeatable.
    #[arg(long = "check", value_name = "NAME=URL", value_parser = crate::deployments::reporter::parse_check)]
    pub checks: Vec<crate::deployments::reporter::CheckSpec>,
    /// Milliseconds each check may take.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub check_timeout_ms: u64,
    /// Report again at this interval for ever (a sidecar), e.g. `30s`, `5m`;
    /// errors are logged and the next round runs. Without it: report once.
    #[arg(long, value_name = "DURATION", value_parser = crate::deployments::reporter::parse_every)]
    pub every: Option<Duration>,
}

/// Which deployment's reports are the readiness source.
#[derive(clap::Args)]
pub struct ReportingArgs {
    /// Follow this deployment's reports (`server report`) instead of this
    /// environment (overrides the register's `readiness.deployment`).
    #[arg(long, env = "CLEARANCE_READINESS_DEPLOYMENT", value_name = "NAME", value_parser = deployment_name)]
    pub readiness_deployment: Option<String>,
}

fn deployment_name(name: &str) -> Result<String, String> {
    if app::domain::deployment::is_valid_deployment_name(name) {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "{name:?} must be lowercase letters, digits and '-' (at most 63), starting with a letter or digit"
        ))
    }
}

/// Where readiness is read from, the command line over the register: a
/// deployment's reports, a remote readiness URL, or this environment.
pub enum SourceChoice {
    Deployment(String),
    Remote(String),
    Environment,
}

impl ServeArgs {
    /// The source asked for; refused when a deployment and a URL are both given
    /// at the same level.
    pub fn source_choice(&self, register: &ReadinessSettings) -> anyhow::Result<SourceChoice> {
        let (deployment, url) = match (&self.reporting.readiness_deployment, &self.readiness_url) {
            (Some(_), Some(_)) => anyhow::bail!(
                "give CLEARANCE_READINESS_DEPLOYMENT or CLEARANCE_READINESS_URL, not both"
            ),
            (Some(deployment), None) => (Some(deployment.clone()), None),
            (None, Some(url)) => (None, Some(url.clone())),
            (None, None) => (register.deployment.clone(), register.url.clone()),
        };
        Ok(match (deployment, url) {
            (Some(_), Some(_)) => {
                anyhow::bail!("the register gives readiness.deployment and readiness.url: keep one")
            }
            (Some(deployment), None) => SourceChoice::Deployment(deployment),
            (None, Some(url)) => SourceChoice::Remote(url),
            (None, None) => SourceChoice::Environment,
        })
    }
}
