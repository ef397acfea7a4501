//! Health checks against small local HTTP servers answering each format, one
//! that never answers, one that answers garbage and one that answers too much.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use sqlx::PgPool;
use tokio::net::TcpListener;

use app::domain::health_check::{CheckOutcome, CheckVerdict, HealthCheck, HealthCheckKind};
use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use app::live_state::LiveState;
use server::readiness::checks::{check_client, run_check};

const FIXTURES: &str = "../app/src/domain/health_check/fixtures";
/// Put in every body a check must not show.
const SENTINEL: &str = "sentinel-do-not-show";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

/// A deployment's health endpoints, one route per behaviour, on an ephemeral port.
async fn health_server() -> String {
    let actuator_up = fixture("actuator_up.json");
    let actuator_down = fixture("actuator_down.json");
    let readyz_failed = fixture("readyz_failed.txt");
    let health_warn = fixture("health_json_warn.json");
    let app = Router::new()
        .route("/ok", get(|| async { StatusCode::NO_CONTENT }))
        .route(
            "/actuator/health",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], actuator_up) }),
        )
        .route(
            "/actuator/down",
            get(move || async move {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::CONTENT_TYPE, "application/json")],
                    actuator_down,
                )
            }),
        )
        .route(
            "/readyz",
            get(move || async move { (StatusCode::INTERNAL_SERVER_ERROR, readyz_failed) }),
        )
        .route(
            "/health",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "application/health+json")],
                    health_warn,
                )
            }),
        )
        .route(
            "/garbage",
            get(|| async { format!("<html>{SENTINEL}</html>") }),
        )
        .route(
            "/huge",
            get(|| async {
                // 4 MiB of otherwise valid JSON whitespace, with no length declared.
                let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024]));
                Body::from_stream(futures::stream::iter(chunks)).into_response()
            }),
        )
        .route(
            "/redirect",
            get(|| async { axum::response::Redirect::temporary("/ok") }),
        )
        .route("/hang", get(std::future::pending::<String>));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

fn check(name: &str, url: String, kind: HealthCheckKind, timeout_ms: u64) -> HealthCheck {
    HealthCheck {
        name: name.to_owned(),
        url,
        kind,
        timeout_ms,
    }
}

fn outcome(verdict: CheckVerdict, detail: &str) -> CheckOutcome {
    CheckOutcome {
        verdict,
        detail: Some(detail.to_owned()),
    }
}

#[tokio::test]
async fn each_format_and_each_bad_answer_is_judged_with_its_own_reason() {
    let base = health_server().await;
    let client = check_client();
    let cases = [
        (
            "/ok",
            HealthCheckKind::Http,
            outcome(CheckVerdict::Pass, "HTTP 204"),
        ),
        (
            "/actuator/health",
            HealthCheckKind::Actuator,
            outcome(CheckVerdict::Pass, "UP"),
        ),
        (
            "/actuator/down",
            HealthCheckKind::Actuator,
            outcome(
                CheckVerdict::Fail,
                "DOWN: broker/us2 DOWN, db OUT_OF_SERVICE",
            ),
        ),
        (
            "/readyz",
            HealthCheckKind::Kubernetes,
            outcome(
                CheckVerdict::Fail,
                "failed: etcd, poststarthook/rbac/bootstrap-roles",
            ),
        ),
        (
            "/health",
            HealthCheckKind::HealthJson,
            outcome(
                CheckVerdict::Warn,
                "warn: cassandra:connections warn, cpu:utilization warn, memory:utilization warn",
            ),
        ),
        (
            "/garbage",
            HealthCheckKind::Actuator,
            outcome(CheckVerdict::Fail, "answered garbage: not JSON"),
        ),
        (
            "/huge",
            HealthCheckKind::HealthJson,
            outcome(CheckVerdict::Fail, "answered more than 256 KiB"),
        ),
        (
            "/redirect",
            HealthCheckKind::Http,
            outcome(
                CheckVerdict::Fail,
                "answered HTTP 307 (a redirect; redirects are not followed)",
            ),
        ),
        (
            "/hang",
            HealthCheckKind::Http,
            outcome(CheckVerdict::Fail, "no answer within 300 ms"),
        ),
    ];
    for (path, kind, expected) in cases {
        let started = Instant::now();
        let judged = run_check(&client, &check(path, format!("{base}{path}"), kind, 300)).await;
        assert_eq!(judged, expected, "{path}");
        assert!(!format!("{judged:?}").contains(SENTINEL), "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path} took {:?}",
            started.elapsed()
        );
    }
    // Nobody listening.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/health", closed.local_addr().unwrap());
    drop(closed);
    assert_eq!(
        run_check(&client, &check("gone", url, HealthCheckKind::Http, 300)).await,
        outcome(CheckVerdict::Fail, "could not connect")
    );
}

const HANG_TIMEOUT: Duration = Duration::from_millis(3_000);

