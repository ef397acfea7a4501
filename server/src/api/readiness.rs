//! `GET /api/readiness`: this deployment's readiness document.

#![expect(
    unused_qualifications,
    reason = "utoipa's generated `IntoParams` calls qualify the query type"
)]

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::domain::document::{
    proof_freshness_facts, verdict, LiveBlocker, MotionVerdict, ObservedReadiness,
    ReadinessDocument, ReadinessMode, READINESS_FORMAT,
};
use app::domain::{evaluate, Register};
use app::live_state::LiveState;

use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody, Result};
use super::safe_json::SafeJson;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReadinessQuery {
    /// Judge by strict readiness (every blocker cleared) instead of advisory.
    #[serde(default)]
    strict: bool,
    /// Judge one launch motion by its id.
    motion: Option<String>,
}

/// 200 when ready in the asked mode, 503 with the reasons when not.
#[utoipa::path(
    get,
    path = "/api/readiness",
    tag = "readiness",
    summary = "The readiness document (format clearance.readiness/1)",
    params(ReadinessQuery),
    responses(
        (status = 200, description = "Ready in the asked mode", body = Object),
        (status = 503, description = "Not ready in the asked mode (part of the contract: CI gates on it); the same document, `reasons` says why", body = Object),
        (status = 400, description = "A bad query", body = ErrorBody),
        (status = 404, description = "Unknown motion id", body = ErrorBody)
    )
)]
#[tracing::instrument(skip(state))]
pub async fn get_readiness(
    State(state): State<AppState>,
    query: std::result::Result<Query<ReadinessQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let mode = if query.strict {
        ReadinessMode::Strict
    } else {
        ReadinessMode::Advisory
    };
    let live = state.clearance.current();
    let document = readiness_document(
        &state.clearance.register,
        &live,
        mode,
        query.motion.as_deref(),
    )
    .ok_or_else(|| {
        ApiError::NotFound(format!(
            "unknown motion id {:?}",
            query.motion.unwrap_or_default()
        ))
    })?;
    let mut document = document;
    document.provenance = state.provenance.current();
    let status = if document.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, SafeJson(document)).into_response())
}

/// The readiness document for the current live state; `None` for an unknown motion.
pub fn readiness_document(
    register: &Register,
    live: &LiveState,
    mode: ReadinessMode,
    motion: Option<&str>,
) -> Option<ReadinessDocument> {
    let inputs = &live.readiness.inputs;
    let evaluation = evaluate(register, inputs);
    let (ready, reasons) = verdict(register, &evaluation, mode, motion)?;
    Some(ReadinessDocument {
        observed: ObservedReadiness {
            format: READINESS_FORMAT.to_owned(),
            version: Some(
                live.readiness
                    .version
                    .clone()
                    .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
            ),
            dependencies: register
                .dependency_names()
                .into_iter()
                .map(|name| (name.to_owned(), inputs.dependency(name)))
                .collect(),
            public_checks: inputs.public_checks.clone(),
        },
        observed_at: live.readiness.observed_at,
        mode,
        motion: motion.map(str::to_owned),
        ready,
        advisory: evaluation.advisory,
        strict: evaluation.strict,
        proofs: inputs.proofs.clone(),
        live_blockers: register
            .blockers
            .iter()
            .zip(&evaluation.blockers)
            .filter(|(_, state)| state.live)
            .map(|(blocker, state)| LiveBlocker {
                id: blocker.id.clone(),
                title: blocker.title.clone(),
                missing: state.missing.clone(),
                proof: blocker.proof.clone(),
                proof_passing: state.proof_passing,
            })
            .collect(),
        motions: evaluation
            .motions
            .iter()
            .map(|motion| MotionVerdict {
                id: motion.id.clone(),
                status: motion.status,
                reasons: motion.reasons.clone(),
            })
            .collect(),
        reasons,
        stale: live.readiness.stale.clone(),
        health_checks: live.health_checks.clone(),
        proof_freshness: proof_freshness_facts(&live.proof_freshness),
        // Filled by the handler from the monitor's board (see `get_readiness`).
        provenance: Default::default(),
    })
}
