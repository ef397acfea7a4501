//! Proof runs: what an operator or CI job reports, and the rules it must meet.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::register::Register;

/// Longest excerpt of a run's output that is stored, in characters: longer ones
/// keep their end (after secret values were redacted from the whole text).
pub const EXCERPT_LIMIT: usize = 2_000;
/// Longest actor ("who or which CI job"), in characters.
pub const ACTOR_LIMIT: usize = 200;

/// A proof run as submitted (`POST /api/proofs/{proof_id}/runs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProofRunRequest {
    /// `passed` or `failed`.
    #[cfg_attr(feature = "ssr", schema(pattern = "^(passed|failed)$"))]
    pub status: String,
    /// Who ran it, or which CI job.
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 200))]
    pub actor: String,
    /// When it ran; now when absent.
    #[serde(default)]
    pub ran_at: Option<DateTime<Utc>>,
    /// SHA-256 (hex) of the full output.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^[0-9a-f]{64}$"))]
    pub output_digest: Option<String>,
    /// A part of the output; only its last [`EXCERPT_LIMIT`] characters are kept.
    #[serde(default)]
    pub excerpt: Option<String>,
}

/// A validated proof run, ready to store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProofRun {
    pub proof_id: String,
    pub passed: bool,
    pub ran_at: DateTime<Utc>,
    pub actor: String,
    pub output_digest: Option<String>,
    pub excerpt: String,
}

/// A stored proof run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProofRun {
    pub id: i64,
    pub proof_id: String,
    pub passed: bool,
    pub ran_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub output_digest: Option<String>,
    pub excerpt: String,
}

/// Why a proof run was refused. Each message names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ProofRunError {
    #[error("unknown proof id {0:?}")]
    UnknownProof(String),
    #[error("status must be \"passed\" or \"failed\", not {0:?}")]
    BadStatus(String),
    #[error("actor must not be empty")]
    EmptyActor,
    #[error("actor is longer than {ACTOR_LIMIT} characters")]
    ActorTooLong,
    #[error("{0} contains control characters")]
    ControlCharacters(&'static str),
    #[error("output_digest must be 64 lowercase hexadecimal characters (SHA-256)")]
    BadDigest,
    #[error("ran_at is in the future")]
    RanInTheFuture,
}

impl ProofRunError {
    /// The request field the error is about, for API clients.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownProof(_) => "proof_id",
            Self::BadStatus(_) => "status",
            Self::EmptyActor | Self::ActorTooLong => "actor",
            Self::ControlCharacters(field) => field,
            Self::BadDigest => "output_digest",
            Self::RanInTheFuture => "ran_at",
        }
    }
}

/// Clock skew tolerated on `ran_at`.
const FUTURE_TOLERANCE_SECS: i64 = 300;

impl ProofRunRequest {
    /// Checks every rule; `now` is the server's clock.
    pub fn validate(
        self,
        register: &Register,
        proof_id: &str,
        now: DateTime<Utc>,
    ) -> Result<NewProofRun, ProofRunError> {
        if register.proof(proof_id).is_none() {
            return Err(ProofRunError::UnknownProof(proof_id.to_owned()));
        }
        let passed = match self.status.as_str() {
            "passed" => true,
            "failed" => false,
            _ => return Err(ProofRunError::BadStatus(self.status)),
        };
        let actor = self.actor.trim();
        if actor.is_empty() {
            return Err(ProofRunError::EmptyActor);
        }
        if actor.chars().count() > ACTOR_LIMIT {
            return Err(ProofRunError::ActorTooLong);
        }
        if actor.chars().any(char::is_control) {
            return Err(ProofRunError::ControlCharacters("actor"));
        }
        // Cut only here, after the caller redacted the whole text: a secret value
        // straddling the cut would otherwise leave a piece of itself behind.
        let excerpt = tail(&self.excerpt.unwrap_or_default());
        if excerpt
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ProofRunError::ControlCharacters("excerpt"));
        }
        if let Some(digest) = &self.output_digest {
            let well_formed = digest.len() == 64
                && digest
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
            if !well_formed {
                return Err(ProofRunError::BadDigest);
            }
        }
        let ran_at = self.ran_at.unwrap_or(now);
        if ran_at > now + Duration::seconds(FUTURE_TOLERANCE_SECS) {
            return Err(ProofRunError::RanInTheFuture);
        }
        Ok(NewProofRun {
            proof_id: proof_id.to_owned(),
            passed,
            ran_at,
            actor: actor.to_owned(),
            output_digest: self.output_digest,
            excerpt,
        })
    }
}

/// `output` without control characters other than line breaks and tabs: done
/// before redacting, so a value split by NUL bytes is whole again when the
/// redaction looks for it.
pub fn printable(output: &str) -> String {
    output
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .collect()
}

/// The last [`EXCERPT_LIMIT`] characters of `text`: the end of a command's
/// output says most. Only ever applied to text already redacted.
pub fn tail(text: &str) -> String {
    let length = text.chars().count();
    text.chars()
        .skip(length.saturating_sub(EXCERPT_LIMIT))
        .collect()
}
