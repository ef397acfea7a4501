//! `server report`: the reporter that runs inside a deployment. It asks the
//! server which dependency names the register declares, checks each setting's
//! presence in its own environment and each table's rows through the
//! deployment's own database, runs the `--check` HTTP checks, and posts names
//! and verdicts. No value, row or response body is ever read into the report.
//!
//! Exit codes (one-shot): 0 the report was accepted; 1 the server refused it or
//! the token (a 4xx answer); 2 bad arguments or no `CLEARANCE_REPORT_TOKEN`;
//! 3 the server could not be reached or failed (no answer, 5xx). With `--every`
//! the reporter never exits on its own: each failed round is logged and the next
//! round runs on time.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use app::domain::deployment::{
    is_valid_table_name, CheckVerdict, Declared, Report, ReportedState, CHECK_NAME_LIMIT,
};
use app::domain::register::DependencyKind;

use crate::config::ReportArgs;

/// The environment variable the reporter token is read from (never a flag, so
/// it does not show in `ps`).
pub const TOKEN_VARIABLE: &str = "CLEARANCE_REPORT_TOKEN";
/// How long a request to the Clearance server may take.
const SERVER_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the deployment's database may take to answer.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(5);

/// One `--check NAME=URL`.
#[derive(Clone, Debug)]
pub struct CheckSpec {
    pub name: String,
    pub url: reqwest::Url,
}

