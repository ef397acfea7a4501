//! HTTP request counts and latencies per route, recorded by a tower layer.
//!
//! The route label is the route's pattern as the router matched it
//! ([`MatchedPath`], e.g. `/api/proofs/{proof_id}/runs`), or `unmatched` for a
//! request no route took (the not-found page, the front end's files): never the
//! raw path, whose values are the client's to choose. The method label is one of
//! the standard methods or `other`, for the same reason. The status label is the
//! response's code.
//!
//! The layer sits inside the router's layers (see `startup`), so it also counts
//! the answers of the layers within it: a refused cross-site post, a body too
//! large, a body that timed out. The latency is the time until the response's
//! head is ready, not until its body is sent (an event stream would otherwise
//! count its whole life).
//!
//! Cheap on purpose: per request one clone of the matched path's `Arc<str>`, an
//! [`Instant`], and two label look-ups in the families (no allocation once a
//! label set has been seen).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::{Method, Request, Response};
use pin_project_lite::pin_project;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use tower::{Layer, Service};

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets in seconds: 1 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The request counter and the latency histogram.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl HttpMetrics {
    /// The two families, registered in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let requests = IntCounterVec::new(
            Opts::new(
                "clearance_http_requests_total",
                "HTTP requests answered, by route pattern, method and status code.",
            ),
            &["route", "method", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "clearance_http_request_duration_seconds",
                "Time until an HTTP response's head was ready, by route pattern and method.",
            )
            .buckets(BUCKETS.to_vec()),
            &["route", "method"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        Ok(Self { requests, duration })
    }

    fn record(&self, route: &str, method: &'static str, status: &str, started: Instant) {
        self.requests
            .with_label_values(&[route, method, status])
            .inc();
        self.duration
            .with_label_values(&[route, method])
            .observe(started.elapsed().as_secs_f64());
    }
}

/// A bounded method label: the standard methods by name, anything else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Records every request that passes through it in [`HttpMetrics`].
#[derive(Clone)]
pub struct HttpMetricsLayer(pub Arc<HttpMetrics>);

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = Recorded<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Recorded {
            inner,
            metrics: Arc::clone(&self.0),
        }
    }
}

/// The service [`HttpMetricsLayer`] wraps around the routes.
#[derive(Clone)]
pub struct Recorded<S> {
    inner: S,
    metrics: Arc<HttpMetrics>,
}

impl<S, B, R> Service<Request<B>> for Recorded<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = RecordedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let route = request.extensions().get::<MatchedPath>().cloned();
        let method = method_label(request.method());
        RecordedFuture {
            inner: self.inner.call(request),
            metrics: Arc::clone(&self.metrics),
            route,
            method,
            started: Instant::now(),
        }
    }
}

pin_project! {
    /// The inner service's future; records the answer when it is ready.
    pub struct RecordedFuture<F> {
        #[pin]
        inner: F,
        metrics: Arc<HttpMetrics>,
        route: Option<MatchedPath>,
        method: &'static str,
        started: Instant,
    }
}

impl<F, R, E> Future for RecordedFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = ready!(this.inner.poll(cx));
        if let Ok(response) = &output {
            let route = this.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
            this.metrics.record(
                route,
                this.method,
                response.status().as_str(),
                *this.started,
            );
        }
        Poll::Ready(output)
    }
}
