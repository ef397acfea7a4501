//! The application state every handler and page can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use app::live::LiveClearance;

use crate::api::{ApiToken, EventStreams};
use crate::auth::refusals::RefusalLog;
use crate::auth::session::SessionSettings;
use crate::auth::throttle::SignInThrottle;
use crate::edge::EdgeSettings;
use crate::page_cache::PageCache;
use crate::public_url::PublicUrl;

/// Application state shared by every handler; built by [`crate::startup`].
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    /// The register and its live readiness.
    pub clearance: LiveClearance,
    /// Wakes the readiness monitor after a local write.
    pub monitor_wake: Arc<Notify>,
    pub api_token: Option<ApiToken>,
    pub throttle: SignInThrottle,
    /// Throttle refusals, counted in bursts for the access log.
    pub refusals: RefusalLog,
    pub sessions: SessionSettings,
    /// The address every absolute link is built on.
    pub public_url: PublicUrl,
    /// The public pages, rendered once per live state.
    pub page_cache: PageCache,
    /// Cancelled when the server shuts down, so endless event streams end and
    /// the graceful shutdown can finish.
    pub shutdown: CancellationToken,
    /// Cancelled first, when a shutdown is asked for (SIGTERM): `/readyz`
    /// answers 503 while the server still serves, so a load balancer moves
    /// new requests away before [`Self::shutdown`] stops accepting them.
    #[from_ref(skip)]
    pub draining: CancellationToken,
    /// Proxies believed, timeouts and caps at the edge.
    pub edge: EdgeSettings,
    /// The live event streams open now, counted against the edge's caps.
    pub event_streams: EventStreams,
    /// Where each readiness fact came from and when it was last seen.
    pub provenance: crate::readiness::provenance::ProvenanceBoard,
    /// Webhook destinations allowed, timeouts and retries.
    pub webhooks: crate::webhooks::WebhookSettings,
    /// The HTTP request metrics and the `/metrics` token.
    pub metrics: crate::metrics::Metrics,
    /// The SMTP relay and sender; `None`: nothing is mailed or queued.
    pub mail: Option<crate::mail::MailSettings>,
    /// The transparency log's sequencer and signing key.
    pub log: crate::log::Sequencer,
}
