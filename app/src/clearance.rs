//! What the register page shows, and the server function that serves it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::domain::document::Staleness;
use crate::domain::proof_run::ProofRun;
use crate::domain::{Readiness, ReadinessChange, ReadinessInputs, Register};

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
}

impl LiveState {
    pub fn new(readiness: ReadinessSnapshot) -> Self {
        Self {
            readiness,
            points: Vec::new(),
            changes: Vec::new(),
            latest_runs: BTreeMap::new(),
        }
    }
}

/// Everything the register page needs: the register and the readiness it is
/// evaluated against. The evaluation itself runs wherever the page renders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearanceView {
    pub register: Arc<Register>,
    pub live: Arc<LiveState>,
}

/// Errors the register's server functions can answer with. Messages are safe to show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ClearanceError {
    #[error("the readiness service is not running")]
    Unavailable,
    #[error("no such blocker in this register")]
    NotFound,
    #[error("the history is unavailable: the database cannot be reached")]
    HistoryUnavailable,
    #[error("request failed: {0}")]
    Transport(ServerFnErrorErr),
}

impl FromServerFnError for ClearanceError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value)
    }
}

/// The register and the latest readiness snapshot.
#[server(endpoint = "clearance")]
pub async fn get_clearance() -> Result<ClearanceView, ClearanceError> {
    let live = use_context::<crate::live::LiveClearance>().ok_or(ClearanceError::Unavailable)?;
    Ok(ClearanceView {
        register: Arc::clone(&live.register),
        live: live.current(),
    })
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

/// The recent runs of a blocker's proof and its dependencies' history.
#[server(endpoint = "blocker-history")]
pub async fn get_blocker_history(blocker: String) -> Result<BlockerHistory, ClearanceError> {
    let live = use_context::<crate::live::LiveClearance>().ok_or(ClearanceError::Unavailable)?;
    let found = live
        .register
        .blocker(&blocker)
        .ok_or(ClearanceError::NotFound)?;
    let readiness = live.current().readiness.clone();
    live.store
        .blocker_history(&readiness, found)
        .await
        .map_err(|_| ClearanceError::HistoryUnavailable)
}
