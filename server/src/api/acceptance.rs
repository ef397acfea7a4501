//! `GET` and `PATCH /api/platform/launch-acceptance`: a tenant's launch acceptance
//! over JSON, with a per-account bearer token or a session. The same rules as the
//! launch room's form: only the tenant's own buyer sponsor signs; operators and
//! commercial owners read any tenant (`?tenant=<slug>`), a sponsor only their own.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Extension;
use serde::{Deserialize, Serialize};

use app::domain::access::{Role, Viewer};
use app::domain::chain_page::{checked_before, PageRequest};
use app::domain::launch_room::{AcceptanceForm, RevocationForm, RoomState};
use app::domain::ledger::AcceptanceRecord;
use app::domain::tenant::check_slug;
use app::page_data::rooms::AcceptanceEntry;

use super::error::{ApiError, ErrorBody, Result, SignedInErrors};
use super::queries::{query, DossierQuery, HistoryQuery, QueryResult, RoomQuery, TenantQuery};
use super::safe_json::SafeJson;
use crate::auth::audit::{self, Action};
use crate::auth::ClientAddr;
use crate::rooms::{self, RoomError, Submission};
use crate::state::AppState;

/// The document's format name and version.
pub const FORMAT: &str = "clearance.launch-acceptance/1";

fn page_request(limit: Option<i64>, before: Option<i64>) -> Result<PageRequest> {
    PageRequest::checked(limit, before).map_err(|error| ApiError::BadRequest(error.to_string()))
}

/// A tenant's acceptance: the record in force (if any) and one page of the
/// history, newest first, with the room's state and the readiness digest a new
/// signature binds to.
#[derive(Debug, Serialize)]
pub struct AcceptanceDocument {
    pub format: &'static str,
    pub tenant: String,
    pub state: RoomState,
    pub live: bool,
    pub readiness_digest: String,
    pub current: Option<AcceptanceEntry>,
    /// Newest first: at most `limit` records (default 50) before `before`.
    pub history: Vec<AcceptanceEntry>,
    /// The `before` of the next older page; `null` once the page reaches record 1.
    pub next_before: Option<i32>,
}

/// What a signature or revocation answers: the stored record and its receipt
/// from the transparency log (`null` only if the log could not sequence it in
/// time; the room offers it later).
#[derive(Debug, Serialize)]
pub struct Stored {
    pub format: &'static str,
    pub tenant: String,
    pub record: AcceptanceEntry,
    pub receipt: Option<crate::log::receipt::Receipt>,
}

/// Anyone presenting a bearer token that matched no account (or any other
/// `Authorization`) is refused as such, not treated as the public; wrong tokens
/// are throttled per address.
async fn caller(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    address: &str,
) -> Result<()> {
    let bearer = headers.contains_key(http::header::AUTHORIZATION);
    match viewer {
        Viewer::Public if bearer => {
            Err(super::auth::refused_bearer(&state.throttle, address).await)
        }
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

/// The slug of the tenant a GET names (see [`tenant_slug`]); `None` when there
/// is none for this viewer.
async fn requested_slug(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    tenant: Option<String>,
    address: &str,
) -> Result<(Option<String>, Option<String>)> {
    caller(state, viewer, headers, address).await?;
    let asked = tenant_slug(viewer, tenant)?;
    let slug = match (&asked, viewer) {
        // A name that cannot be a slug names no tenant (and a NUL byte must
        // not reach the database, where it is an error rather than a miss).
        (Some(slug), _) => Some(slug.clone()).filter(|slug| check_slug(slug).is_ok()),
        (None, Viewer::Account(account)) => match account.tenant_id {
            Some(tenant) => rooms::slug_of(&state.pool, viewer, tenant).await?,
            None => None,
        },
        (None, Viewer::Public) => None,
    };
    Ok((asked, slug))
}

/// The room a GET names, as `load` reads it, or a logged 404.
pub(super) async fn requested<T, F, Fut>(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    tenant: Option<String>,
    address: &str,
    what: &str,
    load: F,
) -> Result<T>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = std::result::Result<Option<T>, sqlx::Error>>,
{
    let (asked, slug) = requested_slug(state, viewer, headers, tenant, address).await?;
    let room = match slug {
        Some(slug) => load(slug).await?,
        None => None,
    };
    match room {
        Some(room) => Ok(room),
        None => {
            logged_denial(
                state,
                viewer,
                &format!("GET {what} {}", asked.unwrap_or_default()),
                address,
            )
            .await;
            Err(ApiError::NotFound("no such tenant".to_owned()))
        }
    }
}

/// `GET /api/platform/launch-acceptance[?tenant=<slug>][&limit=N][&before=SEQ]`:
/// the state and one page of the history, newest first.
#[utoipa::path(
    get,
    path = "/api/platform/launch-acceptance",
    tag = "launch rooms",
    summary = "A tenant's launch acceptance: state, readiness digest, current record and one page of the history, newest first (format clearance.launch-acceptance/1)",
    params(HistoryQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The acceptance document", body = Object),
        (status = 400, description = "Malformed JSON, wrong types, unknown fields or a bad query", body = ErrorBody),
        (status = 404, description = "Unknown, or not visible to the caller (logged)", body = ErrorBody),
        SignedInErrors
    )
)]
pub async fn get(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    asked: QueryResult<HistoryQuery>,
) -> Result<SafeJson<AcceptanceDocument>> {
    let asked = query(asked)?;
    let page = page_request(asked.limit, asked.before)?;
    let pool = &state.pool;
    let viewer_ref = &viewer;
    let room = requested(
        &state,
        &viewer,
        &headers,
        asked.tenant,
        &address,
        "launch-acceptance",
        |slug| async move { rooms::load_page(pool, viewer_ref, &slug, page, None).await },
    )
    .await?;
    let live = state.clearance.current();
    let status = room
        .head
        .status(&state.clearance.register, &live.readiness.inputs);
    let standing = matches!(status.state, RoomState::Accepted | RoomState::Stale);
    Ok(SafeJson(AcceptanceDocument {
        format: FORMAT,
        tenant: room.head.tenant.slug,
        live: status.is_live(),
        state: status.state,
        readiness_digest: status.readiness_digest,
        current: room
            .head
            .latest
            .as_ref()
            .filter(|_| standing)
            .map(AcceptanceEntry::from),
        history: room
            .acceptances
            .records
            .iter()
            .map(AcceptanceEntry::from)
            .collect(),
        next_before: room.acceptances.older,
    }))
}

