//! `POST /api/proofs/{proof_id}/runs` records a run; `GET` lists recent runs.

#![expect(
    unused_qualifications,
    reason = "utoipa's generated `IntoParams` calls qualify the query type"
)]

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Extension;
use chrono::Utc;
use serde::Deserialize;

use app::domain::access::Viewer;
use app::domain::proof_run::{ProofRun, ProofRunError, ProofRunRequest};

use super::auth::{bearer_token, refused_bearer};
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody, Result};
use super::safe_json::SafeJson;
use crate::auth::ClientAddr;
use crate::proofs;
use crate::state::AppState;

/// Whether the request's bearer token may record runs: the deployment's CI token,
/// or an operator's own token. Only `Authorization: Bearer` counts: a session
/// cookie never does, and a request with any other `Authorization` is refused
/// (the viewer was then made from that header alone, see
/// [`crate::auth::session::attach_viewer`]).
async fn authorize(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    address: &str,
) -> Result<()> {
    let token = match bearer_token(headers) {
        Ok(Some(token)) => token,
        Ok(None) => return Err(ApiError::Unauthorized),
        Err(_) => return Err(refused_bearer(&state.throttle, address).await),
    };
    let ci_token = state
        .api_token
        .as_ref()
        .is_some_and(|configured| configured.matches(token));
    if ci_token || viewer.is_operator() {
        return Ok(());
    }
    match refused_bearer(&state.throttle, address).await {
        // Without a CI token only operators' tokens can record: say so.
        ApiError::Unauthorized if state.api_token.is_none() && *viewer == Viewer::Public => {
            Err(ApiError::TokenNotConfigured)
        }
        refusal => Err(refusal),
    }
}

/// Records a proof run: with the deployment's CI token, or an operator's own API
/// token. Secret values are redacted from the whole excerpt and only then is it
/// cut to its tail. Nothing is stored unless every rule passes.
#[utoipa::path(
    post,
    path = "/api/proofs/{proof_id}/runs",
    tag = "proofs",
    summary = "Record a proof run",
    params(("proof_id" = String, Path, description = "A proof id of the register")),
    request_body(content = ProofRunRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The stored run", body = ProofRun),
        (status = 400, description = "Malformed JSON, wrong types, unknown fields or a bad query", body = ErrorBody),
        (status = 401, description = "No bearer token, a wrong one, or an `Authorization` other than `Bearer`", body = ErrorBody),
        (status = 404, description = "Unknown proof id", body = ErrorBody),
        (status = 413, description = "Body larger than the limit (64 KiB)", content_type = "text/plain", body = String),
        (status = 422, description = "A rule broken; `field` names it", body = ErrorBody),
        (status = 429, description = "Too many wrong bearer tokens from this address", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "No CI token configured (and the token is no operator's), or the database cannot be reached", body = ErrorBody)
    )
)]
#[tracing::instrument(skip(state, viewer, headers, body, address))]
pub async fn record_run(
    State(state): State<AppState>,
    Path(proof_id): Path<String>,
    Extension(viewer): Extension<Viewer>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, SafeJson<ProofRun>)> {
    authorize(&state, &viewer, &headers, &address).await?;
    let register = &state.clearance.register;
    if register.proof(&proof_id).is_none() {
        return Err(ProofRunError::UnknownProof(proof_id).into());
    }
    let mut request: ProofRunRequest = serde_json::from_slice(&body)
        .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    let redactor = proofs::Redactor::from_environment(register);
    request.actor = redactor.redact(&request.actor);
    request.excerpt = request.excerpt.map(|excerpt| redactor.redact(&excerpt));
    let run = request.validate(register, &proof_id, Utc::now())?;
    let stored = proofs::record(&state.pool, register, &run).await?;
    tracing::info!(proof = %stored.proof_id, passed = stored.passed, "proof run recorded");
    state.monitor_wake.notify_one();
    Ok((StatusCode::CREATED, SafeJson(stored)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// How many runs (default 20; 1 to 100, clamped).
    limit: Option<i64>,
}

/// The newest runs of a proof (at most 100).
#[utoipa::path(
    get,
    path = "/api/proofs/{proof_id}/runs",
    tag = "proofs",
    summary = "The proof's newest runs, newest first",
    params(("proof_id" = String, Path, description = "A proof id of the register"), RunsQuery),
    responses(
        (status = 200, description = "Runs, newest first", body = Vec<ProofRun>),
        (status = 400, description = "Malformed JSON, wrong types, unknown fields or a bad query", body = ErrorBody),
        (status = 404, description = "Unknown proof id", body = ErrorBody),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)
    )
)]
#[tracing::instrument(skip(state))]
pub async fn list_runs(
    State(state): State<AppState>,
    Path(proof_id): Path<String>,
    query: std::result::Result<Query<RunsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<SafeJson<Vec<ProofRun>>> {
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    if state.clearance.register.proof(&proof_id).is_none() {
        return Err(ProofRunError::UnknownProof(proof_id).into());
    }
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    Ok(SafeJson(
        proofs::recent_runs(&state.pool, &proof_id, limit).await?,
    ))
}
