//! The notification worker every server process runs: fans new events out to
//! their deliveries and mail, and sends what is due, every second, until
//! shutdown. The queues are shared through PostgreSQL, so several processes
//! split the work.

use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::fanout;
use crate::mail::{send as mail, MailSettings};
use crate::webhooks::{deliver, WebhookSettings};

/// How often the worker looks for new events and due deliveries.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// The mail settings and the transport built from them once.
pub type Mailer = (MailSettings, mail::Transport);

/// One round: every new event fanned out, then one batch of due deliveries
/// and one of due mail sent. Answers how many were attempted.
pub async fn run_once(
    pool: &PgPool,
    client: &reqwest::Client,
    settings: &WebhookSettings,
    public_url: &str,
    mailer: Option<&Mailer>,
) -> Result<usize, sqlx::Error> {
    let mail_links = mailer.map(|_| public_url);
    while fanout::run_once_with_mail(pool, mail_links).await? > 0 {}
    let mut attempted = deliver::run_once(pool, client, settings, public_url).await?;
    if let Some((mail_settings, transport)) = mailer {
        attempted += mail::run_once(pool, transport, mail_settings).await?;
    }
    Ok(attempted)
}

/// Runs rounds until `shutdown`; a full batch is followed at once by the next.
pub fn spawn(
    pool: PgPool,
    settings: WebhookSettings,
    public_url: String,
    mail_settings: Option<MailSettings>,
    shutdown: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let client = deliver::client(&settings)?;
    let mailer = match mail_settings {
        Some(mail_settings) => {
            let transport = mail::transport(&mail_settings)?;
            Some((mail_settings, transport))
        }
        None => None,
    };
    Ok(tokio::spawn(async move {
        loop {
            let attempted =
                match run_once(&pool, &client, &settings, &public_url, mailer.as_ref()).await {
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
