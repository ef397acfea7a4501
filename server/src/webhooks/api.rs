//! The webhook endpoints over JSON (`/api/webhooks…`, `/api/event-types`):
//! the same rules as the page's forms, for operators only, with a per-account
//! bearer token or a session. A signing secret is answered twice only: when
//! the endpoint is created and when its secret is rotated.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use app::domain::access::Viewer;
use app::domain::events::EventType;
use app::domain::webhook::EndpointForm;

use super::manage::{self, Denial, DELIVERIES_SHOWN, ROTATION_OVERLAP};
use super::store::{self, Delivery, Endpoint};
use crate::api::safe_json::SafeJson;
use crate::api::{refused_bearer, ApiError, ErrorBody, OperatorErrors};
use crate::auth::audit::Action;
use crate::auth::ClientAddr;
use crate::state::AppState;

type Result<T, E = ApiError> = std::result::Result<T, E>;

/// The operator calling, or 401 (429 after too many wrong tokens) for the
/// public and 403 (logged) for anyone else.
async fn operator(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    address: &str,
    what: &str,
) -> Result<String> {
    match manage::operator(viewer) {
        Ok(account) => Ok(account.email.clone()),
        Err(Denial::Public) if headers.contains_key(http::header::AUTHORIZATION) => {
            Err(refused_bearer(&state.throttle, address).await)
        }
        Err(Denial::Public) => Err(ApiError::SignInRequired),
        Err(Denial::NotOperator) => {
            manage::log_denial(state, viewer, what, address).await;
            Err(ApiError::Forbidden(
                "only operators manage webhooks".to_owned(),
            ))
        }
    }
}

/// The endpoint a path names, or 404.
async fn endpoint(state: &AppState, id: &str) -> Result<Endpoint> {
    let found = match manage::parse_id(id) {
        Some(id) => store::find(&state.pool, id).await?,
        None => None,
    };
    found.ok_or_else(|| ApiError::NotFound("no such webhook endpoint".to_owned()))
}

/// The body as an endpoint form, without echoing any of it.
fn endpoint_form(body: &Bytes) -> Result<EndpointForm> {
    serde_json::from_slice(body).map_err(|error| {
        use serde_json::error::Category;
        let what = match error.classify() {
            Category::Syntax => "not JSON",
            Category::Eof => "the body ends early",
            Category::Data => "a field of the wrong type, an unknown field, or no url",
            Category::Io => "unreadable",
        };
        ApiError::MalformedJson(format!(
            "not an endpoint at line {}, column {}: {what}",
            error.line(),
            error.column()
        ))
    })
}

/// A new endpoint and its signing secret: the only answer that holds it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedEndpoint {
    pub endpoint: Endpoint,
    /// The signing secret (`whsec_…`): shown once, never answered again.
    pub secret: String,
}

/// A rotated secret.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RotatedSecret {
    /// The new signing secret: shown once, never answered again.
    pub secret: String,
    /// Until when the previous secret keeps signing beside it.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// A delivery queued again.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Redelivery {
    pub endpoint_id: i64,
    pub delivery_id: i64,
    /// Always `pending`: it is sent again within seconds (once the endpoint is enabled).
    pub status: &'static str,
}

/// One entry of the event catalogue.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventTypeEntry {
    /// The stable type name (`motion.status_changed`).
    pub name: &'static str,
    /// What happened, in words.
    pub label: &'static str,
    /// Whether the event belongs to one tenant (an endpoint's tenant filter applies).
    pub tenant_event: bool,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// How many, newest first (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// `GET /api/webhooks`.
#[utoipa::path(
    get,
    path = "/api/webhooks",
    tag = "webhooks",
    summary = "Every webhook endpoint, oldest first (never a secret); operators only",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The endpoints", body = Vec<Endpoint>),
        OperatorErrors
    )
)]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
) -> Result<SafeJson<Vec<Endpoint>>> {
    operator(&state, &viewer, &headers, &address, "GET /api/webhooks").await?;
    Ok(SafeJson(store::list(&state.pool).await?))
}