/// The body of a `PATCH`: an acceptance, or `{"revoke": {…}}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = AcceptancePatch)]
pub(crate) enum Patch {
    Revoke { revoke: RevocationForm },
    Accept(AcceptanceForm),
}

/// `PATCH /api/platform/launch-acceptance[?tenant=<slug>]`: signs (or, with
/// `{"revoke": {…}}`, revokes) the caller's tenant's launch acceptance and answers
/// with the stored record. Nothing is stored unless every rule passes.
#[utoipa::path(
    patch,
    path = "/api/platform/launch-acceptance",
    tag = "launch rooms",
    summary = "Sign (or revoke) the caller's tenant's launch acceptance; buyer sponsors only",
    params(TenantQuery),
    request_body(content = Patch, content_type = "application/json"),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The stored record and its receipt from the transparency log (`server receipt verify`)", body = Object),
        (status = 400, description = "Malformed JSON, wrong types, unknown fields or a bad query", body = ErrorBody),
        (status = 403, description = "The caller's role may not do this (logged)", body = ErrorBody),
        (status = 404, description = "Unknown, or not visible to the caller (logged)", body = ErrorBody),
        (status = 413, description = "Body larger than the limit (64 KiB)", content_type = "text/plain", body = String),
        (status = 422, description = "A rule broken; `field` and `fields` name the problem", body = ErrorBody),
        SignedInErrors
    )
)]
pub async fn patch(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    query: QueryResult<TenantQuery>,
    body: Bytes,
) -> Result<SafeJson<Stored>> {
    caller(&state, &viewer, &headers, &address).await?;
    let query = self::query(query)?;
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
    if query
        .tenant
        .as_deref()
        .is_some_and(|slug| check_slug(slug).is_err())
    {
        logged_denial(&state, &viewer, "PATCH launch-acceptance", &address).await;
        return Err(ApiError::NotFound("no such tenant".to_owned()));
    }
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
            return Err(error.into());
        }
        Err(error) => return Err(error.into()),
    };
    let action = match patch {
        Patch::Accept(_) => Action::AcceptanceSigned,
        Patch::Revoke { .. } => Action::AcceptanceRevoked,
    };
    let subject = format!("{}: record {} (API)", tenant.slug, record.seq);
    audit::record_by(&state.pool, &viewer, action, &subject, &address).await;
    tracing::info!(tenant = %tenant.slug, seq = record.seq, kind = record.kind.as_str(), "launch acceptance recorded");
    let receipt = match crate::log::receipt::issue(&state.pool, &state.log, &record).await {
        Ok(receipt) => Some(receipt),
        Err(error) => {
            tracing::warn!(%error, tenant = %tenant.slug, seq = record.seq, "no receipt yet for the signature");
            None
        }
    };
    Ok(SafeJson(Stored {
        format: FORMAT,
        tenant: tenant.slug,
        record: AcceptanceEntry::from(&record),
        receipt,
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
    /// The newest `limit` evidence changes before `evidence_before`, oldest first
    /// (the chain's order).
    pub evidence_changes: Vec<app::domain::ledger::EvidenceChange>,
    /// The `evidence_before` of the next older page, if there is one.
    pub evidence_changes_next_before: Option<i32>,
    /// The newest `limit` acceptance records before `before`, oldest first.
    pub acceptance_records: Vec<AcceptanceEntry>,
    /// The `before` of the next older page, if there is one.
    pub acceptance_records_next_before: Option<i32>,
}

/// `GET /api/platform/launch-room[?tenant=<slug>][&limit=N][&before=SEQ][&evidence_before=SEQ]`.
#[utoipa::path(
    get,
    path = "/api/platform/launch-room",
    tag = "launch rooms",
    summary = "A tenant's launch room: state, the motion's status for the tenant, gates with their evidence, and one page of each chain (format clearance.launch-room/1)",
    params(RoomQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The launch room document", body = Object),
        (status = 400, description = "Malformed JSON, wrong types, unknown fields or a bad query", body = ErrorBody),
        (status = 404, description = "Unknown, or not visible to the caller (logged)", body = ErrorBody),
        SignedInErrors
    )
)]
pub async fn room(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    asked: QueryResult<RoomQuery>,
) -> Result<SafeJson<RoomDocument>> {
    let asked = query(asked)?;
    let acceptances = page_request(asked.limit, asked.before)?;
    let evidence = PageRequest {
        before: checked_before(asked.evidence_before)
            .map_err(|error| ApiError::BadRequest(error.to_string()))?,
        ..acceptances
    };
    let pool = &state.pool;
    let viewer_ref = &viewer;
    let room = requested(
        &state,
        &viewer,
        &headers,
        asked.tenant,
        &address,
        "launch-room",
        |slug| async move {
            rooms::load_page(pool, viewer_ref, &slug, acceptances, Some(evidence)).await
        },
    )
    .await?;
    let live = state.clearance.current();
    let register = &state.clearance.register;
    let status = room.head.status(register, &live.readiness.inputs);
    let tenant = room.head.tenant;
    Ok(SafeJson(RoomDocument {
        format: ROOM_FORMAT,
        generated_at: chrono::Utc::now(),
        motion_name: register
            .motion(&tenant.motion)
            .map(|motion| motion.name.clone()),
        live: status.is_live(),
        status,
        acceptance_records: room
            .acceptances
            .records
            .iter()
            .rev()
            .map(AcceptanceEntry::from)
            .collect(),
        acceptance_records_next_before: room.acceptances.older,
        evidence_changes: room.evidence.records.into_iter().rev().collect(),
        evidence_changes_next_before: room.evidence.older,
        tenant,
    }))
}

