//! What the webhook pages (`/admin/webhooks`, `/admin/webhooks/{id}`) fetch,
//! and the server functions that serve them. The data comes from the server's
//! [`WebhookStore`]; only operators see it, decided there, per request.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::page_data::ClearanceError;

/// An endpoint as the pages show it: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub description: String,
    /// Event type names; empty: every type.
    pub event_types: Vec<String>,
    /// Motion ids; empty: every motion.
    pub motions: Vec<String>,
    /// The slugs of the tenants it wants; empty: every tenant.
    pub tenants: Vec<String>,
    /// `standard` or `slack`.
    pub format: String,
    pub enabled: bool,
    /// Why the server disabled it, when it did.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the rotated-out secret still signs.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// One delivery of one event to an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub response_code: Option<i32>,
    pub last_error: Option<String>,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// One checkbox of the endpoint form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// What the form sends.
    pub value: String,
    /// What a person reads.
    pub label: String,
    /// An event type about one tenant (its tenant filter applies).
    pub tenant_event: bool,
}

/// What an endpoint may ask for: event types, motions, tenants.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    pub event_types: Vec<Choice>,
    pub motions: Vec<Choice>,
    pub tenants: Vec<Choice>,
}

/// A signing secret just made or rotated: shown once, then gone.
// No `Debug`: it carries the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSecret {
    pub endpoint_id: i64,
    pub url: String,
    pub secret: String,
}

/// `/admin/webhooks`: every endpoint and the form for a new one.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksView {
    pub endpoints: Vec<EndpointRow>,
    pub choices: Choices,
    pub new_secret: Option<NewSecret>,
    /// Whether loopback and private destinations are allowed here.
    pub allow_private: bool,
}

/// `/admin/webhooks/{id}`: one endpoint, its form and its newest deliveries.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub endpoint: EndpointRow,
    pub deliveries: Vec<DeliveryRow>,
    pub choices: Choices,
    pub new_secret: Option<NewSecret>,
}

#[cfg(feature = "ssr")]
pub use store::{SharedWebhookStore, WebhookStore};

#[cfg(feature = "ssr")]
mod store {
    use std::sync::Arc;

    use super::{WebhookView, WebhooksView};
    use crate::domain::access::Viewer;
    use crate::live::StoreFuture;
    use crate::page_data::ClearanceError;

    /// The server's side of the webhook pages.
    pub trait WebhookStore: Send + Sync + 'static {
        /// Every endpoint, for operators; `SignInRequired` or `Forbidden` (and
        /// a logged denial) for anyone else.
        fn endpoints<'a>(
            &'a self,
            parts: &'a http::request::Parts,
            viewer: &'a Viewer,
        ) -> StoreFuture<'a, Result<WebhooksView, ClearanceError>>;

        /// One endpoint with its newest deliveries; `NotFound` for an unknown id.
        fn endpoint<'a>(
            &'a self,
            parts: &'a http::request::Parts,
            viewer: &'a Viewer,
            id: i64,
        ) -> StoreFuture<'a, Result<WebhookView, ClearanceError>>;
    }

    /// How the store travels in Leptos context.
    pub type SharedWebhookStore = Arc<dyn WebhookStore>;
}

#[cfg(feature = "ssr")]
fn request() -> Result<(SharedWebhookStore, http::request::Parts), ClearanceError> {
    let store = use_context::<SharedWebhookStore>().ok_or(ClearanceError::Unavailable)?;
    let parts = use_context::<http::request::Parts>().ok_or(ClearanceError::Unavailable)?;
    Ok((store, parts))
}

/// The webhook list's data. (Not `/api/webhooks`: that is the JSON API's.)
#[server(endpoint = "admin_webhooks")]
pub async fn get_webhooks() -> Result<WebhooksView, ClearanceError> {
    let (store, parts) = request()?;
    let viewer = crate::live::current_viewer();
    store
        .endpoints(&parts, &viewer)
        .await
        .map_err(|_| ClearanceError::DatabaseUnavailable)?
}

/// One endpoint's page data.
#[server(endpoint = "admin_webhook")]
pub async fn get_webhook(id: i64) -> Result<WebhookView, ClearanceError> {
    let (store, parts) = request()?;
    let viewer = crate::live::current_viewer();
    store
        .endpoint(&parts, &viewer, id)
        .await
        .map_err(|_| ClearanceError::DatabaseUnavailable)?
}
