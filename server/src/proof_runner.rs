//! `proof run`: runs a proof's command, streams its output to the terminal as it
//! comes, keeps the whole output's SHA-256 and a redacted excerpt of its end, and
//! records the run (passed when the command exits 0) in the database or through a
//! server's API. The caller exits with the command's own code.

use std::io::Write;
use std::process::{ExitStatus, Stdio};

use anyhow::Context;
use chrono::Utc;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use app::domain::proof_run::{printable, tail, ProofRunRequest};
use app::domain::register::CommandPart;
use app::domain::Register;

use crate::config::RunArgs;
use crate::proofs::{self, REDACTION_WINDOW};

/// Output kept in memory for the excerpt: the end of the output, far more than
/// the excerpt, so redaction sees whole values around the excerpt's start.
const KEPT_OUTPUT: usize = 256 * 1024;
/// Exit code when the command could not be started (as a shell answers for a
/// command it cannot find or run).
const COULD_NOT_START: u8 = 127;
const NOT_EXECUTABLE: u8 = 126;

/// Where the run is recorded.
pub enum Recorder {
    Database(PgPool),
    /// A server's base URL and the bearer token (`CLEARANCE_API_TOKEN`).
    Server {
        url: String,
        token: secrecy::SecretString,
    },
}

/// What to run, and how it is named in messages.
struct Planned {
    command: tokio::process::Command,
    shown: String,
}

/// Runs the proof and records it; answers the exit code to leave with. An
/// unknown proof, or a register command with placeholders and no command after
/// `--`, is refused before anything runs and records nothing.
pub async fn run(register: &Register, args: &RunArgs, recorder: &Recorder) -> anyhow::Result<u8> {
    let planned = plan(register, args)?;
    let started_at = Utc::now();
    let outcome = match execute(planned.command).await {
        Ok(outcome) => outcome,
        Err(error) => {
            // The run is recorded as failed, saying why, so the register shows
            // that the proof was attempted and did not pass.
            let message = format!("could not start `{}`: {error}", planned.shown);
            eprintln!("error: {message}");
            let code = if error.kind() == std::io::ErrorKind::PermissionDenied {
                NOT_EXECUTABLE
            } else {
                COULD_NOT_START
            };
            let request = ProofRunRequest {
                status: "failed".to_owned(),
                actor: proofs::redact_secrets(register, &args.actor),
                ran_at: Some(started_at),
                output_digest: None,
                excerpt: Some(proofs::redact_secrets(register, &message)),
            };
            eprintln!(
                "{}",
                record(register, &args.proof_id, request, recorder).await?
            );
            return Ok(code);
        }
    };
    let code = exit_code(outcome.status);
    let passed = outcome.status.success();
    let mut excerpt = proofs::redact_secrets(register, &outcome.kept_text());
    excerpt.push_str(&format!(
        "\n[clearance: `{}` exited with code {code}]\n",
        proofs::redact_secrets(register, &planned.shown)
    ));
    let request = ProofRunRequest {
        status: if passed { "passed" } else { "failed" }.to_owned(),
        actor: proofs::redact_secrets(register, &args.actor),
        ran_at: Some(started_at),
        output_digest: Some(hex::encode(outcome.digest)),
        excerpt: Some(excerpt),
    };
    eprintln!(
        "{}",
        record(register, &args.proof_id, request, recorder).await?
    );
    Ok(code)
}

/// The command after `--` as given (no shell), or else the register's command
/// through `sh -c`.
fn plan(register: &Register, args: &RunArgs) -> anyhow::Result<Planned> {
    let proof = register
        .proof(&args.proof_id)
        .with_context(|| format!("unknown proof id {:?}", args.proof_id))?;
    if let Some((program, rest)) = args.command.split_first() {
        let mut command = tokio::process::Command::new(program);
        command.args(rest);
        return Ok(Planned {
            command,
            shown: args.command.join(" "),
        });
    }
    let placeholders: Vec<String> = CommandPart::split(&proof.command)
        .into_iter()
        .filter_map(|part| match part {
            CommandPart::Placeholder(name) => Some(name),
            CommandPart::Text(_) => None,
        })
        .collect();
    if !placeholders.is_empty() {
        anyhow::bail!(
            "the register's command for {} has placeholders ({}): give the command with your \
             values after `--` (nothing was run or recorded)",
            args.proof_id,
            placeholders.join(", ")
        );
    }
    let mut command = tokio::process::Command::new("sh");
    command.arg("-c").arg(&proof.command);
    Ok(Planned {
        command,
        shown: proof.command.clone(),
    })
}

