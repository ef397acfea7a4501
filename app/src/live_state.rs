//! The live state: what the server observes of a deployment's readiness and its
//! stored history, as one value shared by the server (which publishes it), the
//! pages (which render from it) and the browser (which is told when it changes).
//! Plain data over the [`crate::domain`] types; no I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::document::Staleness;
use crate::domain::freshness::ProofFreshness;
use crate::domain::health_check::HealthCheckResult;
use crate::domain::proof_run::ProofRun;
use crate::domain::{Readiness, ReadinessChange, ReadinessInputs};

/// One observation of a deployment's readiness, as published by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessSnapshot {
    /// Where the observation came from, e.g. `environment`.
    pub source: String,
    pub inputs: ReadinessInputs,
    /// [`ReadinessInputs::digest`] of `inputs`.
    pub digest: String,
    /// When this state was first seen (from the stored snapshot history).
    pub first_seen_at: DateTime<Utc>,
    /// When the source was last read successfully.
    pub observed_at: DateTime<Utc>,
    /// False while the snapshot could not be written to the database yet.
    pub recorded: bool,
    /// The watched deployment's version, when it reports one.
    pub version: Option<String>,
    /// Set while a remote source is not answering.
    pub stale: Option<Staleness>,
}

impl ReadinessSnapshot {
    pub fn new(source: impl Into<String>, inputs: ReadinessInputs, now: DateTime<Utc>) -> Self {
        Self {
            source: source.into(),
            digest: inputs.digest(),
            inputs,
            first_seen_at: now,
            observed_at: now,
            recorded: false,
            version: None,
            stale: None,
        }
    }
}

/// The server-sent event name of a [`LiveState`] update on `/api/events`.
pub const LIVE_EVENT: &str = "live";

/// One point of the live-blocker chart: a stored snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPoint {
    pub at: DateTime<Utc>,
    pub live_blockers: u32,
    pub advisory: Readiness,
}

/// One stored change of readiness.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub change: ReadinessChange,
    /// The changed blocker's title, filled in by the server (the browser does not
    /// hold every blocker).
    #[serde(default)]
    pub title: Option<String>,
}

/// Everything that changes while the page is open, pushed to it as one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveState {
    pub readiness: ReadinessSnapshot,
    /// Oldest first.
    pub points: Vec<HistoryPoint>,
    /// Newest first.
    pub changes: Vec<HistoryEntry>,
    /// The latest run of each proof that has one.
    pub latest_runs: BTreeMap<String, ProofRun>,
    /// Set while Clearance's own database cannot be reached: the state above is
    /// then what the source says now, with proofs and history as last known.
    #[serde(default)]
    pub database_down_since: Option<DateTime<Utc>>,
    /// The register's health checks and their latest results, in register order
    /// (also among `readiness.inputs.public_checks`).
    #[serde(default)]
    pub health_checks: Vec<HealthCheckResult>,
    /// Each declared proof against its freshness window at the last reading
    /// (its coarse "expires in …" words change at most hourly, then by minute).
    #[serde(default)]
    pub proof_freshness: BTreeMap<String, ProofFreshness>,
}

impl LiveState {
    /// Identifies what the views show of this state: it changes whenever the
    /// evaluated inputs or a proof's latest run change.
    pub fn version(&self) -> String {
        let runs: i64 = self
            .latest_runs
            .values()
            .map(|run| run.id)
            .max()
            .unwrap_or(0);
        format!("{}:{runs}", self.readiness.digest)
    }

    pub fn new(readiness: ReadinessSnapshot) -> Self {
        Self {
            readiness,
            points: Vec::new(),
            changes: Vec::new(),
            latest_runs: BTreeMap::new(),
            database_down_since: None,
            health_checks: Vec::new(),
            proof_freshness: BTreeMap::new(),
        }
    }
}

/// What the blocker view adds to the live state: its proof's recent runs and since
/// when each dependency has had its current state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerHistory {
    /// Newest first, at most [`RECENT_RUNS`].
    pub runs: Vec<ProofRun>,
    /// Dependency name → the first stored snapshot since which it has had its
    /// current state. Absent when no snapshot is stored yet.
    pub dependency_since: BTreeMap<String, DateTime<Utc>>,
}

/// How many recent runs the blocker view lists.
pub const RECENT_RUNS: i64 = 10;
