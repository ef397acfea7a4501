//! The readiness history in PostgreSQL: a snapshot per changed state, and the
//! changes between successive snapshots of a source.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::events;

use app::domain::events::{self as event, NewEvent};
use app::domain::{
    changes_between, Evaluation, EvaluationSummary, Readiness, ReadinessChange, Register,
};
use app::live_state::{HistoryEntry, HistoryPoint, ReadinessSnapshot};

/// Stores `snapshot` unless it equals the newest stored state of its source, with
/// the changes since that state and their events (motions' statuses, blockers
/// going live or clearing), and answers when the state was first seen.
///
/// The transaction-scoped advisory lock serialises writers per source, so two
/// server processes observing the same change store it once.
pub async fn record(
    pool: &PgPool,
    register: &Register,
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
        r#"SELECT digest, first_seen_at, summary FROM readiness_snapshots
           WHERE source = $1 ORDER BY id DESC LIMIT 1"#,
        snapshot.source
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(latest) = latest
        .as_ref()
        .filter(|latest| latest.digest == snapshot.digest)
    {
        tx.commit().await?;
        return Ok(latest.first_seen_at);
    }
    let summary = evaluation.summary();
    let inserted = sqlx::query!(
        r#"INSERT INTO readiness_snapshots
               (source, digest, inputs, advisory, strict, live_blockers, summary)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id, first_seen_at"#,
        snapshot.source,
        snapshot.digest,
        to_json(&snapshot.inputs)?,
        evaluation.advisory.as_str(),
        evaluation.strict.as_str(),
        i32::try_from(evaluation.live_blockers).unwrap_or(i32::MAX),
        to_json(&summary)?,
    )
    .fetch_one(&mut *tx)
    .await?;
    // The first snapshot of a source has nothing to compare with.
    let previous: Option<EvaluationSummary> = latest
        .and_then(|latest| latest.summary)
        .and_then(|summary| serde_json::from_value(summary).ok());
    if let Some(previous) = previous {
        for change in changes_between(&previous, &summary) {
            let (kind, subject) = describe(&change);
            sqlx::query!(
                r#"INSERT INTO readiness_changes (snapshot_id, source, changed_at, kind, subject, change)
                   VALUES ($1, $2, $3, $4, $5, $6)"#,
                inserted.id,
                snapshot.source,
                inserted.first_seen_at,
                kind,
                subject,
                to_json(&change)?,
            )
            .execute(&mut *tx)
            .await?;
            if let Some(event) = change_event(register, evaluation, &change, inserted.first_seen_at)
            {
                events::emit(&mut tx, &event).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(inserted.first_seen_at)
}

/// The catalogue's event for a change, if it has one (the register's overall
/// readiness levels are not events: the motions' statuses carry them).
fn change_event(
    register: &Register,
    evaluation: &Evaluation,
    change: &ReadinessChange,
    at: DateTime<Utc>,
) -> Option<NewEvent> {
    match change {
        ReadinessChange::BlockerWentLive { blocker } => {
            Some(event::blocker_changed(register, blocker, true, at))
        }
        ReadinessChange::BlockerCleared { blocker } => {
            Some(event::blocker_changed(register, blocker, false, at))
        }
        ReadinessChange::MotionChanged { motion, from, to } => {
            let reasons = evaluation
                .motion(motion)
                .map(|motion| motion.reasons.as_slice())
                .unwrap_or_default();
            Some(event::motion_status_changed(
                register, motion, *from, *to, reasons, at,
            ))
        }
        ReadinessChange::AdvisoryChanged { .. } | ReadinessChange::StrictChanged { .. } => None,
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<serde_json::Value, sqlx::Error> {
    serde_json::to_value(value).map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

fn describe(change: &ReadinessChange) -> (&'static str, Option<&str>) {
    match change {
        ReadinessChange::AdvisoryChanged { .. } => ("advisory_changed", None),
        ReadinessChange::StrictChanged { .. } => ("strict_changed", None),
        ReadinessChange::BlockerWentLive { blocker } => ("blocker_went_live", Some(blocker)),
        ReadinessChange::BlockerCleared { blocker } => ("blocker_cleared", Some(blocker)),
        ReadinessChange::MotionChanged { motion, .. } => ("motion_changed", Some(motion)),
    }
}

/// The newest `limit` snapshots of `source`, oldest first, for the chart.
pub async fn points(
    pool: &PgPool,
    source: &str,
    limit: i64,
) -> Result<Vec<HistoryPoint>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT first_seen_at, live_blockers, advisory FROM readiness_snapshots
           WHERE source = $1 ORDER BY id DESC LIMIT $2"#,
        source,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .rev()
        .map(|row| HistoryPoint {
            at: row.first_seen_at,
            live_blockers: u32::try_from(row.live_blockers).unwrap_or(0),
            advisory: match row.advisory.as_str() {
                "ready" => Readiness::Ready,
                "degraded" => Readiness::Degraded,
                _ => Readiness::NotReady,
            },
        })
        .collect())
}

/// The newest `limit` changes of `source`, newest first.
pub async fn changes(
    pool: &PgPool,
    source: &str,
    limit: i64,
) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT changed_at, change FROM readiness_changes
           WHERE source = $1 ORDER BY id DESC LIMIT $2"#,
        source,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let change = serde_json::from_value(row.change).ok()?;
            Some(HistoryEntry {
                at: row.changed_at,
                change,
                title: None,
            })
        })
        .collect())
}
