//! The launch room's plain form posts: an operator's tenant profile and evidence
//! changes, a buyer sponsor's review, signature and revocation. Each works without
//! JavaScript (post, then redirect back with a message) and logs what it changed
//! or refused in the access log.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use tower_sessions::Session;

use app::domain::access::Viewer;
use app::domain::launch_room::{AcceptanceForm, EvidenceForm, RevocationForm};
use app::domain::ledger::{AcceptanceKind, EvidenceAction};
use app::page_data::rooms::{AcceptanceDraft, DRAFT_KEY};

use super::{change_evidence, submit_now, RoomError, Submission};
use crate::auth::audit::{self, Action};
use crate::auth::ClientAddr;
use crate::refusal::{self, FormError};
use crate::state::AppState;
use crate::tenants::{self, TenantForm};

/// The pairs of a form body; a field may repeat (`exclusions`).
fn pairs(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

fn acceptance_form(pairs: &[(String, String)]) -> AcceptanceForm {
    AcceptanceForm {
        signer_name: field(pairs, "signer_name"),
        signer_role: field(pairs, "signer_role"),
        approval_reference: field(pairs, "approval_reference"),
        exclusions: pairs
            .iter()
            .filter(|(key, _)| key == "exclusions")
            .map(|(_, value)| value.clone())
            .collect(),
        residual_risks: field(pairs, "residual_risks"),
        readiness_digest: field(pairs, "readiness_digest"),
    }
}

fn room_path(slug: &str) -> String {
    format!(
        "/rooms/{}",
        form_urlencoded::byte_serialize(slug.as_bytes()).collect::<String>()
    )
}

/// Back to the room with a message, or an error naming its field.
fn back(slug: &str, message: &str, error: bool, anchor: &str) -> Response {
    let key = if error { "error" } else { "done" };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair(key, message)
        .finish();
    Redirect::to(&format!("{}?{query}{anchor}", room_path(slug))).into_response()
}

async fn log(state: &AppState, viewer: &Viewer, action: Action, subject: &str, address: &str) {
    audit::record_by(&state.pool, viewer, action, subject, address).await;
}

/// Turns a refused change into its answer: the public to the sign-in page, a
/// denial logged and shown as a page, the room again with the entries' errors.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
    what: &str,
    address: &str,
    error: impl Into<FormError>,
) -> Response {
    let error = refusal::denied(
        &state.pool,
        viewer,
        &format!("{what} {slug}"),
        address,
        error,
    )
    .await;
    match error {
        FormError::Forbidden(_) if matches!(viewer, Viewer::Public) => Redirect::to(&format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(room_path(slug).as_bytes()).collect::<String>()
        ))
        .into_response(),
        FormError::BadRequest(message) => back(slug, &message, true, "#messages"),
        error => error.into_response(),
    }
}

/// `POST /rooms/{slug}/profile`: an operator changes the tenant's name, motion or
/// billing route.
pub async fn update_profile(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = pairs(&body);
    let form = TenantForm {
        name: field(&pairs, "name"),
        slug: slug.clone(),
        motion: field(&pairs, "motion"),
        billing_route: field(&pairs, "billing_route"),
    };
    match tenants::update(&state.pool, &state.clearance.register, &viewer, &form).await {
        Ok((before, after)) => {
            log(
                &state,
                &viewer,
                Action::TenantChanged,
                &format!(
                    "{slug}: {} / {} / {} → {} / {} / {}",
                    before.name,
                    before.motion,
                    before.billing_route,
                    after.name,
                    after.motion,
                    after.billing_route
                ),
                &address,
            )
            .await;
            back(&slug, "Saved the tenant's profile.", false, "")
        }
        Err(
            error @ (tenants::TenantError::Forbidden
            | tenants::TenantError::NotFound
            | tenants::TenantError::Database(_)),
        ) => refused(&state, &viewer, &slug, "change tenant", &address, error).await,
        Err(error) => back(&slug, &error.to_string(), true, "#profile"),
    }
}

/// `POST /rooms/{slug}/evidence`: an operator attaches evidence to an item
/// (`action=attach`, with a reference and a note) or detaches it.
pub async fn change(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = pairs(&body);
    let action = match field(&pairs, "action").as_str() {
        "attach" => EvidenceAction::Attached,
        "detach" => EvidenceAction::Detached,
        _ => return back(&slug, "action: attach or detach", true, "#messages"),
    };
    let form = EvidenceForm {
        gate_id: field(&pairs, "gate_id"),
        item: field(&pairs, "item"),
        reference: field(&pairs, "reference"),
        note: field(&pairs, "note"),
    };
    let register = &state.clearance.register;
    match change_evidence(&state.pool, register, &viewer, &slug, action, &form).await {
        Ok((_, change)) => {
            let (logged, done) = match action {
                EvidenceAction::Attached => (Action::EvidenceAttached, "Attached evidence to"),
                EvidenceAction::Detached => {
                    (Action::EvidenceDetached, "Detached the evidence from")
                }
            };
            log(
                &state,
                &viewer,
                logged,
                &format!("{slug}: {} / {}", change.gate_id, change.item),
                &address,
            )
            .await;
            back(
                &slug,
                &format!("{done} “{}”.", change.item),
                false,
                &format!("#gate-{}", change.gate_id),
            )
        }
        Err(error) => refused(&state, &viewer, &slug, "change evidence", &address, error).await,
    }
}

