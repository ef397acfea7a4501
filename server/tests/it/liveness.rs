//! `/livez` and `/readyz` in the Kubernetes convention, and what SIGTERM does:
//! not ready at once, still serving through the drain, event streams closed
//! with their retry hint, the process gone within drain + grace.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use secrecy::SecretString;
use sqlx::PgPool;
use tower::ServiceExt;

use crate::common::served::Served;
use crate::common::{register, send, serving_database_url, settings, test_app};
use server::auth::session::SessionSettings;

async fn get(app: &axum::Router, path: &str) -> (StatusCode, String, String) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let cache = response
        .headers()
        .get(header::CACHE_CONTROL)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap(), cache)
}

#[sqlx::test(migrations = "../migrations")]
async fn livez_and_readyz_answer_and_readyz_fails_once_a_shutdown_begins(pool: PgPool) {
    let app = test_app(&pool, None, SessionSettings::default()).await;
    assert_eq!(
        get(&app.router, "/livez").await,
        (StatusCode::OK, "ok\n".to_owned(), "no-store".to_owned())
    );
    assert_eq!(
        get(&app.router, "/livez?verbose").await.1,
        "[+]ping ok\nlivez check passed\n"
    );
    assert_eq!(
        get(&app.router, "/readyz").await,
        (StatusCode::OK, "ok\n".to_owned(), "no-store".to_owned())
    );
    let (status, body, _) = get(&app.router, "/readyz?verbose").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        "[+]shutdown ok\n[+]database ok\n[+]migrations ok\n[+]register ok\nreadyz check passed\n"
    );

    app.state.draining.cancel();
    let (status, body, _) = get(&app.router, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body.starts_with("[-]shutdown failed: the server is shutting down\n[+]database ok\n"),
        "{body}"
    );
    assert!(body.ends_with("readyz check failed\n"), "{body}");
    // Alive, and still serving pages, while it drains.
    assert_eq!(get(&app.router, "/livez").await.0, StatusCode::OK);
    let page = send(&app.router, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
}

#[sqlx::test(migrations = "../migrations")]
async fn readyz_fails_while_a_migration_is_missing(pool: PgPool) {
    let app = test_app(&pool, None, SessionSettings::default()).await;
    assert_eq!(get(&app.router, "/readyz").await.0, StatusCode::OK);
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (status, body, _) = get(&app.router, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body.contains(
            "[+]database ok\n[-]migrations failed: the database schema is not up to date"
        ),
        "{body}"
    );
    assert!(body.contains("server migrate"), "{body}");
}

#[tokio::test]
async fn readyz_fails_while_the_database_does_not_answer() {
    // Nothing listens on port 1.
    let nowhere = SecretString::from("postgres://clearance_app:x@127.0.0.1:1/clearance".to_owned());
    let pool = server::db::lazy_pool(&nowhere, 2).unwrap();
    let options = LeptosOptions::builder().output_name("clearance").build();
    let server = server::startup::build(pool, settings(Arc::new(register()), options)).await;
    let (status, body, _) = get(&server.router, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("[-]database failed: PostgreSQL"), "{body}");
    assert!(body.contains("[+]register ok"), "{body}");
    assert_eq!(get(&server.router, "/livez").await.0, StatusCode::OK);
}

#[sqlx::test(migrations = "../migrations")]
async fn sigterm_drains_closes_event_streams_and_exits_in_time(pool: PgPool) {
    let mut served = Served::start(
        &serving_database_url(&pool),
        &[
            ("CLEARANCE_SHUTDOWN_DRAIN_SECS", "2"),
            ("CLEARANCE_SHUTDOWN_GRACE_SECS", "5"),
        ],
    );
    served.ready().await;
    let base = served.base.clone();
    let client = reqwest::Client::new();
    let mut stream = client
        .get(format!("{}/api/events", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let first = stream.chunk().await.unwrap().expect("the current state");
    assert!(String::from_utf8_lossy(&first).contains("retry: 1000"));

    let terminated = Instant::now();
    served.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Not ready at once, but still serving during the drain.
    let ready = client
        .get(format!("{}/readyz", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.text().await.unwrap().contains("[-]shutdown failed"));
    let page = client
        .get(format!("{}/", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    // The event stream ends when the drain does (the browser reconnects to
    // another server after its retry hint).
    while stream.chunk().await.unwrap().is_some() {}
    let closed = terminated.elapsed();
    assert!(
        closed >= Duration::from_millis(1_500) && closed < Duration::from_secs(6),
        "the stream closed after {closed:?}"
    );
    let output = served.exits_within(Duration::from_secs(2 + 5 + 3));
    assert!(output.status.success(), "{output:?}");
    // After the drain nothing new is accepted.
    assert!(client.get(format!("{base}/livez")).send().await.is_err());
}
