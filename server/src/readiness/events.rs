//! Readiness events in PostgreSQL: each watched subject's last known state
//! (`readiness_watch`) and an event for each change (`readiness_events`, and
//! the catalogue's event in the outbox, in the same transaction). Which change makes which event is the pure
//! domain's ([`app::domain::freshness`]); this module only stores it, once.

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use app::domain::Register;

use app::domain::events as catalogue;
use app::domain::freshness::{
    proof_event, source_event, EventKind, FreshnessState, ProofFreshness, SourceState,
};

/// One subject's state as just observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Watched {
    Proof {
        id: String,
        freshness: ProofFreshness,
        /// The register's warning margin, to date a warning at its start.
        margin: Duration,
    },
    Source {
        label: String,
        state: SourceState,
        /// When the source last answered, while it is quiet.
        last_seen: Option<DateTime<Utc>>,
    },
}

/// A stored event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadinessEvent {
    pub id: i64,
    pub kind: String,
    pub subject_kind: String,
    pub subject: String,
    pub occurred_at: DateTime<Utc>,
    pub detail: String,
}

impl Watched {
    fn key(&self) -> (&'static str, &str) {
        match self {
            Self::Proof { id, .. } => ("proof", id),
            Self::Source { label, .. } => ("source", label),
        }
    }

    fn state(&self) -> &'static str {
        match self {
            Self::Proof { freshness, .. } => freshness.state.as_str(),
            Self::Source { state, .. } => state.as_str(),
        }
    }

    /// The event a change from `previous` (a stored state) makes, when it
    /// happened by the data, and in public-safe words.
    fn event(
        &self,
        previous: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<(EventKind, DateTime<Utc>, String)> {
        let time = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        match self {
            Self::Proof {
                freshness, margin, ..
            } => {
                let kind = proof_event(previous.and_then(FreshnessState::parse), freshness.state)?;
                let expires_at = freshness.expires_at.unwrap_or(now);
                let last_run = freshness.last_run_at.map_or_else(String::new, time);
                Some(match kind {
                    EventKind::ProofExpiring => (
                        kind,
                        (expires_at - *margin).min(now),
                        format!("expires at {}", time(expires_at)),
                    ),
                    EventKind::ProofExpired => (
                        kind,
                        expires_at.min(now),
                        format!("expired at {}; last run {last_run}", time(expires_at)),
                    ),
                    _ => (
                        kind,
                        freshness.last_run_at.unwrap_or(now),
                        format!("passing again: run at {last_run}"),
                    ),
                })
            }
            Self::Source {
                state, last_seen, ..
            } => {
                let kind = source_event(previous.and_then(SourceState::parse), *state)?;
                Some(match kind {
                    EventKind::SourceStale => (
                        kind,
                        now,
                        last_seen.map_or_else(
                            || "no answer yet".to_owned(),
                            |at| format!("no answer since {}", time(at)),
                        ),
                    ),
                    _ => (kind, now, "answering again".to_owned()),
                })
            }
        }
    }
}

/// Stores each subject's state and, when it changed, its event. Each subject
/// is locked while it is compared and written, so processes sharing the
/// database record a change once, however often they poll. Answers how many
/// events were written.
pub async fn record(
    pool: &PgPool,
    register: &Register,
    watched: &[Watched],
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let mut written = 0;
    for subject in watched {
        let (subject_kind, name) = subject.key();
        let mut tx = pool.begin().await?;
        let Some(previous) = swap_state(&mut tx, subject_kind, name, subject.state(), now).await?
        else {
            tx.commit().await?;
            continue;
        };
        if let Some((kind, occurred_at, detail)) = subject.event(previous.as_deref(), now) {
            sqlx::query!(
                r#"INSERT INTO readiness_events (kind, subject_kind, subject, occurred_at, detail)
                   VALUES ($1, $2, $3, $4, $5)"#,
                kind.as_str(),
                subject_kind,
                name,
                occurred_at,
                detail
            )
            .execute(&mut *tx)
            .await?;
            let event = match subject {
                Watched::Proof { id, .. } => {
                    catalogue::proof_event(register, kind.into(), id, &detail, occurred_at)
                }
                Watched::Source { label, .. } => {
                    catalogue::source_event(kind.into(), label, &detail, occurred_at)
                }
            };
            crate::events::emit(&mut tx, &event).await?;
            written += 1;
        }
        tx.commit().await?;
    }
    Ok(written)
}

/// Within the caller's transaction: locks the watched subject, and when its
/// stored state differs from `state`, stores `state` and answers the previous
/// one (`Some(None)` for a subject never seen); `None` when nothing changed.
pub async fn swap_state(
    conn: &mut PgConnection,
    subject_kind: &str,
    name: &str,
    state: &str,
    now: DateTime<Utc>,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtext('readiness_watch:' || $1 || ':' || $2))",
        subject_kind,
        name
    )
    .execute(&mut *conn)
    .await?;
    let previous = sqlx::query_scalar!(
        "SELECT state FROM readiness_watch WHERE subject_kind = $1 AND subject = $2",
        subject_kind,
        name
    )
    .fetch_optional(&mut *conn)
    .await?;
    if previous.as_deref() == Some(state) {
        return Ok(None);
    }
    sqlx::query!(
        r#"INSERT INTO readiness_watch (subject_kind, subject, state, since)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (subject_kind, subject)
           DO UPDATE SET state = excluded.state, since = excluded.since"#,
        subject_kind,
        name,
        state,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(Some(previous))
}

/// The newest `limit` events, newest first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<ReadinessEvent>, sqlx::Error> {
    sqlx::query_as!(
        ReadinessEvent,
        r#"SELECT id, kind, subject_kind, subject, occurred_at, detail
           FROM readiness_events ORDER BY id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(pool)
    .await
}
