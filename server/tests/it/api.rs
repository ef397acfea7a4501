//! HTTP tests of the JSON API against the real router and a real database: proof
//! runs (authentication, every refusal stores nothing), the readiness document in
//! advisory and strict mode, and the live state following a recorded run.

use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::common::TestApp;
use server::auth::session::SessionSettings;

const TOKEN: &str = "test-token-0123456789abcdef0123456789abcdef";

async fn app(pool: PgPool) -> TestApp {
    crate::common::test_app(&pool, Some(TOKEN), SessionSettings::default()).await
}

async fn send(app: &TestApp, request: http::Request<Body>) -> (http::StatusCode, Value) {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn post_run(proof: &str, token: Option<&str>, body: impl Into<Body>) -> http::Request<Body> {
    let mut request = http::Request::post(format!("/api/proofs/{proof}/runs"))
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(body.into()).unwrap()
}

fn passing_run() -> String {
    json!({ "status": "passed", "actor": "ci: notification fixture #42", "excerpt": "ok 12 checks" })
        .to_string()
}

async fn stored_runs(pool: &PgPool) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM proof_runs")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_proof_run_with_the_token_is_stored_and_answered(pool: PgPool) {
    let app = app(pool.clone()).await;
    let (status, body) = send(
        &app,
        post_run("support-status-notification", Some(TOKEN), passing_run()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["proof_id"], "support-status-notification");
    assert_eq!(body["passed"], true);
    assert_eq!(body["actor"], "ci: notification fixture #42");
    assert_eq!(stored_runs(&pool).await, 1);

    let request = http::Request::get("/api/proofs/support-status-notification/runs")
        .body(Body::empty())
        .unwrap();
    let (status, runs) = send(&app, request).await;
    assert_eq!(status, 200);
    assert_eq!(runs.as_array().unwrap().len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn every_refused_proof_run_gets_a_clear_4xx_and_stores_nothing(pool: PgPool) {
    let app = app(pool.clone()).await;
    let cases: Vec<(http::Request<Body>, u16, &str)> = vec![
        (
            post_run("support-status-notification", None, passing_run()),
            401,
            "bearer token",
        ),
        (
            post_run("support-status-notification", Some("wrong"), passing_run()),
            401,
            "bearer token",
        ),
        (
            post_run("no-such-proof", Some(TOKEN), passing_run()),
            404,
            "unknown proof id",
        ),
        (
            post_run(
                "support-status-notification",
                Some(TOKEN),
                json!({"status": "green", "actor": "ci"}).to_string(),
            ),
            422,
            "status must be",
        ),
        (
            post_run(
                "support-status-notification",
                Some(TOKEN),
                json!({"status": "passed", "actor": " "}).to_string(),
            ),
            422,
            "actor must not be empty",
        ),
        (
            post_run(
                "support-status-notification",
                Some(TOKEN),
                json!({"status": "passed", "actor": "ci", "output_digest": "abc"}).to_string(),
            ),
            422,
            "output_digest",
        ),
        (
            post_run("support-status-notification", Some(TOKEN), "{not json"),
            400,
            "malformed JSON",
        ),
        (
            post_run(
                "support-status-notification",
                Some(TOKEN),
                json!({"status": 1, "actor": "ci"}).to_string(),
            ),
            400,
            "malformed JSON",
        ),
        (
            post_run(
                "support-status-notification",
                Some(TOKEN),
                json!({"status": "passed", "actor": "ci", "colour": "red"}).to_string(),
            ),
            400,
            "unknown field",
        ),
    ];
    for (request, expected, message) in cases {
        let (status, body) = send(&app, request).await;
        assert_eq!(status.as_u16(), expected, "{body}");
        assert!(body["error"].as_str().unwrap().contains(message), "{body}");
    }
    // A body over the limit is refused before it is read whole.
    let huge = post_run(
        "support-status-notification",
        Some(TOKEN),
        vec![b' '; 70 * 1024],
    );
    let response = app.router.clone().oneshot(huge).await.unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(stored_runs(&pool).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_api_is_closed_when_no_token_is_configured(pool: PgPool) {
    let router = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let response = router
        .oneshot(post_run(
            "support-status-notification",
            Some(TOKEN),
            passing_run(),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(stored_runs(&pool).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn advisory_readiness_answers_200_and_strict_503_with_reasons(pool: PgPool) {
    let app = app(pool).await;
    let get = |uri: &str| http::Request::get(uri).body(Body::empty()).unwrap();

    let (status, advisory) = send(&app, get("/api/readiness")).await;
    assert_eq!(status, 200);
    assert_eq!(advisory["format"], "clearance.readiness/1");
    assert_eq!(advisory["advisory"], "degraded");
    assert_eq!(advisory["dependencies"]["RESEND_API_KEY"], "missing");
    assert_eq!(advisory["live_blockers"].as_array().unwrap().len(), 7);

    let (status, strict) = send(&app, get("/api/readiness?strict=true")).await;
    assert_eq!(status, 503);
    assert_eq!(strict["ready"], false);
    let reasons: Vec<&str> = strict["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(reasons[0], "strict readiness is not_ready");
    assert!(reasons
        .iter()
        .any(|r| r.starts_with("live blocker: Support email (RESEND_API_KEY missing")));

    let (status, motion) = send(&app, get("/api/readiness?motion=managed-private-beta")).await;
    assert_eq!(status, 200, "conditional is not blocked: {motion}");
    let (status, _) = send(
        &app,
        get("/api/readiness?strict=true&motion=managed-private-beta"),
    )
    .await;
    assert_eq!(status, 503);
    let (status, body) = send(&app, get("/api/readiness?motion=no-such-motion")).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = send(&app, get("/api/readiness?strict=maybe")).await;
    assert_eq!(status, 400);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_recorded_run_reaches_the_live_state_and_the_history(pool: PgPool) {
    let app = app(pool).await;
    let mut updates = app.clearance.state.clone();
    updates.mark_unchanged();
    let (status, _) = send(
        &app,
        post_run("support-status-notification", Some(TOKEN), passing_run()),
    )
    .await;
    assert_eq!(status, 201);
    app.monitor.refresh().await;
    assert!(updates.has_changed().unwrap(), "a change is published");
    let live = app.clearance.current();
    assert!(live.readiness.inputs.proofs["support-status-notification"]);
    assert!(live.latest_runs.contains_key("support-status-notification"));
    // RESEND_API_KEY is still missing here, so the blocker itself stays live.
    assert_eq!(live.points.last().unwrap().live_blockers, 7);
}

#[sqlx::test(migrations = "../migrations")]
async fn badges_show_each_motion_and_strict_readiness_and_are_cacheable(pool: PgPool) {
    let app = app(pool).await;
    for (path, text) in [
        (
            "/badge/managed-private-beta.svg",
            "Managed private beta: conditional",
        ),
        (
            "/badge/self-serve-paid-launch.svg",
            "Self-serve paid launch: blocked",
        ),
        ("/badge/strict.svg", "strict readiness: not_ready"),
    ] {
        let response = app
            .router
            .clone()
            .oneshot(http::Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), http::StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "image/svg+xml; charset=utf-8");
        assert_eq!(headers["cache-control"], "public, max-age=60");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let svg = String::from_utf8(body.to_vec()).unwrap();
        assert!(svg.contains(&format!("<title>{text}</title>")), "{svg}");
    }
    for path in ["/badge/nope.svg", "/badge/managed-private-beta.png"] {
        let response = app
            .router
            .clone()
            .oneshot(http::Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), http::StatusCode::NOT_FOUND, "{path}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn every_public_evidence_pack_is_a_versioned_document_without_tenant_data(pool: PgPool) {
    let app = app(pool).await;
    for pack in server::api::packs::PRODUCT_PACKS {
        let (status, body) = send(
            &app,
            http::Request::get(format!("/api/product/{pack}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, http::StatusCode::OK, "{pack}");
        assert_eq!(body["format"], "clearance.pack/1");
        assert_eq!(body["pack"], pack);
        assert_eq!(body["organisation"], "Thesmios");
        assert_eq!(body["advisory"], "degraded");
        assert!(body.get("tenant").is_none() && body.get("tenants").is_none());
    }
    let (_, launch) = send(
        &app,
        http::Request::get("/api/product/launch-evidence")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(launch["live_blockers"].as_array().unwrap().len(), 7);
    assert_eq!(launch["motions"][0]["status"], "conditional");
    let (_, beta) = send(
        &app,
        http::Request::get("/api/product/managed-beta-readiness")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let names: Vec<&str> = beta["motions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Managed private beta", "Invoice-led paid beta"]);
    let (_, guides) = send(
        &app,
        http::Request::get("/api/product/provisioning-guides")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        guides["blockers"][2]["dependencies"][0],
        json!(["STRIPE_SECRET_KEY", "missing"])
    );
    let (status, _) = send(
        &app,
        http::Request::get("/api/product/nope")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, http::StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_describes_every_json_route_the_router_serves(pool: PgPool) {
    let app = app(pool).await;
    let (status, document) = send(
        &app,
        http::Request::get("/api/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, http::StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    let mut described: Vec<&str> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    described.sort_unstable();
    let mut declared = server::api::openapi::PATHS.to_vec();
    declared.sort_unstable();
    assert_eq!(described, declared);
    // And each described path is served (not 404 or 405) at its sample.
    for (path, sample) in [
        ("/api/readiness", "/api/readiness"),
        (
            "/api/proofs/{proof_id}/runs",
            "/api/proofs/stripe-self-serve-billing/runs",
        ),
        (
            "/api/platform/launch-acceptance",
            "/api/platform/launch-acceptance",
        ),
        ("/api/platform/launch-room", "/api/platform/launch-room"),
        (
            "/api/platform/launch-receipt",
            "/api/platform/launch-receipt?seq=1",
        ),
        ("/api/log/checkpoint", "/api/log/checkpoint"),
        ("/api/log/key", "/api/log/key"),
        ("/api/log/inclusion", "/api/log/inclusion?index=1&size=1"),
        ("/api/log/consistency", "/api/log/consistency?from=2&to=1"),
        ("/api/product/{pack}", "/api/product/launch-evidence"),
        ("/badge/{file}", "/badge/strict.svg"),
        ("/api/openapi.json", "/api/openapi.json"),
    ] {
        let response = app
            .router
            .clone()
            .oneshot(http::Request::get(sample).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        assert!(
            status != http::StatusCode::NOT_FOUND && status != http::StatusCode::METHOD_NOT_ALLOWED,
            "{path}: {status}"
        );
    }
}

/// Found by Schemathesis: a NUL byte in `tenant` reached PostgreSQL, which
/// refused it, and the caller got a 503 "database error" instead of a 404.
#[sqlx::test(migrations = "../migrations")]
async fn a_tenant_name_that_cannot_be_a_slug_is_unknown_not_a_database_error(pool: PgPool) {
    let app = app(pool.clone()).await;
    crate::common::account(
        &pool,
        "ops@example.com",
        app::domain::access::Role::Operator,
        None,
    )
    .await;
    let (_, token) = server::auth::tokens::create(&pool, "ops@example.com", "test")
        .await
        .unwrap();
    for (method, uri) in [
        ("GET", "/api/platform/launch-room?tenant=%C3%84V%00"),
        ("GET", "/api/platform/launch-acceptance?tenant=a%00b"),
        (
            "GET",
            "/api/platform/launch-dossier?tenant=a%00b&download=1",
        ),
        ("PATCH", "/api/platform/launch-acceptance?tenant=a%00b"),
    ] {
        let request = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"revoke": {"signer_name": "a", "signer_role": "b", "reason": "c"}})
                    .to_string(),
            ))
            .unwrap();
        let (status, body) = send(&app, request).await;
        assert_eq!(
            status,
            http::StatusCode::NOT_FOUND,
            "{method} {uri}: {body}"
        );
    }
}
