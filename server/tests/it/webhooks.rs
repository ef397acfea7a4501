//! Webhook deliveries against a real receiver that verifies them with the
//! `standardwebhooks` library from npm (end2end/receivers/webhook-receiver.mjs),
//! never with Clearance's own code: every catalogue event a change makes is
//! written with the change and delivered signed, filtered, retried, and the
//! endpoint disabled after failing too long.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use app::domain::proof_run::NewProofRun;
use server::events::worker;
use server::proofs;
use server::webhooks::store::{self, EndpointValues};
use server::webhooks::{deliver, WebhookSettings};

use crate::common::{attach_everything, register, world};

pub const PUBLIC_URL: &str = "https://clearance.example";

/// A receiver process: verifies with the given secrets, records to a file.
pub struct Receiver {
    child: Child,
    out: PathBuf,
    _dir: tempdir::Dir,
}

/// A directory removed when dropped (no extra crate for one use).
mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Receiver {
    pub async fn start(port: u16, secrets: &[&str], extra: &[&str]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("clearance-hooks-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("received.jsonl");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../end2end/receivers/webhook-receiver.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .arg(port.to_string())
            .arg(secrets.join(","))
            .arg(&out)
            .args(extra)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the receiver (scripts/test installs end2end's packages)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        assert!(
            matches!(&ready, Ok(Ok(Some(line))) if line.starts_with("listening")),
            "the receiver did not start: {ready:?}"
        );
        Self {
            child,
            out,
            _dir: tempdir::Dir(dir),
        }
    }

    /// Every line the receiver wrote, in order.
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    pub async fn stop(mut self) {
        self.child.kill().await.unwrap();
    }
}

pub fn settings() -> WebhookSettings {
    WebhookSettings {
        allow_private: true,
        timeout: Duration::from_secs(2),
        retry_base: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        disable_after: Duration::from_secs(3_600),
    }
}

pub fn endpoint(url: &str) -> EndpointValues {
    EndpointValues {
        url: url.to_owned(),
        description: "test receiver".to_owned(),
        format: "standard".to_owned(),
        enabled: true,
        ..EndpointValues::default()
    }
}

pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Runs the worker until nothing is pending (or `limit` passes).
async fn deliver_all(pool: &PgPool, settings: &WebhookSettings, limit: Duration) {
    let client = deliver::client(settings).unwrap();
    let started = std::time::Instant::now();
    loop {
        worker::run_once(pool, &client, settings, PUBLIC_URL, None)
            .await
            .unwrap();
        let waiting = count(
            pool,
            "SELECT count(*) FROM deliveries WHERE status = 'pending'",
        )
        .await
            + count(
                pool,
                "SELECT count(*) FROM events WHERE fanned_out_at IS NULL",
            )
            .await;
        if waiting == 0 || started.elapsed() > limit {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn failed_proof_run(pool: &PgPool) {
    proofs::record(
        pool,
        &register(),
        &NewProofRun {
            proof_id: "stripe-self-serve-billing".to_owned(),
            passed: false,
            ran_at: Utc::now(),
            actor: "ci".to_owned(),
            output_digest: None,
            excerpt: String::new(),
        },
    )
    .await
    .unwrap();
}

fn types(received: &[Value]) -> Vec<String> {
    received
        .iter()
        .filter_map(|line| line["type"].as_str().map(str::to_owned))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn every_change_is_delivered_signed_and_verified_by_the_standard_webhooks_library(
    pool: PgPool,
) {
    let world = world(&pool).await;
    let port = free_port();
    let (created, secret) = store::create(
        &pool,
        &endpoint(&format!("http://127.0.0.1:{port}/hook")),
        "ops@example.com",
    )
    .await
    .unwrap();
    let receiver = Receiver::start(port, &[&secret], &[]).await;

    // Readiness changes (blockers clear, motions change status), a failed
    // proof run, evidence attached in a room.
    crate::readiness_snapshots::record(&pool, "environment", &[]).await;
    let everything = register()
        .dependency_names()
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let names: Vec<&str> = everything.iter().map(String::as_str).collect();
    crate::readiness_snapshots::record(&pool, "environment", &names).await;
    failed_proof_run(&pool).await;
    attach_everything(&pool, &world.operator, "acme", "CRM-1").await;

    deliver_all(&pool, &settings(), Duration::from_secs(20)).await;
    // Events are under row-level security: counted as the server itself.
    let mut tx = server::tenancy::begin(&pool, server::tenancy::Acting::System)
        .await
        .unwrap();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        events >= 10,
        "readiness, proof and evidence events: {events}"
    );
    let received = receiver.received();
    assert!(
        received.iter().all(|line| line["rejected"].is_null()),
        "every signature verifies: {received:?}"
    );
    assert_eq!(received.len() as i64, events, "one delivery per event");
    let kinds = types(&received);
    for expected in [
        "blocker.cleared",
        "motion.status_changed",
        "proof.failed",
        "evidence.changed",
    ] {
        assert!(
            kinds.iter().any(|kind| kind == expected),
            "{expected} in {kinds:?}"
        );
    }
    for line in &received {
        assert_eq!(
            line["id"], line["idempotencyKey"],
            "the idempotency key is the message id"
        );
        assert_eq!(line["id"], line["payload"]["data"]["event_id"]);
        assert!(line["payload"]["data"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://clearance.example/"));
        assert!(line["payload"]["timestamp"].is_string());
        assert_eq!(line["duplicate"], false);
    }
    let evidence = received
        .iter()
        .find(|line| line["type"] == "evidence.changed")
        .unwrap();
    assert_eq!(evidence["payload"]["data"]["tenant"], "acme");
    assert_eq!(
        evidence["payload"]["data"]["url"],
        "https://clearance.example/rooms/acme"
    );
    let motion = received
        .iter()
        .find(|line| line["type"] == "motion.status_changed")
        .unwrap();
    assert!(motion["payload"]["data"]["to"].is_string());
    assert!(motion["payload"]["data"]["title"].is_string());
    let delivered = store::deliveries(&pool, created.id, 500).await.unwrap();
    assert!(delivered
        .iter()
        .all(|delivery| delivery.status == "delivered" && delivery.response_code == Some(204)));
    receiver.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_endpoint_receives_only_the_types_and_tenants_it_wants(pool: PgPool) {
    let world = world(&pool).await;
    let port = free_port();
    let values = EndpointValues {
        event_types: vec!["evidence.changed".to_owned()],
        tenant_ids: vec![world.b],
        ..endpoint(&format!("http://127.0.0.1:{port}/hook"))
    };
    let (_, secret) = store::create(&pool, &values, "ops@example.com")
        .await
        .unwrap();
    let receiver = Receiver::start(port, &[&secret], &[]).await;
    failed_proof_run(&pool).await;
    attach_everything(&pool, &world.operator, "acme", "CRM-1").await;
    attach_everything(&pool, &world.operator, "borealis", "CRM-2").await;
    deliver_all(&pool, &settings(), Duration::from_secs(20)).await;
    let received = receiver.received();
    assert!(!received.is_empty());
    assert!(received
        .iter()
        .all(|line| line["type"] == "evidence.changed"
            && line["payload"]["data"]["tenant"] == "borealis"));
    receiver.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_receiver_that_refuses_is_retried_with_backoff_until_it_accepts(pool: PgPool) {
    let port = free_port();
    let (created, secret) = store::create(
        &pool,
        &endpoint(&format!("http://127.0.0.1:{port}/hook")),
        "ops@example.com",
    )
    .await
    .unwrap();
    // Answers 503 three times before it accepts.
    let receiver = Receiver::start(port, &[&secret], &["--fail-first", "3"]).await;
    failed_proof_run(&pool).await;
    deliver_all(&pool, &settings(), Duration::from_secs(20)).await;
    let delivered = store::deliveries(&pool, created.id, 10).await.unwrap();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].status, "delivered");
    assert_eq!(delivered[0].attempts, 4, "three refusals, then delivered");
    let received = receiver.received();
    assert_eq!(types(&received), ["proof.failed"]);
    receiver.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_endpoint_failing_for_the_whole_period_is_disabled_and_can_be_redelivered(pool: PgPool) {
    let port = free_port(); // nothing listens here yet
    let (created, secret) = store::create(
        &pool,
        &endpoint(&format!("http://127.0.0.1:{port}/hook")),
        "ops@example.com",
    )
    .await
    .unwrap();
    failed_proof_run(&pool).await;
    let settings = WebhookSettings {
        disable_after: Duration::from_millis(500),
        ..settings()
    };
    deliver_all(&pool, &settings, Duration::from_secs(5)).await;
    let endpoint_now = store::find(&pool, created.id).await.unwrap().unwrap();
    assert!(
        !endpoint_now.enabled,
        "disabled after failing for the period"
    );
    assert!(endpoint_now
        .disabled_reason
        .as_deref()
        .unwrap()
        .contains("failed deliveries"));
    let failed = store::deliveries(&pool, created.id, 10).await.unwrap();
    assert_eq!(failed[0].status, "failed");
    assert!(
        failed[0].attempts >= 2,
        "retried before giving up: {failed:?}"
    );
    assert!(failed[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("could not connect"));

    // The receiver is back: the operator enables the endpoint and redelivers.
    let receiver = Receiver::start(port, &[&secret], &[]).await;
    let mut values = endpoint(&format!("http://127.0.0.1:{port}/hook"));
    values.enabled = true;
    store::update(&pool, created.id, &values).await.unwrap();
    assert!(store::redeliver(&pool, created.id, failed[0].id)
        .await
        .unwrap());
    deliver_all(&pool, &settings, Duration::from_secs(10)).await;
    assert_eq!(types(&receiver.received()), ["proof.failed"]);
    let again = store::deliveries(&pool, created.id, 10).await.unwrap();
    assert_eq!(again[0].status, "delivered");
    receiver.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn private_destinations_are_refused_at_delivery_unless_allowed(pool: PgPool) {
    let port = free_port();
    let (created, secret) = store::create(
        &pool,
        &endpoint(&format!("http://127.0.0.1:{port}/hook")),
        "ops@example.com",
    )
    .await
    .unwrap();
    let receiver = Receiver::start(port, &[&secret], &[]).await;
    failed_proof_run(&pool).await;
    let strict = WebhookSettings {
        allow_private: false,
        ..settings()
    };
    let client = deliver::client(&strict).unwrap();
    worker::run_once(&pool, &client, &strict, PUBLIC_URL, None)
        .await
        .unwrap();
    let refused = store::deliveries(&pool, created.id, 10).await.unwrap();
    assert_eq!(refused[0].status, "pending");
    assert!(refused[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("non-public address"));
    assert!(
        receiver.received().is_empty(),
        "nothing reached the private address"
    );
    receiver.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn after_a_rotation_both_secrets_verify_and_slack_gets_a_message(pool: PgPool) {
    let port = free_port();
    let (created, old) = store::create(
        &pool,
        &endpoint(&format!("http://127.0.0.1:{port}/hook")),
        "ops@example.com",
    )
    .await
    .unwrap();
    let new = store::rotate(&pool, created.id, chrono::Duration::hours(24))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(old, new);
    // A receiver that knows only the old secret still verifies during the overlap.
    let old_only = Receiver::start(port, &[&old], &[]).await;
    failed_proof_run(&pool).await;
    deliver_all(&pool, &settings(), Duration::from_secs(10)).await;
    assert_eq!(types(&old_only.received()), ["proof.failed"]);
    old_only.stop().await;

    // The Slack format: a message with a link, still signed.
    let port = free_port();
    let values = EndpointValues {
        format: "slack".to_owned(),
        ..endpoint(&format!("http://127.0.0.1:{port}/hook"))
    };
    let (_, secret) = store::create(&pool, &values, "ops@example.com")
        .await
        .unwrap();
    let slack = Receiver::start(port, &[&secret], &[]).await;
    failed_proof_run(&pool).await;
    deliver_all(&pool, &settings(), Duration::from_secs(10)).await;
    let received = slack.received();
    assert_eq!(received.len(), 1);
    let text = received[0]["payload"]["text"].as_str().unwrap();
    assert!(text.starts_with("Proof failed: "), "{text}");
    assert!(
        text.contains("<https://clearance.example/|Open in Clearance>"),
        "{text}"
    );
    slack.stop().await;
}
