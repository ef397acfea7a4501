//! The security headers every response carries, pages and API alike, and the
//! Content Security Policy nonce: fresh on every page, cached or not, and on
//! every inline script of it.

use axum::body::Body;
use http::{header, HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;

use server::auth::session::SessionSettings;

async fn fetch(app: &axum::Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn header(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .map(|value| value.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// The nonce a response's policy allows, if any.
fn policy_nonce(headers: &HeaderMap) -> Option<String> {
    let policy = header(headers, header::CONTENT_SECURITY_POLICY);
    let start = policy.find("'nonce-")? + "'nonce-".len();
    Some(policy[start..].split('\'').next()?.to_owned())
}

fn assert_hardened(what: &str, headers: &HeaderMap) {
    assert_eq!(
        header(headers, header::X_CONTENT_TYPE_OPTIONS),
        "nosniff",
        "{what}"
    );
    assert_eq!(header(headers, header::X_FRAME_OPTIONS), "DENY", "{what}");
    let policy = header(headers, header::CONTENT_SECURITY_POLICY);
    for directive in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
        "'wasm-unsafe-eval'",
    ] {
        assert!(
            policy.contains(directive),
            "{what}: {directive} in {policy}"
        );
    }
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
    assert!(
        !headers.contains_key(header::STRICT_TRANSPORT_SECURITY),
        "{what}: no HSTS over plain http"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn every_response_carries_the_security_headers_pages_and_api_alike(pool: PgPool) {
    let app = crate::common::test_app(&pool, Some("t0ken"), SessionSettings::default())
        .await
        .router;
    let cross_site_post = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("email=a%40b.c&password=x"))
        .unwrap();
    let unauthorised_api = Request::post("/api/proofs/x/runs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let requests = [
        ("the register page", get("/"), StatusCode::OK),
        ("the register page again (cached)", get("/"), StatusCode::OK),
        ("the sign-in page", get("/login"), StatusCode::OK),
        ("a JSON answer", get("/api/readiness"), StatusCode::OK),
        (
            "the OpenAPI document",
            get("/api/openapi.json"),
            StatusCode::OK,
        ),
        (
            "a not-found page",
            get("/no/such/page"),
            StatusCode::NOT_FOUND,
        ),
        (
            "a refused cross-site post",
            cross_site_post,
            StatusCode::FORBIDDEN,
        ),
        (
            "a refused API call",
            unauthorised_api,
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (what, request, status) in requests {
        let (answered, headers, _) = fetch(&app, request).await;
        assert_eq!(answered, status, "{what}");
        assert_hardened(what, &headers);
        assert_eq!(
            header(&headers, header::REFERRER_POLICY),
            "strict-origin-when-cross-origin",
            "{what}"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn every_inline_script_carries_a_nonce_fresh_for_each_page_even_from_the_cache(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let mut seen = Vec::new();
    for uri in ["/", "/", "/", "/login", "/login", "/no/such/page"] {
        let (_, headers, body) = fetch(&app, get(uri)).await;
        let nonce = policy_nonce(&headers).unwrap_or_else(|| panic!("{uri}: a nonce"));
        assert!(nonce.len() >= 22, "{uri}: 128 bits at least");
        let scripts = body.matches("<script").count();
        assert!(scripts >= 2, "{uri}: the loader's scripts at least");
        assert_eq!(
            body.matches(&format!("<script nonce=\"{nonce}\"")).count()
                + body
                    .matches(&format!("<script type=\"module\" async nonce=\"{nonce}\""))
                    .count(),
            scripts,
            "{uri}: every script carries the response's nonce"
        );
        assert_eq!(
            body.matches("nonce=\"").count(),
            scripts,
            "{uri}: no other nonce (the placeholder never leaves the server)"
        );
        assert!(!seen.contains(&nonce), "{uri}: a nonce is never reused");
        seen.push(nonce);
    }
    let (_, headers, _) = fetch(&app, get("/")).await;
    assert_eq!(headers.get("x-clearance-cache").unwrap(), "hit");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_invitation_page_whose_address_holds_the_token_sends_no_referrer(pool: PgPool) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let (_, headers, _) = fetch(&app, get("/invite/0123456789abcdef")).await;
    assert_hardened("the invitation page", &headers);
    assert_eq!(header(&headers, header::REFERRER_POLICY), "no-referrer");
    let accept = crate::common::post_form(
        "/auth/invitations/accept",
        None,
        &[
            ("token", "0123456789abcdef"),
            ("name", "x"),
            ("password", "y"),
        ],
    );
    let (_, headers, _) = fetch(&app, accept).await;
    assert_eq!(header(&headers, header::REFERRER_POLICY), "no-referrer");
}

#[sqlx::test(migrations = "../migrations")]
async fn strict_transport_security_is_sent_only_when_the_public_address_is_https(pool: PgPool) {
    let https = crate::common::test_app_at(
        &pool,
        "https://clearance.example",
        SessionSettings::default(),
    )
    .await
    .router;
    for uri in ["/", "/api/readiness", "/no/such/page"] {
        let (_, headers, _) = fetch(&https, get(uri)).await;
        assert_eq!(
            header(&headers, header::STRICT_TRANSPORT_SECURITY),
            "max-age=31536000; includeSubDomains",
            "{uri}"
        );
    }
    let http = crate::common::test_app_at(
        &pool,
        "http://clearance.example",
        SessionSettings::default(),
    )
    .await
    .router;
    let (_, headers, _) = fetch(&http, get("/")).await;
    assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
}
