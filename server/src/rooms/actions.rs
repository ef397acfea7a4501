//! The launch room's changes behind the server functions of
//! `app::page_data::room_actions`: an operator's evidence changes, a buyer
//! sponsor's signature and revocation. Each is checked and appended by
//! [`super::evidence`] or [`super::signing`], logged in the access log, and
//! answered two ways from one outcome:
//!
//! - a plain form post (the page before its WASM has loaded, or without
//!   JavaScript): `303 See Other` back to the room with a message, the entries
//!   kept where the form shows them; a refusal is a page that says why and links
//!   back (see [`crate::refusal`]); the public goes to the sign-in page;
//! - a call from the hydrated `ActionForm`: the typed error, with its status, for
//!   the form to show next to its fields, or a redirect to the room when done.

use axum::http::{header, HeaderValue, StatusCode};
use http::request::Parts;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use app::domain::access::{FieldError, Viewer};
use app::domain::launch_room::EvidenceForm;
use app::domain::ledger::EvidenceAction;
use app::page_data::room_actions::{RoomAction, RoomActionError};
use app::page_data::rooms::{AcceptanceDraft, DRAFT_KEY};

use super::store::PgRoomStore;
use super::{change_evidence, submit_now, RoomError, Submission};
use crate::auth::audit::{self, Action};
use crate::auth::ClientAddr;
use crate::refusal::{self, FormError};

/// How a change ended, before it is answered.
enum Outcome {
    /// Made: the room's message, and where a plain post goes next.
    Done { message: String, location: String },
    /// Refused over the entries; a plain post goes back to `location`.
    Invalid {
        errors: Vec<FieldError>,
        location: String,
    },
    /// Not allowed, no such room, or the database failed.
    Refused(RoomError),
}

/// The room's address.
pub(super) fn room_path(slug: &str) -> String {
    format!(
        "/rooms/{}",
        form_urlencoded::byte_serialize(slug.as_bytes()).collect::<String>()
    )
}

/// The room with a message (`done`) or an error naming its field (`error`).
pub(super) fn back_to(slug: &str, key: &str, message: &str, anchor: &str) -> String {
    refusal::back_to(&room_path(slug), key, message, anchor)
}

