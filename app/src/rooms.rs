//! What the launch-room pages fetch, and the server functions that serve them.
//! The data comes from the server's [`RoomStore`]; who may see which room is
//! decided there (and again by PostgreSQL's row-level security).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::clearance::ClearanceError;
use crate::domain::access::FieldError;
use crate::domain::launch_room::{AcceptanceForm, BillingRoute, RoomState, RoomStatus};
use crate::domain::ledger::{AcceptanceKind, AcceptanceRecord, EvidenceChange};
use crate::domain::register::EvidenceGate;
use crate::domain::tenant::Tenant;
use crate::domain::MotionStatus;

/// Session key of a sponsor's acceptance entries between the form, the review
/// and the signature.
pub const DRAFT_KEY: &str = "acceptance_draft";

/// A sponsor's acceptance entries, with what was wrong with them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptanceDraft {
    pub slug: String,
    pub form: AcceptanceForm,
    pub errors: Vec<FieldError>,
}

impl AcceptanceDraft {
    pub fn error(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.clone())
    }
}

/// One acceptance record as the room lists it (without the readiness inputs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptanceEntry {
    pub seq: i32,
    pub kind: AcceptanceKind,
    pub motion: String,
    pub signer_name: String,
    pub signer_role: String,
    pub approval_reference: String,
    pub exclusions: Vec<String>,
    pub residual_risks: String,
    pub readiness_digest: String,
    pub open_blockers: Vec<String>,
    pub actor: String,
    pub signed_at: DateTime<Utc>,
    pub digest: String,
}

impl From<&AcceptanceRecord> for AcceptanceEntry {
    fn from(record: &AcceptanceRecord) -> Self {
        Self {
            seq: record.seq,
            kind: record.kind,
            motion: record.motion.clone(),
            signer_name: record.signer_name.clone(),
            signer_role: record.signer_role.clone(),
            approval_reference: record.approval_reference.clone(),
            exclusions: record.exclusions.clone(),
            residual_risks: record.residual_risks.clone(),
            readiness_digest: record.readiness_digest.clone(),
            open_blockers: record.open_blockers.clone(),
            actor: record.actor.clone(),
            signed_at: record.signed_at,
            digest: record.digest.clone(),
        }
    }
}

/// A launch room, worked out for its viewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomView {
    pub tenant: Tenant,
    pub motion_name: Option<String>,
    pub status: RoomStatus,
    /// The register's gates, in order, beside `status.gates`.
    pub gates: Vec<EvidenceGate>,
    /// Every launch motion: (id, name), for the operator's profile form.
    pub motions: Vec<(String, String)>,
    /// Blocker id → title, for every blocker the room names.
    pub blocker_titles: BTreeMap<String, String>,
    /// Newest first.
    pub evidence_log: Vec<EvidenceChange>,
    /// Newest first.
    pub acceptances: Vec<AcceptanceEntry>,
    /// Operators attach evidence and change the profile.
    pub can_change: bool,
    /// The tenant's own buyer sponsor signs and revokes.
    pub can_sign: bool,
    /// The sponsor's entries waiting for review or correction.
    pub draft: Option<AcceptanceDraft>,
}

impl RoomView {
    pub fn blocker_title(&self, id: &str) -> String {
        self.blocker_titles
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }
}

/// One room in the list of rooms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub slug: String,
    pub name: String,
    pub motion_name: Option<String>,
    pub billing_route: BillingRoute,
    pub state: RoomState,
    pub motion_status: Option<MotionStatus>,
    pub live: bool,
}

/// The rooms a viewer may open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomsView {
    pub rooms: Vec<RoomSummary>,
    pub can_create: bool,
    /// Every launch motion: (id, name), for the new-tenant form.
    pub motions: Vec<(String, String)>,
}

#[cfg(feature = "ssr")]
pub use store::{RoomStore, SharedRoomStore};

#[cfg(feature = "ssr")]
mod store {
    use std::sync::Arc;

    use super::{RoomView, RoomsView};
    use crate::clearance::ClearanceError;
    use crate::domain::access::Viewer;
    use crate::live::StoreFuture;

    /// The server's side of the launch-room pages.
    pub trait RoomStore: Send + Sync + 'static {
        /// The rooms `viewer` may open; `Err(SignInRequired)` for the public.
        fn rooms<'a>(
            &'a self,
            parts: &'a http::request::Parts,
            viewer: &'a Viewer,
        ) -> StoreFuture<'a, Result<RoomsView, ClearanceError>>;

        /// One room; `Err(NotFound)` (and a logged denial) for a room that does
        /// not exist or that `viewer` may not see: the two look the same.
        fn room<'a>(
            &'a self,
            parts: &'a http::request::Parts,
            viewer: &'a Viewer,
            slug: &'a str,
        ) -> StoreFuture<'a, Result<RoomView, ClearanceError>>;
    }

    /// How the store travels in Leptos context.
    pub type SharedRoomStore = Arc<dyn RoomStore>;
}

#[cfg(feature = "ssr")]
fn request() -> Result<(SharedRoomStore, http::request::Parts), ClearanceError> {
    let store = use_context::<SharedRoomStore>().ok_or(ClearanceError::Unavailable)?;
    let parts = use_context::<http::request::Parts>().ok_or(ClearanceError::Unavailable)?;
    Ok((store, parts))
}

/// The rooms the viewer may open. `tick` names the live state wanted.
#[server(endpoint = "rooms")]
pub async fn get_rooms(tick: u64) -> Result<RoomsView, ClearanceError> {
    let _ = tick;
    let (store, parts) = request()?;
    let viewer = crate::live::current_viewer();
    store
        .rooms(&parts, &viewer)
        .await
        .map_err(|_| ClearanceError::DatabaseUnavailable)?
}

/// One launch room. `tick` names the live state wanted.
#[server(endpoint = "room")]
pub async fn get_room(slug: String, tick: u64) -> Result<RoomView, ClearanceError> {
    let _ = tick;
    let (store, parts) = request()?;
    let viewer = crate::live::current_viewer();
    store
        .room(&parts, &viewer, &slug)
        .await
        .map_err(|_| ClearanceError::DatabaseUnavailable)?
}
