//! What the launch-room pages fetch, and the server functions that serve them.
//! The data comes from the server's [`RoomStore`]; who may see which room is
//! decided there (and again by PostgreSQL's row-level security).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::access::FieldError;
use crate::domain::chain_page::ChainPage;
use crate::domain::launch_room::{AcceptanceForm, BillingRoute, RoomState, RoomStatus};
use crate::domain::ledger::{AcceptanceKind, AcceptanceRecord, EvidenceChange};
use crate::domain::register::EvidenceGate;
use crate::domain::tenant::Tenant;
use crate::domain::MotionStatus;
use crate::page_data::ClearanceError;

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
    /// One page of the evidence changes, newest first.
    pub evidence_log: ChainPage<EvidenceChange>,
    /// The record at the head of the acceptance chain, whichever page is shown.
    pub latest: Option<AcceptanceEntry>,
    /// One page of the acceptance records, newest first.
    pub acceptances: ChainPage<AcceptanceEntry>,
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

/// Which page of each chain the room page shows: `None` for the newest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPages {
    /// `?before=`: acceptance records before this seq.
    pub before: Option<i32>,
    /// `?evidence_before=`: evidence changes before this seq.
    pub evidence_before: Option<i32>,
}

impl RoomPages {
    /// The pages a room URL's query names, each value checked.
    pub fn parse(before: Option<&str>, evidence_before: Option<&str>) -> Result<Self, FieldError> {
        use crate::domain::chain_page::parse_before;
        Ok(Self {
            before: parse_before("before", before)?,
            evidence_before: parse_before("evidence_before", evidence_before)?,
        })
    }

    /// The query string of a room URL showing these pages (empty for the newest).
    pub fn query(&self) -> String {
        let pairs = [
            ("before", self.before),
            ("evidence_before", self.evidence_before),
        ];
        let query = pairs
            .iter()
            .filter_map(|(name, value)| value.map(|value| format!("{name}={value}")))
            .collect::<Vec<_>>()
            .join("&");
        if query.is_empty() {
            query
        } else {
            format!("?{query}")
        }
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
pub use store::{ActFuture, RoomStore, SharedRoomStore};

#[cfg(feature = "ssr")]
mod store {
    use std::sync::Arc;

    use super::{RoomPages, RoomView, RoomsView};
    use crate::domain::access::Viewer;
    use crate::live::StoreFuture;
    use crate::page_data::ClearanceError;

    /// The server's side of the launch-room pages.
    pub trait RoomStore: Send + Sync + 'static {
        /// The rooms `viewer` may open; `Err(SignInRequired)` for the public.
        fn rooms<'a>(
            &'a self,
            parts: &'a http::request::Parts,
            viewer: &'a Viewer,
        ) -> StoreFuture<'a, Result<RoomsView, ClearanceError>>;

        /// One room, with the pages of its records `pages` names; `Err(NotFound)`
        /// (and a logged denial) for a room that does not exist or that `viewer`
        /// may not see: the two look the same.
        fn room<'a>(
            &'a self,
            parts: &'a http::request::Parts,
            viewer: &'a Viewer,
            slug: &'a str,
            pages: RoomPages,
        ) -> StoreFuture<'a, Result<RoomView, ClearanceError>>;

        /// Makes a change to a room as `viewer`, for the request `parts`
        /// belong to; answers the message the room shows afterwards.
        fn act<'a>(
            &'a self,
            parts: &'a http::request::Parts,
            viewer: &'a Viewer,
            action: crate::page_data::room_actions::RoomAction,
        ) -> ActFuture<'a>;
    }

    /// What [`RoomStore::act`] answers: the room's message, or why not.
    pub type ActFuture<'a> = std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<String, crate::page_data::room_actions::RoomActionError>,
                > + Send
                + 'a,
        >,
    >;

    /// How the store travels in Leptos context.
    pub type SharedRoomStore = Arc<dyn RoomStore>;
}

#[cfg(feature = "ssr")]
fn request() -> Result<(SharedRoomStore, http::request::Parts), ClearanceError> {
    let store = use_context::<SharedRoomStore>().ok_or(ClearanceError::Unavailable)?;
    let parts = use_context::<http::request::Parts>().ok_or(ClearanceError::Unavailable)?;
    Ok((store, parts))
}

/// The rooms the viewer may open.
#[server(endpoint = "rooms")]
pub async fn get_rooms() -> Result<RoomsView, ClearanceError> {
    let (store, parts) = request()?;
    let viewer = crate::live::current_viewer();
    store
        .rooms(&parts, &viewer)
        .await
        .map_err(|_| ClearanceError::DatabaseUnavailable)?
}

/// One launch room, with the pages of its records `pages` names.
#[server(endpoint = "room")]
pub async fn get_room(
    slug: String,
    #[server(default)] pages: RoomPages,
) -> Result<RoomView, ClearanceError> {
    // The page sends checked values; anything else was not sent by it.
    for (field, before) in [
        ("before", pages.before),
        ("evidence_before", pages.evidence_before),
    ] {
        if before.is_some_and(|before| before < 1) {
            return Err(ClearanceError::BadRequest(format!(
                "{field}: a record number (seq) from 1 up"
            )));
        }
    }
    let (store, parts) = request()?;
    let viewer = crate::live::current_viewer();
    store
        .room(&parts, &viewer, &slug, pages)
        .await
        .map_err(|_| ClearanceError::DatabaseUnavailable)?
}
