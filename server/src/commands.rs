//! Command-line commands: `check` (the CI gate) and `proof record`.

use std::io::Read;

use anyhow::Context;
use chrono::Utc;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use app::domain::document::{verdict, ReadinessDocument, ReadinessMode};
use app::domain::proof_run::{printable, ProofRunRequest};
use app::domain::{evaluate, ReadinessInputs, Register};

use app::domain::access::Role;

use crate::auth::accounts::{self, NewAccount};
use crate::auth::audit::{self, Action, Event};
use crate::auth::tokens;
use crate::config::{AccountCommand, CheckArgs, RecordArgs, RunStatus, TokenCommand};
use crate::readiness::{database_check, environment};
use crate::rooms::verify;
use crate::{junit, proofs};

/// The outcome of `check`: ready or not, with the reasons printed.
pub struct CheckOutcome {
    pub ready: bool,
    pub report: String,
}

/// Evaluates this environment and database (or asks `--url`) and reports.
pub async fn check(
    register: &Register,
    pool: Option<&PgPool>,
    args: &CheckArgs,
) -> anyhow::Result<CheckOutcome> {
    let mode = if args.strict {
        ReadinessMode::Strict
    } else {
        ReadinessMode::Advisory
    };
    let (ready, reasons) = if let Some(url) = &args.url {
        let document = fetch_document(url, args).await?;
        (document.ready, document.reasons)
    } else {
        let pool = pool.context("DATABASE_URL is needed to read proof runs (or give --url)")?;
        let latest = proofs::latest_runs(pool)
            .await
            .context("could not read proof runs")?;
        let inputs = ReadinessInputs {
            dependencies: environment::observe(register.dependency_names()),
            public_checks: vec![database_check(pool).await],
            proofs: proofs::passing_states(register, &latest, Utc::now()),
        };
        let evaluation = evaluate(register, &inputs);
        verdict(register, &evaluation, mode, args.motion.as_deref()).with_context(|| {
            format!(
                "unknown motion id {:?}",
                args.motion.clone().unwrap_or_default()
            )
        })?
    };
    let subject = args.motion.as_deref().map_or_else(
        || "deployment".to_owned(),
        |motion| format!("motion {motion}"),
    );
    let level = if args.strict { "strict" } else { "advisory" };
    let mut report = format!(
        "{level} readiness of {subject}: {}\n",
        if ready { "ready" } else { "NOT READY" }
    );
    for reason in reasons {
        report.push_str(&format!("  - {reason}\n"));
    }
    Ok(CheckOutcome { ready, report })
}

async fn fetch_document(url: &str, args: &CheckArgs) -> anyhow::Result<ReadinessDocument> {
    let mut request = reqwest::Client::new()
        .get(url)
        .timeout(std::time::Duration::from_secs(10))
        .query(&[("strict", args.strict.to_string())]);
    if let Some(motion) = &args.motion {
        request = request.query(&[("motion", motion)]);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("could not reach {url}"))?;
    let status = response.status();
    if !(status.is_success() || status == reqwest::StatusCode::SERVICE_UNAVAILABLE) {
        anyhow::bail!("{url} answered HTTP {status}");
    }
    response
        .json()
        .await
        .with_context(|| format!("{url} did not answer a readiness document"))
}

