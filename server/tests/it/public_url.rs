//! One public address: absolute links are built on `CLEARANCE_PUBLIC_URL`, never
//! on the request's `Host` header; its scheme decides the session cookie.

use std::process::Command;

use axum::body::Body;
use clap::Parser;
use http::{header, Request};
use sqlx::PgPool;
use tower::ServiceExt;

use app::domain::access::Role;
use server::auth::session::SessionSettings;
use server::config::Cli;

use crate::common::{account, cookie_pair, get_with, send, sign_in_request, PASSWORD};

/// Signs in an operator, creates a tenant and an invitation with `Host:
/// evil.example` on every request, and answers the link the page shows.
async fn invitation_link(app: &axum::Router, pool: &PgPool) -> String {
    account(pool, "ops@example.com", Role::Operator, None).await;
    let with_evil_host = |mut request: Request<Body>| {
        request
            .headers_mut()
            .insert(header::HOST, "evil.example".parse().unwrap());
        request
    };
    let signed_in = send(
        app,
        with_evil_host(sign_in_request("ops@example.com", PASSWORD, "/")),
    )
    .await;
    let cookie = cookie_pair(&signed_in.cookie.expect("a session cookie"));
    let post = |uri: &str, fields: &[(&str, &str)]| {
        with_evil_host(crate::common::post_form(uri, Some(&cookie), fields))
    };
    send(
        app,
        post(
            "/admin/tenants",
            &[
                ("name", "Acme Ltd"),
                ("slug", "acme"),
                ("motion", "managed-private-beta"),
                ("billing_route", "invoice_only"),
            ],
        ),
    )
    .await;
    let acme: i64 = {
        let mut tx = server::tenancy::begin(pool, server::tenancy::Acting::System)
            .await
            .unwrap();
        let id = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'acme'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    };
    let created = app
        .clone()
        .oneshot(post(
            "/admin/invitations",
            &[("tenant", &acme.to_string()), ("email", "sam@acme.example")],
        ))
        .await
        .unwrap();
    assert_eq!(
        created.headers()[header::LOCATION].to_str().unwrap(),
        "/admin#new-invitation"
    );
    // The new link travels to /admin in a cookie of its own.
    let link_cookie = created
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|value| value.starts_with("clearance_new_invitation="))
        .map(cookie_pair)
        .expect("the new link's cookie");
    let page = send(
        app,
        with_evil_host(get_with("/admin", &format!("{cookie}; {link_cookie}"))),
    )
    .await;
    page.body
        .split(r#"data-testid="invitation-link">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new link on the page")
        .to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_invitation_link_is_built_on_the_public_address_whatever_the_host_header(pool: PgPool) {
    let app = crate::common::test_app_at(
        &pool,
        "https://clearance.example",
        SessionSettings {
            secure_cookie: true,
            ..SessionSettings::default()
        },
    )
    .await
    .router;
    let link = invitation_link(&app, &pool).await;
    assert!(
        link.starts_with("https://clearance.example/invite/"),
        "{link}"
    );
    assert!(!link.contains("evil.example"));
}

#[sqlx::test(migrations = "../migrations")]
async fn without_a_public_address_links_use_the_listening_address_not_the_host_header(
    pool: PgPool,
) {
    let app = crate::common::test_app(&pool, None, SessionSettings::default())
        .await
        .router;
    let link = invitation_link(&app, &pool).await;
    assert!(link.starts_with("http://127.0.0.1:3000/invite/"), "{link}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_secure_session_cookie_is_host_prefixed_and_still_recognised(pool: PgPool) {
    let sessions = Cli::parse_from(["server", "--public-url", "https://clearance.example"])
        .serve
        .session_settings()
        .unwrap();
    assert!(sessions.secure_cookie, "secure by default with https");
    let app = crate::common::test_app_at(&pool, "https://clearance.example", sessions)
        .await
        .router;
    account(&pool, "olive@example.com", Role::Operator, None).await;
    let answer = send(&app, sign_in_request("olive@example.com", PASSWORD, "/")).await;
    let set_cookie = answer.cookie.expect("a session cookie");
    assert!(
        set_cookie.starts_with("__Host-clearance_session="),
        "{set_cookie}"
    );
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} in {set_cookie}"
        );
    }
    assert!(!set_cookie.contains("Domain"), "{set_cookie}");
    let cookie = cookie_pair(&set_cookie);
    // Recognised by the sessions, and by the page cache (never a public copy).
    let page = send(&app, get_with("/", &cookie)).await;
    assert!(page.body.contains("Signed in as"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_plain_http_session_cookie_keeps_its_name_and_is_not_secure(pool: PgPool) {
    let sessions = Cli::parse_from(["server", "--public-url", "http://clearance.example:8080"])
        .serve
        .session_settings()
        .unwrap();
    assert!(!sessions.secure_cookie);
    let app = crate::common::test_app_at(&pool, "http://clearance.example:8080", sessions)
        .await
        .router;
    account(&pool, "olive@example.com", Role::Operator, None).await;
    let answer = send(&app, sign_in_request("olive@example.com", PASSWORD, "/")).await;
    let set_cookie = answer.cookie.expect("a session cookie");
    assert!(set_cookie.starts_with("clearance_session="), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
}

#[test]
fn a_public_address_that_is_not_an_http_origin_is_refused_when_parsed() {
    for bad in [
        "clearance.example",
        "ftp://clearance.example",
        "https://clearance.example/app",
        "https://clearance.example/?x=1",
    ] {
        let refused = Cli::try_parse_from(["server", "--public-url", bad]);
        assert!(refused.is_err(), "{bad}");
    }
}

#[test]
fn the_server_refuses_to_start_with_an_https_address_and_cookies_not_secure() {
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Never reached: the settings are refused first.
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("LEPTOS_OUTPUT_NAME", "clearance")
        .env("CLEARANCE_PUBLIC_URL", "https://clearance.example")
        .env("CLEARANCE_SECURE_COOKIES", "false")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CLEARANCE_PUBLIC_URL is https://clearance.example (https) but CLEARANCE_SECURE_COOKIES is false"),
        "{stderr}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("CLEARANCE_PUBLIC_URL", "https://clearance.example/app")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "clap refuses it");
    assert!(String::from_utf8_lossy(&output.stderr).contains("no path other than /"));
}

#[test]
fn cookie_security_is_read_from_the_flag_and_checked_against_the_public_address() {
    let secure = |args: &[&str]| {
        Cli::try_parse_from(args)
            .unwrap()
            .serve
            .session_settings()
            .map(|sessions| sessions.secure_cookie)
    };
    assert_eq!(secure(&["server"]), Ok(false));
    assert_eq!(secure(&["server", "--secure-cookies"]), Ok(true));
    assert_eq!(secure(&["server", "--secure-cookies", "serve"]), Ok(true));
    assert_eq!(secure(&["server", "--secure-cookies=no"]), Ok(false));
    assert_eq!(
        secure(&["server", "--public-url", "https://clearance.example"]),
        Ok(true)
    );
    let refused = secure(&[
        "server",
        "--public-url",
        "https://clearance.example",
        "--secure-cookies=false",
    ])
    .unwrap_err();
    assert!(refused
        .to_string()
        .contains("CLEARANCE_SECURE_COOKIES is false"));
}
