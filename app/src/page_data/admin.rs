//! What the administration page and the invitation page fetch, and the server
//! functions that serve them. The data comes from the server's [`AccessStore`]
//! (accounts, tenants, invitations, the access log); who may see it is decided
//! there, per request.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::access::AccountSummary;
use crate::domain::tenant::{Invitation, InvitationState, Tenant};
use crate::page_data::ClearanceError;

/// An account as the administration page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub account: AccountSummary,
    pub tenant_name: Option<String>,
    pub disabled: bool,
}

/// An invitation with its state now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub invitation: Invitation,
    pub state: InvitationState,
}

/// One access-log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub remote_addr: Option<String>,
    /// How many identical refusals this row stands for (1 for most events).
    pub count: u32,
    /// When the last of them happened, if more than one.
    pub last_at: Option<DateTime<Utc>>,
    /// Whether they came from more than one address (`remote_addr` is the first).
    pub several_addresses: bool,
}

/// The administration page: everything for operators; the same, read-only, for
/// commercial owners.
// No `Debug`: `new_link` carries an invitation token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminView {
    pub can_change: bool,
    pub accounts: Vec<AccountRow>,
    pub tenants: Vec<Tenant>,
    pub invitations: Vec<InvitationRow>,
    pub events: Vec<AccessEvent>,
    /// A just-created invitation link: shown once, then gone from the session.
    pub new_link: Option<String>,
}

/// What an invitation link shows before it is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationPreview {
    pub tenant_name: String,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

/// What an invitation link opens: its invitation while pending, or why it opens
/// nothing (unknown, used, revoked or expired), in words for the person holding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationLink {
    Pending(InvitationPreview),
    Unusable(String),
}

#[cfg(feature = "ssr")]
pub use store::{AccessStore, SharedAccessStore};

#[cfg(feature = "ssr")]
mod store {
    use std::sync::Arc;

    use super::{AdminView, InvitationLink};
    use crate::domain::access::Viewer;
    use crate::live::StoreFuture;
    use crate::page_data::ClearanceError;

    /// The server's side of the administration and invitation pages.
    pub trait AccessStore: Send + Sync + 'static {
        /// The page for `viewer`; `Err(Forbidden)` (and a logged denial) for
        /// anyone who may not see it.
        fn admin_view<'a>(
            &'a self,
            parts: &'a http::request::Parts,
            viewer: &'a Viewer,
        ) -> StoreFuture<'a, Result<AdminView, ClearanceError>>;

        /// What a token opens (throttled per address).
        fn invitation<'a>(
            &'a self,
            parts: &'a http::request::Parts,
            token: &'a str,
        ) -> StoreFuture<'a, Result<InvitationLink, ClearanceError>>;
    }

    /// How the store travels in Leptos context.
    pub type SharedAccessStore = Arc<dyn AccessStore>;
}

#[cfg(feature = "ssr")]
fn request() -> Result<(SharedAccessStore, http::request::Parts), ClearanceError> {
    let store = use_context::<SharedAccessStore>().ok_or(ClearanceError::Unavailable)?;
    let parts = use_context::<http::request::Parts>().ok_or(ClearanceError::Unavailable)?;
    Ok((store, parts))
}

/// The administration page's data.
#[server(endpoint = "admin")]
pub async fn get_admin() -> Result<AdminView, ClearanceError> {
    let (store, parts) = request()?;
    let viewer = crate::live::current_viewer();
    store
        .admin_view(&parts, &viewer)
        .await
        .map_err(|_| ClearanceError::DatabaseUnavailable)?
}

/// What an invitation link opens.
#[server(endpoint = "invitation")]
pub async fn get_invitation(token: String) -> Result<InvitationLink, ClearanceError> {
    let (store, parts) = request()?;
    store
        .invitation(&parts, &token)
        .await
        .map_err(|_| ClearanceError::DatabaseUnavailable)?
}
