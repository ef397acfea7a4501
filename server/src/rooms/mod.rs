//! Launch rooms: a tenant's evidence changes and acceptance records, each
//! appended to its hash chain under a lock on the chain's head, and read back under
//! row-level security as the asking viewer.
//!
//! The rules (what may be signed, what an attachment needs, what the room's state
//! is) live in `app::domain::launch_room`; this module loads what they need,
//! applies them and stores the result, each job in a file of its own:
//!
//! - [`reads`]: the room as pages, documents and the dossier read it;
//! - [`evidence`]: an operator's evidence changes;
//! - [`signing`]: a sponsor's signature or revocation;
//! - [`verify`]: `audit verify`, every chain recomputed;
//! - [`store`]: the launch-room pages' data; `actions`: the changes behind the
//!   pages' server functions; [`handlers`]: the profile and review form posts;
//! - `rows`, `heads`: the ledger rows and the chains' heads, shared by the above.

mod actions;
mod evidence;
pub mod handlers;
mod heads;
mod reads;
mod rows;
mod signing;
pub mod store;
pub mod verify;

use axum::routing::post;
use axum::Router;

use app::domain::access::FieldError;

pub use evidence::change_evidence;
pub use reads::{
    load, load_all, load_every, load_head, load_page, load_record, slug_of, RoomHead, RoomPage,
    RoomRecords,
};
pub use signing::{submit, submit_now, Submission};

use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// No such tenant, or one the viewer may not see: the same answer for both.
    #[error("no such launch room")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The launch room's plain form posts (the pages and their server functions are
/// Leptos routes).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{slug}/profile", post(handlers::update_profile))
        .route("/rooms/{slug}/draft", post(handlers::review))
        // A refused post answers with a page that links back, not a bare status.
        .layer(axum::middleware::from_fn(crate::refusal::as_pages))
}