/// A finished command: how it ended, the SHA-256 of everything it printed (both
/// streams, in the order the chunks arrived), and the end of that output.
struct Outcome {
    status: ExitStatus,
    digest: [u8; 32],
    kept: Vec<u8>,
    /// Whether the start of the output was dropped to keep memory bounded.
    cut: bool,
}

impl Outcome {
    /// The kept output as printable text. When its start was dropped, the first
    /// few characters go too: a piece of a secret value shorter than the
    /// redaction window could sit there, cut off from the rest of the value.
    fn kept_text(&self) -> String {
        let text = printable(&String::from_utf8_lossy(&self.kept));
        if self.cut {
            text.chars().skip(REDACTION_WINDOW).collect()
        } else {
            text
        }
    }
}

enum Chunk {
    Out(Vec<u8>),
    Err(Vec<u8>),
}

async fn execute(mut command: tokio::process::Command) -> std::io::Result<Outcome> {
    command
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let (sender, mut chunks) = mpsc::channel(64);
    let readers = [
        child
            .stdout
            .take()
            .map(|stdout| tokio::spawn(forward(stdout, sender.clone(), Chunk::Out))),
        child
            .stderr
            .take()
            .map(|stderr| tokio::spawn(forward(stderr, sender.clone(), Chunk::Err))),
    ];
    drop(sender);
    let mut hasher = Sha256::new();
    let mut kept = Vec::new();
    let mut cut = false;
    while let Some(chunk) = chunks.recv().await {
        let bytes = match &chunk {
            Chunk::Out(bytes) => {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
                bytes
            }
            Chunk::Err(bytes) => {
                let mut stderr = std::io::stderr().lock();
                let _ = stderr.write_all(bytes).and_then(|()| stderr.flush());
                bytes
            }
        };
        hasher.update(bytes);
        kept.extend_from_slice(bytes);
        if kept.len() > 2 * KEPT_OUTPUT {
            kept.drain(..kept.len() - KEPT_OUTPUT);
            cut = true;
        }
    }
    for reader in readers.into_iter().flatten() {
        let _ = reader.await;
    }
    let status = child.wait().await?;
    Ok(Outcome {
        status,
        digest: hasher.finalize().into(),
        kept,
        cut,
    })
}

async fn forward(
    mut stream: impl AsyncRead + Unpin,
    sender: mpsc::Sender<Chunk>,
    wrap: fn(Vec<u8>) -> Chunk,
) {
    let mut buffer = vec![0_u8; 8 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => {
                if sender.send(wrap(buffer[..read].to_vec())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The command's own exit code; 128 + the signal's number when a signal ended it
/// (as shells report it).
pub fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(signal)) => u8::try_from((128 + signal) & 0xff).unwrap_or(1),
        (None, None) => 1,
    }
}

/// Stores the run (validated by the same rules as the API) and answers a line
/// saying what was recorded.
async fn record(
    register: &Register,
    proof_id: &str,
    request: ProofRunRequest,
    recorder: &Recorder,
) -> anyhow::Result<String> {
    match recorder {
        Recorder::Database(pool) => {
            let run = request.validate(register, proof_id, Utc::now())?;
            let stored = proofs::record(pool, register, &run)
                .await
                .context("could not store the proof run")?;
            Ok(format!(
                "recorded run {} of {}: {}",
                stored.id,
                stored.proof_id,
                if stored.passed { "passed" } else { "failed" }
            ))
        }
        Recorder::Server { url, token } => {
            use secrecy::ExposeSecret;
            let request = ProofRunRequest {
                excerpt: request.excerpt.as_deref().map(tail),
                ..request
            };
            let endpoint = format!("{}/api/proofs/{proof_id}/runs", url.trim_end_matches('/'));
            let response = reqwest::Client::new()
                .post(&endpoint)
                .bearer_auth(token.expose_secret())
                .timeout(std::time::Duration::from_secs(30))
                .json(&request)
                .send()
                .await
                .with_context(|| format!("could not reach {url}"))?;
            let status = response.status();
            if !status.is_success() {
                let body = response.text().await.unwrap_or_default();
                anyhow::bail!(
                    "{url} refused the run: HTTP {status}: {}",
                    body.chars().take(300).collect::<String>()
                );
            }
            Ok(format!(
                "recorded a {} run of {proof_id} at {url}",
                request.status
            ))
        }
    }
}
