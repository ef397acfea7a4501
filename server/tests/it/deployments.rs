//! Deployments that report: the reporter token's scope, every bad report refused
//! with a clear 4xx and nothing stored, the named deployment's reports driving
//! readiness (with their provenance), and a deployment that goes quiet turning
//! stale after the window.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::{header, Request, StatusCode};
use leptos::prelude::LeptosOptions;
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::PgPool;

use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use server::api::ApiToken;
use server::auth::accounts::{self, NewAccount};
use server::auth::session::SessionSettings;
use server::deployments::store;
use server::readiness::Source;
use server::startup::{self, Settings};

use crate::common::{send, TestApp};

pub const CI_TOKEN: &str = "deployments-ci-token-0123456789abcdef";

/// The default register, following the reports of deployment `name`.
pub async fn deployment_app(pool: &PgPool, name: &str, stale_after: Duration) -> TestApp {
    let options = LeptosOptions::builder().output_name("clearance").build();
    let register =
        Arc::new(parse_register("thesmios.toml", DEFAULT_REGISTER).expect("the default register"));
    let server = startup::build(
        crate::common::serving_pool(pool),
        Settings {
            source: Source::Deployment {
                name: name.to_owned(),
                stale_after,
            },
            api_token: Some(ApiToken::new(SecretString::from(CI_TOKEN.to_owned()))),
            ..crate::common::settings(register, options)
        },
    )
    .await;
    TestApp {
        router: server.router,
        monitor: server.monitor,
        clearance: server.state.clearance.clone(),
        state: server.state,
    }
}

pub fn request(
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(body.into()).unwrap()
}

/// What is sent, where, with which token, and the status and message expected.
type Case<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    String,
    StatusCode,
    &'a str,
);

fn full_report() -> Value {
    json!({
        "dependencies": {
            "RESEND_API_KEY": "configured",
            "STRIPE_SECRET_KEY": "missing",
            "data_sets": "has_rows",
            "data_set_records": "empty"
        },
        "checks": [
            {"name": "api health", "url": "http://api.internal:8080/health", "passed": true, "status": 200, "latency_ms": 12},
            {"name": "search", "url": "https://search.internal/ready", "passed": false, "status": 503, "latency_ms": 40}
        ]
    })
}