/// Records a proof run from a command's output file and status, or from JUnit
/// XML reports, straight into the database. A report that is not well-formed
/// JUnit XML records nothing.
pub async fn record_proof(
    register: &Register,
    pool: &PgPool,
    args: &RecordArgs,
) -> anyhow::Result<String> {
    let (passed, output, excerpt) = if args.junit.is_empty() {
        let path = args
            .output
            .as_ref()
            .context("give --output FILE with --status, or --junit FILE...")?;
        let status = args.status.context("--status is needed with --output")?;
        let output = if path.as_os_str() == "-" {
            let mut buffer = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buffer)
                .context("could not read the output from stdin")?;
            buffer
        } else {
            std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?
        };
        let text = printable(&String::from_utf8_lossy(&output));
        (matches!(status, RunStatus::Passed), output, text)
    } else {
        let mut reports = Vec::new();
        let mut summary = junit::JunitSummary::default();
        for path in &args.junit {
            let report = std::fs::read(path)
                .with_context(|| format!("could not read {}", path.display()))?;
            let text = std::str::from_utf8(&report)
                .with_context(|| format!("{}: not UTF-8 text", path.display()))?;
            summary.add(
                junit::parse(text)
                    .with_context(|| format!("{} (nothing was recorded)", path.display()))?,
            );
            reports.extend_from_slice(&report);
        }
        let excerpt = printable(&summary.describe(args.junit.len()));
        (summary.passed(), reports, excerpt)
    };
    let request = ProofRunRequest {
        status: if passed { "passed" } else { "failed" }.to_owned(),
        actor: proofs::redact_secrets(register, &args.actor),
        ran_at: None,
        output_digest: Some(hex::encode(Sha256::digest(&output))),
        // Control characters went first, so a value split by NUL bytes is whole
        // when redaction looks for it; the whole text is redacted, and only then
        // does `validate` keep its tail.
        excerpt: Some(proofs::redact_secrets(register, &excerpt)),
    };
    let run = request.validate(register, &args.proof_id, Utc::now())?;
    let stored = proofs::record(pool, register, &run)
        .await
        .context("could not store the proof run")?;
    Ok(format!(
        "recorded run {} of {}: {} at {}",
        stored.id,
        stored.proof_id,
        if stored.passed { "passed" } else { "failed" },
        stored.ran_at.format("%Y-%m-%d %H:%M:%S UTC")
    ))
}

/// The actor recorded for account changes made from the command line.
const COMMAND_LINE: &str = "command line";