/// Parses `NAME=URL`: a name of 1 to 64 printable characters, an http(s) URL.
pub fn parse_check(value: &str) -> Result<CheckSpec, String> {
    let (name, url) = value
        .split_once('=')
        .ok_or("a check is NAME=URL, e.g. api=http://localhost:8080/health")?;
    let length = name.chars().count();
    if length == 0 || length > CHECK_NAME_LIMIT || name.chars().any(char::is_control) {
        return Err(format!(
            "a check's name must be 1 to {CHECK_NAME_LIMIT} characters"
        ));
    }
    let url = reqwest::Url::parse(url).map_err(|error| format!("bad check URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("a check URL must be http:// or https:// with a host".to_owned());
    }
    Ok(CheckSpec {
        name: name.to_owned(),
        url,
    })
}

/// Parses `--every`: seconds, or a number with `s`, `m` or `h` (1 s to 24 h).
pub fn parse_every(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let (number, unit) = match value.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((index, _)) => value.split_at(index),
        None => (value, "s"),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{value:?} is not a duration such as 30s, 5m or 1h"))?;
    let seconds = match unit {
        "s" => number,
        "m" => number.saturating_mul(60),
        "h" => number.saturating_mul(3600),
        _ => return Err(format!("{value:?} is not a duration such as 30s, 5m or 1h")),
    };
    if !(1..=86_400).contains(&seconds) {
        return Err("--every must be between 1s and 24h".to_owned());
    }
    Ok(Duration::from_secs(seconds))
}

/// What one round came to.
enum Outcome {
    Accepted(String),
    Refused(String),
    Unreachable(String),
}

/// Runs the reporter: one round, or one every `--every` for ever.
pub async fn run(
    args: &ReportArgs,
    database_url: Option<SecretString>,
) -> anyhow::Result<ExitCode> {
    let token = std::env::var(TOKEN_VARIABLE)
        .ok()
        .filter(|token| !token.trim().is_empty())
        .map(SecretString::from)
        .with_context(|| {
            format!(
                "{TOKEN_VARIABLE} is not set: give the reporter token from \
                 `server deployment create --name {}`",
                args.deployment
            )
        })?;
    let mut seen = std::collections::HashSet::new();
    for check in &args.checks {
        if !seen.insert(check.name.as_str()) {
            anyhow::bail!("two checks are named {:?}", check.name);
        }
    }
    let reporter = Reporter {
        args,
        token,
        database_url,
        client: reqwest::Client::builder()
            .timeout(SERVER_TIMEOUT)
            .build()
            .context("could not build the HTTP client")?,
        checker: reqwest::Client::builder()
            .timeout(Duration::from_millis(args.check_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("could not build the HTTP client")?,
    };
    let Some(every) = args.every else {
        return Ok(match reporter.round().await {
            Outcome::Accepted(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Outcome::Refused(why) => {
                eprintln!("error: report refused: {why}");
                ExitCode::from(1)
            }
            Outcome::Unreachable(why) => {
                eprintln!("error: {why}");
                ExitCode::from(3)
            }
        });
    };
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match reporter.round().await {
            Outcome::Accepted(summary) => tracing::info!("{summary}"),
            Outcome::Refused(why) => tracing::error!("report refused: {why}"),
            Outcome::Unreachable(why) => tracing::warn!("{why}"),
        }
    }
}

// No `Debug`: it holds the token and the database URL.
struct Reporter<'a> {
    args: &'a ReportArgs,
    token: SecretString,
    database_url: Option<SecretString>,
    client: reqwest::Client,
    checker: reqwest::Client,
}

impl Reporter<'_> {
    fn endpoint(&self, last: &str) -> Result<reqwest::Url, String> {
        let mut url = self.args.server.clone();
        url.path_segments_mut()
            .map_err(|()| "the server URL cannot take a path".to_owned())?
            .pop_if_empty()
            .extend(["api", "deployments", self.args.deployment.as_str(), last]);
        Ok(url)
    }

    async fn round(&self) -> Outcome {
        let declared = match self.declared().await {
            Ok(declared) => declared,
            Err(outcome) => return outcome,
        };
        let report = Report {
            dependencies: self.dependencies(&declared).await,
            checks: self.checks().await,
        };
        let configured = report
            .dependencies
            .values()
            .filter(|state| matches!(state, ReportedState::Configured | ReportedState::HasRows))
            .count();
        let failed = report.checks.iter().filter(|check| !check.passed).count();
        let summary = format!(
            "deployment {}: reported {} dependencies ({configured} present, {} not), {} checks ({failed} failed)",
            self.args.deployment,
            report.dependencies.len(),
            report.dependencies.len() - configured,
            report.checks.len()
        );
        let url = match self.endpoint("reports") {
            Ok(url) => url,
            Err(why) => return Outcome::Refused(why),
        };
        let sent = self
            .client
            .post(url)
            .bearer_auth(self.token.expose_secret())
            .json(&report)
            .send()
            .await;
        match answer(sent).await {
            Ok(_) => Outcome::Accepted(summary),
            Err(outcome) => outcome,
        }
    }

    async fn declared(&self) -> Result<Declared, Outcome> {
        let url = self.endpoint("declared").map_err(Outcome::Refused)?;
        let sent = self
            .client
            .get(url)
            .bearer_auth(self.token.expose_secret())
            .send()
            .await;
        let body = answer(sent).await?;
        serde_json::from_slice(&body).map_err(|_| {
            Outcome::Unreachable("the server did not answer a list of declared names".to_owned())
        })
    }

    /// Each setting's presence (the value is looked at for emptiness only and
    /// dropped at once) and each table's rows.
    async fn dependencies(&self, declared: &Declared) -> BTreeMap<String, ReportedState> {
        let tables: Vec<&str> = declared
            .dependencies
            .iter()
            .filter(|dependency| dependency.kind == DependencyKind::Table)
            .map(|dependency| dependency.name.as_str())
            .collect();
        let pool = if tables.is_empty() {
            None
        } else {
            self.database()
        };
        let mut states = BTreeMap::new();
        for dependency in &declared.dependencies {
            let state = match dependency.kind {
                DependencyKind::Setting => {
                    if std::env::var_os(&dependency.name).is_some_and(|value| !value.is_empty()) {
                        ReportedState::Configured
                    } else {
                        ReportedState::Missing
                    }
                }
                DependencyKind::Table => has_rows(pool.as_ref(), &dependency.name).await,
            };
            states.insert(dependency.name.clone(), state);
        }
        if let Some(pool) = pool {
            pool.close().await;
        }
        states
    }

    fn database(&self) -> Option<PgPool> {
        let Some(url) = &self.database_url else {
            tracing::warn!(
                "no DATABASE_URL (or --database-url): every table counts as unreachable"
            );
            return None;
        };
        match PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(DATABASE_TIMEOUT)
            .connect_lazy(url.expose_secret())
        {
            Ok(pool) => Some(pool),
            Err(_) => {
                tracing::warn!(
                    "DATABASE_URL is not a PostgreSQL URL: every table counts as unreachable"
                );
                None
            }
        }
    }

    /// Each `--check`: its status code and latency, never its body.
    async fn checks(&self) -> Vec<CheckVerdict> {
        let runs = self.args.checks.iter().map(|check| async move {
            let started = Instant::now();
            let status = match self.checker.get(check.url.clone()).send().await {
                Ok(response) => Some(response.status().as_u16()),
                Err(_) => None,
            };
            CheckVerdict {
                name: check.name.clone(),
                url: public_url(&check.url),
                passed: status.is_some_and(|status| (200..300).contains(&status)),
                status,
                latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            }
        });
        futures::future::join_all(runs).await
    }
}

/// Whether the table holds a row: `SELECT EXISTS (SELECT 1 FROM "table" LIMIT 1)`,
/// nothing else is read.
async fn has_rows(pool: Option<&PgPool>, table: &str) -> ReportedState {
    let Some(pool) = pool else {
        return ReportedState::Unreachable;
    };
    // The name came from the server: only a plain identifier is ever queried.
    if !is_valid_table_name(table) {
        tracing::warn!(table, "not a plain table name: counted unreachable");
        return ReportedState::Unreachable;
    }
    let quoted = table
        .split('.')
        .map(|part| format!("\"{part}\""))
        .collect::<Vec<_>>()
        .join(".");
    let query = format!("SELECT EXISTS (SELECT 1 FROM {quoted} LIMIT 1)");
    match sqlx::query_scalar::<_, bool>(&query).fetch_one(pool).await {
        Ok(true) => ReportedState::HasRows,
        Ok(false) => ReportedState::Empty,
        Err(error) => {
            tracing::warn!(table, %error, "could not count the table's rows");
            ReportedState::Unreachable
        }
    }
}

/// The URL as the public may see it: no credentials, no query, no fragment.
fn public_url(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    // Both fail only for URLs that cannot carry credentials at all.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// The answer's body when it is a success; otherwise the outcome it means.
async fn answer(sent: Result<reqwest::Response, reqwest::Error>) -> Result<Vec<u8>, Outcome> {
    let response = sent.map_err(|error| {
        Outcome::Unreachable(format!(
            "could not reach the Clearance server: {}",
            if error.is_timeout() {
                "no answer in time"
            } else {
                "no connection"
            }
        ))
    })?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|_| Outcome::Unreachable("the Clearance server's answer broke off".to_owned()))?;
    if status.is_success() {
        return Ok(body.to_vec());
    }
    let why = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|value| value.get("error")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "no reason given".to_owned());
    let why = format!("HTTP {}: {why}", status.as_u16());
    Err(if status.is_client_error() {
        Outcome::Refused(why)
    } else {
        Outcome::Unreachable(format!("the Clearance server failed: {why}"))
    })
}
