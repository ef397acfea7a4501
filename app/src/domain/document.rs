//! The readiness document: the JSON a deployment answers at `GET /api/readiness`,
//! and what a Clearance server reads when it watches a remote deployment.
//!
//! A watched deployment needs only `format`, `dependencies` and `public_checks`
//! (and may add `version`); Clearance itself also serves its evaluation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::evaluation::{
    DependencyState, Evaluation, MotionStatus, PublicCheck, Readiness, Reason,
};
use super::freshness::{FreshnessState, ProofFreshness};
use super::health_check::HealthCheckResult;
use super::register::Register;

/// The value of `format` this build writes and reads.
pub const READINESS_FORMAT: &str = "clearance.readiness/1";

/// What a watcher needs from a deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedReadiness {
    pub format: String,
    #[serde(default)]
    pub version: Option<String>,
    pub dependencies: BTreeMap<String, DependencyState>,
    pub public_checks: Vec<PublicCheck>,
}

/// Which readiness level a request asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessMode {
    Advisory,
    Strict,
}

/// The full document Clearance serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessDocument {
    #[serde(flatten)]
    pub observed: ObservedReadiness,
    pub observed_at: DateTime<Utc>,
    pub mode: ReadinessMode,
    /// The motion the verdict is about, when one was asked for.
    pub motion: Option<String>,
    /// Whether the deployment passes in `mode` (for `motion`, when given).
    pub ready: bool,
    pub advisory: Readiness,
    pub strict: Readiness,
    pub proofs: BTreeMap<String, bool>,
    pub live_blockers: Vec<LiveBlocker>,
    pub motions: Vec<MotionVerdict>,
    /// Why `ready` is false, as sentences; empty when ready.
    pub reasons: Vec<String>,
    /// Set when the readings are old because the source stopped answering.
    pub stale: Option<Staleness>,
    /// The register's health checks: each verdict with its public-safe detail,
    /// `source` (the check's URL) and `last_seen`. Also among `public_checks`.
    #[serde(default)]
    pub health_checks: Vec<HealthCheckResult>,
    /// Each declared proof against its freshness window: "expires in …" within
    /// the register's warning margin, and since when an expired one is quiet.
    #[serde(default)]
    pub proof_freshness: BTreeMap<String, ProofFreshnessFact>,
    /// Where each dependency state and public check came from, and when it was
    /// last seen.
    #[serde(default)]
    pub provenance: Provenance,
}

/// Where the proof-freshness facts come from: the recorded proof runs.
pub const PROOF_RUNS_SOURCE: &str = "proof_runs";

/// One proof's freshness, as the readiness document states it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofFreshnessFact {
    pub state: FreshnessState,
    /// When the latest pass stops counting; set while the latest run passed.
    pub expires_at: Option<DateTime<Utc>>,
    /// `expires in 5 h 20 min` within the warning margin; `expired … ago; no
    /// passing run since …` once it lapsed; absent otherwise.
    pub warning: Option<String>,
    /// Where the fact came from ([`PROOF_RUNS_SOURCE`]).
    pub source: String,
    /// The latest run's time: when the proof was last seen.
    pub last_seen: Option<DateTime<Utc>>,
}

/// The document's freshness facts, from the live state's.
pub fn proof_freshness_facts(
    freshness: &BTreeMap<String, ProofFreshness>,
) -> BTreeMap<String, ProofFreshnessFact> {
    freshness
        .iter()
        .map(|(id, proof)| {
            (
                id.clone(),
                ProofFreshnessFact {
                    state: proof.state,
                    expires_at: proof.expires_at,
                    warning: proof.warning.clone(),
                    source: PROOF_RUNS_SOURCE.to_owned(),
                    last_seen: proof.last_run_at,
                },
            )
        })
        .collect()
}

/// Where a fact of the readiness document came from. Public-safe: a name, a
/// deployment name or a URL without credentials or query, never a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FactSource {
    /// This server's own environment (and database), recorded under `name`.
    Environment { name: String },
    /// The reporter running inside the named deployment (`server report`).
    Reporter { deployment: String },
    /// A remote deployment's readiness document.
    Remote { url: String },
    /// An HTTP check of `url`: run by the reporter of `deployment` when that is
    /// set, by this server otherwise.
    Check {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deployment: Option<String>,
    },
}

/// One fact's origin: its source and when that source last said it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub source: FactSource,
    pub last_seen: DateTime<Utc>,
}

/// The origin of every dependency state (by name) and public check (by name).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub dependencies: BTreeMap<String, Origin>,
    pub public_checks: BTreeMap<String, Origin>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveBlocker {
    pub id: String,
    pub title: String,
    pub missing: Vec<String>,
    pub proof: String,
    pub proof_passing: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MotionVerdict {
    pub id: String,
    pub status: MotionStatus,
    pub reasons: Vec<Reason>,
}

/// A remote source that stopped answering: since when, and the last error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staleness {
    pub since: DateTime<Utc>,
    pub error: String,
}

/// Whether `evaluation` passes in `mode`, for one motion or the whole deployment,
/// and the reasons when it does not. `None` when the motion is unknown.
pub fn verdict(
    register: &Register,
    evaluation: &Evaluation,
    mode: ReadinessMode,
    motion: Option<&str>,
) -> Option<(bool, Vec<String>)> {
    if let Some(motion_id) = motion {
        let motion = evaluation.motion(motion_id)?;
        let ready = match mode {
            ReadinessMode::Advisory => motion.status != MotionStatus::Blocked,
            ReadinessMode::Strict => motion.status == MotionStatus::Clear,
        };
        let reasons = if ready {
            Vec::new()
        } else {
            motion.reasons.iter().map(ToString::to_string).collect()
        };
        return Some((ready, reasons));
    }
    let level = match mode {
        ReadinessMode::Advisory => evaluation.advisory,
        ReadinessMode::Strict => evaluation.strict,
    };
    let ready = match mode {
        ReadinessMode::Advisory => level != Readiness::NotReady,
        ReadinessMode::Strict => level == Readiness::Ready,
    };
    let mut reasons = Vec::new();
    if !ready {
        reasons.push(format!(
            "{} readiness is {level}",
            match mode {
                ReadinessMode::Advisory => "advisory",
                ReadinessMode::Strict => "strict",
            }
        ));
        for (blocker, state) in register.blockers.iter().zip(&evaluation.blockers) {
            if state.live && mode == ReadinessMode::Strict {
                let mut why = Vec::new();
                if !state.missing.is_empty() {
                    why.push(format!("{} missing", state.missing.join(", ")));
                }
                if !state.proof_passing {
                    let proof = register
                        .proof(&blocker.proof)
                        .map_or(blocker.proof.as_str(), |proof| proof.name.as_str());
                    why.push(format!("{proof} has no passing run"));
                }
                reasons.push(format!(
                    "live blocker: {} ({})",
                    blocker.title,
                    why.join("; ")
                ));
            }
        }
    }
    Some((ready, reasons))
}
