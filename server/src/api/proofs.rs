//! `POST /api/proofs/{proof_id}/runs` records a run; `GET` lists recent runs.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use chrono::Utc;
use serde::Deserialize;

use app::domain::access::Viewer;
use app::domain::proof_run::{ProofRun, ProofRunError, ProofRunRequest};

use super::auth::ApiToken;
use super::error::{ApiError, Result};
use crate::proofs;
use crate::state::AppState;

/// Records a proof run: with the deployment's CI token, or an operator's own API
/// token. Nothing is stored unless every rule passes.
#[tracing::instrument(skip(state, viewer, headers, body))]
pub async fn record_run(
    State(state): State<AppState>,
    Path(proof_id): Path<String>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ProofRun>)> {
    let operator_token = viewer.is_operator() && headers.contains_key(http::header::AUTHORIZATION);
    if !operator_token {
        ApiToken::verify(state.api_token.as_ref(), &headers)?;
    }
    let register = &state.clearance.register;
    if register.proof(&proof_id).is_none() {
        return Err(ProofRunError::UnknownProof(proof_id).into());
    }
    let mut request: ProofRunRequest = serde_json::from_slice(&body)
        .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    request.excerpt = request
        .excerpt
        .map(|excerpt| proofs::redact_secrets(register, &excerpt));
    let run = request.validate(register, &proof_id, Utc::now())?;
    let stored = proofs::record(&state.pool, &run).await?;
    tracing::info!(proof = %stored.proof_id, passed = stored.passed, "proof run recorded");
    state.monitor_wake.notify_one();
    Ok((StatusCode::CREATED, Json(stored)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    limit: Option<i64>,
}

/// The newest runs of a proof (at most 100).
#[tracing::instrument(skip(state))]
pub async fn list_runs(
    State(state): State<AppState>,
    Path(proof_id): Path<String>,
    query: std::result::Result<Query<RunsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<ProofRun>>> {
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    if state.clearance.register.proof(&proof_id).is_none() {
        return Err(ProofRunError::UnknownProof(proof_id).into());
    }
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(
        proofs::recent_runs(&state.pool, &proof_id, limit).await?,
    ))
}
