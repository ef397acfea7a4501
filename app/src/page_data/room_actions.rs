//! The launch room's changes as server functions: an operator attaches or
//! detaches evidence, a buyer sponsor signs (after the review step) or revokes
//! the launch acceptance. The pages submit them with Leptos's `ActionForm`
//! (see `crate::islands::room_forms`), which is a plain form post before the WASM
//! has loaded and a call with typed errors after.
//!
//! Every argument defaults to empty, so that a post missing a field is refused
//! by the room's own checks, naming the field, rather than failing to decode.
//!
//! The work is the server's (`RoomStore::act`): who may, the checks, the ledger
//! append, the access log and the answer to a plain form post (a redirect back
//! to the room with a message, or a page that says why not).

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::access::FieldError;
use crate::domain::launch_room::{AcceptanceForm, EvidenceForm, RevocationForm};

/// Why a room change was not made. Messages are safe to show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum RoomActionError {
    #[error("sign in first")]
    SignInRequired,
    #[error("{0}")]
    Forbidden(String),
    #[error("no such launch room")]
    NotFound,
    /// The entries, each error naming its field.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("the database is unavailable: try again in a moment")]
    Unavailable,
    #[error("request failed: {0}")]
    Transport(ServerFnErrorErr),
}

impl FromServerFnError for RoomActionError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value)
    }
}

impl RoomActionError {
    /// The message for `field` (naming it), when the entries were refused over it.
    pub fn about(&self, field: &str) -> Option<String> {
        match self {
            Self::Invalid(errors) => errors
                .iter()
                .find(|error| error.field == field)
                .map(ToString::to_string),
            _ => None,
        }
    }

    /// The message for the form as a whole: anything not about one of `fields`.
    pub fn general(&self, fields: &[&str]) -> Option<String> {
        match self {
            Self::Invalid(errors) => {
                let rest: Vec<String> = errors
                    .iter()
                    .filter(|error| !fields.contains(&error.field.as_str()))
                    .map(ToString::to_string)
                    .collect();
                (!rest.is_empty()).then(|| rest.join("; "))
            }
            other => Some(other.to_string()),
        }
    }
}

/// A change to a launch room, as the server function received it.
#[derive(Clone, Debug)]
pub enum RoomAction {
    /// `attach` or `detach` (anything else is refused as such).
    Evidence {
        slug: String,
        action: String,
        form: EvidenceForm,
    },
    Sign {
        slug: String,
        form: AcceptanceForm,
    },
    Revoke {
        slug: String,
        form: RevocationForm,
    },
}

#[cfg(feature = "ssr")]
async fn act(action: RoomAction) -> Result<String, RoomActionError> {
    let store =
        use_context::<super::rooms::SharedRoomStore>().ok_or(RoomActionError::Unavailable)?;
    let parts = use_context::<http::request::Parts>().ok_or(RoomActionError::Unavailable)?;
    let viewer = crate::live::current_viewer();
    store.act(&parts, &viewer, action).await
}

/// Attaches evidence to a gate's item (`action=attach`, with a reference and an
/// optional note) or detaches it (`action=detach`). Operators only. Answers the
/// message the room shows.
#[server(endpoint = "rooms/evidence")]
pub async fn change_evidence(
    #[server(default)] slug: String,
    #[server(default)] action: String,
    #[server(default)] gate_id: String,
    #[server(default)] item: String,
    #[server(default)] reference: String,
    #[server(default)] note: String,
) -> Result<String, RoomActionError> {
    act(RoomAction::Evidence {
        slug,
        action,
        form: EvidenceForm {
            gate_id,
            item,
            reference,
            note,
        },
    })
    .await
}

/// Signs what the review step showed. Refused, with the entries kept for the
/// acceptance form, when anything changed since the review. `exclusions` is the
/// excluded blockers' ids, comma-separated (ids hold no commas).
#[server(endpoint = "rooms/acceptance")]
pub async fn sign_acceptance(
    #[server(default)] slug: String,
    #[server(default)] signer_name: String,
    #[server(default)] signer_role: String,
    #[server(default)] approval_reference: String,
    #[server(default)] exclusions: String,
    #[server(default)] residual_risks: String,
    #[server(default)] readiness_digest: String,
) -> Result<String, RoomActionError> {
    act(RoomAction::Sign {
        slug,
        form: AcceptanceForm {
            signer_name,
            signer_role,
            approval_reference,
            exclusions: exclusions
                .split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect(),
            residual_risks,
            readiness_digest,
        },
    })
    .await
}

/// Revokes the standing launch acceptance. The tenant's buyer sponsor only.
#[server(endpoint = "rooms/revocation")]
pub async fn revoke_acceptance(
    #[server(default)] slug: String,
    #[server(default)] signer_name: String,
    #[server(default)] signer_role: String,
    #[server(default)] reason: String,
) -> Result<String, RoomActionError> {
    act(RoomAction::Revoke {
        slug,
        form: RevocationForm {
            signer_name,
            signer_role,
            reason,
        },
    })
    .await
}