/// `POST /api/webhooks`.
#[utoipa::path(
    post,
    path = "/api/webhooks",
    tag = "webhooks",
    summary = "Create a webhook endpoint; the answer holds its signing secret, shown only this once",
    request_body(content = EndpointForm, content_type = "application/json"),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 201, description = "Created, with its signing secret", body = CreatedEndpoint),
        (status = 400, description = "Malformed JSON, wrong types or unknown fields", body = ErrorBody),
        (status = 413, description = "Body larger than the limit (64 KiB)", content_type = "text/plain", body = String),
        (status = 422, description = "A refused value (an unknown event type, motion or tenant, a URL that may not receive webhooks, …); `fields` names each; nothing is stored", body = ErrorBody),
        OperatorErrors
    )
)]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let actor = operator(&state, &viewer, &headers, &address, "POST /api/webhooks").await?;
    let form = endpoint_form(&body)?;
    let values = manage::check(&state, &viewer, &form)
        .await?
        .map_err(ApiError::Invalid)?;
    let (endpoint, secret) = store::create(&state.pool, &values, &actor).await?;
    let subject = format!("{} ({}) (API)", endpoint.id, endpoint.url);
    manage::log(&state, &viewer, Action::WebhookCreated, &subject, &address).await;
    Ok((
        StatusCode::CREATED,
        SafeJson(CreatedEndpoint { endpoint, secret }),
    )
        .into_response())
}