/// `GET /api/platform/launch-dossier[?tenant=<slug>][&download=1]`: one
/// self-contained JSON document per tenant — the register as evaluated now, the
/// launch room, its evidence, the proofs' latest runs, the acceptance chain with
/// its verification — and a manifest with the SHA-256 of every part. With
/// `download=1` it comes as a file.
#[utoipa::path(
    get,
    path = "/api/platform/launch-dossier",
    tag = "launch rooms",
    summary = "A tenant's launch dossier (format clearance.dossier/1) with a manifest of each part's SHA-256; check one with `server dossier verify FILE`",
    params(DossierQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The dossier", body = Object),
        (status = 400, description = "Malformed JSON, wrong types, unknown fields or a bad query", body = ErrorBody),
        (status = 404, description = "Unknown, or not visible to the caller (logged)", body = ErrorBody),
        SignedInErrors
    )
)]
pub async fn dossier(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    query: QueryResult<DossierQuery>,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let query = self::query(query)?;
    let pool = &state.pool;
    let viewer_ref = &viewer;
    // A download that carries and verifies both chains: whole by design, and
    // fetched by hand, not on every page view.
    let room = requested(
        &state,
        &viewer,
        &headers,
        query.tenant,
        &address,
        "launch-dossier",
        |slug| async move { rooms::load(pool, viewer_ref, &slug).await },
    )
    .await?;
    // Read in one snapshot with the records, so a signature landing meanwhile
    // cannot make an intact chain look broken.
    let (evidence_chain, acceptance_chain) = room.verify();
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
    // Each acceptance record's receipt from the transparency log, proved in the
    // newest checkpoint (a record still waiting for the sequencer has none yet).
    let mut receipts = Vec::with_capacity(room.acceptances.len());
    for record in &room.acceptances {
        if let Some(receipt) = crate::log::receipt::stored(&state.pool, record).await? {
            receipts.push(receipt);
        }
    }
    parts.insert(
        "receipts".to_owned(),
        value(serde_json::to_value(serde_json::json!({
            "log_key": state.log.key().verifier_key(),
            "receipts": receipts,
        }))),
    );
    let manifest = app::domain::dossier::manifest(&parts);
    let generated_at = chrono::Utc::now();
    let generated = generated_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let manifest = value(serde_json::to_value(&manifest));
    // Signed with the log's key, so the dossier's origin and manifest check
    // with only the public key (`server dossier verify FILE --key KEY`).
    let signature = state
        .log
        .key()
        .sign_note(&app::domain::dossier::signed_text(
            &room.tenant.slug,
            &generated,
            &manifest,
        ))
        .map_err(ApiError::Log)?;
    let document = serde_json::json!({
        "format": app::domain::dossier::FORMAT,
        "tenant": &room.tenant.slug,
        "generated_at": generated,
        "manifest": manifest,
        "signature": signature,
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
