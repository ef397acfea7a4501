//! The readiness monitor: reads the readiness source on an interval, stores each
//! changed state, and publishes the latest snapshot to the pages.

pub mod environment;
pub mod snapshots;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use app::clearance::ReadinessSnapshot;
use app::domain::{evaluate, PublicCheck, ReadinessInputs, Register};

/// The source name under which this server's own environment is recorded.
pub const ENVIRONMENT_SOURCE: &str = "environment";

/// How long the database check waits before counting the database as unreachable.
const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Reads and publishes readiness for one register.
pub struct ReadinessMonitor {
    register: Arc<Register>,
    pool: PgPool,
    sender: watch::Sender<Arc<ReadinessSnapshot>>,
}

impl ReadinessMonitor {
    /// Takes the first reading (so the first page already shows real data) and
    /// returns the monitor with a receiver of every later snapshot.
    pub async fn start(
        register: Arc<Register>,
        pool: PgPool,
    ) -> (Self, watch::Receiver<Arc<ReadinessSnapshot>>) {
        let inputs = observe(&register, &pool).await;
        let initial = Arc::new(ReadinessSnapshot::new(
            ENVIRONMENT_SOURCE,
            inputs,
            Utc::now(),
        ));
        let (sender, receiver) = watch::channel(initial);
        let monitor = Self {
            register,
            pool,
            sender,
        };
        monitor.publish_current().await;
        (monitor, receiver)
    }

    /// Reads the source every `interval`, for as long as the server runs.
    pub fn spawn(self, interval: Duration) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                self.refresh().await;
            }
        })
    }

    /// One reading: publish it, storing it first when the state changed.
    pub async fn refresh(&self) {
        let inputs = observe(&self.register, &self.pool).await;
        let now = Utc::now();
        let previous = self.sender.borrow().clone();
        if inputs.digest() == previous.digest {
            let mut snapshot = (*previous).clone();
            snapshot.observed_at = now;
            self.sender.send_replace(Arc::new(snapshot));
            if !previous.recorded {
                self.publish_current().await;
            }
        } else {
            tracing::info!(source = ENVIRONMENT_SOURCE, "readiness changed");
            self.sender.send_replace(Arc::new(ReadinessSnapshot::new(
                ENVIRONMENT_SOURCE,
                inputs,
                now,
            )));
            self.publish_current().await;
        }
    }

    /// Stores the current snapshot and republishes it with its first-seen time.
    async fn publish_current(&self) {
        let current = self.sender.borrow().clone();
        let evaluation = evaluate(&self.register, &current.inputs);
        match snapshots::record(&self.pool, &current, &evaluation).await {
            Ok(first_seen_at) => {
                let mut snapshot = (*current).clone();
                snapshot.first_seen_at = first_seen_at;
                snapshot.recorded = true;
                self.sender.send_replace(Arc::new(snapshot));
            }
            Err(error) => {
                tracing::warn!(%error, "could not store the readiness snapshot; will retry");
            }
        }
    }
}

/// Reads the environment and the public checks.
pub async fn observe(register: &Register, pool: &PgPool) -> ReadinessInputs {
    ReadinessInputs {
        dependencies: environment::observe(register.dependency_names()),
        public_checks: vec![database_check(pool).await],
    }
}

/// The database answers a trivial query within the timeout.
async fn database_check(pool: &PgPool) -> PublicCheck {
    let outcome = tokio::time::timeout(
        DATABASE_CHECK_TIMEOUT,
        sqlx::query("SELECT 1").execute(pool),
    )
    .await;
    let detail = match outcome {
        Ok(Ok(_)) => None,
        Ok(Err(error)) => {
            tracing::warn!(%error, "database check failed");
            Some("the database refused or dropped the connection".to_owned())
        }
        Err(_) => Some(format!(
            "the database did not answer within {} s",
            DATABASE_CHECK_TIMEOUT.as_secs()
        )),
    };
    PublicCheck {
        name: "database reachable".to_owned(),
        passed: detail.is_none(),
        detail,
    }
}