/// `server account …`: creates the first operator (or any operator or commercial
/// owner), lists and disables accounts. Answers what to print.
pub async fn account(pool: &PgPool, command: &AccountCommand) -> anyhow::Result<String> {
    match command {
        AccountCommand::Create(args) => {
            let role = Role::parse(&args.role).context("unknown role")?;
            let password = match std::env::var("CLEARANCE_NEW_PASSWORD") {
                Ok(password) => password,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("could not read the password from stdin")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let created = accounts::create(
                pool,
                &NewAccount {
                    email: &args.email,
                    name: &args.name,
                    role,
                    tenant_id: None,
                    password: &password,
                },
            )
            .await
            .map_err(|error| anyhow::anyhow!("account not created: {error}"))?;
            audit::record(
                pool,
                &Event {
                    account_id: None,
                    actor: COMMAND_LINE,
                    action: Action::AccountCreated,
                    subject: Some(&format!("{} ({})", created.email, created.role.as_str())),
                    remote_addr: None,
                },
            )
            .await;
            Ok(format!(
                "created {} account {} <{}>",
                created.role, created.name, created.email
            ))
        }
        AccountCommand::List => {
            let rows = accounts::list(pool).await?;
            if rows.is_empty() {
                return Ok("no accounts".to_owned());
            }
            Ok(rows
                .into_iter()
                .map(|(account, disabled)| {
                    format!(
                        "{}\t{}\t{}{}",
                        account.email,
                        account.role.as_str(),
                        account.name,
                        if disabled { "\t(disabled)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
        AccountCommand::Disable { email } => {
            if !accounts::disable(pool, email).await? {
                anyhow::bail!("no enabled account with the e-mail address {email}");
            }
            audit::record(
                pool,
                &Event {
                    account_id: None,
                    actor: COMMAND_LINE,
                    action: Action::AccountDisabled,
                    subject: Some(email),
                    remote_addr: None,
                },
            )
            .await;
            Ok(format!("disabled {email}"))
        }
    }
}

/// `server audit verify`: every chain's state, and whether all are intact.
pub async fn audit_verify(pool: &PgPool) -> anyhow::Result<(String, bool)> {
    let reports = verify::verify_all(pool).await?;
    let intact = reports.iter().all(|report| report.result.is_ok());
    let mut out: String = reports.iter().map(|report| format!("{report}\n")).collect();
    out.push_str(&if reports.is_empty() {
        "no tenants: nothing to verify\n".to_owned()
    } else if intact {
        format!("all {} chains intact\n", reports.len())
    } else {
        let broken = reports
            .iter()
            .filter(|report| report.result.is_err())
            .count();
        format!("{broken} of {} chains BROKEN\n", reports.len())
    });
    Ok((out, intact))
}

/// `server token …`: per-account API tokens.
pub async fn token(pool: &PgPool, command: &TokenCommand) -> anyhow::Result<String> {
    match command {
        TokenCommand::Create { email, label } => {
            let (id, token) = tokens::create(pool, email, label)
                .await
                .map_err(|error| anyhow::anyhow!("token not created: {error}"))?;
            audit::record(
                pool,
                &Event {
                    account_id: None,
                    actor: COMMAND_LINE,
                    action: Action::TokenCreated,
                    subject: Some(&format!(
                        "token {id} ({label}) for {}",
                        email.trim().to_lowercase()
                    )),
                    remote_addr: None,
                },
            )
            .await;
            Ok(format!(
                "token {id} for {}; shown once, only its hash is kept:\n{token}",
                email.trim().to_lowercase()
            ))
        }
        TokenCommand::Revoke { id } => {
            tokens::revoke(pool, *id)
                .await
                .map_err(|error| anyhow::anyhow!("token not revoked: {error}"))?;
            audit::record(
                pool,
                &Event {
                    account_id: None,
                    actor: COMMAND_LINE,
                    action: Action::TokenRevoked,
                    subject: Some(&format!("token {id}")),
                    remote_addr: None,
                },
            )
            .await;
            Ok(format!("revoked token {id}"))
        }
        TokenCommand::List => {
            let rows = tokens::list(pool).await?;
            if rows.is_empty() {
                return Ok("no tokens".to_owned());
            }
            Ok(rows
                .iter()
                .map(|row| {
                    format!(
                        "{}\t{}\t{}\t{}{}",
                        row.id,
                        row.email,
                        row.label,
                        row.created_at.format("%Y-%m-%d %H:%M UTC"),
                        if row.revoked_at.is_some() {
                            "\trevoked"
                        } else {
                            ""
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}

/// `server dossier verify FILE`: each part against the manifest, and whether all
/// are intact.
pub fn dossier_verify(file: &std::path::Path, key: Option<&str>) -> anyhow::Result<(String, bool)> {
    use app::domain::dossier::{verify, PartCheck};
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("could not read {}", file.display()))?;
    let document: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let checks =
        verify(&document).map_err(|problem| anyhow::anyhow!("{}: {problem}", file.display()))?;
    let intact = !checks.is_empty() && checks.iter().all(PartCheck::is_intact);
    let mut out: String = checks
        .iter()
        .map(|check| match check {
            PartCheck::Intact { part } => format!("ok       {part}\n"),
            PartCheck::Altered { part } => {
                format!("ALTERED  {part}: its digest does not match the manifest\n")
            }
            PartCheck::Missing { part } => {
                format!("MISSING  {part}: listed in the manifest, absent\n")
            }
            PartCheck::Unlisted { part } => format!("UNLISTED {part}: not in the manifest\n"),
        })
        .collect();
    out.push_str(if intact {
        "the dossier matches its manifest\n"
    } else {
        "the dossier does NOT match its manifest\n"
    });
    let intact = match key {
        Some(key) => {
            let key = crate::log::cli::verifier_key(key)?;
            let (report, signed) = crate::log::cli::verify_dossier_signature(&document, &key);
            out.push_str(&report);
            intact && signed
        }
        None => {
            out.push_str(
                "signature, receipts and chains not checked: give the log's key with --key\n",
            );
            intact
        }
    };
    Ok((out, intact))
}