/// The default register with four checks: one hangs for its whole timeout.
fn register_with_checks(base: &str) -> app::domain::Register {
    let text = format!(
        r#"{DEFAULT_REGISTER}
[[readiness.checks]]
name = "slow"
url = "{base}/hang"
timeout_ms = {hang}

[[readiness.checks]]
name = "payments"
url = "{base}/actuator/down"
kind = "actuator"
timeout_ms = 1000

[[readiness.checks]]
name = "edge"
url = "{base}/ok"

[[readiness.checks]]
name = "orders"
url = "{base}/garbage"
kind = "health_json"
"#,
        hang = HANG_TIMEOUT.as_millis()
    );
    parse_register("checks.toml", &text).unwrap()
}

fn verdicts(live: &LiveState) -> Vec<(String, CheckVerdict)> {
    live.health_checks
        .iter()
        .map(|check| (check.name.clone(), check.outcome.verdict))
        .collect()
}

async fn get_text(router: &Router, uri: &str) -> (StatusCode, String) {
    let answer =
        crate::common::send(router, http::Request::get(uri).body(Body::empty()).unwrap()).await;
    (answer.status, answer.body)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hung_check_delays_neither_the_other_checks_nor_the_page(pool: PgPool) {
    let base = health_server().await;
    let app =
        crate::common::test_app_with_register(&pool, Arc::new(register_with_checks(&base))).await;
    // Before any reading every check is pending, and pending counts as failing.
    let first = app.clearance.current();
    assert!(first
        .health_checks
        .iter()
        .all(|check| check.outcome.verdict == CheckVerdict::Pending));
    assert!(first
        .readiness
        .inputs
        .public_checks
        .iter()
        .any(|check| check.name == "slow" && !check.passed));

    let started = Instant::now();
    let _monitor = app.monitor.spawn(Duration::from_secs(60));
    // The three others arrive while the hung one is still waiting.
    let others = loop {
        let live = app.clearance.current();
        if live
            .health_checks
            .iter()
            .filter(|check| check.name != "slow")
            .all(|check| check.outcome.verdict != CheckVerdict::Pending)
        {
            break live;
        }
        assert!(
            started.elapsed() < HANG_TIMEOUT / 2,
            "other checks waited for the hung one"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        verdicts(&others),
        [
            ("slow".to_owned(), CheckVerdict::Pending),
            ("payments".to_owned(), CheckVerdict::Fail),
            ("edge".to_owned(), CheckVerdict::Pass),
            ("orders".to_owned(), CheckVerdict::Fail),
        ]
    );

    // The page and the document answer at once, showing each verdict.
    let asked = Instant::now();
    let (status, html) = get_text(&app.router, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "GET / took {:?}",
        asked.elapsed()
    );
    assert!(
        started.elapsed() < HANG_TIMEOUT,
        "the page waited for the hung check"
    );
    assert!(html.contains("Health checks"), "{html}");
    for expected in [
        r#"data-check="payments" data-verdict="fail""#,
        r#"data-check="edge" data-verdict="pass""#,
        r#"data-check="slow" data-verdict="pending""#,
        "DOWN: broker/us2 DOWN, db OUT_OF_SERVICE",
        "answered garbage: not JSON",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    assert!(!html.contains(SENTINEL));

    let (status, body) = get_text(&app.router, "/api/readiness").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body.contains(SENTINEL));
    let document: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["advisory"], "not_ready");
    let checks = document["health_checks"].as_array().unwrap();
    assert_eq!(checks[2]["name"], "edge");
    assert_eq!(checks[2]["verdict"], "pass");
    assert_eq!(checks[2]["detail"], "HTTP 204");
    assert_eq!(checks[2]["source"], format!("{base}/ok"));
    assert!(checks[2]["last_seen"].is_string());
    // Its provenance says this server checked that URL; the pending one has none yet.
    let edge = &document["provenance"]["public_checks"]["edge"];
    assert_eq!(edge["source"]["kind"], "check");
    assert_eq!(edge["source"]["url"], format!("{base}/ok"));
    assert!(edge["source"].get("deployment").is_none());
    assert!(document["provenance"]["public_checks"]
        .get("slow")
        .is_none());
    assert_eq!(checks[0]["verdict"], "pending");
    assert!(checks[0]["last_seen"].is_null());
    // The failing checks are public checks too, so motions that need them say why.
    let failing: Vec<&str> = document["public_checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|check| check["passed"] == false)
        .map(|check| check["name"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["slow", "payments", "orders"]);

    // The hung one is marked after its own timeout, not before.
    let hung = loop {
        let live = app.clearance.current();
        if live.health_checks[0].outcome.verdict != CheckVerdict::Pending {
            break live;
        }
        assert!(
            started.elapsed() < HANG_TIMEOUT * 2,
            "the hung check was never marked"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(started.elapsed() >= HANG_TIMEOUT);
    assert_eq!(
        hung.health_checks[0].outcome,
        outcome(CheckVerdict::Fail, "no answer within 3000 ms")
    );
}
