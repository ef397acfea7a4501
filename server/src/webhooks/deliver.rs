//! Sending webhook deliveries, at least once. A worker claims due deliveries
//! (`FOR UPDATE SKIP LOCKED`, held by a lease), so any number of server
//! processes share the queue and each attempt is made by one of them; a
//! process that dies mid-attempt leaves its lease to run out, and another (or
//! its restart) tries again. Receivers deduplicate on `webhook-id`, the
//! event's stable id (also sent as `Idempotency-Key`).
//!
//! A 2xx answer is delivered; anything else (or no answer within the timeout)
//! is retried with exponential backoff and jitter. An endpoint that has done
//! nothing but fail for the configured period is disabled and its pending
//! deliveries marked failed.

use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde_json::{json, Value};
use sqlx::PgPool;

use app::domain::events::{Event, EventType};

use super::destination::{check_url, PublicOnly};
use super::settings::{backoff, WebhookSettings};
use super::signing;
use crate::tenancy::{self, Acting};

/// Deliveries claimed at once by one process.
const BATCH: i64 = 32;
/// The longest error text kept for operators.
const ERROR_CHARS: usize = 300;

/// A claimed delivery with what sending it needs.
struct Claimed {
    id: i64,
    endpoint_id: i64,
    attempts: i32,
    url: String,
    format: String,
    secrets: Vec<String>,
    event: Event,
}

/// What one attempt came to.
#[derive(Debug)]
enum Outcome {
    Delivered(u16),
    Failed { code: Option<u16>, error: String },
}

/// The HTTP client deliveries are sent with: no redirects, the attempt's
/// timeout, and a resolver that refuses internal addresses unless allowed.
pub fn client(settings: &WebhookSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(PublicOnly {
            allow_private: settings.allow_private,
        }))
        .user_agent(concat!("Clearance-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Claims due deliveries, sends them concurrently and records each outcome.
/// Answers how many were attempted.
pub async fn run_once(
    pool: &PgPool,
    client: &reqwest::Client,
    settings: &WebhookSettings,
    public_url: &str,
) -> Result<usize, sqlx::Error> {
    let claimed = claim(pool, settings.lease()).await?;
    let attempted = claimed.len();
    let outcomes = join_all(
        claimed
            .iter()
            .map(|delivery| attempt(client, settings, public_url, delivery)),
    )
    .await;
    for (delivery, outcome) in claimed.iter().zip(outcomes) {
        record(pool, settings, delivery, outcome).await?;
    }
    Ok(attempted)
}

async fn claim(pool: &PgPool, lease: Duration) -> Result<Vec<Claimed>, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::System).await?;
    let rows = sqlx::query!(
        r#"WITH due AS (
               SELECT d.id FROM deliveries d
               JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
               WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                 AND (d.leased_until IS NULL OR d.leased_until <= now())
               ORDER BY d.next_attempt_at, d.id
               LIMIT $1
               FOR UPDATE OF d SKIP LOCKED),
           claimed AS (
               UPDATE deliveries d
               SET leased_until = now() + make_interval(secs => $2),
                   attempts = d.attempts + 1, last_attempt_at = now()
               FROM due WHERE d.id = due.id
               RETURNING d.id, d.endpoint_id, d.event_id, d.attempts)
           SELECT c.id AS "id!", c.endpoint_id AS "endpoint_id!", c.attempts AS "attempts!",
                  w.url, w.format, w.secret,
                  CASE WHEN w.previous_expires_at > now() THEN w.previous_secret END AS previous_secret,
                  e.event_id, e.type AS kind, e.tenant_id, e.motion, e.occurred_at, e.path, e.data
           FROM claimed c
           JOIN webhook_endpoints w ON w.id = c.endpoint_id
           JOIN events e ON e.id = c.event_id
           ORDER BY c.id"#,
        BATCH,
        lease.as_secs_f64()
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let kind = EventType::parse(&row.kind)?;
            Some(Claimed {
                id: row.id,
                endpoint_id: row.endpoint_id,
                attempts: row.attempts,
                url: row.url,
                format: row.format,
                secrets: std::iter::once(row.secret)
                    .chain(row.previous_secret)
                    .collect(),
                event: Event {
                    id: row.event_id,
                    kind,
                    tenant_id: row.tenant_id,
                    motion: row.motion,
                    occurred_at: row.occurred_at,
                    path: row.path,
                    data: row.data,
                },
            })
        })
        .collect())
}

/// The body a delivery sends: the Standard Webhooks payload, or a Slack message.
pub fn body(format: &str, event: &Event, public_url: &str) -> Value {
    if format == "slack" {
        let url = event.url(public_url);
        json!({
            "text": format!("{} <{url}|Open in Clearance>", event.summary()),
            "unfurl_links": false,
        })
    } else {
        event.payload(public_url)
    }
}

