//! `/metrics`: served only behind its bearer token (or on its own address), in
//! the Prometheus text format that Debian's `promtool check metrics` passes;
//! the live state as the readiness document states it; requests counted by
//! route pattern, never by raw path; no secret in any line.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use axum::body::Body;
use chrono::{Duration, Utc};
use clap::Parser;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use secrecy::SecretString;
use sqlx::PgPool;
use tower::ServiceExt;

use app::domain::proof_run::NewProofRun;
use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use server::api::ApiToken;
use server::auth::session::SessionSettings;
use server::config::Cli;
use server::edge::EdgeSettings;
use server::public_url::PublicUrl;
use server::readiness::Source;
use server::startup::{self, Server, Settings};
use server::{metrics, page_cache, proofs};

const TOKEN: &str = "metrics-0123456789abcdef0123456789abcdef";
const PROMTOOL: &str = "/usr/bin/promtool";

async fn server(pool: &PgPool, token: Option<&str>) -> Server {
    let register =
        Arc::new(parse_register("thesmios.toml", DEFAULT_REGISTER).expect("the default register"));
    let leptos_options = LeptosOptions::builder().output_name("clearance").build();
    startup::build(
        pool.clone(),
        Settings {
            register,
            source: Source::environment(),
            public_url: PublicUrl::from_site_addr(leptos_options.site_addr),
            leptos_options,
            api_token: None,
            sessions: SessionSettings::default(),
            page_cache_entries: page_cache::DEFAULT_ENTRIES,
            edge: EdgeSettings::default(),
            metrics_token: token.map(|token| ApiToken::new(SecretString::from(token.to_owned()))),
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

#[sqlx::test(migrations = "../migrations")]
async fn the_scrape_shows_motions_blockers_and_readiness_as_the_api_does(pool: PgPool) {
    let server = server(&pool, Some(TOKEN)).await;
    let document: serde_json::Value =
        serde_json::from_str(&send(&server.router, get("/api/readiness")).await.body).unwrap();
    let body = scrape(&server.router).await;

    let motions = document["motions"].as_array().unwrap();
    assert!(motions.len() >= 3, "{document}");
    for motion in motions {
        let id = motion["id"].as_str().unwrap();
        let status = motion["status"].as_str().unwrap();
        for candidate in ["clear", "conditional", "blocked"] {
            assert_eq!(
                value(
                    &body,
                    &format!(r#"clearance_motion_status{{motion="{id}",status="{candidate}"}}"#)
                ),
                if candidate == status { 1.0 } else { 0.0 },
                "{id} is {status}"
            );
        }
    }
    for kind in ["advisory", "strict"] {
        let level = document[kind].as_str().unwrap();
        for candidate in ["ready", "degraded", "not_ready"] {
            assert_eq!(
                value(
                    &body,
                    &format!(r#"clearance_readiness{{kind="{kind}",level="{candidate}"}}"#)
                ),
                if candidate == level { 1.0 } else { 0.0 },
                "{kind} is {level}"
            );
        }
    }
    let register = &server.state.clearance.register;
    let live: Vec<&str> = document["live_blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|blocker| blocker["id"].as_str().unwrap())
        .collect();
    assert!(
        !live.is_empty(),
        "nothing is configured in the test environment"
    );
    for scope in &register.scopes {
        let expected = register
            .blockers
            .iter()
            .filter(|blocker| blocker.scope == scope.id && live.contains(&blocker.id.as_str()))
            .count();
        assert_eq!(
            value(
                &body,
                &format!(r#"clearance_live_blockers{{scope="{}"}}"#, scope.id)
            ),
            expected as f64,
            "scope {}",
            scope.id
        );
    }
    for blocker in &register.blockers {
        assert_eq!(
            value(
                &body,
                &format!(
                    r#"clearance_blocker_live{{blocker="{}",scope="{}"}}"#,
                    blocker.id, blocker.scope
                )
            ),
            if live.contains(&blocker.id.as_str()) {
                1.0
            } else {
                0.0
            }
        );
    }
    assert_eq!(
        value(&body, r#"clearance_source_stale{source="environment"}"#),
        0.0
    );
    let age = value(
        &body,
        r#"clearance_source_age_seconds{source="environment"}"#,
    );
    assert!((0.0..60.0).contains(&age), "{age}");
    assert_eq!(value(&body, "clearance_database_down"), 0.0);
}

async fn record(pool: &PgPool, proof: &str, passed: bool, ran_at: chrono::DateTime<Utc>) {
    proofs::record(
        pool,
        &NewProofRun {
            proof_id: proof.to_owned(),
            passed,
            ran_at,
            actor: "ci".to_owned(),
            output_digest: None,
            excerpt: String::new(),
        },
    )
    .await
    .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn proofs_show_their_verdict_age_and_freshness(pool: PgPool) {
    let server = server(&pool, Some(TOKEN)).await;
    record(
        &pool,
        "stripe-self-serve-billing",
        true,
        Utc::now() - Duration::hours(2),
    )
    .await;
    record(&pool, "support-status-notification", false, Utc::now()).await;
    server.monitor.refresh().await;
    let body = scrape(&server.router).await;

    let passing = r#"clearance_proof_passing{proof="stripe-self-serve-billing"}"#;
    assert_eq!(value(&body, passing), 1.0);
    let age = value(
        &body,
        r#"clearance_proof_age_seconds{proof="stripe-self-serve-billing"}"#,
    );
    assert!((7200.0..7300.0).contains(&age), "{age}");
    let state = |proof: &str, state: &str| {
        value(
            &body,
            &format!(r#"clearance_proof_freshness{{proof="{proof}",state="{state}"}}"#),
        )
    };
    assert_eq!(state("stripe-self-serve-billing", "fresh"), 1.0);
    assert_eq!(state("stripe-self-serve-billing", "failing"), 0.0);

    let failing = r#"clearance_proof_passing{proof="support-status-notification"}"#;
    assert_eq!(value(&body, failing), 0.0);
    assert_eq!(state("support-status-notification", "failing"), 1.0);

    // Never run: no verdict and no age, only its freshness state.
    assert_eq!(
        sample(
            &body,
            r#"clearance_proof_passing{proof="scim-enterprise-sso"}"#
        ),
        None
    );
    assert_eq!(
        sample(
            &body,
            r#"clearance_proof_age_seconds{proof="scim-enterprise-sso"}"#
        ),
        None
    );
    assert_eq!(state("scim-enterprise-sso", "never_run"), 1.0);
    assert_eq!(state("scim-enterprise-sso", "fresh"), 0.0);
}

#[sqlx::test(migrations = "../migrations")]
async fn requests_are_counted_by_route_pattern_never_by_raw_path(pool: PgPool) {
    let server = server(&pool, Some(TOKEN)).await;
    let runs = "/api/proofs/{proof_id}/runs";
    for _ in 0..3 {
        let answer = send(
            &server.router,
            get("/api/proofs/stripe-self-serve-billing/runs"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let unknown = send(&server.router, get("/api/proofs/no-such-proof-4711/runs")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let missing = send(&server.router, get("/no/such/page-4712")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // Refused by a layer before any handler: still counted, under its route.
    let cross_site = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("email=a%40example.com&password=x"))
        .unwrap();
    assert_eq!(
        send(&server.router, cross_site).await.status,
        StatusCode::FORBIDDEN
    );
    let strange = Request::builder()
        .method("BREW")
        .uri("/api/readiness")
        .body(Body::empty())
        .unwrap();
    send(&server.router, strange).await;

    let body = scrape(&server.router).await;
    let count = |labels: &str| value(&body, &format!("clearance_http_requests_total{{{labels}}}"));
    assert_eq!(
        count(&format!(r#"method="GET",route="{runs}",status="200""#)),
        3.0
    );
    assert_eq!(
        count(&format!(r#"method="GET",route="{runs}",status="404""#)),
        1.0
    );
    assert_eq!(count(r#"method="GET",route="unmatched",status="404""#), 1.0);
    assert_eq!(
        count(r#"method="POST",route="/auth/login",status="403""#),
        1.0
    );
    assert_eq!(
        value(
            &body,
            &format!(
                r#"clearance_http_request_duration_seconds_count{{method="GET",route="{runs}"}}"#
            )
        ),
        4.0
    );
    assert_eq!(
        value(
            &body,
            &format!(
                r#"clearance_http_request_duration_seconds_bucket{{method="GET",route="{runs}",le="+Inf"}}"#
            )
        ),
        4.0
    );
    assert!(
        body.contains(r#"method="other",route="/api/readiness""#),
        "{body}"
    );
    for raw in [
        "no-such-proof-4711",
        "page-4712",
        "stripe-self-serve-billing/runs",
        "BREW",
    ] {
        assert!(
            !body.contains(raw),
            "{raw} is a raw path or method:\n{body}"
        );
    }
    assert_eq!(
        sample(
            &body,
            r#"clearance_http_requests_total{method="GET",route="/metrics",status="200"}"#
        ),
        None,
        "a scrape is counted once it has been answered"
    );
    let again = scrape(&server.router).await;
    assert_eq!(
        value(
            &again,
            r#"clearance_http_requests_total{method="GET",route="/metrics",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &again,
            &format!(
                r#"clearance_http_requests_total{{method="GET",route="{runs}",status="200"}}"#
            )
        ),
        3.0
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn event_streams_the_pool_and_deliveries_are_reported(pool: PgPool) {
    let server = server(&pool, Some(TOKEN)).await;
    let body = scrape(&server.router).await;
    assert_eq!(value(&body, "clearance_event_streams_open"), 0.0);
    assert_eq!(
        value(&body, "clearance_event_streams_max"),
        EdgeSettings::default().max_event_streams as f64
    );
    let stream = server
        .router
        .clone()
        .oneshot(get("/api/events"))
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let body = scrape(&server.router).await;
    assert_eq!(value(&body, "clearance_event_streams_open"), 1.0);
    drop(stream);
    assert_eq!(
        value(
            &scrape(&server.router).await,
            "clearance_event_streams_open"
        ),
        0.0
    );

    assert_eq!(
        value(&body, "clearance_db_pool_max_connections"),
        f64::from(pool.options().get_max_connections())
    );
    let idle = value(&body, r#"clearance_db_pool_connections{state="idle"}"#);
    let in_use = value(&body, r#"clearance_db_pool_connections{state="in_use"}"#);
    assert!(idle + in_use >= 1.0, "the scrape itself used the pool");

    // No outbox table on this schema: every channel and status at 0.
    for channel in metrics::live::DELIVERY_CHANNELS {
        for status in metrics::live::DELIVERY_STATUSES {
            assert_eq!(
                value(
                    &body,
                    &format!(r#"clearance_deliveries{{channel="{channel}",status="{status}"}}"#)
                ),
                0.0
            );
        }
    }
}

/// The scrape reads the outbox by channel and status. The table is made here
/// with the two columns read, as long as the outbox's migration is not merged.
#[sqlx::test(migrations = "../migrations")]
async fn deliveries_are_counted_from_the_outbox_table(pool: PgPool) {
    sqlx::query("CREATE TABLE deliveries (channel text NOT NULL, status text NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO deliveries (channel, status) VALUES \
         ('webhook', 'dead'), ('webhook', 'dead'), ('webhook', 'delivered'), ('email', 'pending')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let server = server(&pool, Some(TOKEN)).await;
    let body = scrape(&server.router).await;
    let deliveries = |channel: &str, status: &str| {
        value(
            &body,
            &format!(r#"clearance_deliveries{{channel="{channel}",status="{status}"}}"#),
        )
    };
    assert_eq!(deliveries("webhook", "dead"), 2.0);
    assert_eq!(deliveries("webhook", "delivered"), 1.0);
    assert_eq!(deliveries("email", "pending"), 1.0);
    assert_eq!(deliveries("email", "failed"), 0.0);
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
    record(&pool, "stripe-self-serve-billing", true, Utc::now()).await;
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