fn joined(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Makes `action` as `viewer` and answers it (see the module's comment).
pub(super) async fn act(
    store: &PgRoomStore,
    parts: &Parts,
    viewer: &Viewer,
    action: RoomAction,
) -> Result<String, RoomActionError> {
    let address = ClientAddr::of(parts);
    let (slug, what, outcome) = match action {
        RoomAction::Evidence { slug, action, form } => {
            let outcome = evidence(store, viewer, &slug, &action, form, &address).await;
            (slug, "change evidence", outcome)
        }
        RoomAction::Sign { slug, form } => {
            let session = parts.extensions.get::<Session>();
            let result = submit_now(
                &store.pool,
                &store.clearance,
                viewer,
                Some(&slug),
                Submission::Accept(&form),
            )
            .await;
            let outcome = match result {
                Ok((_, record)) => {
                    if let Some(session) = session {
                        let _ = session.remove::<AcceptanceDraft>(DRAFT_KEY).await;
                    }
                    let subject = format!("{slug}: record {} ({})", record.seq, record.motion);
                    audit::record_by(
                        &store.pool,
                        viewer,
                        Action::AcceptanceSigned,
                        &subject,
                        &address,
                    )
                    .await;
                    let message = format!("Launch acceptance signed by {}.", record.signer_name);
                    Outcome::Done {
                        location: back_to(&slug, "done", &message, ""),
                        message,
                    }
                }
                // The entries wait in the session for the acceptance form.
                Err(RoomError::Invalid(errors)) => {
                    if let Some(session) = session {
                        let draft = AcceptanceDraft {
                            slug: slug.clone(),
                            form,
                            errors: errors.clone(),
                        };
                        let _ = session.insert(DRAFT_KEY, draft).await;
                    }
                    Outcome::Invalid {
                        errors,
                        location: format!("{}#acceptance", room_path(&slug)),
                    }
                }
                Err(error) => Outcome::Refused(error),
            };
            (slug, "sign acceptance", outcome)
        }
        RoomAction::Revoke { slug, form } => {
            let result = submit_now(
                &store.pool,
                &store.clearance,
                viewer,
                Some(&slug),
                Submission::Revoke(&form),
            )
            .await;
            let outcome = match result {
                Ok((_, record)) => {
                    let subject = format!("{slug}: record {}", record.seq);
                    audit::record_by(
                        &store.pool,
                        viewer,
                        Action::AcceptanceRevoked,
                        &subject,
                        &address,
                    )
                    .await;
                    let message = "Launch acceptance revoked.".to_owned();
                    Outcome::Done {
                        location: back_to(&slug, "done", &message, ""),
                        message,
                    }
                }
                Err(RoomError::Invalid(errors)) => Outcome::Invalid {
                    location: back_to(&slug, "error", &joined(&errors), "#messages"),
                    errors,
                },
                Err(error) => Outcome::Refused(error),
            };
            (slug, "revoke acceptance", outcome)
        }
    };
    answer(store, parts, viewer, &slug, what, &address, outcome).await
}

/// An operator's evidence change.
async fn evidence(
    store: &PgRoomStore,
    viewer: &Viewer,
    slug: &str,
    action: &str,
    form: EvidenceForm,
    address: &str,
) -> Outcome {
    let action = match action {
        "attach" => EvidenceAction::Attached,
        "detach" => EvidenceAction::Detached,
        _ => {
            let error = FieldError::new("action", "attach or detach");
            return Outcome::Invalid {
                location: back_to(slug, "error", &error.to_string(), "#messages"),
                errors: vec![error],
            };
        }
    };
    let register = &store.clearance.register;
    match change_evidence(&store.pool, register, viewer, slug, action, &form).await {
        Ok((_, change)) => {
            let (logged, done) = match action {
                EvidenceAction::Attached => (Action::EvidenceAttached, "Attached evidence to"),
                EvidenceAction::Detached => {
                    (Action::EvidenceDetached, "Detached the evidence from")
                }
            };
            let subject = format!("{slug}: {} / {}", change.gate_id, change.item);
            audit::record_by(&store.pool, viewer, logged, &subject, address).await;
            let message = format!("{done} “{}”.", change.item);
            Outcome::Done {
                location: back_to(slug, "done", &message, &format!("#gate-{}", change.gate_id)),
                message,
            }
        }
        Err(RoomError::Invalid(errors)) => Outcome::Invalid {
            location: back_to(slug, "error", &joined(&errors), "#messages"),
            errors,
        },
        Err(error) => Outcome::Refused(error),
    }
}

/// Whether the request came from the hydrated form (which asks for JSON) rather
/// than as a plain form post.
fn from_script(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}

/// Sets the answer's status and headers for `outcome` and returns its result.
async fn answer(
    store: &PgRoomStore,
    parts: &Parts,
    viewer: &Viewer,
    slug: &str,
    what: &str,
    address: &str,
    outcome: Outcome,
) -> Result<String, RoomActionError> {
    let response = use_context::<ResponseOptions>();
    let plain = !from_script(parts);
    let see_other = |location: &str| {
        if let (Some(response), Ok(location)) = (&response, HeaderValue::from_str(location)) {
            response.set_status(StatusCode::SEE_OTHER);
            response.insert_header(header::LOCATION, location);
        }
    };
    match outcome {
        Outcome::Done { message, location } => {
            if plain {
                see_other(&location);
            } else {
                leptos_axum::redirect(&location);
            }
            Ok(message)
        }
        Outcome::Invalid { errors, location } => {
            if plain {
                see_other(&location);
            } else if let Some(response) = &response {
                response.set_status(StatusCode::UNPROCESSABLE_ENTITY);
            }
            Err(RoomActionError::Invalid(errors))
        }
        Outcome::Refused(error) => {
            let subject = format!("{what} {slug}");
            let error = refusal::denied(&store.pool, viewer, &subject, address, error).await;
            if plain && matches!((&error, viewer), (FormError::Forbidden(_), Viewer::Public)) {
                let next =
                    form_urlencoded::byte_serialize(room_path(slug).as_bytes()).collect::<String>();
                see_other(&format!("/login?next={next}"));
                return Err(RoomActionError::SignInRequired);
            }
            let (status, answered) = match error {
                FormError::Forbidden(message) => {
                    (StatusCode::FORBIDDEN, RoomActionError::Forbidden(message))
                }
                FormError::NotFound(_) => (StatusCode::NOT_FOUND, RoomActionError::NotFound),
                FormError::BadRequest(message) => (
                    StatusCode::BAD_REQUEST,
                    RoomActionError::Invalid(vec![FieldError::new("room", message)]),
                ),
                FormError::Database(error) => {
                    tracing::error!(%error, "database error in a launch-room change");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        RoomActionError::Unavailable,
                    )
                }
            };
            if let Some(response) = &response {
                response.set_status(status);
                if plain {
                    refusal::mark_for_page(response, &room_path(slug), &answered.to_string());
                }
            }
            Err(answered)
        }
    }
}