async fn attempt(
    client: &reqwest::Client,
    settings: &WebhookSettings,
    public_url: &str,
    delivery: &Claimed,
) -> Outcome {
    // Checked again at every attempt: the rules may have tightened since.
    if let Err(error) = check_url(&delivery.url, settings.allow_private) {
        return Outcome::Failed {
            code: None,
            error: error.to_string(),
        };
    }
    let body = match serde_json::to_vec(&body(&delivery.format, &delivery.event, public_url)) {
        Ok(body) => body,
        Err(error) => {
            return Outcome::Failed {
                code: None,
                error: format!("could not encode the payload: {error}"),
            }
        }
    };
    let timestamp = Utc::now().timestamp();
    let secrets: Vec<&str> = delivery.secrets.iter().map(String::as_str).collect();
    let signature = signing::signature(&secrets, &delivery.event.id, timestamp, &body);
    let sent = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header("idempotency-key", &delivery.event.id)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => {
            Outcome::Delivered(response.status().as_u16())
        }
        Ok(response) => Outcome::Failed {
            code: Some(response.status().as_u16()),
            error: format!("the endpoint answered {}", response.status()),
        },
        Err(error) => Outcome::Failed {
            code: None,
            error: describe(error),
        },
    }
}

/// A transport error in words, without the URL (which may carry a token in
/// its query) and cut to a length a page can show.
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = if error.is_timeout() {
        "no answer within the timeout".to_owned()
    } else if error.is_connect() {
        let mut text = "could not connect".to_owned();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text = format!("could not connect: {cause}");
            source = cause.source();
        }
        text
    } else {
        error.to_string()
    };
    if text.chars().count() > ERROR_CHARS {
        text = text.chars().take(ERROR_CHARS).collect();
    }
    text
}

async fn record(
    pool: &PgPool,
    settings: &WebhookSettings,
    delivery: &Claimed,
    outcome: Outcome,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    match outcome {
        Outcome::Delivered(code) => {
            sqlx::query!(
                r#"UPDATE deliveries SET status = 'delivered', delivered_at = now(),
                          response_code = $2, last_error = NULL, leased_until = NULL
                   WHERE id = $1"#,
                delivery.id,
                i32::from(code)
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!(
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1",
                delivery.endpoint_id
            )
            .execute(&mut *tx)
            .await?;
        }
        Outcome::Failed { code, error } => {
            let attempts = u32::try_from(delivery.attempts).unwrap_or(1);
            let unit = f64::from(OsRng.next_u32()) / f64::from(u32::MAX);
            let wait = backoff(settings.retry_base, settings.retry_max, attempts, unit);
            tracing::info!(
                delivery = delivery.id,
                endpoint = delivery.endpoint_id,
                attempts,
                %error,
                retry_in_ms = wait.as_millis() as u64,
                "webhook delivery failed"
            );
            sqlx::query!(
                r#"UPDATE deliveries SET next_attempt_at = now() + make_interval(secs => $2),
                          response_code = $3, last_error = $4, leased_until = NULL
                   WHERE id = $1"#,
                delivery.id,
                wait.as_secs_f64(),
                code.map(i32::from),
                error
            )
            .execute(&mut *tx)
            .await?;
            let failing_since: Option<DateTime<Utc>> = sqlx::query_scalar!(
                r#"UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, now())
                   WHERE id = $1 RETURNING failing_since"#,
                delivery.endpoint_id
            )
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
            let limit =
                chrono::Duration::from_std(settings.disable_after).unwrap_or(chrono::Duration::MAX);
            if failing_since.is_some_and(|since| Utc::now() - since >= limit) {
                disable(&mut tx, delivery.endpoint_id, settings.disable_after).await?;
            }
        }
    }
    tx.commit().await
}

/// Disables an endpoint that has failed for too long, with its reason, and
/// gives up its pending deliveries.
async fn disable(
    conn: &mut sqlx::PgConnection,
    endpoint_id: i64,
    after: Duration,
) -> Result<(), sqlx::Error> {
    let reason = format!(
        "disabled by the server after {} of failed deliveries",
        humanize(after)
    );
    tracing::warn!(endpoint = endpoint_id, %reason, "webhook endpoint disabled");
    sqlx::query!(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2 WHERE id = $1",
        endpoint_id,
        reason
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"UPDATE deliveries SET status = 'failed', leased_until = NULL
           WHERE endpoint_id = $1 AND status = 'pending'"#,
        endpoint_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn humanize(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        s if s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s % 3_600 == 0 => format!("{} hours", s / 3_600),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}
