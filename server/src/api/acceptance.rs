//! `GET` and `PATCH /api/platform/launch-acceptance`: a tenant's launch acceptance
//! over JSON, with a per-account bearer token or a session. The same rules as the
//! launch room's form: only the tenant's own buyer sponsor signs; operators and
//! commercial owners read any tenant (`?tenant=<slug>`), a sponsor only their own.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Extension;
use serde::{Deserialize, Serialize};

use app::domain::access::{Role, Viewer};
use app::domain::launch_room::{AcceptanceForm, RevocationForm, RoomState};
use app::domain::ledger::AcceptanceRecord;
use app::rooms::AcceptanceEntry;

use super::error::{ApiError, Result};
use super::safe_json::SafeJson;
use crate::auth::audit::{self, Action};
use crate::auth::ClientAddr;
use crate::rooms::{self, RoomError, RoomRecords, Submission};
use crate::routes::AppState;

/// The document's format name and version.
pub const FORMAT: &str = "clearance.launch-acceptance/1";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantQuery {
    tenant: Option<String>,
}

/// A tenant's acceptance: the record in force (if any) and every record, newest
/// first, with the room's state and the readiness digest a new signature binds to.
#[derive(Debug, Serialize)]
pub struct AcceptanceDocument {
    pub format: &'static str,
    pub tenant: String,
    pub state: RoomState,
    pub live: bool,
    pub readiness_digest: String,
    pub current: Option<AcceptanceEntry>,
    pub history: Vec<AcceptanceEntry>,
}

/// What a signature or revocation answers: the stored record.
#[derive(Debug, Serialize)]
pub struct Stored {
    pub format: &'static str,
    pub tenant: String,
    pub record: AcceptanceEntry,
}

/// Anyone presenting a bearer token that matched no account is refused as such,
/// not treated as the public.
fn caller(viewer: &Viewer, headers: &HeaderMap) -> Result<()> {
    let bearer = headers.contains_key(http::header::AUTHORIZATION);
    match viewer {
        Viewer::Public if bearer => Err(ApiError::Unauthorized),
        Viewer::Public => Err(ApiError::SignInRequired),
        Viewer::Account(_) => Ok(()),
    }
}

/// The tenant asked about: a sponsor's own unless they name another (which then
/// does not exist for them); operators and owners must name one.
fn tenant_slug(viewer: &Viewer, asked: Option<String>) -> Result<Option<String>> {
    match (viewer.role(), asked) {
        (Some(Role::BuyerSponsor), asked) => Ok(asked),
        (_, Some(slug)) => Ok(Some(slug)),
        (_, None) => Err(ApiError::BadRequest(
            "tenant: name the tenant with ?tenant=<slug>".to_owned(),
        )),
    }
}

/// Denials reach here only for signed-in callers: the public is refused first.
async fn logged_denial(state: &AppState, viewer: &Viewer, subject: &str, address: &str) {
    audit::record_by(&state.pool, viewer, Action::AccessDenied, subject, address).await;
}

fn refused(error: RoomError) -> ApiError {
    match error {
        RoomError::NotFound => ApiError::NotFound("no such tenant".to_owned()),
        RoomError::Forbidden(message) => ApiError::Forbidden(message.to_owned()),
        RoomError::Invalid(errors) => ApiError::Invalid(errors),
        RoomError::Database(error) => ApiError::Database(error),
    }
}

/// The room a GET names (see [`tenant_slug`]), or a logged 404.
async fn requested_room(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    query: std::result::Result<Query<TenantQuery>, axum::extract::rejection::QueryRejection>,
    address: &str,
    what: &str,
) -> Result<RoomRecords> {
    caller(viewer, headers)?;
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let slug = tenant_slug(viewer, query.tenant)?;
    let room = match (&slug, viewer) {
        (Some(slug), _) => rooms::load(&state.pool, viewer, slug).await?,
        (None, Viewer::Account(account)) => match account.tenant_id {
            Some(tenant) => rooms::load_by_id(&state.pool, viewer, tenant).await?,
            None => None,
        },
        (None, Viewer::Public) => None,
    };
    match room {
        Some(room) => Ok(room),
        None => {
            logged_denial(
                state,
                viewer,
                &format!("GET {what} {}", slug.unwrap_or_default()),
                address,
            )
            .await;
            Err(ApiError::NotFound("no such tenant".to_owned()))
        }
    }
}

