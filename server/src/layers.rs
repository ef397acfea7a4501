//! Request tracing: every request gets an id (`x-request-id`, kept when the
//! client or a proxy sent one, and echoed in the response) and a span with its
//! method, path and id, so every log line written while serving it carries them;
//! the span's last line adds the status and the latency. The span names the
//! client's address as [`crate::client_addr::attach`] resolved it.

use std::time::Duration;

use axum::http::{Request, Response};
use tracing::Span;

use crate::auth::ClientAddr;

pub use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
pub use tower_http::trace::TraceLayer;

/// The request's path as the log may show it: never the query string, and an
/// invitation link's token replaced, since either may carry a credential.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/invite/") {
        "/invite/{token}"
    } else {
        path
    }
}

/// The span every log line of one request is written in.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let client = request
        .extensions()
        .get::<ClientAddr>()
        .map_or("unknown", |client| client.0.as_str());
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %loggable_path(request.uri().path()),
        request_id = %id,
        client = %client,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

/// Records the status and latency in the request's span and logs them once.
pub fn log_response<B>(response: &Response<B>, latency: Duration, span: &Span) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    span.record("status", status);
    span.record("latency_ms", latency_ms);
    if response.status().is_server_error() {
        tracing::info!(status, latency_ms, "answered");
    } else {
        tracing::debug!(status, latency_ms, "answered");
    }
}
