//! `/metrics`: served only behind its bearer token (or on its own address), in
//! the Prometheus text format that Debian's `promtool check metrics` passes,
//! with no secret in any line. The values themselves: [`values`].

mod values;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use axum::body::Body;
use chrono::Utc;
use clap::Parser;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use secrecy::SecretString;
use sqlx::PgPool;
use tower::ServiceExt;

use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use server::api::ApiToken;
use server::config::Cli;
use server::startup::{self, Server, Settings};
use server::{metrics, page_cache};

const TOKEN: &str = "metrics-0123456789abcdef0123456789abcdef";
const PROMTOOL: &str = "/usr/bin/promtool";

async fn server(pool: &PgPool, token: Option<&str>) -> Server {
    let register =
        Arc::new(parse_register("thesmios.toml", DEFAULT_REGISTER).expect("the default register"));
    let leptos_options = LeptosOptions::builder().output_name("clearance").build();
    startup::build(
        crate::common::serving_pool(pool),
        Settings {
            metrics_token: token.map(|token| ApiToken::new(SecretString::from(token.to_owned()))),
            ..crate::common::settings(register, leptos_options)
        },
    )
    .await
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: String,
}

async fn send(router: &axum::Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn scrape_request(authorization: Option<&str>) -> Request<Body> {
    let mut request = Request::get("/metrics");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.body(Body::empty()).unwrap()
}

/// A scrape with the right token; fails the test unless it is a 200.
async fn scrape(router: &axum::Router) -> String {
    let answer = send(router, scrape_request(Some(&format!("Bearer {TOKEN}")))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body
}

/// The value of the sample `series` (name and labels exactly as written, labels
/// in name order), if the scrape has it.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|line| {
        line.strip_prefix(series)?
            .strip_prefix(' ')
            .map(|value| value.parse().unwrap())
    })
}

fn value(body: &str, series: &str) -> f64 {
    sample(body, series).unwrap_or_else(|| panic!("no sample {series} in:\n{body}"))
}

#[sqlx::test(migrations = "../migrations")]
async fn not_served_unless_a_token_is_configured(pool: PgPool) {
    let server = server(&pool, None).await;
    for authorization in [None, Some(format!("Bearer {TOKEN}"))] {
        let answer = send(&server.router, scrape_request(authorization.as_deref())).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert!(!answer.body.contains("clearance_"), "{}", answer.body);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_missing_or_wrong_token_is_refused_with_a_bearer_challenge(pool: PgPool) {
    let server = server(&pool, Some(TOKEN)).await;
    let wrong = format!("Bearer {TOKEN}x");
    let basic = format!("Basic {TOKEN}");
    for authorization in [None, Some(wrong.as_str()), Some(basic.as_str())] {
        let answer = send(&server.router, scrape_request(authorization)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(answer.headers[header::WWW_AUTHENTICATE], "Bearer");
        assert!(!answer.body.contains("clearance_"), "{}", answer.body);
        // The security headers, like every response.
        assert_eq!(answer.headers["x-content-type-options"], "nosniff");
    }
    let answer = send(
        &server.router,
        scrape_request(Some(&format!("bearer {TOKEN}"))),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "the scheme in any case");
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(answer.headers["x-content-type-options"], "nosniff");
    assert!(!answer.headers.contains_key(page_cache::CACHE_HEADER));
}

#[test]
fn a_short_metrics_token_is_refused_at_startup() {
    let short = Cli::try_parse_from(["server", "--metrics-token", "too-short"]);
    let error = short
        .err()
        .expect("a 9-character token is refused")
        .to_string();
    assert!(error.contains("at least 32"), "{error}");
    assert!(!error.contains("too-short\n"), "{error}");
    let cli = Cli::try_parse_from(["server", "--metrics-token", TOKEN]).unwrap();
    assert!(cli.serve.metrics.token().is_some());
    let cli = Cli::try_parse_from(["server", "--metrics-token", ""]).unwrap();
    assert!(cli.serve.metrics.token().is_none(), "empty means unset");
}

/// A dependency of the default register that no other test configures.
const DEPENDENCY: &str = "WORKDAY_ACCESS_TOKEN";
const SENTINEL: &str = "wd-Sentinel/9f3c+Q7x=Zk2&p<4>m\"Lr8Tu5";

#[sqlx::test(migrations = "../migrations")]
async fn no_dependency_value_or_token_appears_in_the_scrape(pool: PgPool) {
    // Each test runs in a process of its own (nextest).
    std::env::set_var(DEPENDENCY, SENTINEL);
    let server = server(&pool, Some(TOKEN)).await;
    server.monitor.refresh().await;
    let encoded =
        percent_encoding::utf8_percent_encode(SENTINEL, percent_encoding::NON_ALPHANUMERIC);
    send(&server.router, get(&format!("/api/readiness?x={encoded}"))).await;
    let body = scrape(&server.router).await;
    assert!(
        server
            .state
            .clearance
            .current()
            .readiness
            .inputs
            .dependencies[DEPENDENCY]
            == app::domain::DependencyState::Configured,
        "the sentinel is configured"
    );
    let chars: Vec<char> = SENTINEL.chars().collect();
    for window in chars.windows(8) {
        let piece: String = window.iter().collect();
        assert!(
            !body.contains(&piece),
            "{piece:?} of the dependency's value"
        );
    }
    assert!(!body.contains(&TOKEN[..16]), "the metrics token");
}

/// Requests of every kind so each family has samples, then promtool's lint.
#[sqlx::test(migrations = "../migrations")]
async fn promtool_checks_the_scrape_clean(pool: PgPool) {
    values::record(&pool, "stripe-self-serve-billing", true, Utc::now()).await;
    let server = server(&pool, Some(TOKEN)).await;
    server.monitor.refresh().await;
    send(&server.router, get("/")).await;
    send(&server.router, get("/api/readiness")).await;
    send(&server.router, get("/no/such/page")).await;
    scrape(&server.router).await;
    let body = scrape(&server.router).await;
    for family in [
        "clearance_http_requests_total",
        "clearance_http_request_duration_seconds",
        "clearance_motion_status",
        "clearance_live_blockers",
        "clearance_readiness",
        "clearance_proof_age_seconds",
        "clearance_proof_passing",
        "clearance_source_stale",
        "clearance_event_streams_open",
        "clearance_db_pool_connections",
        "clearance_deliveries",
    ] {
        assert!(body.contains(&format!("# TYPE {family} ")), "{family}");
    }

    let mut promtool = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("{PROMTOOL} could not run ({error}): scripts/test installs Debian's prometheus")
        });
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let output = promtool.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool: {said}\n{body}");
    assert!(said.trim().is_empty(), "promtool reports problems: {said}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_separate_address_serves_metrics_without_a_token(pool: PgPool) {
    let server = server(&pool, None).await;
    let exporter = metrics::exporter_router(server.state.clone());
    let answer = send(&exporter, get("/metrics")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.body.contains("clearance_motion_status{"),
        "{}",
        answer.body
    );
    assert_eq!(answer.headers["x-content-type-options"], "nosniff");
    // Nothing else is served there, and the main address still hides it.
    assert_eq!(
        send(&exporter, get("/")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&exporter, get("/api/readiness")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&server.router, get("/metrics")).await.status,
        StatusCode::NOT_FOUND
    );
}
