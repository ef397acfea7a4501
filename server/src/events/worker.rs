//! The notification worker every server process runs: fans new events out to
//! their deliveries and sends what is due, every second, until shutdown. The
//! queue is shared through PostgreSQL, so several processes split the work.

use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::fanout;
use crate::webhooks::{deliver, WebhookSettings};

/// How often the worker looks for new events and due deliveries.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// One round: every new event fanned out, then one batch of due deliveries
/// sent. Answers how many deliveries were attempted.
pub async fn run_once(
    pool: &PgPool,
    client: &reqwest::Client,
    settings: &WebhookSettings,
    public_url: &str,
) -> Result<usize, sqlx::Error> {
    while fanout::run_once(pool).await? > 0 {}
    deliver::run_once(pool, client, settings, public_url).await
}

/// Runs rounds until `shutdown`; a full batch is followed at once by the next.
pub fn spawn(
    pool: PgPool,
    settings: WebhookSettings,
    public_url: String,
    shutdown: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let client = deliver::client(&settings)?;
    Ok(tokio::spawn(async move {
        loop {
            let attempted = match run_once(&pool, &client, &settings, &public_url).await {
                Ok(attempted) => attempted,
                Err(error) => {
                    tracing::warn!(%error, "notification worker: database error; will retry");
                    0
                }
            };
            if attempted > 0 {
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(INTERVAL) => {}
            }
        }
    }))
}
