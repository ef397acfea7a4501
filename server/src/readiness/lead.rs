//! One server of a set reads readiness. The remote poll and the register's health
//! checks must not run once per process: the server holding the session lock
//! `readiness:<source>` on a connection of its own reads the source, runs the
//! checks and stores each reading (`readiness_readings`); every other server
//! takes the stored reading. When the holder dies its connection closes,
//! PostgreSQL releases the lock, and the next reading of another server (within
//! a poll interval) takes the lead. A reading is stored on the lock's own
//! connection, so a server that lost its lock cannot write one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use tokio::task::JoinHandle;

use app::domain::health_check::HealthCheckResult;

use super::{Observation, ReadinessMonitor, CHANGES_CHANNEL};

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

/// This server's part in reading readiness for the set.
#[derive(Default)]
pub(super) struct Leading {
    /// The lock, while this server holds it.
    pub(super) lead: Option<Lead>,
    /// The health checks' tasks, running while it leads.
    pub(super) checks: Vec<JoinHandle<()>>,
    /// The reading it stored last.
    pub(super) stored: Option<Reading>,
    /// Shutting down: this server no longer takes the lead.
    pub(super) retired: bool,
}

impl Leading {
    pub(super) fn stop_checks(&mut self) {
        for task in self.checks.drain(..) {
            task.abort();
        }
    }
}

impl ReadinessMonitor {
    /// The source's reading and the health checks' latest results: read here
    /// while this server leads (and stored for the others), else the stored
    /// reading of the server that leads. Without the database, or before the
    /// leading server stored anything, this server reads for itself.
    pub(super) async fn read(&self, now: DateTime<Utc>) -> (Observation, Vec<HealthCheckResult>) {
        let mut leading = self.leading.lock().await;
        if leading.lead.is_none() && !leading.retired {
            match Lead::try_take(&self.pool, &self.label).await {
                Ok(Some(lead)) => {
                    tracing::info!(source = %self.label, "this server now reads readiness for the set");
                    leading.lead = Some(lead);
                    if let Ok(Some(last)) = latest(&self.pool, &self.label).await {
                        // The checks go on from where the last reader left them.
                        self.health_checks.restore(&last.health_checks);
                    }
                    self.start_checks(&mut leading);
                }
                Ok(None) => {}
                Err(error) => tracing::debug!(%error, "could not try the readiness lead"),
            }
        }
        if leading.lead.is_none() {
            match latest(&self.pool, &self.label).await {
                Ok(Some(reading)) => return (reading.observation, reading.health_checks),
                Ok(None) => {}
                Err(error) => tracing::debug!(%error, "could not read the stored reading"),
            }
        }
        let reading = Reading {
            observation: self.observe(now).await,
            // Never awaited: each check reads on a task of its own.
            health_checks: self.health_checks.results(),
        };
        let changed = leading
            .stored
            .as_ref()
            .is_none_or(|stored| stored.differs_from(&reading));
        if let Some(lead) = leading.lead.as_mut() {
            match lead.store(&self.label, &reading, changed).await {
                Ok(()) => leading.stored = Some(reading.clone()),
                Err(error) => {
                    tracing::warn!(source = %self.label, %error, "could not store the readiness reading; giving the lead up");
                    if let Some(lead) = leading.lead.take() {
                        lead.resign().await;
                    }
                    leading.stop_checks();
                    leading.stored = None;
                }
            }
        }
        (reading.observation, reading.health_checks)
    }

    /// Starts the health checks' tasks, when this server leads and
    /// [`Self::spawn`] set their interval.
    pub(super) fn start_checks(&self, leading: &mut Leading) {
        if let (Some(_), Some(interval), true) = (
            leading.lead.as_ref(),
            self.check_interval.get(),
            leading.checks.is_empty(),
        ) {
            leading.checks = self.health_checks.spawn(*interval, &self.wake);
        }
    }

    /// Gives the lead up at once (at shutdown), so that another server of the
    /// set reads from its next reading on.
    pub async fn resign(&self) {
        let mut leading = self.leading.lock().await;
        leading.retired = true;
        leading.stop_checks();
        if let Some(lead) = leading.lead.take() {
            lead.resign().await;
            tracing::info!(source = %self.label, "gave the readiness lead up");
        }
    }
}