/// `POST /rooms/{slug}/draft`: checks a sponsor's acceptance against the room
/// now and, when it passes, shows the review step; otherwise back to the form
/// with every problem named. The entries wait in the session either way.
pub async fn review(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    session: Session,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let mut form = acceptance_form(&pairs(&body));
    let room = match super::load_head(&state.pool, &viewer, &slug).await {
        Ok(Some(room)) => room,
        Ok(None) => {
            return refused(
                &state,
                &viewer,
                &slug,
                "review acceptance",
                &address,
                RoomError::NotFound,
            )
            .await
        }
        Err(error) => return FormError::from(error).into_response(),
    };
    if !viewer.signs_for(room.tenant.id) {
        let error =
            RoomError::Forbidden("only the tenant's buyer sponsor signs its launch acceptance");
        return refused(&state, &viewer, &slug, "review acceptance", &address, error).await;
    }
    let live = state.clearance.current();
    let status = room.status(&state.clearance.register, &live.readiness.inputs);
    // The review binds the signature to readiness as it is now.
    form.readiness_digest.clone_from(&status.readiness_digest);
    let errors = app::domain::launch_room::check_acceptance(&form, &status)
        .err()
        .unwrap_or_default();
    let ok = errors.is_empty();
    let draft = AcceptanceDraft {
        slug: slug.clone(),
        form,
        errors,
    };
    if let Err(error) = session.insert(DRAFT_KEY, draft).await {
        tracing::error!(%error, "could not keep the acceptance draft");
        return FormError::BadRequest("could not keep your entries: try again".to_owned())
            .into_response();
    }
    if ok {
        Redirect::to(&format!("{}/review", room_path(&slug))).into_response()
    } else {
        Redirect::to(&format!("{}#acceptance", room_path(&slug))).into_response()
    }
}

/// `POST /rooms/{slug}/acceptance`: signs what the review showed. Refused, with
/// the entries kept, when anything changed since the review.
pub async fn sign(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    session: Session,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let form = acceptance_form(&pairs(&body));
    let result = submit_now(
        &state.pool,
        &state.clearance,
        &viewer,
        Some(&slug),
        Submission::Accept(&form),
    )
    .await;
    match result {
        Ok((_, record)) => {
            let _ = session.remove::<AcceptanceDraft>(DRAFT_KEY).await;
            log(
                &state,
                &viewer,
                Action::AcceptanceSigned,
                &format!("{slug}: record {} ({})", record.seq, record.motion),
                &address,
            )
            .await;
            back(
                &slug,
                &format!("Launch acceptance signed by {}.", record.signer_name),
                false,
                "",
            )
        }
        Err(RoomError::Invalid(errors)) => {
            let draft = AcceptanceDraft {
                slug: slug.clone(),
                form,
                errors,
            };
            let _ = session.insert(DRAFT_KEY, draft).await;
            Redirect::to(&format!("{}#acceptance", room_path(&slug))).into_response()
        }
        Err(error) => refused(&state, &viewer, &slug, "sign acceptance", &address, error).await,
    }
}

/// `POST /rooms/{slug}/revocation`: the sponsor revokes the standing acceptance.
pub async fn revoke(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = pairs(&body);
    let form = RevocationForm {
        signer_name: field(&pairs, "signer_name"),
        signer_role: field(&pairs, "signer_role"),
        reason: field(&pairs, "reason"),
    };
    let result = submit_now(
        &state.pool,
        &state.clearance,
        &viewer,
        Some(&slug),
        Submission::Revoke(&form),
    )
    .await;
    match result {
        Ok((_, record)) => {
            debug_assert_eq!(record.kind, AcceptanceKind::Revoked);
            log(
                &state,
                &viewer,
                Action::AcceptanceRevoked,
                &format!("{slug}: record {}", record.seq),
                &address,
            )
            .await;
            back(&slug, "Launch acceptance revoked.", false, "")
        }
        Err(error) => refused(&state, &viewer, &slug, "revoke acceptance", &address, error).await,
    }
}
