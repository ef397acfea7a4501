//! One server of a set reads readiness. The remote poll and the register's health
//! checks must not run once per process: the server holding the session lock
//! `readiness:<source>` on a connection of its own reads the source, runs the
//! checks and stores each reading (`readiness_readings`); every other server
//! takes the stored reading. When the holder dies its connection closes,
//! PostgreSQL releases the lock, and the next reading of another server (within
//! a poll interval) takes the lead. A reading is stored on the lock's own
//! connection, so a server that lost its lock cannot write one.

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};

use app::domain::health_check::HealthCheckResult;

use super::{Observation, CHANGES_CHANNEL};

/// What the reading server saw: the source and the health checks.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reading {
    pub observation: Observation,
    pub health_checks: Vec<HealthCheckResult>,
}

impl Reading {
    /// Whether `other` says anything different, apart from when it was read.
    pub fn differs_from(&self, other: &Self) -> bool {
        self.gist() != other.gist()
    }

    /// What a reader sees: everything but the times of reading.
    fn gist(&self) -> impl PartialEq + '_ {
        let observation = &self.observation;
        let checks: Vec<_> = self
            .health_checks
            .iter()
            .map(|check| (&check.name, &check.outcome))
            .collect();
        (
            &observation.dependencies,
            &observation.public_checks,
            observation.stale.as_ref().map(|stale| &stale.error),
            &observation.version,
            checks,
        )
    }
}

/// The lock, held by this server for as long as the connection lives.
pub struct Lead {
    conn: PgConnection,
}

impl Lead {
    /// Takes the lead for `source` if no other server holds it.
    pub async fn try_take(pool: &PgPool, source: &str) -> Result<Option<Self>, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        let locked = sqlx::query_scalar!(
            r#"SELECT pg_try_advisory_lock(hashtext('readiness:' || $1)) AS "locked!""#,
            source
        )
        .fetch_one(&mut *conn)
        .await?;
        // The session lock belongs to this connection: it leaves the pool.
        Ok(locked.then(|| Self {
            conn: conn.detach(),
        }))
    }

    /// Stores `reading` as the newest of `source`; with `changed`, wakes every
    /// server (`CHANGES_CHANNEL`) to take it at once.
    pub async fn store(
        &mut self,
        source: &str,
        reading: &Reading,
        changed: bool,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            r#"INSERT INTO readiness_readings (source, reading, read_at) VALUES ($1, $2, now())
               ON CONFLICT (source) DO UPDATE SET reading = EXCLUDED.reading,
                                                  read_at = EXCLUDED.read_at"#,
            source,
            sqlx::types::Json(reading) as _,
        )
        .execute(&mut self.conn)
        .await?;
        if changed {
            sqlx::query!(
                "SELECT pg_notify($1, 'readiness_readings')",
                CHANGES_CHANNEL
            )
            .execute(&mut self.conn)
            .await?;
        }
        Ok(())
    }

    /// Gives the lead up at once (at shutdown): closing the connection releases
    /// the lock.
    pub async fn resign(self) {
        let _ = sqlx::Connection::close(self.conn).await;
    }
}

/// The newest reading of `source` that the reading server stored, if any.
pub async fn latest(pool: &PgPool, source: &str) -> Result<Option<Reading>, sqlx::Error> {
    let reading = sqlx::query_scalar!(
        r#"SELECT reading AS "reading: sqlx::types::Json<Reading>"
           FROM readiness_readings WHERE source = $1"#,
        source
    )
    .fetch_optional(pool)
    .await?;
    Ok(reading.map(|reading| reading.0))
}