/// `GET /api/platform/launch-acceptance[?tenant=<slug>]`.
pub async fn get(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    query: std::result::Result<Query<TenantQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<SafeJson<AcceptanceDocument>> {
    let room = requested_room(
        &state,
        &viewer,
        &headers,
        query,
        &address,
        "launch-acceptance",
    )
    .await?;
    let live = state.clearance.current();
    let status = room.status(&state.clearance.register, &live.readiness.inputs);
    let history: Vec<AcceptanceEntry> = room
        .acceptances
        .iter()
        .rev()
        .map(AcceptanceEntry::from)
        .collect();
    Ok(SafeJson(AcceptanceDocument {
        format: FORMAT,
        tenant: room.tenant.slug,
        live: status.is_live(),
        state: status.state,
        readiness_digest: status.readiness_digest,
        current: matches!(status.state, RoomState::Accepted | RoomState::Stale)
            .then(|| history.first().cloned())
            .flatten(),
        history,
    }))
}

/// The body of a `PATCH`: an acceptance, or `{"revoke": {…}}`.
#[derive(Debug)]
enum Patch {
    Revoke { revoke: RevocationForm },
    Accept(AcceptanceForm),
}

/// `PATCH /api/platform/launch-acceptance[?tenant=<slug>]`: signs (or, with
/// `{"revoke": {…}}`, revokes) the caller's tenant's launch acceptance and answers
/// with the stored record. Nothing is stored unless every rule passes.
pub async fn patch(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    query: std::result::Result<Query<TenantQuery>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Result<SafeJson<Stored>> {
    caller(&viewer, &headers)?;
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    let patch: Patch = if value.get("revoke").is_some() {
        Patch::Revoke {
            revoke: serde_json::from_value(value["revoke"].clone())
                .map_err(|error| ApiError::MalformedJson(error.to_string()))?,
        }
    } else {
        Patch::Accept(
            serde_json::from_value(value)
                .map_err(|error| ApiError::MalformedJson(error.to_string()))?,
        )
    };
    let submission = match &patch {
        Patch::Accept(form) => Submission::Accept(form),
        Patch::Revoke { revoke } => Submission::Revoke(revoke),
    };
    let result = rooms::submit_now(
        &state.pool,
        &state.clearance,
        &viewer,
        query.tenant.as_deref(),
        submission,
    )
    .await;
    let (tenant, record): (_, AcceptanceRecord) = match result {
        Ok(stored) => stored,
        Err(error @ (RoomError::NotFound | RoomError::Forbidden(_))) => {
            logged_denial(&state, &viewer, "PATCH launch-acceptance", &address).await;
            return Err(refused(error));
        }
        Err(error) => return Err(refused(error)),
    };
    let action = match patch {
        Patch::Accept(_) => Action::AcceptanceSigned,
        Patch::Revoke { .. } => Action::AcceptanceRevoked,
    };
    let subject = format!("{}: record {} (API)", tenant.slug, record.seq);
    audit::record_by(&state.pool, &viewer, action, &subject, &address).await;
    tracing::info!(tenant = %tenant.slug, seq = record.seq, kind = record.kind.as_str(), "launch acceptance recorded");
    Ok(SafeJson(Stored {
        format: FORMAT,
        tenant: tenant.slug,
        record: AcceptanceEntry::from(&record),
    }))
}

/// The launch-room document's format name and version.
pub const ROOM_FORMAT: &str = "clearance.launch-room/1";

/// A tenant's launch room as JSON: what the room page shows.
#[derive(Debug, Serialize)]
pub struct RoomDocument {
    pub format: &'static str,
    pub generated_at: chrono::DateTime<chrono::Utc>,
    pub tenant: app::domain::tenant::Tenant,
    pub motion_name: Option<String>,
    #[serde(flatten)]
    pub status: app::domain::launch_room::RoomStatus,
    pub live: bool,
    /// Every evidence change, oldest first (the chain's order).
    pub evidence_changes: Vec<app::domain::ledger::EvidenceChange>,
    /// Every acceptance record, oldest first.
    pub acceptance_records: Vec<AcceptanceEntry>,
}

/// `GET /api/platform/launch-room[?tenant=<slug>]`.
pub async fn room(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    query: std::result::Result<Query<TenantQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<SafeJson<RoomDocument>> {
    let room = requested_room(&state, &viewer, &headers, query, &address, "launch-room").await?;
    let live = state.clearance.current();
    let register = &state.clearance.register;
    let status = room.status(register, &live.readiness.inputs);
    Ok(SafeJson(RoomDocument {
        format: ROOM_FORMAT,
        generated_at: chrono::Utc::now(),
        motion_name: register
            .motion(&room.tenant.motion)
            .map(|motion| motion.name.clone()),
        live: status.is_live(),
        status,
        acceptance_records: room.acceptances.iter().map(AcceptanceEntry::from).collect(),
        evidence_changes: room.evidence,
        tenant: room.tenant,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DossierQuery {
    tenant: Option<String>,
    #[serde(default)]
    download: Option<u8>,
}

/// `GET /api/platform/launch-dossier[?tenant=<slug>][&download=1]`: one
/// self-contained JSON document per tenant — the register as evaluated now, the
/// launch room, its evidence, the proofs' latest runs, the acceptance chain with
/// its verification — and a manifest with the SHA-256 of every part. With
/// `download=1` it comes as a file.
pub async fn dossier(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    query: std::result::Result<Query<DossierQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let tenant_query = Ok(Query(TenantQuery {
        tenant: query.tenant,
    }));
    let room = requested_room(
        &state,
        &viewer,
        &headers,
        tenant_query,
        &address,
        "launch-dossier",
    )
    .await?;
    let (evidence_chain, acceptance_chain) =
        rooms::verify::room_chains(&state.pool, &viewer, &room).await?;
    let evaluated = state.clearance.evaluated();
    let register = &state.clearance.register;
    let live = &evaluated.live;
    let status = room.status(register, &live.readiness.inputs);
    let readiness = super::readiness_document(
        register,
        live,
        app::domain::document::ReadinessMode::Advisory,
        None,
    );
    let value = |part: serde_json::Result<serde_json::Value>| part.unwrap_or_default();
    let mut parts = std::collections::BTreeMap::new();
    parts.insert(
        "register".to_owned(),
        value(serde_json::to_value(
            serde_json::json!({ "register": register.as_ref(), "readiness": readiness }),
        )),
    );
    parts.insert(
        "launch_room".to_owned(),
        value(serde_json::to_value(serde_json::json!({
            "tenant": &room.tenant,
            "motion_name": register.motion(&room.tenant.motion).map(|motion| motion.name.clone()),
            "status": &status,
            "live": status.is_live(),
        }))),
    );
    parts.insert(
        "evidence".to_owned(),
        value(serde_json::to_value(&room.evidence)),
    );
    parts.insert(
        "proof_runs".to_owned(),
        value(serde_json::to_value(&live.latest_runs)),
    );
    parts.insert(
        "acceptance_chain".to_owned(),
        value(serde_json::to_value(serde_json::json!({
            "records": &room.acceptances,
            "verification": {
                "acceptance": chain_result(&acceptance_chain),
                "evidence": chain_result(&evidence_chain),
            },
        }))),
    );
    let manifest = app::domain::dossier::manifest(&parts);
    let generated_at = chrono::Utc::now();
    let document = serde_json::json!({
        "format": app::domain::dossier::FORMAT,
        "tenant": &room.tenant.slug,
        "generated_at": generated_at,
        "manifest": manifest,
        "parts": parts,
    });
    let mut response = SafeJson(document).into_response();
    if query.download == Some(1) {
        let disposition = format!(
            "attachment; filename=\"launch-dossier-{}-{}.json\"",
            room.tenant.slug,
            generated_at.format("%Y%m%dT%H%M%SZ")
        );
        if let Ok(value) = http::HeaderValue::from_str(&disposition) {
            response
                .headers_mut()
                .insert(http::header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

fn chain_result(
    result: &std::result::Result<usize, app::domain::ledger::ChainBreak>,
) -> serde_json::Value {
    match result {
        Ok(records) => serde_json::json!({ "intact": true, "records": records }),
        Err(broken) => {
            serde_json::json!({ "intact": false, "first_broken_link": broken.to_string() })
        }
    }
}
