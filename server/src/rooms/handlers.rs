//! The launch room's plain form posts that are not ledger changes: an operator's
//! tenant profile and a buyer sponsor's review step. Each works without
//! JavaScript (post, then redirect back with a message) and logs what it changed
//! or refused in the access log. Evidence changes, signatures and revocations are
//! server functions (see [`super::actions`]).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use tower_sessions::Session;

use app::domain::access::Viewer;
use app::domain::launch_room::AcceptanceForm;
use app::page_data::rooms::{AcceptanceDraft, DRAFT_KEY};

use super::actions::{back_to, room_path};
use super::RoomError;
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

/// Back to the room with a message, or an error naming its field.
fn back(slug: &str, message: &str, error: bool, anchor: &str) -> Response {
    let key = if error { "error" } else { "done" };
    Redirect::to(&back_to(slug, key, message, anchor)).into_response()
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
