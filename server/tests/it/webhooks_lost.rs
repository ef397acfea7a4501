//! Nothing lost: the real server binary is killed (SIGKILL) with deliveries
//! pending while the receiver is down; the receiver comes back and two server
//! processes start on the same database. Every event reaches the receiver
//! (which verifies with `standardwebhooks` and deduplicates on `webhook-id`),
//! and none twice: each delivery is made by one of the two processes.
//!
//! The retry schedule is scaled down (a 1 s cap instead of 10 minutes) so the
//! outage fits in seconds; the schedule's own bounds are unit-tested in
//! `server::webhooks::settings`.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use server::webhooks::store;

use crate::common::served::server_command;
use crate::webhooks::{count, endpoint, failed_proof_run, free_port, Receiver};

const EVENTS: i64 = 20;

struct ServerProcess(Child);

impl ServerProcess {
    fn start(database_url: &str) -> Self {
        let port = free_port();
        let child = server_command(database_url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("CLEARANCE_PUBLIC_URL", "https://clearance.example")
            .env("CLEARANCE_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("CLEARANCE_WEBHOOK_TIMEOUT_SECS", "1")
            .env("CLEARANCE_WEBHOOK_RETRY_BASE_MS", "50")
            .env("CLEARANCE_WEBHOOK_RETRY_MAX_SECS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self(child)
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn deliveries_survive_a_killed_server_and_a_receiver_that_was_down(pool: PgPool) {
    // The processes serve as the serving role, as in production.
    let url = crate::common::serving_database_url(&pool);
    let port = free_port(); // the receiver is down: nothing listens here
    let (_, secret) = store::create(
        &pool,
        &endpoint(&format!("http://127.0.0.1:{port}/hook")),
        "ops@example.com",
    )
    .await
    .unwrap();
    let first = ServerProcess::start(&url);
    for _ in 0..EVENTS {
        failed_proof_run(&pool).await;
    }
    // The server has fanned every event out and tried each at least twice.
    wait_for("failed attempts", Duration::from_secs(60), async || {
        count(&pool, "SELECT count(*) FROM deliveries WHERE attempts >= 2").await == EVENTS
    })
    .await;
    first.kill();
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM deliveries WHERE status = 'pending'"
        )
        .await,
        EVENTS,
        "nothing was delivered while the receiver was down"
    );

    // The receiver is back; two processes share the queue.
    let receiver = Receiver::start(port, &[&secret], &[]).await;
    let _a = ServerProcess::start(&url);
    let _b = ServerProcess::start(&url);
    wait_for("every delivery", Duration::from_secs(90), async || {
        count(
            &pool,
            "SELECT count(*) FROM deliveries WHERE status = 'delivered'",
        )
        .await
            == EVENTS
    })
    .await;
    // Let a stray second attempt, if any were made, arrive before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = receiver.received();
    let mut ids: Vec<&str> = received
        .iter()
        .filter(|line| line["duplicate"] == false)
        .map(|line| line["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len() as i64, EVENTS, "every event arrived");
    assert!(
        received.iter().all(|line| line["rejected"].is_null()),
        "every delivery verifies"
    );
    let duplicates = received
        .iter()
        .filter(|line| line["duplicate"] == true)
        .count();
    assert_eq!(duplicates, 0, "no delivery was made by both processes");
    receiver.stop().await;
}