/// `GET /api/webhooks/{id}`.
#[utoipa::path(
    get,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    summary = "One webhook endpoint (never its secret); operators only",
    params(("id" = String, Path, description = "The endpoint's id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The endpoint", body = Endpoint),
        (status = 404, description = "No such endpoint", body = ErrorBody),
        OperatorErrors
    )
)]
#[tracing::instrument(skip_all)]
pub async fn get(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<SafeJson<Endpoint>> {
    operator(
        &state,
        &viewer,
        &headers,
        &address,
        "GET /api/webhooks/{id}",
    )
    .await?;
    Ok(SafeJson(endpoint(&state, &id).await?))
}

/// `PUT /api/webhooks/{id}`.
#[utoipa::path(
    put,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    summary = "Replace a webhook endpoint's settings (enabling it clears why it was disabled); operators only",
    params(("id" = String, Path, description = "The endpoint's id")),
    request_body(content = EndpointForm, content_type = "application/json"),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The endpoint as saved", body = Endpoint),
        (status = 400, description = "Malformed JSON, wrong types or unknown fields", body = ErrorBody),
        (status = 404, description = "No such endpoint", body = ErrorBody),
        (status = 413, description = "Body larger than the limit (64 KiB)", content_type = "text/plain", body = String),
        (status = 422, description = "A refused value; `fields` names each; nothing is changed", body = ErrorBody),
        OperatorErrors
    )
)]
#[tracing::instrument(skip_all)]
pub async fn put(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<SafeJson<Endpoint>> {
    operator(
        &state,
        &viewer,
        &headers,
        &address,
        "PUT /api/webhooks/{id}",
    )
    .await?;
    let existing = endpoint(&state, &id).await?;
    let form = endpoint_form(&body)?;
    let values = manage::check(&state, &viewer, &form)
        .await?
        .map_err(ApiError::Invalid)?;
    let saved = store::update(&state.pool, existing.id, &values)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such webhook endpoint".to_owned()))?;
    let subject = format!("{} ({}) (API)", saved.id, saved.url);
    manage::log(&state, &viewer, Action::WebhookChanged, &subject, &address).await;
    Ok(SafeJson(saved))
}

/// `DELETE /api/webhooks/{id}`.
#[utoipa::path(
    delete,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    summary = "Delete a webhook endpoint with its deliveries; operators only",
    params(("id" = String, Path, description = "The endpoint's id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such endpoint", body = ErrorBody),
        OperatorErrors
    )
)]
#[tracing::instrument(skip_all)]
pub async fn delete(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    operator(
        &state,
        &viewer,
        &headers,
        &address,
        "DELETE /api/webhooks/{id}",
    )
    .await?;
    let existing = endpoint(&state, &id).await?;
    if !store::delete(&state.pool, existing.id).await? {
        return Err(ApiError::NotFound("no such webhook endpoint".to_owned()));
    }
    let subject = format!("{} ({}) (API)", existing.id, existing.url);
    manage::log(&state, &viewer, Action::WebhookDeleted, &subject, &address).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/webhooks/{id}/rotate`.
#[utoipa::path(
    post,
    path = "/api/webhooks/{id}/rotate",
    tag = "webhooks",
    summary = "A new signing secret, shown only this once; the previous one keeps signing beside it for 24 hours; operators only",
    params(("id" = String, Path, description = "The endpoint's id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The new secret", body = RotatedSecret),
        (status = 404, description = "No such endpoint", body = ErrorBody),
        OperatorErrors
    )
)]
#[tracing::instrument(skip_all)]
pub async fn rotate(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<SafeJson<RotatedSecret>> {
    operator(
        &state,
        &viewer,
        &headers,
        &address,
        "POST /api/webhooks/{id}/rotate",
    )
    .await?;
    let existing = endpoint(&state, &id).await?;
    let not_found = || ApiError::NotFound("no such webhook endpoint".to_owned());
    let secret = store::rotate(&state.pool, existing.id, ROTATION_OVERLAP)
        .await?
        .ok_or_else(not_found)?;
    let rotated = store::find(&state.pool, existing.id)
        .await?
        .ok_or_else(not_found)?;
    let subject = format!("{} ({}) (API)", existing.id, existing.url);
    manage::log(
        &state,
        &viewer,
        Action::WebhookSecretRotated,
        &subject,
        &address,
    )
    .await;
    Ok(SafeJson(RotatedSecret {
        secret,
        previous_secret_expires_at: rotated.previous_secret_expires_at,
    }))
}

/// `GET /api/webhooks/{id}/deliveries[?limit=N]`.
#[utoipa::path(
    get,
    path = "/api/webhooks/{id}/deliveries",
    tag = "webhooks",
    summary = "An endpoint's newest deliveries, newest first: status, attempts, last error, response code; operators only",
    params(("id" = String, Path, description = "The endpoint's id"), DeliveriesQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The deliveries", body = Vec<Delivery>),
        (status = 400, description = "A bad query", body = ErrorBody),
        (status = 404, description = "No such endpoint", body = ErrorBody),
        OperatorErrors
    )
)]
#[tracing::instrument(skip_all)]
pub async fn deliveries(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: std::result::Result<Query<DeliveriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<SafeJson<Vec<Delivery>>> {
    operator(
        &state,
        &viewer,
        &headers,
        &address,
        "GET /api/webhooks/{id}/deliveries",
    )
    .await?;
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let limit = match query.limit {
        None => DELIVERIES_SHOWN,
        Some(limit @ 1..=200) => limit,
        Some(_) => return Err(ApiError::BadRequest("limit: from 1 to 200".to_owned())),
    };
    let existing = endpoint(&state, &id).await?;
    Ok(SafeJson(
        store::deliveries(&state.pool, existing.id, limit).await?,
    ))
}

/// `POST /api/webhooks/{id}/deliveries/{delivery}/redeliver`.
#[utoipa::path(
    post,
    path = "/api/webhooks/{id}/deliveries/{delivery}/redeliver",
    tag = "webhooks",
    summary = "Queue a delivery again now (its attempts are kept); operators only",
    params(
        ("id" = String, Path, description = "The endpoint's id"),
        ("delivery" = String, Path, description = "The delivery's id")
    ),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Queued again", body = Redelivery),
        (status = 404, description = "No such endpoint, or no such delivery of it", body = ErrorBody),
        OperatorErrors
    )
)]
#[tracing::instrument(skip_all)]
pub async fn redeliver(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<SafeJson<Redelivery>> {
    operator(&state, &viewer, &headers, &address, "POST redeliver").await?;
    let existing = endpoint(&state, &id).await?;
    let delivery_id = manage::parse_id(&delivery);
    let queued = match delivery_id {
        Some(delivery) => store::redeliver(&state.pool, existing.id, delivery).await?,
        None => false,
    };
    let (true, Some(delivery_id)) = (queued, delivery_id) else {
        return Err(ApiError::NotFound(
            "no such delivery for this endpoint".to_owned(),
        ));
    };
    let subject = format!(
        "{} ({}): delivery {delivery_id} (API)",
        existing.id, existing.url
    );
    manage::log(
        &state,
        &viewer,
        Action::WebhookRedelivered,
        &subject,
        &address,
    )
    .await;
    Ok(SafeJson(Redelivery {
        endpoint_id: existing.id,
        delivery_id,
        status: "pending",
    }))
}

/// `GET /api/event-types`.
#[utoipa::path(
    get,
    path = "/api/event-types",
    tag = "webhooks",
    summary = "The event catalogue: each type's stable name, what it means, and whether it belongs to one tenant; operators only",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Every event type", body = Vec<EventTypeEntry>),
        OperatorErrors
    )
)]
#[tracing::instrument(skip_all)]
pub async fn event_types(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
) -> Result<SafeJson<Vec<EventTypeEntry>>> {
    operator(&state, &viewer, &headers, &address, "GET /api/event-types").await?;
    Ok(SafeJson(
        EventType::ALL
            .into_iter()
            .map(|kind| EventTypeEntry {
                name: kind.as_str(),
                label: kind.label(),
                tenant_event: kind.is_tenant_event(),
            })
            .collect(),
    ))
}
