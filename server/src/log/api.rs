//! The log over HTTP, public like the register: the newest (or an earlier)
//! signed checkpoint, the public key that opens it, and inclusion and
//! consistency proofs. Proofs are hashes only; the leaves themselves reach only
//! those who may see their records (in receipts and dossiers).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;

use super::tree::{self, HashCache};
use super::{store, LogError};
use crate::api::safe_json::SafeJson;
use crate::api::{ApiError, ErrorBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/log/checkpoint", get(checkpoint))
        .route("/api/log/key", get(key))
        .route("/api/log/inclusion", get(inclusion))
        .route("/api/log/consistency", get(consistency))
}

impl From<LogError> for ApiError {
    fn from(error: LogError) -> Self {
        match error {
            LogError::Database(error) => Self::Database(error),
            other => Self::Log(other.to_string()),
        }
    }
}

/// The query strings, as parsed and as the OpenAPI document describes them.
pub mod query {
    use serde::Deserialize;
    use utoipa::IntoParams;

    /// `size`: the checkpoint of that tree size instead of the newest.
    #[derive(Debug, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[serde(deny_unknown_fields)]
    pub struct CheckpointQuery {
        /// A tree size a checkpoint was signed at.
        #[param(minimum = 0)]
        pub size: Option<u64>,
    }

    #[derive(Debug, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[serde(deny_unknown_fields)]
    pub struct InclusionQuery {
        /// The leaf's index.
        #[param(minimum = 0)]
        pub index: u64,
        /// The tree size to prove it in (a checkpoint's size).
        #[param(minimum = 1)]
        pub size: u64,
    }

    #[derive(Debug, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[serde(deny_unknown_fields)]
    pub struct ConsistencyQuery {
        /// The older tree size.
        #[param(minimum = 1)]
        pub from: u64,
        /// The newer tree size.
        #[param(minimum = 1)]
        pub to: u64,
    }
}

fn text(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

fn parsed<Q>(query: Result<Query<Q>, QueryRejection>) -> Result<Q, ApiError> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
}

/// `GET /api/log/checkpoint[?size=N]`.
#[utoipa::path(
    get,
    path = "/api/log/checkpoint",
    tag = "transparency log",
    summary = "The newest signed checkpoint (C2SP tlog-checkpoint in a signed note), or the one signed at `size`",
    params(query::CheckpointQuery),
    responses(
        (status = 200, description = "The signed checkpoint", content_type = "text/plain", body = String),
        (status = 400, description = "A malformed query", body = ErrorBody),
        (status = 404, description = "No checkpoint was signed at that size", body = ErrorBody),
        (status = 503, description = "The database cannot be reached, or the log has no checkpoint yet", body = ErrorBody)
    )
)]
pub async fn checkpoint(
    State(state): State<AppState>,
    query: Result<Query<query::CheckpointQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = parsed(query)?;
    let mut conn = state.pool.acquire().await?;
    let found = match query.size {
        // No tree is that large.
        Some(size) if i64::try_from(size).is_err() => {
            return Err(ApiError::NotFound(format!(
                "no checkpoint was signed at size {size}"
            )))
        }
        Some(size) => store::checkpoint(&mut conn, size).await?.ok_or_else(|| {
            ApiError::NotFound(format!("no checkpoint was signed at size {size}"))
        })?,
        None => store::head(&mut conn)
            .await?
            .ok_or_else(|| LogError::Invalid("the log has no checkpoint yet".to_owned()))?,
    };
    Ok(text(found.note))
}

/// `GET /api/log/key`.
#[utoipa::path(
    get,
    path = "/api/log/key",
    tag = "transparency log",
    summary = "The log's public verifier key (signed-note encoding: name+id+key)",
    responses((status = 200, description = "The verifier key", content_type = "text/plain", body = String))
)]
pub async fn key(State(state): State<AppState>) -> Response {
    text(format!("{}\n", state.log.key().verifier_key()))
}

/// A proof: base64 hashes.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub proof: Vec<String>,
}

/// A consistency proof between two tree sizes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub proof: Vec<String>,
}

/// A proof in the tree of `size` leaves, made by `prove` from the stored
/// hashes, as base64 hashes; 404 when the log is not that large yet.
async fn proved(
    state: &AppState,
    size: u64,
    prove: impl Fn(&HashCache) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error>,
) -> Result<Vec<String>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    if size > store::head(&mut conn).await?.map_or(0, |head| head.size) {
        return Err(ApiError::NotFound(format!(
            "the log is smaller than {size}"
        )));
    }
    let proof = tree::with_hashes(&mut conn, &mut HashCache::default(), prove).await?;
    Ok(proof.iter().map(super::receipt::encode).collect())
}

/// `GET /api/log/inclusion?index=N&size=T`.
#[utoipa::path(
    get,
    path = "/api/log/inclusion",
    tag = "transparency log",
    summary = "The RFC 6962 inclusion proof of leaf `index` in the tree of `size` leaves",
    params(query::InclusionQuery),
    responses(
        (status = 200, description = "The proof", body = InclusionProof),
        (status = 400, description = "A malformed query, or `index` not below `size`", body = ErrorBody),
        (status = 404, description = "The log is smaller than `size`", body = ErrorBody),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)
    )
)]
pub async fn inclusion(
    State(state): State<AppState>,
    query: Result<Query<query::InclusionQuery>, QueryRejection>,
) -> Result<SafeJson<InclusionProof>, ApiError> {
    let query::InclusionQuery { index, size } = parsed(query)?;
    if index >= size {
        return Err(ApiError::BadRequest("index must be below size".to_owned()));
    }
    let proof = proved(&state, size, |cache| tree::inclusion(cache, size, index)).await?;
    Ok(SafeJson(InclusionProof { index, size, proof }))
}

/// `GET /api/log/consistency?from=N&to=T`.
#[utoipa::path(
    get,
    path = "/api/log/consistency",
    tag = "transparency log",
    summary = "The RFC 6962 consistency proof from the tree of `from` leaves to the tree of `to` leaves",
    params(query::ConsistencyQuery),
    responses(
        (status = 200, description = "The proof", body = ConsistencyProof),
        (status = 400, description = "A malformed query, or `from` above `to`", body = ErrorBody),
        (status = 404, description = "The log is smaller than `to`", body = ErrorBody),
        (status = 503, description = "The database cannot be reached", body = ErrorBody)
    )
)]
pub async fn consistency(
    State(state): State<AppState>,
    query: Result<Query<query::ConsistencyQuery>, QueryRejection>,
) -> Result<SafeJson<ConsistencyProof>, ApiError> {
    let query::ConsistencyQuery { from, to } = parsed(query)?;
    if from == 0 || from > to {
        return Err(ApiError::BadRequest(
            "from must be at least 1 and at most to".to_owned(),
        ));
    }
    let proof = proved(&state, to, |cache| tree::consistency(cache, to, from)).await?;
    Ok(SafeJson(ConsistencyProof { from, to, proof }))
}
