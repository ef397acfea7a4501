//! Building the server: the state and the router, for `main` and for the tests
//! alike. Each resource brings its own router; this module only merges them and
//! adds the layers every request passes through.

use std::sync::Arc;

use axum::{middleware, Router};
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use app::domain::Register;
use app::live::LiveClearance;

use crate::api::{ApiToken, EventStreams};
use crate::auth::refusals::RefusalLog;
use crate::auth::same_origin;
use crate::auth::session::{self, SessionSettings};
use crate::auth::throttle::SignInThrottle;
use crate::edge::EdgeSettings;
use crate::mail::MailSettings;
use crate::metrics::{self, Metrics};
use crate::page_cache::{self, PageCache};
use crate::public_url::PublicUrl;
use crate::readiness::history::PgHistory;
use crate::readiness::{ReadinessMonitor, Source};
use crate::security_headers::{self, NoncePlaceholder, SecurityHeaders};
use crate::state::AppState;
use crate::webhooks::WebhookSettings;
use crate::{admin, api, auth, client_addr, input, layers, mail, pages, rooms, webhooks};

/// What a server is built from, besides its database.
pub struct Settings {
    pub register: Arc<Register>,
    /// Where readiness is read from.
    pub source: Source,
    pub leptos_options: LeptosOptions,
    pub api_token: Option<ApiToken>,
    pub sessions: SessionSettings,
    /// Public pages kept rendered; 0 turns the cache off.
    pub page_cache_entries: usize,
    /// The address the public reaches the server at.
    pub public_url: PublicUrl,
    /// Proxies believed, timeouts and caps at the edge.
    pub edge: EdgeSettings,
    /// Webhook destinations allowed, timeouts and retries.
    pub webhooks: WebhookSettings,
    /// The bearer token `/metrics` asks for; `None`: not served (404).
    pub metrics_token: Option<ApiToken>,
    /// The SMTP relay and sender; `None`: no mail.
    pub mail: Option<MailSettings>,
    /// The key the transparency log's checkpoints are signed with.
    pub log_key: Arc<crate::log::LogKey>,
}

/// A built server: its state, its router, and the readiness monitor behind the
/// state (its polling tasks are the caller's to spawn).
pub struct Server {
    pub state: AppState,
    pub router: Router,
    pub monitor: Arc<ReadinessMonitor>,
}

/// Reads readiness once and builds the state and the router on `pool`; starts
/// the throttle's pruning and the refusal log's flushing, which end with
/// `state.shutdown`.
pub async fn build(pool: PgPool, settings: Settings) -> Server {
    let (monitor, readiness) = ReadinessMonitor::start(
        Arc::clone(&settings.register),
        pool.clone(),
        settings.source,
    )
    .await;
    let refusals = RefusalLog::new(pool.clone());
    let throttle = SignInThrottle::new(pool.clone());
    let shutdown = CancellationToken::new();
    let log = crate::log::Sequencer::spawn(pool.clone(), settings.log_key, shutdown.clone());
    let state = AppState {
        leptos_options: settings.leptos_options,
        clearance: LiveClearance::new(
            settings.register,
            readiness,
            PgHistory::shared(pool.clone()),
        ),
        pool,
        monitor_wake: monitor.waker(),
        provenance: monitor.provenance(),
        api_token: settings.api_token,
        throttle,
        refusals,
        sessions: settings.sessions,
        public_url: settings.public_url,
        page_cache: PageCache::new(settings.page_cache_entries),
        shutdown,
        draining: CancellationToken::new(),
        log,
        event_streams: EventStreams::new(
            settings.edge.max_event_streams,
            settings.edge.max_event_streams_per_address,
        ),
        edge: settings.edge,
        webhooks: settings.webhooks,
        metrics: Metrics::new(settings.metrics_token),
        mail: settings.mail,
    };
    state.refusals.spawn_flushing(state.shutdown.clone());
    state.throttle.spawn_pruning(state.shutdown.clone());
    Server {
        router: router(state.clone()),
        state,
        monitor,
    }
}

/// Every resource's routes, and the layers around them (outermost last).
pub fn router(state: AppState) -> Router {
    let placeholder = NoncePlaceholder::default();
    let headers = SecurityHeaders {
        hsts: state.public_url.is_https(),
    };
    Router::new()
        .merge(api::router())
        .merge(auth::router())
        .merge(admin::router())
        .merge(webhooks::router())
        .merge(rooms::router())
        .merge(metrics::router(&state))
        .merge(mail::router())
        .merge(crate::log::api::router())
        .merge(crate::health::router())
        .merge(pages::router(&state, &placeholder))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::attach_viewer,
        ))
        .layer(session::layer(state.pool.clone(), state.sessions))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            page_cache::serve_cached,
        ))
        // Outside the cache: every page sent gets a nonce of its own.
        .layer(middleware::from_fn_with_state(
            placeholder,
            security_headers::fresh_nonce,
        ))
        .layer(middleware::from_fn(same_origin::refuse_cross_site))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(input::check_body))
        // A body that trickles in is cut off (408) rather than holding a task.
        .layer(RequestBodyTimeoutLayer::new(state.edge.body_timeout))
        // Counts every answer from the routes and the layers above (inside it),
        // refusals included, by the matched route.
        .layer(state.metrics.layer())
        .layer(
            layers::TraceLayer::new_for_http()
                .make_span_with(layers::request_span)
                .on_response(layers::log_response)
                // A server error is logged once, where its cause is known.
                .on_failure(()),
        )
        .layer(layers::PropagateRequestIdLayer::x_request_id())
        .layer(layers::SetRequestIdLayer::x_request_id(
            layers::MakeRequestUuid,
        ))
        // The client's address is resolved once, before the request span, the
        // throttles and the access log read it.
        .layer(middleware::from_fn_with_state(
            state.edge.trusted_proxies.clone(),
            client_addr::attach,
        ))
        // Outermost: no response leaves without them.
        .layer(middleware::from_fn_with_state(
            headers,
            security_headers::on_every_response,
        ))
        .with_state(state)
}
