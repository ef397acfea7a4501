//! Secrets stay secret, even in pieces, and API authentication is tight: a
//! sentinel value sent in every disguise leaves no 8-character piece of itself in
//! the database, a page, the API or the event stream; sign-in starts an empty
//! session; proof runs take only `Authorization: Bearer`; wrong tokens are
//! throttled; the CI token is long; every JSON answer is `nosniff`.

use axum::body::Body;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use clap::Parser;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use sqlx::PgPool;
use tower::ServiceExt;

use app::domain::access::Role;
use server::auth::accounts::{self, NewAccount};
use server::auth::session::SessionSettings;
use server::commands::record_proof;
use server::config::{Cli, RecordArgs, RunStatus};
use server::proofs::REDACTION_WINDOW;

use crate::common::{cookie_pair, get_with, send, sign_in_request, test_app, TestApp};

const CI_TOKEN: &str = "ci-token-0123456789abcdef0123456789abcdef";
/// A dependency of the default register (blocker `hris-connectors`, proof
/// `scim-enterprise-sso`) that no other test configures.
const DEPENDENCY: &str = "WORKDAY_ACCESS_TOKEN";
const SENTINEL: &str = "wd-Sentinel/9f3c+Q7x=Zk2&p<4>m\"Lr8Tu5";
const PROOF: &str = "scim-enterprise-sso";
const PASSWORD: &str = "correct horse battery staple";

async fn app(pool: &PgPool) -> TestApp {
    test_app(pool, Some(CI_TOKEN), SessionSettings::default()).await
}

