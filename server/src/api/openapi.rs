//! `GET /api/openapi.json`: an OpenAPI 3.1 description of the whole JSON API,
//! generated from the handlers' own annotations and types with `utoipa`, so the
//! document cannot drift from the code. A test checks that every JSON route the
//! router serves is described here; Schemathesis (`scripts/test`) checks that the
//! server answers as the document says.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use app::domain::access::FieldError;
use app::domain::launch_room::{AcceptanceForm, RevocationForm};
use app::domain::proof_run::{ProofRun, ProofRunRequest};

use super::error::ErrorBody;
use super::safe_json::SafeJson;
use crate::webhooks::api as webhooks;

/// Every path the document describes, as the router spells it.
pub const PATHS: [&str; 22] = [
    "/api/readiness",
    "/api/events",
    "/api/proofs/{proof_id}/runs",
    "/api/platform/launch-acceptance",
    "/api/platform/launch-room",
    "/api/platform/launch-dossier",
    "/api/platform/launch-receipt",
    "/api/log/checkpoint",
    "/api/log/key",
    "/api/log/inclusion",
    "/api/log/consistency",
    "/api/product/{pack}",
    "/badge/{file}",
    "/api/openapi.json",
    "/api/deployments/{name}/declared",
    "/api/deployments/{name}/reports",
    "/api/webhooks",
    "/api/webhooks/{id}",
    "/api/webhooks/{id}/rotate",
    "/api/webhooks/{id}/deliveries",
    "/api/webhooks/{id}/deliveries/{delivery}/redeliver",
    "/api/event-types",
];

/// The two ways to say who is asking.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "A per-account token (`server token create`), or CLEARANCE_API_TOKEN for recording \
             proof runs, or a deployment's reporter token (`server deployment create`) for its \
             own `/api/deployments/{name}/…` endpoints only. The scheme name is \
             case-insensitive; any `Authorization` header replaces the session cookie."
                .to_owned(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::session::COOKIE_NAME,
                "The session cookie from `/login`. When the public address is https it \
                 is named `__Host-clearance_session` instead.",
            ))),
        );
    }
}

/// `text/event-stream` of `live` events: described here, served by
/// [`super::events::stream`].
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "live",
    summary = "Server-sent events: `live`, the live state, at once and on every change",
    responses((status = 200, description = "An endless event stream", content_type = "text/event-stream", body = String))
)]
#[expect(dead_code, reason = "describes the event stream for the document only")]
fn events() {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Clearance",
        description = "The live launch clearance register: readiness, proof runs, evidence packs, launch rooms, signed launch acceptance and webhook endpoints. Only dependency names ever appear, never values. Every JSON answer is sent with `X-Content-Type-Options: nosniff`, and `<`, `>`, `&` inside its strings are written as `\\u003c`, `\\u003e`, `\\u0026`."
    ),
    paths(
        super::readiness::get_readiness,
        events,
        super::proofs::list_runs,
        super::proofs::record_run,
        super::acceptance::get,
        super::acceptance::patch,
        super::acceptance::room,
        super::acceptance::dossier,
        super::receipts::receipt,
        crate::log::api::checkpoint,
        crate::log::api::key,
        crate::log::api::inclusion,
        crate::log::api::consistency,
        super::packs::product,
        super::badges::badge,
        super::deployments::declared,
        super::deployments::report,
        webhooks::list,
        webhooks::create,
        webhooks::get,
        webhooks::put,
        webhooks::delete,
        webhooks::rotate,
        webhooks::deliveries,
        webhooks::redeliver,
        webhooks::event_types,
        openapi,
    ),
    components(schemas(
        ErrorBody,
        FieldError,
        crate::log::receipt::Receipt,
        crate::log::receipt::ReceiptLeaf,
        crate::log::api::InclusionProof,
        crate::log::api::ConsistencyProof,
        ProofRun,
        ProofRunRequest,
        AcceptanceForm,
        RevocationForm,
        super::acceptance::Patch,
        super::packs::PackName,
        super::deployments::Receipt,
        app::domain::deployment::Declared,
        app::domain::deployment::DeclaredDependency,
        app::domain::deployment::Report,
        app::domain::deployment::ReportedState,
        app::domain::deployment::CheckVerdict,
        app::domain::register::DependencyKind,
        app::domain::webhook::EndpointForm,
        app::domain::webhook::TenantRef,
        crate::webhooks::store::Endpoint,
        crate::webhooks::store::Delivery,
        webhooks::CreatedEndpoint,
        webhooks::RotatedSecret,
        webhooks::Redelivery,
        webhooks::EventTypeEntry
    )),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    summary = "This document (OpenAPI 3.1)",
    responses((status = 200, description = "OpenAPI 3.1", body = Object))
)]
pub async fn openapi() -> SafeJson<utoipa::openapi::OpenApi> {
    SafeJson(document())
}
