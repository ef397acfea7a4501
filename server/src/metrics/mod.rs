//! `GET /metrics`: the server's metrics in the Prometheus text format (0.0.4),
//! for a Prometheus server to scrape. Names and labels: docs/operations.md,
//! "Metrics".
//!
//! Not exposed unless configured: with `CLEARANCE_METRICS_TOKEN` set, `/metrics`
//! on the main address answers the scraper that presents it as a bearer token
//! (compared in constant time; a wrong one counts against the address like a
//! wrong API token, a missing or wrong one is 401 with `WWW-Authenticate:
//! Bearer`); without it, `/metrics` is not a route (404). With
//! `CLEARANCE_METRICS_ADDR` set, `/metrics` is also served, without a token, on
//! that address alone (a loopback or private address, e.g. `127.0.0.1:9464`).
//!
//! What is measured: the HTTP requests, as they pass ([`http`]), and, computed
//! afresh at each scrape from the live state, the motions, blockers, readiness,
//! proofs, the readiness source, the event streams, the database pool and the
//! notification deliveries ([`live`]).
//!
//! The crate is `prometheus` (TiKV's rust-prometheus), without its protobuf
//! feature. The official `prometheus-client` writes OpenMetrics text only, in
//! which a counter's `# TYPE` line names it without `_total`; Debian's
//! `promtool check metrics` (which parses the Prometheus text format) then
//! reports every counter as having no help text. `prometheus` writes the
//! Prometheus text format that `promtool` checks clean, and its label families
//! look a known label set up without allocating.

pub mod http;
pub mod live;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Router};
use chrono::Utc;
use prometheus::{Encoder, Registry, TextEncoder};
use secrecy::SecretString;
use sqlx::PgPool;

use self::http::{HttpMetrics, HttpMetricsLayer};
use crate::api::{bearer_token, ApiError, ApiToken, MIN_API_TOKEN_CHARS};
use crate::auth::ClientAddr;
use crate::security_headers::{self, SecurityHeaders};
use crate::state::AppState;

/// The scrape's content type: the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How long a scrape waits for the database before leaving the deliveries out.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the metrics are served (see docs/configuration.md, "Metrics").
#[derive(clap::Args)]
pub struct MetricsArgs {
    /// Serve `/metrics` to a scraper that presents this bearer token: at least
    /// 32 characters (`openssl rand -hex 32` makes one). Unset: not served on
    /// the main address (404).
    #[arg(
        long,
        env = "CLEARANCE_METRICS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        value_parser = long_token
    )]
    metrics_token: Option<String>,

    /// Also serve `/metrics`, without a token, on this address (e.g.
    /// 127.0.0.1:9464): keep it where only the scraper can reach it.
    #[arg(long, env = "CLEARANCE_METRICS_ADDR", value_name = "ADDRESS")]
    pub metrics_addr: Option<SocketAddr>,
}

impl MetricsArgs {
    pub fn token(&self) -> Option<ApiToken> {
        self.metrics_token
            .clone()
            .filter(|token| !token.is_empty())
            .map(|token| ApiToken::new(SecretString::from(token)))
    }
}

/// Refuses a token too short to withstand guessing; the empty value means none.
fn long_token(token: &str) -> Result<String, String> {
    let length = token.chars().count();
    if length == 0 || length >= MIN_API_TOKEN_CHARS {
        Ok(token.to_owned())
    } else {
        Err(format!(
            "CLEARANCE_METRICS_TOKEN has {length} characters; it must have at least \
             {MIN_API_TOKEN_CHARS} (for example: openssl rand -hex 32)"
        ))
    }
}

/// The metrics kept between scrapes (the HTTP requests) and the scrape token.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    http: Arc<HttpMetrics>,
    token: Option<ApiToken>,
}

