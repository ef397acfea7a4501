//! Webhook endpoints and their deliveries in PostgreSQL. Values arrive checked
//! (the handlers check forms against the register and the destination rules);
//! the signing secret leaves this module only when it is made or rotated.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use super::signing;

/// An endpoint as operators see it: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    /// Event types it wants; empty: every type.
    pub event_types: Vec<String>,
    /// Motions it wants (for events about a motion); empty: every motion.
    pub motions: Vec<String>,
    /// Tenants it wants (for tenant events); empty: every tenant.
    pub tenant_ids: Vec<i64>,
    /// `standard` (Standard Webhooks JSON) or `slack` (a Slack-compatible message).
    pub format: String,
    pub enabled: bool,
    /// Why the server disabled it, when it did.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret rotated out still signs beside the new one.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// What an endpoint is saved from, already checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointValues {
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub motions: Vec<String>,
    pub tenant_ids: Vec<i64>,
    pub format: String,
    pub enabled: bool,
}

/// One event's delivery to one endpoint.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: i64,
    /// The event's stable id (the `webhook-id` header).
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub response_code: Option<i32>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Creates an endpoint; answers it with its signing secret (shown once).
pub async fn create(
    pool: &PgPool,
    values: &EndpointValues,
    actor: &str,
) -> Result<(Endpoint, String), sqlx::Error> {
    let secret = signing::new_secret();
    let id = sqlx::query_scalar!(
        r#"INSERT INTO webhook_endpoints
               (url, description, event_types, motions, tenant_ids, format, enabled, secret, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"#,
        values.url,
        values.description,
        &values.event_types,
        &values.motions,
        &values.tenant_ids,
        values.format,
        values.enabled,
        secret,
        actor
    )
    .fetch_one(pool)
    .await?;
    let endpoint = find(pool, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    Ok((endpoint, secret))
}

/// Every endpoint, oldest first.
pub async fn list(pool: &PgPool) -> Result<Vec<Endpoint>, sqlx::Error> {
    sqlx::query_as!(
        Endpoint,
        r#"SELECT id, url, description, event_types, motions, tenant_ids, format, enabled,
                  disabled_reason, failing_since, previous_expires_at AS previous_secret_expires_at,
                  created_by, created_at
           FROM webhook_endpoints ORDER BY id"#
    )
    .fetch_all(pool)
    .await
}

pub async fn find(pool: &PgPool, id: i64) -> Result<Option<Endpoint>, sqlx::Error> {
    sqlx::query_as!(
        Endpoint,
        r#"SELECT id, url, description, event_types, motions, tenant_ids, format, enabled,
                  disabled_reason, failing_since, previous_expires_at AS previous_secret_expires_at,
                  created_by, created_at
           FROM webhook_endpoints WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await
}

/// Replaces an endpoint's settings. Enabling it clears why it was disabled and
/// its failure streak; its failed deliveries stay failed until redelivered.
pub async fn update(
    pool: &PgPool,
    id: i64,
    values: &EndpointValues,
) -> Result<Option<Endpoint>, sqlx::Error> {
    let updated = sqlx::query!(
        r#"UPDATE webhook_endpoints
           SET url = $2, description = $3, event_types = $4, motions = $5, tenant_ids = $6,
               format = $7, enabled = $8,
               disabled_reason = CASE WHEN $8 THEN NULL ELSE disabled_reason END,
               failing_since = CASE WHEN $8 AND NOT enabled THEN NULL ELSE failing_since END
           WHERE id = $1"#,
        id,
        values.url,
        values.description,
        &values.event_types,
        &values.motions,
        &values.tenant_ids,
        values.format,
        values.enabled
    )
    .execute(pool)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(None);
    }
    find(pool, id).await
}

/// A new signing secret (answered once); the old one keeps signing beside it
/// for `overlap`, so receivers can switch without losing a delivery.
pub async fn rotate(
    pool: &PgPool,
    id: i64,
    overlap: Duration,
) -> Result<Option<String>, sqlx::Error> {
    let secret = signing::new_secret();
    let updated = sqlx::query!(
        r#"UPDATE webhook_endpoints
           SET previous_secret = secret, previous_expires_at = now() + make_interval(secs => $3),
               secret = $2
           WHERE id = $1"#,
        id,
        secret,
        overlap.num_seconds() as f64
    )
    .execute(pool)
    .await?;
    Ok((updated.rows_affected() == 1).then_some(secret))
}

/// Deletes an endpoint with its deliveries.
pub async fn delete(pool: &PgPool, id: i64) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!("DELETE FROM webhook_endpoints WHERE id = $1", id)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// An endpoint's newest `limit` deliveries, newest first.
pub async fn deliveries(
    pool: &PgPool,
    endpoint_id: i64,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    let mut tx = crate::tenancy::begin(pool, crate::tenancy::Acting::System).await?;
    let found = sqlx::query_as!(
        Delivery,
        r#"SELECT d.id, e.event_id, e.type AS event_type, d.status, d.attempts,
                  d.next_attempt_at, d.last_attempt_at, d.last_error, d.response_code,
                  d.delivered_at, d.created_at
           FROM deliveries d JOIN events e ON e.id = d.event_id
           WHERE d.endpoint_id = $1 ORDER BY d.id DESC LIMIT $2"#,
        endpoint_id,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(found)
}

/// Queues a delivery again now (attempts are kept, so its history shows).
pub async fn redeliver(
    pool: &PgPool,
    endpoint_id: i64,
    delivery_id: i64,
) -> Result<bool, sqlx::Error> {
    let queued = sqlx::query!(
        r#"UPDATE deliveries SET status = 'pending', next_attempt_at = now(), leased_until = NULL
           WHERE id = $1 AND endpoint_id = $2"#,
        delivery_id,
        endpoint_id
    )
    .execute(pool)
    .await?;
    Ok(queued.rows_affected() == 1)
}
