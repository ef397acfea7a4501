//! The stored history the blocker view reads: recent proof runs, and since when
//! each dependency has had its current state.

use std::sync::Arc;

use sqlx::PgPool;

use app::domain::register::Blocker;
use app::live::{HistoryStore, StoreError, StoreFuture};
use app::live_state::{BlockerHistory, ReadinessSnapshot, RECENT_RUNS};

use crate::proofs;

/// [`HistoryStore`] over PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgHistory {
    pool: PgPool,
}

impl PgHistory {
    pub fn shared(pool: PgPool) -> Arc<dyn HistoryStore> {
        Arc::new(Self { pool })
    }

    async fn read(
        &self,
        readiness: &ReadinessSnapshot,
        blocker: &Blocker,
    ) -> Result<BlockerHistory, sqlx::Error> {
        let runs = proofs::recent_runs(&self.pool, &blocker.proof, RECENT_RUNS).await?;
        let names: Vec<String> = blocker.dependencies.clone();
        let states: Vec<String> = names
            .iter()
            .map(|name| readiness.inputs.dependency(name).as_str().to_owned())
            .collect();
        // For each dependency: the oldest snapshot after the newest one in which it
        // had another state. A name absent from a snapshot counted as missing.
        let since = sqlx::query!(
            r#"SELECT d.name AS "name!",
                      (SELECT min(s.first_seen_at) FROM readiness_snapshots s
                        WHERE s.source = $1
                          AND s.id > coalesce(
                              (SELECT max(o.id) FROM readiness_snapshots o
                                WHERE o.source = $1
                                  AND coalesce(o.inputs->'dependencies'->>d.name, 'missing') <> d.state),
                              0)) AS since
               FROM unnest($2::text[], $3::text[]) AS d(name, state)"#,
            readiness.source,
            &names,
            &states,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(BlockerHistory {
            runs,
            dependency_since: since
                .into_iter()
                .filter_map(|row| row.since.map(|since| (row.name, since)))
                .collect(),
        })
    }
}

impl HistoryStore for PgHistory {
    fn blocker_history<'a>(
        &'a self,
        readiness: &'a ReadinessSnapshot,
        blocker: &'a Blocker,
    ) -> StoreFuture<'a, BlockerHistory> {
        Box::pin(async move {
            self.read(readiness, blocker).await.map_err(|error| {
                tracing::warn!(%error, blocker = %blocker.id, "could not read a blocker's history");
                StoreError(error.to_string())
            })
        })
    }
}
