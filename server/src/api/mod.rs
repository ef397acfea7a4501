//! The JSON API: readiness (advisory and strict), proof runs, launch acceptance,
//! and the live event stream. Handlers are thin: validation and evaluation live in `app::domain`.

mod acceptance;
mod auth;
mod badges;
mod deployments;
mod error;
mod events;

pub use events::{EventStreams, StreamRefused};
pub mod openapi;
pub mod packs;
mod proofs;
mod queries;
mod readiness;
mod receipts;
pub mod safe_json;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use auth::{bearer_token, refused_bearer, ApiToken, MIN_API_TOKEN_CHARS};
pub use error::{ApiError, ErrorBody, NotAnOperator, OperatorErrors, SignedInErrors};
pub use readiness::readiness_document;

use crate::input::BODY_LIMIT;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/readiness", get(readiness::get_readiness))
        .route(
            "/api/proofs/{proof_id}/runs",
            get(proofs::list_runs).post(proofs::record_run),
        )
        .route(
            "/api/deployments/{name}/declared",
            get(deployments::declared),
        )
        .route(
            "/api/deployments/{name}/reports",
            post(deployments::report).layer(DefaultBodyLimit::max(
                app::domain::deployment::REPORT_LIMIT_BYTES,
            )),
        )
        .route("/api/events", get(events::stream))
        .route("/badge/{file}", get(badges::badge))
        .route("/api/product/{pack}", get(packs::product))
        .route("/api/platform/launch-room", get(acceptance::room))
        .route("/api/platform/launch-dossier", get(acceptance::dossier))
        .route("/api/platform/launch-receipt", get(receipts::receipt))
        .route("/api/openapi.json", get(openapi::openapi))
        .route(
            "/api/platform/launch-acceptance",
            get(acceptance::get).patch(acceptance::patch),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}
