//! PostgreSQL outages, survived. These tests stop and start a PostgreSQL cluster
//! of their own, so they are ignored by a plain `cargo test`; `scripts/test`
//! creates that cluster and runs them (one at a time) with
//! `CLEARANCE_RESILIENCE_CLUSTER` (e.g. `15 resilience`, for `pg_ctlcluster`)
//! and `CLEARANCE_RESILIENCE_DATABASE_URL` set.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use http::{header, Request, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{
    attach_everything, cookie_pair, get_with, send, sign_in_request, world, PASSWORD,
};
use server::auth::session::SessionSettings;
use server::auth::tokens;
use server::rooms::verify;
use server::tenancy::{self, Acting};

/// The owner's URL: creates the database and migrates it.
fn database_url() -> String {
    std::env::var("CLEARANCE_RESILIENCE_DATABASE_URL")
        .expect("CLEARANCE_RESILIENCE_DATABASE_URL: run these tests through scripts/test")
}

/// The same database for the serving role, which the server serves as.
fn serving_url() -> String {
    let mut url = url::Url::parse(&database_url()).unwrap();
    url.set_username(crate::common::SERVING_ROLE).unwrap();
    url.set_password(Some(crate::common::SERVING_ROLE)).unwrap();
    url.to_string()
}

/// `pg_ctlcluster VERSION NAME start|stop`: the cluster these tests may stop.
/// Starting a running cluster is fine.
fn cluster(action: &str) {
    let cluster = std::env::var("CLEARANCE_RESILIENCE_CLUSTER")
        .expect("CLEARANCE_RESILIENCE_CLUSTER: run these tests through scripts/test");
    let mut args: Vec<&str> = cluster.split_whitespace().collect();
    args.push(action);
    if action == "stop" {
        args.extend(["-m", "fast"]);
    }
    let output = Command::new("pg_ctlcluster").args(&args).output().unwrap();
    let already = [&output.stdout, &output.stderr]
        .iter()
        .any(|text| String::from_utf8_lossy(text).contains("already running"));
    assert!(
        output.status.success() || (action == "start" && already),
        "pg_ctlcluster {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A fresh, empty database on the cluster (started if it was stopped).
async fn fresh_database() {
    cluster("start");
    let url = database_url();
    let (server, name) = url.rsplit_once('/').unwrap();
    let admin = PgPool::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}

async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < within {
        if check().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within {within:?}");
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server_command() -> Command {
    let mut command = crate::common::served::server_command(&serving_url());
    command.env("CLEARANCE_OWNER_DATABASE_URL", database_url());
    command
}

#[tokio::test]
#[ignore = "stops and starts a PostgreSQL cluster: scripts/test runs it"]
async fn the_server_starts_with_postgres_down_serves_the_register_degraded_and_recovers() {
    fresh_database().await;
    // Migrated by the owner beforehand; the server serves as the serving role,
    // and checks its privileges and the schema once PostgreSQL answers.
    let migrated = server_command().arg("migrate").output().unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    cluster("stop");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Served(
        server_command()
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("CLEARANCE_POLL_INTERVAL_SECS", "1")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let page = || async {
        match client.get(format!("{base}/")).send().await {
            Ok(response) if response.status() == StatusCode::OK => response.text().await.ok(),
            _ => None,
        }
    };

    // Serving while the database is down: the register, marked degraded.
    eventually(Duration::from_secs(30), "the register served", || async {
        page()
            .await
            .is_some_and(|html| html.contains(r#"data-testid="database-down""#))
    })
    .await;
    let html = page().await.unwrap();
    assert_eq!(html.matches(r#"data-testid="blocker-row""#).count(), 7);
    assert!(
        html.contains("database reachable"),
        "the failing check is named"
    );
    let rooms = client.get(format!("{base}/rooms")).send().await.unwrap();
    assert!(rooms.status().is_client_error(), "{}", rooms.status());

    // The database comes back: checked, recorded, and the notice is gone.
    cluster("start");
    let took = eventually(Duration::from_secs(15), "recovered", || async {
        page()
            .await
            .is_some_and(|html| !html.contains(r#"data-testid="database-down""#))
    })
    .await;
    eprintln!("recovered {took:?} after PostgreSQL started");
    let created = server_command()
        .args([
            "account",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--role",
            "operator",
        ])
        .env("CLEARANCE_NEW_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = no_redirects
        .post(format!("{base}/auth/login"))
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("email", "ops@example.com"),
            ("password", PASSWORD),
            ("next", "/rooms"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()[header::LOCATION], "/rooms");
    assert!(signed_in.headers().contains_key(header::SET_COOKIE));
}

#[tokio::test]
#[ignore = "stops and starts a PostgreSQL cluster: scripts/test runs it"]
async fn a_postgres_restart_during_signing_loses_no_acknowledged_record() {
    fresh_database().await;
    let pool = server::db::lazy_pool(&SecretString::from(database_url()), 10).unwrap();
    server::db::migrate(&pool).await.unwrap();
    let world = world(&pool).await;
    for slug in ["acme", "borealis"] {
        attach_everything(&pool, &world.operator, slug, "PO-7").await;
    }
    let app = crate::common::test_app(&pool, None, SessionSettings::default()).await;
    // As the server does: readiness (which includes "database reachable") is
    // read every second, so it follows the outage and the recovery.
    let _monitor = app.monitor.spawn(Duration::from_secs(1));
    let mut sponsors = Vec::new();
    for (slug, email) in [
        ("acme", "sponsor@acme.example"),
        ("borealis", "sponsor@borealis.example"),
    ] {
        let (_, token) = tokens::create(&pool, email, "resilience").await.unwrap();
        sponsors.push((slug, token));
    }
    let sponsor_cookie = cookie_pair(
        &send(
            &app.router,
            sign_in_request("sponsor@acme.example", PASSWORD, "/"),
        )
        .await
        .cookie
        .unwrap(),
    );

    // Four signers, two per tenant, until told to stop; every answer counted,
    // every acknowledged record kept.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, i64, String, Instant)>::new()));
    let statuses = Arc::new(Mutex::new(BTreeMap::<u16, usize>::new()));
    let mut signers = Vec::new();
    for index in 0..4 {
        let (slug, token) = sponsors[index % 2].clone();
        let (router, clearance) = (app.router.clone(), app.clearance.clone());
        let (stop, acknowledged, statuses) = (
            Arc::clone(&stop),
            Arc::clone(&acknowledged),
            Arc::clone(&statuses),
        );
        signers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let body = json!({
                    "signer_name": format!("Signer {index}"),
                    "signer_role": "Chief Operating Officer",
                    "approval_reference": "PO-2026-7",
                    "readiness_digest": clearance.current().readiness.digest,
                });
                let request = Request::patch("/api/platform/launch-acceptance")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap();
                let answer = send(&router, request).await;
                *statuses
                    .lock()
                    .unwrap()
                    .entry(answer.status.as_u16())
                    .or_default() += 1;
                if answer.status == StatusCode::OK {
                    let stored: Value = serde_json::from_str(&answer.body).unwrap();
                    acknowledged.lock().unwrap().push((
                        slug.to_owned(),
                        stored["record"]["seq"].as_i64().unwrap(),
                        stored["record"]["digest"].as_str().unwrap().to_owned(),
                        Instant::now(),
                    ));
                } else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_outage = acknowledged.lock().unwrap().len();
    assert!(
        before_outage > 10,
        "only {before_outage} signatures before the outage"
    );

    // Down: pages say so instead of failing.
    cluster("stop");
    app.monitor.refresh().await;
    let public = send(&app.router, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body.contains(r#"data-testid="database-down""#));
    let room = send(&app.router, get_with("/rooms/acme", &sponsor_cookie)).await;
    assert!(
        room.status == StatusCode::SERVICE_UNAVAILABLE || room.status == StatusCode::UNAUTHORIZED,
        "{}",
        room.status
    );
    assert!(
        room.body.contains(r#"data-testid="database-down""#)
            || room.body.contains("database cannot be reached")
            || room.body.contains("Sign in"),
        "the room page explains itself"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Back: the pool serves signatures again within 5 s.
    cluster("start");
    let back = Instant::now();
    let recovered = eventually(
        Duration::from_secs(5),
        "a signature after the restart",
        || {
            let acknowledged = Arc::clone(&acknowledged);
            async move {
                acknowledged
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|(_, _, _, at)| *at > back)
            }
        },
    )
    .await;
    eprintln!("first signature {recovered:?} after PostgreSQL started");
    app.monitor.refresh().await;
    let public = send(&app.router, Request::get("/").body(Body::empty()).unwrap()).await;
    assert!(!public.body.contains(r#"data-testid="database-down""#));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    for signer in signers {
        signer.await.unwrap();
    }

    let statuses = statuses.lock().unwrap().clone();
    eprintln!("answers by status: {statuses:?}");
    assert!(
        statuses
            .keys()
            .all(|status| [200, 422, 503].contains(status)),
        "{statuses:?}"
    );
    assert!(
        statuses.get(&503).is_some_and(|count| *count > 0),
        "{statuses:?}"
    );

    // Every acknowledged record is stored, once, and the chains are intact.
    let acknowledged = acknowledged.lock().unwrap().clone();
    let mut tx = tenancy::begin(&pool, Acting::System).await.unwrap();
    let stored: Vec<(String, i32, String)> = sqlx::query_as(
        "SELECT t.slug, a.seq, a.digest FROM acceptance_records a
           JOIN tenants t ON t.id = a.tenant_id ORDER BY 1, 2",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let stored: BTreeSet<(String, i64, String)> = stored
        .into_iter()
        .map(|(slug, seq, digest)| (slug, i64::from(seq), digest))
        .collect();
    let acked: BTreeSet<(String, i64, String)> = acknowledged
        .iter()
        .map(|(slug, seq, digest, _)| (slug.clone(), *seq, digest.clone()))
        .collect();
    assert_eq!(
        acked.len(),
        acknowledged.len(),
        "a record acknowledged twice"
    );
    let missing: Vec<_> = acked.difference(&stored).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    eprintln!(
        "{} acknowledged, {} stored",
        acknowledged.len(),
        stored.len()
    );
    let reports = verify::verify_all(&pool).await.unwrap();
    assert!(reports.iter().all(|report| report.result.is_ok()));
}
