//! The log's command-line parts: where `serve` finds the signing key, making a
//! key, and checking a receipt offline.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use secrecy::SecretString;

use super::receipt::Receipt;
use super::LogKey;

/// Where the log's private signing key is: a file, or the key itself in the
/// environment. Never in the database.
#[derive(Args, Debug, Clone, Default)]
pub struct LogKeyArgs {
    /// File holding the transparency log's private signing key (made by
    /// `server log keygen`).
    #[arg(long, env = "CLEARANCE_LOG_KEY_FILE", value_name = "FILE")]
    pub log_key_file: Option<PathBuf>,
    /// The private signing key itself, instead of a file (environment only).
    #[arg(long, env = "CLEARANCE_LOG_KEY", hide = true, hide_env_values = true)]
    pub log_key: Option<String>,
}

impl LogKeyArgs {
    pub fn load(&self) -> anyhow::Result<LogKey> {
        match (&self.log_key_file, &self.log_key) {
            (Some(_), Some(_)) => bail!("set CLEARANCE_LOG_KEY_FILE or CLEARANCE_LOG_KEY, not both"),
            (Some(path), None) => Ok(LogKey::from_file(path)?),
            (None, Some(key)) => Ok(LogKey::from_secret(&SecretString::from(key.clone()))?),
            (None, None) => bail!(
                "no transparency log key: create one with `server log keygen --name <your host>/log --out FILE` \
                 and set CLEARANCE_LOG_KEY_FILE=FILE (docs/security.md#the-transparency-log)"
            ),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Create a signing key for the transparency log: write the private key to
    /// FILE (readable by its owner only; an existing file is never overwritten)
    /// and print the public verifier key to publish.
    Keygen {
        /// The log's name, the first line of its checkpoints, e.g.
        /// `clearance.example.com/log`.
        #[arg(long)]
        name: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReceiptCommand {
    /// Check a downloaded receipt offline: the record matches its digest, the
    /// checkpoint is signed by KEY and the proof leads from the record to it.
    /// Exit 1 if it does not check.
    Verify {
        /// The receipt file (JSON).
        file: PathBuf,
        /// The log's verifier key (`name+id+key`), or a file holding it.
        #[arg(long)]
        key: String,
    },
}

/// The verifier key given on the command line: the key itself or a file.
pub fn verifier_key(given: &str) -> anyhow::Result<String> {
    let path = Path::new(given);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the key file {given}"))?;
        Ok(text.trim().to_owned())
    } else {
        Ok(given.trim().to_owned())
    }
}

/// `log keygen`: writes the key and answers the public key.
pub fn keygen(name: &str, out: &Path) -> anyhow::Result<String> {
    let (secret, public) = LogKey::generate(name)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(out)
        .with_context(|| format!("could not create {} (it must not exist yet)", out.display()))?;
    file.write_all(secrecy::ExposeSecret::expose_secret(&secret).as_bytes())?;
    file.write_all(b"\n")?;
    Ok(public)
}

/// `receipt verify`: the report and whether it checked.
pub fn verify_receipt(file: &Path, key: &str) -> anyhow::Result<(String, bool)> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("could not read {}", file.display()))?;
    let receipt: Receipt = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a receipt", file.display()))?;
    let key = verifier_key(key)?;
    Ok(match receipt.verify(&key) {
        Ok(verified) => (
            format!(
                "ok: acceptance record {} of tenant {} (digest {}) is leaf {} of {} in the log {}, \
                 whose checkpoint is signed by the key\n",
                receipt.record.seq,
                receipt.record.tenant_id,
                receipt.record.digest,
                verified.index,
                verified.size,
                verified.origin
            ),
            true,
        ),
        Err(error) => (format!("FAILED: {error}\n"), false),
    })
}

/// `dossier verify --key`: the dossier's signature over its manifest, each
/// receipt inside, and both chains recomputed from the records inside. The
/// report and whether everything checks.
pub fn verify_dossier_signature(document: &serde_json::Value, key: &str) -> (String, bool) {
    use app::domain::ledger::{verify_chain, AcceptanceRecord, ChainHead, EvidenceChange};
    let mut report = String::new();
    let mut intact = true;
    let mut say = |ok: bool, line: String| {
        intact &= ok;
        report.push_str(if ok { "ok       " } else { "BROKEN   " });
        report.push_str(&line);
        report.push('\n');
    };
    let text = |field: &str| document.get(field).and_then(serde_json::Value::as_str);
    match (text("signature"), text("tenant"), text("generated_at")) {
        (Some(signature), Some(tenant), Some(generated)) => {
            let manifest = document.get("manifest").cloned().unwrap_or_default();
            let expected = app::domain::dossier::signed_text(tenant, generated, &manifest);
            match super::key::open_note(key, signature) {
                Ok((name, signed)) if signed == expected => {
                    say(
                        true,
                        format!("signature: issued by {name} for {tenant}, manifest unchanged"),
                    );
                }
                Ok(_) => say(
                    false,
                    "signature: it signs another tenant, time or manifest".to_owned(),
                ),
                Err(error) => say(false, format!("signature: {error}")),
            }
        }
        _ => say(false, "signature: the dossier carries none".to_owned()),
    }
    let parts = document.get("parts");
    let receipts = parts
        .and_then(|parts| parts.pointer("/receipts/receipts"))
        .cloned()
        .map(serde_json::from_value::<Vec<Receipt>>);
    match receipts {
        Some(Ok(receipts)) => {
            for receipt in receipts {
                let seq = receipt.record.seq;
                match receipt.verify(key) {
                    Ok(verified) => say(
                        true,
                        format!(
                            "receipt of record {seq}: leaf {} of {}",
                            verified.index, verified.size
                        ),
                    ),
                    Err(error) => say(false, format!("receipt of record {seq}: {error}")),
                }
            }
        }
        _ => say(false, "receipts: missing or malformed".to_owned()),
    }
    let acceptances = parts
        .and_then(|parts| parts.pointer("/acceptance_chain/records"))
        .cloned()
        .map(serde_json::from_value::<Vec<AcceptanceRecord>>);
    match acceptances {
        Some(Ok(records)) => {
            let head = records.last().map(|last| ChainHead {
                seq: last.seq,
                digest: last.digest.clone(),
            });
            match verify_chain(&records, head.as_ref()) {
                Ok(count) => say(true, format!("acceptance chain: {count} records")),
                Err(broken) => say(false, format!("acceptance chain: {broken}")),
            }
        }
        _ => say(false, "acceptance chain: missing or malformed".to_owned()),
    }
    let evidence = parts
        .and_then(|parts| parts.get("evidence"))
        .cloned()
        .map(serde_json::from_value::<Vec<EvidenceChange>>);
    match evidence {
        Some(Ok(changes)) => {
            let head = changes.last().map(|last| ChainHead {
                seq: last.seq,
                digest: last.digest.clone(),
            });
            match verify_chain(&changes, head.as_ref()) {
                Ok(count) => say(true, format!("evidence chain: {count} changes")),
                Err(broken) => say(false, format!("evidence chain: {broken}")),
            }
        }
        _ => say(false, "evidence chain: missing or malformed".to_owned()),
    }
    (report, intact)
}
