//! Reporters: `GET /api/deployments/{name}/declared` tells a deployment's reporter
//! what to check; `POST /api/deployments/{name}/reports` takes its report. Both
//! take only that deployment's reporter token; no other token reports, and a
//! reporter token opens no other endpoint.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::Serialize;

use app::domain::deployment::{self, Declared, Report};

use super::auth::{bearer_token, refused_bearer};
use super::error::{ApiError, ErrorBody, Result};
use super::safe_json::SafeJson;
use crate::auth::ClientAddr;
use crate::deployments::store;
use crate::state::AppState;

/// The deployment a request's reporter token reports for, when it is `name`:
/// 401 without an active reporter token (account tokens and the CI token are
/// none), 403 for a token of another deployment, 404 for an unknown deployment.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    address: &str,
    name: &str,
) -> Result<i64> {
    let token = match bearer_token(headers) {
        Ok(Some(token)) => token,
        Ok(None) => return Err(ApiError::Unauthorized),
        Err(_) => return Err(refused_bearer(&state.throttle, address).await),
    };
    let Some((id, reports_for)) = store::authenticate(&state.pool, token).await? else {
        return Err(refused_bearer(&state.throttle, address).await);
    };
    if reports_for == name {
        return Ok(id);
    }
    // A name no deployment can have is unknown without asking the database.
    if deployment::is_valid_deployment_name(name) && store::exists(&state.pool, name).await? {
        Err(ApiError::Forbidden(format!(
            "this reporter token reports for deployment {reports_for:?} only"
        )))
    } else {
        Err(ApiError::NotFound("unknown deployment".to_owned()))
    }
}

/// Which dependency names the register declares, and of which kind.
#[utoipa::path(
    get,
    path = "/api/deployments/{name}/declared",
    tag = "deployments",
    summary = "What a deployment's reporter checks: the declared dependency names and kinds",
    params(("name" = String, Path, description = "The deployment's name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The declared names", body = Declared),
        (status = 400, description = "A malformed request", body = ErrorBody),
        (status = 401, description = "No reporter token, a wrong or revoked one, or an account's token", body = ErrorBody),
        (status = 403, description = "A reporter token of another deployment", body = ErrorBody),
        (status = 404, description = "Unknown deployment", body = ErrorBody),
        (status = 429, description = "Too many wrong bearer tokens from this address", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)
    )
)]
#[tracing::instrument(skip(state, headers, address))]
pub async fn declared(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
) -> Result<SafeJson<Declared>> {
    authorize(&state, &headers, &address, &name).await?;
    Ok(SafeJson(deployment::declared(
        &state.clearance.register,
        &name,
    )))
}

/// What the server kept of a report.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub deployment: String,
    pub received_at: DateTime<Utc>,
    pub dependencies: usize,
    pub checks: usize,
}

/// Stores the report as the deployment's latest. Nothing is stored unless
/// every rule passes.
#[utoipa::path(
    post,
    path = "/api/deployments/{name}/reports",
    tag = "deployments",
    summary = "A deployment's readiness report: names and verdicts, never values",
    params(("name" = String, Path, description = "The deployment's name")),
    request_body(content = Report, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Stored as the deployment's latest report", body = Receipt),
        (status = 400, description = "Malformed JSON, wrong types or unknown fields", body = ErrorBody),
        (status = 401, description = "No reporter token, a wrong or revoked one, or an account's token", body = ErrorBody),
        (status = 403, description = "A reporter token of another deployment", body = ErrorBody),
        (status = 404, description = "Unknown deployment", body = ErrorBody),
        (status = 413, description = "Body larger than the limit (16 KiB)", content_type = "text/plain", body = String),
        (status = 422, description = "A rule broken (an undeclared name, a state of the wrong kind, a bad check); `fields` names each", body = ErrorBody),
        (status = 429, description = "Too many wrong bearer tokens from this address", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)
    )
)]
#[tracing::instrument(skip(state, headers, body, address))]
pub async fn report(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<SafeJson<Receipt>> {
    let deployment_id = authorize(&state, &headers, &address, &name).await?;
    let report: Report = serde_json::from_slice(&body).map_err(not_a_report)?;
    deployment::validate(&state.clearance.register, &report).map_err(ApiError::Invalid)?;
    let received_at = store::save_report(&state.pool, deployment_id, &report).await?;
    tracing::info!(deployment = %name, "deployment report stored");
    state.monitor_wake.notify_one();
    Ok(SafeJson(Receipt {
        deployment: name,
        received_at,
        dependencies: report.dependencies.len(),
        checks: report.checks.len(),
    }))
}

/// Where the body stopped being a report, without echoing any of it (serde's
/// own messages quote the offending value, which could be a secret sent by
/// mistake).
fn not_a_report(error: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Syntax => "not JSON",
        Category::Eof => "the body ends early",
        Category::Data => {
            "a field of the wrong type, an unknown field or state, or a missing field"
        }
        Category::Io => "unreadable",
    };
    ApiError::MalformedJson(format!(
        "not a report at line {}, column {}: {what}",
        error.line(),
        error.column()
    ))
}