impl Metrics {
    /// `token`: the bearer token `/metrics` on the main address asks for; `None`
    /// leaves it unrouted.
    pub fn new(token: Option<ApiToken>) -> Self {
        let registry = Registry::new();
        let http =
            HttpMetrics::register(&registry).expect("the HTTP metrics have valid, distinct names");
        Self(Arc::new(Inner {
            registry,
            http: Arc::new(http),
            token,
        }))
    }

    /// The layer that counts requests and their latencies.
    pub fn layer(&self) -> HttpMetricsLayer {
        HttpMetricsLayer(Arc::clone(&self.0.http))
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(None)
    }
}

/// `/metrics` behind the bearer token, when one is configured; else no route.
pub fn router(state: &AppState) -> Router<AppState> {
    if state.metrics.0.token.is_none() {
        return Router::new();
    }
    Router::new().route("/metrics", get(scrape_with_token))
}

/// The router of the separate metrics address: `/metrics` without a token, and
/// nothing else; every answer carries the security headers.
pub fn exporter_router(state: AppState) -> Router {
    let headers = SecurityHeaders {
        hsts: state.public_url.is_https(),
    };
    Router::new()
        .route("/metrics", get(scrape_open))
        .layer(middleware::from_fn_with_state(
            headers,
            security_headers::on_every_response,
        ))
        .with_state(state)
}

async fn scrape_with_token(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
) -> Response {
    let Some(token) = &state.metrics.0.token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match bearer_token(&headers) {
        Ok(Some(presented)) if token.matches(presented) => scrape(&state).await,
        // No token at all is not a guess.
        Ok(None) => ApiError::Unauthorized.into_response(),
        _ => match state.throttle.bearer_failure(&address).await {
            Ok(()) => ApiError::Unauthorized.into_response(),
            Err(wait) => ApiError::TooManyAttempts(wait.as_secs().max(1)).into_response(),
        },
    }
}

async fn scrape_open(State(state): State<AppState>) -> Response {
    scrape(&state).await
}

async fn scrape(state: &AppState) -> Response {
    match render(state).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE)),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "could not encode the metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Every metric, in the text format, sorted by name.
pub async fn render(state: &AppState) -> prometheus::Result<String> {
    let deliveries = delivery_counts(&state.pool).await;
    let evaluated = state.clearance.evaluated();
    let mut families = state.metrics.0.registry.gather();
    families.extend(live::evaluation_families(
        &state.clearance.register,
        &evaluated,
        Utc::now(),
    )?);
    families.extend(live::server_families(&live::ServerState {
        event_streams_open: state.event_streams.open_count(),
        event_streams_limit: state.edge.max_event_streams,
        pool: &state.pool,
        deliveries: deliveries.as_deref(),
    })?);
    families.sort_by(|a, b| a.name().cmp(b.name()));
    let mut body = Vec::new();
    TextEncoder::new().encode(&families, &mut body)?;
    String::from_utf8(body).map_err(|error| prometheus::Error::Msg(error.to_string()))
}

/// The deliveries by (channel, status, count): webhook deliveries and queued
/// mail (a sent mail counts as delivered); `None` when the
/// database does not answer in time (the scrape then leaves them out rather
/// than wait).
pub async fn delivery_counts(pool: &PgPool) -> Option<Vec<(String, String, i64)>> {
    let query = sqlx::query!(
        r#"SELECT 'webhook' AS "channel!", status AS "status!", count(*) AS "count!"
           FROM deliveries GROUP BY status
           UNION ALL
           SELECT 'email', CASE status WHEN 'sent' THEN 'delivered' ELSE status END, count(*)
           FROM mail_outbox GROUP BY status"#
    )
    .fetch_all(pool);
    match tokio::time::timeout(DATABASE_TIMEOUT, query).await {
        Ok(Ok(rows)) => Some(
            rows.into_iter()
                .map(|row| (row.channel, row.status, row.count))
                .collect(),
        ),
        Ok(Err(error)) => {
            tracing::warn!(%error, "could not count the deliveries for /metrics");
            None
        }
        Err(_) => {
            tracing::warn!("the database did not count the deliveries in time for /metrics");
            None
        }
    }
}
