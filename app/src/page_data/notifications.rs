//! What the e-mail notification pages fetch: an account's subscriptions
//! (`/account/notifications`) and what an unsubscribe link stops
//! (`/unsubscribe/{token}`), read through the server's [`NotificationStore`].

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::page_data::ClearanceError;

/// One subscription as its account sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: i64,
    /// Empty: every event type the account may see.
    pub event_types: Vec<String>,
    /// Empty: every motion.
    pub motions: Vec<String>,
    /// What it asks for, in words.
    pub description: String,
    /// Made by the server (a sponsor's stale-acceptance mail).
    pub automatic: bool,
    pub created_at: DateTime<Utc>,
}

/// A choice in the subscription form: its value and its label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The notifications page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationsView {
    /// Whether the server has an SMTP relay: without one nothing is mailed.
    pub email_configured: bool,
    /// Where the mail goes.
    pub email: String,
    pub subscriptions: Vec<Subscription>,
    pub event_types: Vec<Choice>,
    pub motions: Vec<Choice>,
}

/// What an unsubscribe link stops.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnsubscribeLink {
    /// The mail was sent for this subscription.
    Subscription { email: String, description: String },
    /// An invitation mail: the link stops invitation mail to the address.
    Invitations { email: String },
    /// Already stopped.
    Done,
    /// No mail carried this link.
    Unknown,
}

#[cfg(feature = "ssr")]
pub use store::{NotificationStore, SharedNotificationStore};

#[cfg(feature = "ssr")]
mod store {
    use std::sync::Arc;

    use super::{NotificationsView, UnsubscribeLink};
    use crate::domain::access::Viewer;
    use crate::live::StoreFuture;
    use crate::page_data::ClearanceError;

    /// The server's side of the notification pages.
    pub trait NotificationStore: Send + Sync + 'static {
        /// The signed-in viewer's page; `Err(SignInRequired)` for the public.
        fn notifications<'a>(
            &'a self,
            viewer: &'a Viewer,
        ) -> StoreFuture<'a, Result<NotificationsView, ClearanceError>>;

        /// What `token` would stop.
        fn unsubscribe_link<'a>(
            &'a self,
            token: &'a str,
        ) -> StoreFuture<'a, Result<UnsubscribeLink, ClearanceError>>;
    }

    /// How the store travels in Leptos context.
    pub type SharedNotificationStore = Arc<dyn NotificationStore>;
}

#[cfg(feature = "ssr")]
fn store() -> Result<SharedNotificationStore, ClearanceError> {
    use_context::<SharedNotificationStore>().ok_or(ClearanceError::Unavailable)
}

/// The notifications page's data.
#[server(endpoint = "notifications")]
pub async fn get_notifications() -> Result<NotificationsView, ClearanceError> {
    let viewer = crate::live::current_viewer();
    store()?
        .notifications(&viewer)
        .await
        .map_err(|_| ClearanceError::DatabaseUnavailable)?
}

/// What an unsubscribe link stops.
#[server(endpoint = "unsubscribe")]
pub async fn get_unsubscribe(token: String) -> Result<UnsubscribeLink, ClearanceError> {
    store()?
        .unsubscribe_link(&token)
        .await
        .map_err(|_| ClearanceError::DatabaseUnavailable)?
}
