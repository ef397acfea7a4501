//! What each page fetches, evaluated on the server, and the server functions that
//! answer: the boundary between the server and the [`crate::pages`] that render.
//!
//! - this module: what every page starts from ([`get_clearance`]: the register's
//!   outline, the live state, who is asking) and the errors every server function
//!   answers with ([`ClearanceError`]).
//! - [`register`]: the register's pages (`/`, `/motions/{id}`, `/blockers/{id}`):
//!   the overview, one page of the blocker triage, one motion, one blocker.
//! - [`rooms`]: the launch-room pages (`/rooms…`), read through the server's
//!   `RoomStore`.
//! - [`room_actions`]: the launch room's changes (evidence, signature,
//!   revocation) as server functions, submitted with `ActionForm`.
//! - [`admin`]: the administration and invitation pages, read through the
//!   server's `AccessStore`.
//! - [`notifications`]: the e-mail subscription and unsubscribe pages, read
//!   through the server's `NotificationStore`.
//! - [`webhooks`]: the webhook pages, read through the server's `WebhookStore`.
//!
//! The server functions run on the server only and read what it provides in
//! Leptos context (`crate::live`, server only); the data types travel to the
//! browser as JSON.

pub mod admin;
pub mod notifications;
pub mod register;
pub mod room_actions;
pub mod rooms;
pub mod webhooks;

use std::sync::Arc;

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::access::Viewer;
use crate::domain::register::RegisterOutline;
use crate::live_state::LiveState;

/// Errors the server functions can answer with. Messages are safe to show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ClearanceError {
    #[error("the readiness service is not running")]
    Unavailable,
    #[error("not found")]
    NotFound,
    #[error("sign in to see this page")]
    SignInRequired,
    #[error("your account may not see this page")]
    Forbidden,
    /// A malformed query, e.g. a page cursor that is not a record number.
    #[error("{0}")]
    BadRequest(String),
    #[error("too many attempts: try again in {0} seconds")]
    Throttled(u64),
    #[error("the history is unavailable: the database cannot be reached")]
    HistoryUnavailable,
    #[error("the database cannot be reached: this page is back as soon as it is (the public register stays live meanwhile)")]
    DatabaseUnavailable,
    #[error("request failed: {0}")]
    Transport(ServerFnErrorErr),
}

impl FromServerFnError for ClearanceError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value)
    }
}

/// What every page starts from: the register's outline and the live state. The
/// evaluated parts come from [`register`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearanceView {
    pub outline: Arc<RegisterOutline>,
    pub live: Arc<LiveState>,
    /// Who is asking: shown in the page header.
    pub viewer: Viewer,
}

/// The register's outline, the latest live state and who is asking.
#[server(endpoint = "clearance")]
pub async fn get_clearance() -> Result<ClearanceView, ClearanceError> {
    let live = use_context::<crate::live::LiveClearance>().ok_or(ClearanceError::Unavailable)?;
    Ok(ClearanceView {
        outline: Arc::clone(&live.outline),
        live: live.current(),
        viewer: crate::live::current_viewer(),
    })
}
