//! Accounts, sign-in, sessions, throttling, cross-site refusal and the access log,
//! through the real router against a real database.

use std::time::Duration;

use axum::body::Body;
use http::{header, Request, StatusCode};
use sqlx::PgPool;

use app::domain::access::Role;
use server::auth::accounts::{self, CreateError, NewAccount};
use server::auth::session::SessionSettings;

const PASSWORD: &str = "correct horse battery staple";

async fn app_with(pool: &PgPool, sessions: SessionSettings) -> axum::Router {
    crate::common::test_app(pool, None, sessions).await.router
}

async fn app(pool: &PgPool) -> axum::Router {
    app_with(pool, SessionSettings::default()).await
}

async fn operator(pool: &PgPool) {
    accounts::create(
        pool,
        &NewAccount {
            email: "Olive@Example.com ",
            name: "Olive Operator",
            role: Role::Operator,
            tenant_id: None,
            password: PASSWORD,
        },
    )
    .await
    .unwrap();
}

use crate::common::{cookie_pair, get_with, send, sign_in_request};

async fn events(pool: &PgPool) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as::<_, (String, String, Option<String>)>(
        "SELECT action, actor, remote_addr FROM access_events ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn invalid_accounts_are_refused_and_store_nothing(pool: PgPool) {
    let new = |email: &'static str, password: &'static str, role: Role, tenant_id: Option<i64>| {
        NewAccount {
            email,
            name: "Someone",
            role,
            tenant_id,
            password,
        }
    };
    let cases = [
        (
            new("not-an-address", PASSWORD, Role::Operator, None),
            "email",
        ),
        (
            new("a@example.com", "short", Role::Operator, None),
            "password",
        ),
        (
            new("a@example.com", "            ", Role::Operator, None),
            "password",
        ),
        (
            new("a@example.com", PASSWORD, Role::BuyerSponsor, None),
            "tenant",
        ),
        (
            new("a@example.com", PASSWORD, Role::Operator, Some(1)),
            "tenant",
        ),
    ];
    for (account, field) in cases {
        let error = accounts::create(&pool, &account).await.unwrap_err();
        assert!(
            error.to_string().starts_with(field),
            "{error} should name {field}"
        );
    }
    let long_name = "x".repeat(201);
    let error = accounts::create(
        &pool,
        &NewAccount {
            name: &long_name,
            ..new("a@example.com", PASSWORD, Role::Operator, None)
        },
    )
    .await
    .unwrap_err();
    assert!(error.to_string().starts_with("name"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    operator(&pool).await;
    let again = accounts::create(
        &pool,
        &NewAccount {
            email: "olive@example.com",
            ..new("x@example.com", PASSWORD, Role::CommercialOwner, None)
        },
    )
    .await;
    assert!(matches!(again, Err(CreateError::Exists)));
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM accounts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$"),
        "Argon2id, not the password"
    );
    assert!(!stored.contains(PASSWORD));
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_in_starts_a_session_the_pages_recognise_and_signing_out_ends_it(pool: PgPool) {
    operator(&pool).await;
    let app = app(&pool).await;

    let (_, public) = {
        let answer = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
        (answer.status, answer.body)
    };
    assert!(public.contains(r#"href="/login""#));

    let answer = send(
        &app,
        sign_in_request("olive@example.com", PASSWORD, "/?scope=enterprise"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location, "/?scope=enterprise");
    let set_cookie = answer.cookie.expect("a session cookie");
    assert!(set_cookie.starts_with("clearance_session="));
    assert!(set_cookie.contains("HttpOnly"));
    assert!(set_cookie.contains("SameSite=Lax"));
    assert!(
        !set_cookie.contains("Secure"),
        "Secure only when configured"
    );
    let cookie = cookie_pair(&set_cookie);

    let page = send(&app, get_with("/", &cookie)).await;
    assert!(
        page.body
            .contains("Signed in as <strong>Olive Operator</strong>"),
        "{}",
        &page.body[..200]
    );

    let logout = Request::post("/auth/logout")
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    let answer = send(&app, logout).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let page = send(&app, get_with("/", &cookie)).await;
    assert!(
        !page.body.contains("Signed in as"),
        "the old cookie is worthless"
    );

    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    let logged: Vec<String> = events(&pool)
        .await
        .into_iter()
        .map(|(action, ..)| action)
        .collect();
    assert_eq!(logged, ["sign_in_succeeded", "signed_out"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_wrong_password_or_unknown_address_fails_the_same_way_and_is_logged(pool: PgPool) {
    operator(&pool).await;
    let app = app(&pool).await;
    let wrong = send(
        &app,
        sign_in_request("olive@example.com", "not the password", "/"),
    )
    .await;
    let unknown = send(&app, sign_in_request("nobody@example.com", PASSWORD, "/")).await;
    for (answer, email) in [
        (&wrong, "olive%40example.com"),
        (&unknown, "nobody%40example.com"),
    ] {
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(
            answer.location,
            format!("/login?error=invalid&email={email}&next=%2F")
        );
        assert!(answer.cookie.is_none(), "no session for a failed sign-in");
    }
    let logged = events(&pool).await;
    assert_eq!(
        logged,
        [
            (
                "sign_in_failed".to_owned(),
                "olive@example.com".to_owned(),
                Some("unknown".to_owned())
            ),
            (
                "sign_in_failed".to_owned(),
                "nobody@example.com".to_owned(),
                Some("unknown".to_owned())
            ),
        ]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn five_wrong_passwords_through_three_servers_are_refused_as_through_one(pool: PgPool) {
    operator(&pool).await;
    // Three servers on one database, as behind a load balancer.
    let servers = [app(&pool).await, app(&pool).await, app(&pool).await];
    for attempt in 0..5 {
        let answer = send(
            &servers[attempt % 3],
            sign_in_request("olive@example.com", "wrong password!", "/"),
        )
        .await;
        assert!(
            answer.location.starts_with("/login?error=invalid"),
            "{}",
            answer.location
        );
    }
    for server in &servers {
        let answer = send(server, sign_in_request("olive@example.com", PASSWORD, "/")).await;
        assert!(
            answer.location.starts_with("/login?error=throttled&retry="),
            "{}",
            answer.location
        );
        assert!(answer.cookie.is_none());
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn repeated_attempts_are_refused_for_a_while_with_a_clear_message(pool: PgPool) {
    operator(&pool).await;
    let app = app(&pool).await;
    for _ in 0..5 {
        let answer = send(
            &app,
            sign_in_request("olive@example.com", "wrong password!", "/"),
        )
        .await;
        assert!(answer.location.starts_with("/login?error=invalid"));
    }
    // Even the right password is refused now.
    let answer = send(&app, sign_in_request("olive@example.com", PASSWORD, "/")).await;
    assert!(
        answer.location.starts_with("/login?error=throttled&retry="),
        "{}",
        answer.location
    );
    assert!(answer.cookie.is_none());
    let page = send(
        &app,
        Request::get(&answer.location).body(Body::empty()).unwrap(),
    )
    .await;
    assert!(page
        .body
        .contains("Too many sign-in attempts. Try again in"));
    let last = events(&pool).await.pop().unwrap();
    assert_eq!(last.0, "sign_in_refused");
}

#[sqlx::test(migrations = "../migrations")]
async fn cross_site_state_changes_are_refused(pool: PgPool) {
    operator(&pool).await;
    let app = app(&pool).await;
    let body = "email=olive%40example.com&password=correct+horse+battery+staple";
    let cross_site = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(send(&app, cross_site).await.status, StatusCode::FORBIDDEN);
    let other_origin = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "clearance.example")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(send(&app, other_origin).await.status, StatusCode::FORBIDDEN);
    let same_origin = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "clearance.example")
        .header(header::ORIGIN, "https://clearance.example")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(send(&app, same_origin).await.status, StatusCode::SEE_OTHER);
    // Reads are never refused.
    let read = Request::get("/")
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, read).await.status, StatusCode::OK);
    assert_eq!(
        events(&pool).await.len(),
        1,
        "only the same-origin sign-in happened"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_never_redirects_to_another_site(pool: PgPool) {
    operator(&pool).await;
    let app = app(&pool).await;
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let answer = send(&app, sign_in_request("olive@example.com", PASSWORD, next)).await;
        assert_eq!(answer.location, "/", "next={next}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_disabled_account_cannot_sign_in_and_its_session_ends(pool: PgPool) {
    operator(&pool).await;
    let app = app(&pool).await;
    let answer = send(&app, sign_in_request("olive@example.com", PASSWORD, "/")).await;
    let cookie = cookie_pair(&answer.cookie.unwrap());
    assert!(accounts::disable(&pool, "OLIVE@example.com").await.unwrap());
    let page = send(&app, get_with("/", &cookie)).await;
    assert!(!page.body.contains("Signed in as"));
    let again = send(&app, sign_in_request("olive@example.com", PASSWORD, "/")).await;
    assert!(again.location.starts_with("/login?error=invalid"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_session_ends_after_its_absolute_lifetime_however_active(pool: PgPool) {
    operator(&pool).await;
    let app = app_with(
        &pool,
        SessionSettings {
            absolute: Duration::from_secs(1),
            secure_cookie: true,
            ..SessionSettings::default()
        },
    )
    .await;
    let answer = send(&app, sign_in_request("olive@example.com", PASSWORD, "/")).await;
    let set_cookie = answer.cookie.unwrap();
    assert!(set_cookie.contains("Secure"), "Secure when configured");
    let cookie = cookie_pair(&set_cookie);
    assert!(send(&app, get_with("/", &cookie))
        .await
        .body
        .contains("Signed in as"));
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(!send(&app, get_with("/", &cookie))
        .await
        .body
        .contains("Signed in as"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_access_log_is_append_only(pool: PgPool) {
    operator(&pool).await;
    let app = app(&pool).await;
    send(
        &app,
        sign_in_request("olive@example.com", "wrong password!", "/"),
    )
    .await;
    for statement in [
        "UPDATE access_events SET actor = 'someone else'",
        "DELETE FROM access_events",
    ] {
        let error = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    assert_eq!(events(&pool).await.len(), 1);
}
