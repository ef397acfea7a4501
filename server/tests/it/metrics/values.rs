//! What `/metrics` says: the live state as the readiness document states it,
//! proofs, requests counted by route pattern (never by raw path), event
//! streams, the pool and the deliveries.

use axum::body::Body;
use chrono::{Duration, Utc};
use http::{header, Request, StatusCode};
use sqlx::PgPool;

use server::events::fanout;
use server::webhooks::store;
use tower::ServiceExt;

use app::domain::proof_run::NewProofRun;
use server::edge::EdgeSettings;
use server::{metrics, proofs};

use super::{get, sample, scrape, send, server, value, TOKEN};
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

pub(super) async fn record(
    pool: &PgPool,
    proof: &str,
    passed: bool,
    ran_at: chrono::DateTime<Utc>,
) {
    proofs::record(
        pool,
        &crate::common::register(),
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

/// The scrape reads the outbox by channel and status.
#[sqlx::test(migrations = "../migrations")]
async fn deliveries_are_counted_from_the_outbox_table(pool: PgPool) {
    store::create(
        &pool,
        &crate::webhooks::endpoint("http://127.0.0.1:9/hook"),
        "ops@example.com",
    )
    .await
    .unwrap();
    for _ in 0..3 {
        crate::webhooks::failed_proof_run(&pool).await;
    }
    fanout::run_once(&pool).await.unwrap();
    sqlx::query(
        "UPDATE deliveries SET status = 'delivered' WHERE id = (SELECT min(id) FROM deliveries)",
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
    assert_eq!(deliveries("webhook", "pending"), 2.0);
    assert_eq!(deliveries("webhook", "delivered"), 1.0);
    assert_eq!(deliveries("webhook", "failed"), 0.0);
}