/// Everything stored about deployments and their reports, as text.
pub async fn stored(pool: &PgPool) -> String {
    sqlx::query_scalar::<_, Option<String>>(
        "SELECT (SELECT json_agg(d ORDER BY d.id)::text FROM deployments d) || ' ' || \
                coalesce((SELECT json_agg(r ORDER BY r.deployment_id)::text FROM deployment_reports r), '[]')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
    .unwrap_or_default()
}

async fn json_of(answer: &crate::common::Answer) -> Value {
    serde_json::from_str(&answer.body).unwrap_or(Value::Null)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reporter_learns_which_names_are_declared_and_of_which_kind(pool: PgPool) {
    let app = deployment_app(&pool, "production", Duration::from_secs(60)).await;
    let token = store::create(&pool, "production").await.unwrap();
    let answer = send(
        &app.router,
        request(
            "GET",
            "/api/deployments/production/declared",
            Some(&token),
            Body::empty(),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let declared = json_of(&answer).await;
    assert_eq!(declared["deployment"], "production");
    let kinds: Vec<(String, String)> = declared["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(kinds.contains(&("data_sets".to_owned(), "table".to_owned())));
    assert!(kinds.contains(&("data_set_records".to_owned(), "table".to_owned())));
    assert!(kinds.contains(&("RESEND_API_KEY".to_owned(), "setting".to_owned())));
    assert_eq!(kinds.len(), app.clearance.register.dependency_names().len());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_named_deployments_report_drives_readiness_with_its_provenance(pool: PgPool) {
    let app = deployment_app(&pool, "production", Duration::from_secs(60)).await;
    let token = store::create(&pool, "production").await.unwrap();
    let answer = send(
        &app.router,
        request(
            "POST",
            "/api/deployments/production/reports",
            Some(&token),
            full_report().to_string(),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(json_of(&answer).await["dependencies"], 4);
    app.monitor.refresh().await;

    let answer = send(
        &app.router,
        request("GET", "/api/readiness", None, Body::empty()),
    )
    .await;
    let document = json_of(&answer).await;
    let dependencies = &document["dependencies"];
    assert_eq!(dependencies["RESEND_API_KEY"], "configured");
    assert_eq!(dependencies["STRIPE_SECRET_KEY"], "missing");
    assert_eq!(dependencies["data_sets"], "configured");
    assert_eq!(dependencies["data_set_records"], "missing");
    assert!(document["stale"].is_null(), "{document}");
    let checks = document["public_checks"].as_array().unwrap();
    let check = |name: &str| {
        checks
            .iter()
            .find(|check| check["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(check("deployment reporting")["passed"], true);
    assert_eq!(check("api health")["passed"], true);
    assert_eq!(check("search")["passed"], false);
    assert_eq!(check("search")["detail"], "answered HTTP 503");

    // Provenance: the reporter and the deployment for each name, the check URL
    // for each check, and when each was last seen.
    let provenance = &document["provenance"];
    assert_eq!(
        provenance["dependencies"]["RESEND_API_KEY"]["source"],
        json!({"kind": "reporter", "deployment": "production"})
    );
    assert_eq!(
        provenance["public_checks"]["search"]["source"],
        json!({"kind": "check", "url": "https://search.internal/ready", "deployment": "production"})
    );
    let last_seen = provenance["dependencies"]["data_sets"]["last_seen"]
        .as_str()
        .unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(last_seen).is_ok(),
        "{last_seen}"
    );
    // The history is the readiness snapshots of `deployment:production`.
    let snapshots: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM readiness_snapshots WHERE source = 'deployment:production'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(snapshots >= 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_environment_source_says_so_in_its_provenance(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default()).await;
    let answer = send(
        &app.router,
        request("GET", "/api/readiness", None, Body::empty()),
    )
    .await;
    let document = json_of(&answer).await;
    assert_eq!(
        document["provenance"]["dependencies"]["RESEND_API_KEY"]["source"],
        json!({"kind": "environment", "name": "environment"})
    );
    assert_eq!(
        document["provenance"]["public_checks"]["database reachable"]["source"]["kind"],
        "environment"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn every_bad_report_is_refused_with_a_clear_4xx_and_changes_nothing(pool: PgPool) {
    let app = deployment_app(&pool, "production", Duration::from_secs(60)).await;
    let token = store::create(&pool, "production").await.unwrap();
    let staging = store::create(&pool, "staging").await.unwrap();
    let revoked = store::create(&pool, "old").await.unwrap();
    store::revoke(&pool, "old").await.unwrap();
    accounts::create(
        &pool,
        &NewAccount {
            email: "operator@example.com",
            name: "Operator",
            role: app::domain::access::Role::Operator,
            tenant_id: None,
            password: "a long enough password for tests",
        },
    )
    .await
    .unwrap();
    let (_, user_token) = server::auth::tokens::create(&pool, "operator@example.com", "ci")
        .await
        .unwrap();
    // A first good report, so "nothing changes" is about a real stored state.
    let good = send(
        &app.router,
        request(
            "POST",
            "/api/deployments/production/reports",
            Some(&token),
            full_report().to_string(),
        ),
    )
    .await;
    assert_eq!(good.status, StatusCode::OK);
    let before = stored(&pool).await;

    let mut undeclared = full_report();
    undeclared["dependencies"]["NOT_DECLARED"] = json!("configured");
    let mut wrong_kind = full_report();
    wrong_kind["dependencies"]["RESEND_API_KEY"] = json!("has_rows");
    let mut table_as_setting = full_report();
    table_as_setting["dependencies"]["data_sets"] = json!("configured");
    let mut credentials = full_report();
    credentials["checks"][0]["url"] = json!("http://user:pw@api.internal/health");
    let mut query = full_report();
    query["checks"][0]["url"] = json!("http://api.internal/health?key=abc");
    let mut bad_status = full_report();
    bad_status["checks"][0]["status"] = json!(42);
    let mut duplicate = full_report();
    duplicate["checks"][1]["name"] = json!("api health");
    let mut value_field = full_report();
    value_field["checks"][0]["body"] = json!("response text");
    let mut bad_state = full_report();
    bad_state["dependencies"]["RESEND_API_KEY"] = json!("re_live_123");
    let oversized = json!({
        "dependencies": {},
        "checks": [{"name": "x", "url": format!("http://a/{}", "p".repeat(20_000)), "passed": true, "latency_ms": 1}]
    });
    let reports = "/api/deployments/production/reports";
    let cases: Vec<Case<'_>> = vec![
        (
            "no token",
            reports,
            None,
            full_report().to_string(),
            StatusCode::UNAUTHORIZED,
            "bearer",
        ),
        (
            "an account's token",
            reports,
            Some(&user_token),
            full_report().to_string(),
            StatusCode::UNAUTHORIZED,
            "bearer",
        ),
        (
            "the CI token",
            reports,
            Some(CI_TOKEN),
            full_report().to_string(),
            StatusCode::UNAUTHORIZED,
            "bearer",
        ),
        (
            "a revoked token",
            "/api/deployments/old/reports",
            Some(&revoked),
            full_report().to_string(),
            StatusCode::UNAUTHORIZED,
            "bearer",
        ),
        (
            "another deployment's token",
            reports,
            Some(&staging),
            full_report().to_string(),
            StatusCode::FORBIDDEN,
            "reports for deployment \\\"staging\\\" only",
        ),
        (
            "an unknown deployment",
            "/api/deployments/nowhere/reports",
            Some(&token),
            full_report().to_string(),
            StatusCode::NOT_FOUND,
            "unknown deployment",
        ),
        (
            "a name no deployment can have",
            "/api/deployments/No%00Such/reports",
            Some(&token),
            full_report().to_string(),
            StatusCode::NOT_FOUND,
            "unknown deployment",
        ),
        (
            "malformed JSON",
            reports,
            Some(&token),
            "{\"dependencies\": {".to_owned(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "an unknown field",
            reports,
            Some(&token),
            value_field.to_string(),
            StatusCode::BAD_REQUEST,
            "unknown field or state",
        ),
        (
            "a state that is no state",
            reports,
            Some(&token),
            bad_state.to_string(),
            StatusCode::BAD_REQUEST,
            "malformed JSON: not a report",
        ),
        (
            "an undeclared name",
            reports,
            Some(&token),
            undeclared.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "dependencies.NOT_DECLARED: the register declares no dependency",
        ),
        (
            "a table state for a setting",
            reports,
            Some(&token),
            wrong_kind.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "is a setting",
        ),
        (
            "a setting state for a table",
            reports,
            Some(&token),
            table_as_setting.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "is a table",
        ),
        (
            "a check URL with credentials",
            reports,
            Some(&token),
            credentials.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "credentials",
        ),
        (
            "a check URL with a query",
            reports,
            Some(&token),
            query.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "query",
        ),
        (
            "a status code that is none",
            reports,
            Some(&token),
            bad_status.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "checks[0].status",
        ),
        (
            "two checks of one name",
            reports,
            Some(&token),
            duplicate.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unique",
        ),
        (
            "an oversized report",
            reports,
            Some(&token),
            oversized.to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
    ];
    for (what, uri, token, body, status, message) in cases {
        let answer = send(&app.router, request("POST", uri, token, body)).await;
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        assert!(answer.body.contains(message), "{what}: {}", answer.body);
        assert!(
            !answer.body.contains("re_live_123"),
            "{what} echoed a value"
        );
        if status != StatusCode::PAYLOAD_TOO_LARGE {
            let error = json_of(&answer).await;
            assert!(error["error"].is_string(), "{what}: {}", answer.body);
        }
        assert_eq!(stored(&pool).await, before, "{what} changed what is stored");
    }
    // The declared names, too, only for the deployment's own token.
    for (token, status) in [
        (Some(user_token.as_str()), StatusCode::UNAUTHORIZED),
        (Some(staging.as_str()), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let answer = send(
            &app.router,
            request(
                "GET",
                "/api/deployments/production/declared",
                token,
                Body::empty(),
            ),
        )
        .await;
        assert_eq!(answer.status, status, "{}", answer.body);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_deployment_that_stops_reporting_turns_stale_after_the_window(pool: PgPool) {
    let app = deployment_app(&pool, "production", Duration::from_secs(2)).await;
    // Before any report: stale, and the reporting check says why.
    let live = app.clearance.current();
    let stale = live
        .readiness
        .stale
        .clone()
        .expect("stale before any report");
    assert!(stale.error.contains("no report yet"), "{}", stale.error);

    let token = store::create(&pool, "production").await.unwrap();
    let answer = send(
        &app.router,
        request(
            "POST",
            "/api/deployments/production/reports",
            Some(&token),
            full_report().to_string(),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    app.monitor.refresh().await;
    let live = app.clearance.current();
    assert!(live.readiness.stale.is_none());
    let reporting = |live: &app::live_state::LiveState| {
        live.readiness
            .inputs
            .public_checks
            .iter()
            .find(|check| check.name == "deployment reporting")
            .cloned()
            .unwrap()
    };
    assert!(reporting(&live).passed);

    // The deployment goes quiet: past the window it is stale, its last report
    // kept, the reporting check failed with since when.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    app.monitor.refresh().await;
    let live = app.clearance.current();
    let stale = live
        .readiness
        .stale
        .clone()
        .expect("stale after the window");
    assert!(
        stale.error.contains("no report within 2 s"),
        "{}",
        stale.error
    );
    let check = reporting(&live);
    assert!(!check.passed);
    assert!(check.detail.unwrap().starts_with("no report since "));
    assert_eq!(
        live.readiness.inputs.dependency("RESEND_API_KEY"),
        app::domain::DependencyState::Configured
    );
    let answer = send(
        &app.router,
        request("GET", "/api/readiness", None, Body::empty()),
    )
    .await;
    assert!(json_of(&answer).await["stale"]["since"].is_string());

    // Reporting again makes it fresh again.
    let answer = send(
        &app.router,
        request(
            "POST",
            "/api/deployments/production/reports",
            Some(&token),
            full_report().to_string(),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    app.monitor.refresh().await;
    assert!(app.clearance.current().readiness.stale.is_none());
    assert!(reporting(&app.clearance.current()).passed);
}