async fn body_text(response: http::Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every 8-character window of `text`.
fn windows(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(REDACTION_WINDOW)
        .map(|window| window.iter().collect())
        .collect()
}

/// Excerpts that carry the sentinel in a disguise: cut, encoded, split, embedded.
fn disguises() -> Vec<(String, String)> {
    let mut cases = Vec::new();
    let length = SENTINEL.chars().count();
    for k in 0..=length - REDACTION_WINDOW {
        let cut: String = SENTINEL.chars().skip(k).collect();
        cases.push((format!("first {k} cut off"), format!("token={cut} ok")));
    }
    for k in 0..=length - REDACTION_WINDOW {
        let head: String = SENTINEL.chars().take(length - k).collect();
        cases.push((format!("last {k} cut off"), format!("{head}…")));
    }
    let percent =
        percent_encoding::utf8_percent_encode(SENTINEL, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    cases.push(("percent-encoded".into(), format!("url=?t={percent}&x=1")));
    cases.push((
        "percent-encoded, lower-case hex".into(),
        percent.to_lowercase(),
    ));
    cases.push((
        "form-encoded".into(),
        form_urlencoded::byte_serialize(SENTINEL.as_bytes()).collect(),
    ));
    let json = serde_json::to_string(&json!({ "key": SENTINEL })).unwrap();
    cases.push(("JSON-escaped".into(), json));
    for prefix in ["", "a", "ab", "Authorization: Basic dXNlcjo"] {
        let embedded = format!("{prefix}{SENTINEL}:rest");
        for (name, encoded) in [
            ("base64", STANDARD.encode(&embedded)),
            ("base64 url-safe", URL_SAFE.encode(&embedded)),
            (
                "base64 url-safe unpadded",
                URL_SAFE_NO_PAD.encode(&embedded),
            ),
        ] {
            cases.push((format!("{name} after {prefix:?}"), encoded));
        }
    }
    cases.push(("base64 alone".into(), STANDARD.encode(SENTINEL.as_bytes())));
    let padded = format!("{}{SENTINEL}", "x".repeat(3_000));
    cases.push(("at the end of a long excerpt".into(), padded));
    let straddling = format!(
        "{SENTINEL}{}",
        "y".repeat(app::domain::proof_run::EXCERPT_LIMIT - 10)
    );
    cases.push(("straddling the cut".into(), straddling));
    cases
}

/// The base64 characters of `prefix` + the sentinel that encode the
/// sentinel's bits alone (neither the prefix's nor what follows).
fn pure_base64(prefix_len: usize, engine: &impl Engine) -> String {
    let mut bytes = vec![b'p'; prefix_len];
    bytes.extend_from_slice(SENTINEL.as_bytes());
    let encoded = engine.encode(&bytes);
    let (start, end) = (8 * prefix_len, 8 * bytes.len());
    encoded
        .chars()
        .enumerate()
        .filter(|(i, _)| 6 * i >= start && 6 * i + 6 <= end)
        .map(|(_, c)| c)
        .collect()
}

/// What must never appear: any 8 characters of the sentinel or of one of its
/// encoded forms.
fn forbidden() -> Vec<String> {
    let percent =
        percent_encoding::utf8_percent_encode(SENTINEL, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let json = serde_json::to_string(SENTINEL).unwrap();
    let mut forms = vec![
        SENTINEL.to_owned(),
        percent.to_lowercase(),
        form_urlencoded::byte_serialize(SENTINEL.as_bytes()).collect(),
        json.trim_matches('"').to_owned(),
        percent,
    ];
    for prefix_len in 0..3 {
        forms.push(pure_base64(prefix_len, &STANDARD));
        forms.push(pure_base64(prefix_len, &URL_SAFE));
    }
    let mut pieces: Vec<String> = forms.iter().flat_map(|form| windows(form)).collect();
    pieces.sort();
    pieces.dedup();
    pieces
}

fn leaks(place: &str, text: &str, forbidden: &[String]) -> Vec<String> {
    forbidden
        .iter()
        .filter(|piece| text.contains(piece.as_str()))
        .map(|piece| format!("{place}: {piece:?}"))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn no_eight_characters_of_a_secret_survive_in_any_disguise(pool: PgPool) {
    std::env::set_var(DEPENDENCY, SENTINEL);
    let app = app(&pool).await;
    let forbidden = forbidden();

    for (case, excerpt) in disguises() {
        let body = json!({ "status": "failed", "actor": "ci", "excerpt": excerpt });
        let response = app
            .router
            .clone()
            .oneshot(
                Request::post(format!("/api/proofs/{PROOF}/runs"))
                    .header(header::AUTHORIZATION, format!("Bearer {CI_TOKEN}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{case}");
        let answered = body_text(response).await;
        let found = leaks(&format!("answer to {case}"), &answered, &forbidden);
        assert!(found.is_empty(), "{found:?}");
    }

    // The command line: control characters (a NUL between every character)
    // are dropped before redaction, so the split value is found whole.
    let split: String = SENTINEL.chars().flat_map(|c| [c, '\0']).collect();
    let path = std::env::temp_dir().join(format!("clearance-secret-{}", std::process::id()));
    std::fs::write(&path, format!("start\n{split}\nend")).unwrap();
    record_proof(
        &app.clearance.register,
        &pool,
        &RecordArgs {
            proof_id: PROOF.to_owned(),
            status: Some(RunStatus::Failed),
            output: Some(path.clone()),
            junit: Vec::new(),
            actor: format!("ci {SENTINEL}"),
        },
    )
    .await
    .unwrap();
    std::fs::remove_file(&path).unwrap();
    // The API refuses a NUL-split excerpt outright, storing nothing.
    let refused = send(
        &app.router,
        Request::post(format!("/api/proofs/{PROOF}/runs"))
            .header(header::AUTHORIZATION, format!("Bearer {CI_TOKEN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({ "status": "failed", "actor": "ci", "excerpt": split }).to_string(),
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    app.monitor.refresh().await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT row_to_json(r)::text FROM proof_runs r")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), disguises().len() + 1);
    let mut found = Vec::new();
    for row in &stored {
        found.extend(leaks("database", row, &forbidden));
    }
    for uri in [
        format!("/api/proofs/{PROOF}/runs?limit=100"),
        "/api/product/production-proof".to_owned(),
        "/api/readiness".to_owned(),
        "/blockers/hris-connectors".to_owned(),
        "/".to_owned(),
    ] {
        let answer = send(&app.router, Request::get(&uri).body(Body::empty()).unwrap()).await;
        assert!(
            answer.body.contains("[redacted WORKDAY_ACCESS_TOKEN]") || !uri.contains("proof"),
            "{uri}: {}",
            answer.body
        );
        found.extend(leaks(&uri, &answer.body, &forbidden));
    }
    let events = app
        .router
        .clone()
        .oneshot(Request::get("/api/events").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let first = events.into_body().frame().await.unwrap().unwrap();
    let first = String::from_utf8_lossy(first.data_ref().unwrap()).into_owned();
    assert!(
        first.contains("redacted"),
        "the live state carries the runs"
    );
    found.extend(leaks("event stream", &first, &forbidden));
    assert!(found.is_empty(), "{} leaks: {found:#?}", found.len());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_long_excerpt_is_redacted_whole_then_cut_to_its_tail(pool: PgPool) {
    std::env::set_var(DEPENDENCY, SENTINEL);
    let app = app(&pool).await;
    let excerpt = format!("{}{SENTINEL}{}", "a".repeat(5_000), "b".repeat(1_990));
    let answer = send(
        &app.router,
        Request::post(format!("/api/proofs/{PROOF}/runs"))
            .header(header::AUTHORIZATION, format!("bearer {CI_TOKEN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({ "status": "passed", "actor": "ci", "excerpt": excerpt }).to_string(),
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let stored: String = sqlx::query_scalar("SELECT excerpt FROM proof_runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        stored.chars().count(),
        app::domain::proof_run::EXCERPT_LIMIT
    );
    assert!(stored.ends_with(&"b".repeat(1_990)));
    for piece in windows(SENTINEL) {
        assert!(!stored.contains(&piece), "{piece:?} survived the cut");
    }
}

async fn operator_cookie(app: &TestApp, pool: &PgPool) -> String {
    accounts::create(
        pool,
        &NewAccount {
            email: "ops@example.com",
            name: "Ops",
            role: Role::Operator,
            tenant_id: None,
            password: PASSWORD,
        },
    )
    .await
    .unwrap();
    let answer = send(
        &app.router,
        sign_in_request("ops@example.com", PASSWORD, "/"),
    )
    .await;
    cookie_pair(&answer.cookie.unwrap())
}

fn run_request(authorization: Option<&str>, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::post(format!("/api/proofs/{PROOF}/runs"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request
        .body(Body::from(
            json!({ "status": "passed", "actor": "ci" }).to_string(),
        ))
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn proof_runs_take_only_a_bearer_token_never_the_cookie(pool: PgPool) {
    let app = app(&pool).await;
    let operator = operator_cookie(&app, &pool).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let answer = send(
            &app.router,
            run_request(Some(&format!("{scheme} {CI_TOKEN}")), None),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{scheme}");
    }
    for authorization in [
        Some("Basic b3BzOnBhc3N3b3Jk"),
        Some("Bearer"),
        Some("Token clr_0000"),
        Some("Bearer wrong-token"),
        None,
    ] {
        let answer = send(&app.router, run_request(authorization, Some(&operator))).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{authorization:?} with an operator's session cookie: {}",
            answer.body
        );
    }
    // Other API calls do not fall back to the cookie either.
    let answer = send(
        &app.router,
        Request::get("/api/platform/launch-room?tenant=x")
            .header(header::AUTHORIZATION, "Basic b3BzOnBhc3N3b3Jk")
            .header(header::COOKIE, &operator)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM proof_runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn wrong_bearer_tokens_are_throttled_per_address(pool: PgPool) {
    let app = app(&pool).await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..25 {
        let response = app
            .router
            .clone()
            .oneshot(run_request(
                Some("Bearer guess-0123456789abcdef0123456789abcdef"),
                None,
            ))
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = response.headers().get(header::RETRY_AFTER).cloned();
        }
    }
    assert!(
        statuses[..20].iter().all(|status| *status == 401),
        "{statuses:?}"
    );
    assert!(
        statuses[20..].iter().all(|status| *status == 429),
        "{statuses:?}"
    );
    assert!(
        retry_after.is_some(),
        "a throttled client is told when to retry"
    );
    // The right token still works: throttling slows guessing, it does not lock CI out.
    let answer = send(
        &app.router,
        run_request(Some(&format!("Bearer {CI_TOKEN}")), None),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
}

#[test]
fn the_server_refuses_to_start_with_a_ci_token_shorter_than_32_characters() {
    let short = Cli::try_parse_from(["server", "--api-token", "short-token-31-characters-long!"]);
    let message = short
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(message.contains("at least 32"), "{message}");
    let long = Cli::try_parse_from(["server", "--api-token", CI_TOKEN]);
    assert!(long.is_ok());
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_in_starts_an_empty_session_under_a_new_id(pool: PgPool) {
    use server::auth::store::PgSessionStore;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::SessionStore;

    let app = app(&pool).await;
    accounts::create(
        &pool,
        &NewAccount {
            email: "ops@example.com",
            name: "Ops",
            role: Role::Operator,
            tenant_id: None,
            password: PASSWORD,
        },
    )
    .await
    .unwrap();
    // An anonymous session holding data, as a visitor (or whoever used the
    // browser before) left it.
    let mut record = Record {
        id: Id::default(),
        data: [("planted".to_owned(), json!("left by the previous visitor"))]
            .into_iter()
            .collect(),
        expiry_date: tower_sessions::cookie::time::OffsetDateTime::now_utc()
            + tower_sessions::cookie::time::Duration::hours(1),
    };
    PgSessionStore::new(pool.clone())
        .create(&mut record)
        .await
        .unwrap();
    let before = format!("{}={}", server::auth::session::COOKIE_NAME, record.id);
    let mut request = sign_in_request("ops@example.com", PASSWORD, "/");
    request
        .headers_mut()
        .insert(header::COOKIE, before.parse().unwrap());
    let answer = send(&app.router, request).await;
    let after = cookie_pair(&answer.cookie.expect("a new session cookie"));
    assert_ne!(after, before, "the session id changes");
    let sessions: Vec<String> =
        sqlx::query_scalar("SELECT encode(data, 'escape') FROM tower_sessions.session")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(sessions.len(), 1, "the old session is gone");
    assert!(!sessions[0].contains("planted"), "{}", sessions[0]);
    let page = send(&app.router, get_with("/admin", &after)).await;
    assert_eq!(page.status, StatusCode::OK, "signed in");
}

#[sqlx::test(migrations = "../migrations")]
async fn every_json_answer_is_nosniff_and_markup_free(pool: PgPool) {
    let app = app(&pool).await;
    for uri in [
        "/api/readiness",
        "/api/readiness?strict=true",
        "/api/openapi.json",
        "/api/proofs/support-status-notification/runs",
        "/api/proofs/%3Cscript%3E/runs",
        "/api/product/launch-evidence",
        "/api/platform/launch-room",
    ] {
        let response = app
            .router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let headers = response.headers().clone();
        assert_eq!(
            headers
                .get(header::X_CONTENT_TYPE_OPTIONS)
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{uri}"
        );
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{uri}"
        );
        let body = body_text(response).await;
        assert!(!body.contains('<') && !body.contains('>'), "{uri}: {body}");
    }
}
