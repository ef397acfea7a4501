//! The readiness snapshot history in PostgreSQL.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use app::clearance::ReadinessSnapshot;
use app::domain::Evaluation;

/// Stores `snapshot` unless it equals the newest stored state of its source, and
/// answers when that state was first seen.
///
/// The transaction-scoped advisory lock serialises writers per source, so two
/// server processes observing the same change store it once.
pub async fn record(
    pool: &PgPool,
    snapshot: &ReadinessSnapshot,
    evaluation: &Evaluation,
) -> Result<DateTime<Utc>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtext('readiness_snapshots:' || $1))",
        snapshot.source
    )
    .execute(&mut *tx)
    .await?;
    let latest = sqlx::query!(
        r#"SELECT digest, first_seen_at FROM readiness_snapshots
           WHERE source = $1 ORDER BY id DESC LIMIT 1"#,
        snapshot.source
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(latest) = latest.filter(|latest| latest.digest == snapshot.digest) {
        tx.commit().await?;
        return Ok(latest.first_seen_at);
    }
    let inputs = serde_json::to_value(&snapshot.inputs)
        .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    let first_seen_at = sqlx::query_scalar!(
        r#"INSERT INTO readiness_snapshots (source, digest, inputs, advisory, strict, live_blockers)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING first_seen_at"#,
        snapshot.source,
        snapshot.digest,
        inputs,
        evaluation.advisory.as_str(),
        evaluation.strict.as_str(),
        i32::try_from(evaluation.live_blockers).unwrap_or(i32::MAX),
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(first_seen_at)
}

/// A stored snapshot, newest first in [`history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub digest: String,
    pub advisory: String,
    pub strict: String,
    pub live_blockers: i32,
    pub first_seen_at: DateTime<Utc>,
}

/// The newest `limit` stored snapshots of `source`.
pub async fn history(
    pool: &PgPool,
    source: &str,
    limit: i64,
) -> Result<Vec<StoredSnapshot>, sqlx::Error> {
    sqlx::query_as!(
        StoredSnapshot,
        r#"SELECT digest, advisory, strict, live_blockers, first_seen_at
           FROM readiness_snapshots WHERE source = $1 ORDER BY id DESC LIMIT $2"#,
        source,
        limit
    )
    .fetch_all(pool)
    .await
}
