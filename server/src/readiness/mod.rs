//! The readiness monitor: reads the readiness source on an interval (and at once
//! when another process writes), stores each changed state with its changes, and
//! publishes the live state to the pages and the event stream.

pub mod checks;
pub mod deployment;
pub mod environment;
pub mod events;
pub mod history;
pub mod lead;
pub mod provenance;
pub mod remote;
pub mod snapshots;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{watch, Mutex, Notify};
use tokio::task::JoinHandle;

use app::domain::deployment::ReceivedReport;
use app::domain::document::{FactSource, ObservedReadiness, Origin, Provenance, Staleness};
use app::domain::freshness::{proof_freshness, source_state};
use app::domain::health_check::HealthCheckResult;
use app::domain::{
    evaluate, DependencyState, PublicCheck, ReadinessChange, ReadinessInputs, Register,
};
use app::live_state::{LiveState, ReadinessSnapshot};

use crate::{deployments, proofs};
use checks::CheckBoard;
use lead::Leading;
use provenance::ProvenanceBoard;
use remote::RemoteSource;

/// The default name under which this server's own environment is recorded.
pub const ENVIRONMENT_SOURCE: &str = "environment";
/// The PostgreSQL channel every write to proofs or snapshots notifies.
pub const CHANGES_CHANNEL: &str = "clearance_changes";

/// How long the database check waits before counting the database as unreachable.
const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How many snapshots the chart shows and how many changes the list shows.
const CHART_POINTS: i64 = 200;
const LISTED_CHANGES: i64 = 50;

/// Where readiness is read from.
#[derive(Clone, Debug)]
pub enum Source {
    /// This process's environment, plus a database check, recorded under `name`
    /// (processes with the same configuration share one name and one history).
    Environment { name: String },
    /// A deployment's readiness document.
    Remote {
        source: RemoteSource,
        stale_after: Duration,
    },
    /// The latest report of the named deployment (`server report`), recorded
    /// under `deployment:NAME`.
    Deployment { name: String, stale_after: Duration },
}

impl Source {
    /// This process's environment under the default name.
    pub fn environment() -> Self {
        Self::Environment {
            name: ENVIRONMENT_SOURCE.to_owned(),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Self::Environment { name } => name.clone(),
            Self::Remote { source, .. } => source.label(),
            Self::Deployment { name, .. } => format!("deployment:{name}"),
        }
    }

    /// How long the source may stay silent before it has gone quiet; `None` for
    /// a source that cannot (this server's own environment).
    pub fn stale_after(&self) -> Option<Duration> {
        match self {
            Self::Environment { .. } => None,
            Self::Remote { stale_after, .. } | Self::Deployment { stale_after, .. } => {
                Some(*stale_after)
            }
        }
    }
}

/// One reading of the source: what it says, whether it is stale, the
/// deployment's version, and where each fact came from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Observation {
    pub dependencies: BTreeMap<String, DependencyState>,
    pub public_checks: Vec<PublicCheck>,
    pub stale: Option<Staleness>,
    pub version: Option<String>,
    pub provenance: Provenance,
}

/// The last good reading of a remote source.
#[derive(Clone, Debug)]
struct LastReading {
    observed: ObservedReadiness,
    at: DateTime<Utc>,
}

/// Reads and publishes readiness for one register.
pub struct ReadinessMonitor {
    register: Arc<Register>,
    pool: PgPool,
    source: Source,
    label: String,
    sender: watch::Sender<Arc<LiveState>>,
    wake: Arc<Notify>,
    last_remote: Mutex<Option<LastReading>>,
    /// The register's health checks, read on tasks of their own.
    health_checks: Arc<CheckBoard>,
    /// What was last stored of the watched subjects (proofs' freshness, the
    /// source answering or quiet): the database is written only on a change.
    last_watched: Mutex<Option<Vec<events::Watched>>>,
    /// The readiness digest the rooms' states were last stored against.
    rooms_watched_at: Mutex<Option<String>>,
    /// The last report read of a deployment source (kept while the database is away).
    last_report: Mutex<Option<ReceivedReport>>,
    /// When this monitor started (a deployment without a report waits since then).
    started_at: DateTime<Utc>,
    provenance: ProvenanceBoard,
    /// Whether this server reads for the set ([`lead`]), and its checks' tasks.
    leading: Mutex<Leading>,
    /// How often each health check reads, once [`Self::spawn`] was called.
    check_interval: OnceLock<Duration>,
}

impl ReadinessMonitor {
    /// Takes the first reading (so the first page already shows real data) and
    /// returns the monitor with a receiver of every later live state.
    pub async fn start(
        register: Arc<Register>,
        pool: PgPool,
        source: Source,
    ) -> (Arc<Self>, watch::Receiver<Arc<LiveState>>) {
        let label = source.label();
        // The channel needs a value before the first reading; `refresh` below
        // replaces it before anyone can subscribe.
        let before_first_reading = LiveState::new(ReadinessSnapshot::new(
            label.clone(),
            ReadinessInputs::default(),
            Utc::now(),
        ));
        let (sender, receiver) = watch::channel(Arc::new(before_first_reading));
        let health_checks = CheckBoard::new(register.readiness.checks.clone());
        let monitor = Arc::new(Self {
            register,
            pool,
            source,
            label,
            sender,
            wake: Arc::new(Notify::new()),
            last_remote: Mutex::new(None),
            health_checks,
            last_watched: Mutex::new(None),
            rooms_watched_at: Mutex::new(None),
            last_report: Mutex::new(None),
            started_at: Utc::now(),
            provenance: ProvenanceBoard::default(),
            leading: Mutex::default(),
            check_interval: OnceLock::new(),
        });
        monitor.refresh().await;
        (monitor, receiver)
    }

    /// Where each fact of the newest reading came from.
    pub fn provenance(&self) -> ProvenanceBoard {
        self.provenance.clone()
    }

    /// A handle that makes the monitor read at once (after a local write).
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Reads every `interval`, and whenever woken, for as long as the server runs;
    /// while this server reads for the set, runs the health checks, each reading
    /// every `interval` on its own task.
    pub fn spawn(self: &Arc<Self>, interval: Duration) -> JoinHandle<()> {
        let _ = self.check_interval.set(interval);
        let monitor = Arc::clone(self);
        tokio::spawn(async move {
            {
                let mut leading = monitor.leading.lock().await;
                monitor.start_checks(&mut leading);
            }
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                tokio::select! {
                    _ = ticker.tick() => {},
                    () = monitor.wake.notified() => {},
                }
                monitor.refresh().await;
            }
        })
    }

    /// Wakes the monitor whenever any process writes a proof run or a snapshot
    /// (PostgreSQL LISTEN). Reconnects by itself when the database comes back.
    pub fn spawn_listener(self: &Arc<Self>) -> JoinHandle<()> {
        let monitor = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                match listen(&monitor.pool, &monitor.wake).await {
                    Ok(()) => {}
                    Err(error) => tracing::warn!(%error, "change listener lost; reconnecting"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    }

    /// One reading: store it when the state changed, then publish.
    pub async fn refresh(&self) {
        let now = Utc::now();
        let (
            Observation {
                dependencies,
                public_checks,
                stale,
                version,
                mut provenance,
            },
            health_checks,
        ) = self.read(now).await;
        let latest_runs = proofs::latest_runs(&self.pool).await;
        let previous = self.sender.borrow().clone();
        let (proof_states, latest_runs, database_down_since) = match latest_runs {
            Ok(runs) => (
                proofs::passing_states(&self.register, &runs, now),
                runs,
                None,
            ),
            // Without the database, keep what was known about proofs.
            Err(error) => {
                if previous.database_down_since.is_none() {
                    tracing::warn!(%error, "could not read proof runs: database unreachable");
                }
                (
                    previous.readiness.inputs.proofs.clone(),
                    previous.latest_runs.clone(),
                    Some(previous.database_down_since.unwrap_or(now)),
                )
            }
        };
        if previous.database_down_since.is_some() && database_down_since.is_none() {
            tracing::info!("database reachable again");
        }
        let mut inputs = ReadinessInputs {
            dependencies,
            public_checks,
            proofs: proof_states,
        };
        // A health check this server ran is a fact of its own, once it answered.
        for check in &health_checks {
            if let Some(last_seen) = check.last_seen {
                provenance.public_checks.insert(
                    check.name.clone(),
                    Origin {
                        source: FactSource::Check {
                            url: check.source.clone(),
                            deployment: None,
                        },
                        last_seen,
                    },
                );
            }
        }
        self.provenance.set(provenance);
        inputs
            .public_checks
            .extend(health_checks.iter().map(HealthCheckResult::public_check));

        let mut readiness = if inputs.digest() == previous.readiness.digest {
            previous.readiness.clone()
        } else {
            tracing::info!(source = %self.label, "readiness changed");
            ReadinessSnapshot::new(self.label.clone(), inputs, now)
        };
        if stale.is_none() {
            readiness.observed_at = now;
        }
        readiness.stale = stale;
        readiness.version = version;

        let freshness = if database_down_since.is_some() {
            previous.proof_freshness.clone()
        } else {
            proof_freshness(&self.register, &latest_runs, now)
        };
        let mut state = LiveState {
            readiness,
            points: previous.points.clone(),
            changes: previous.changes.clone(),
            latest_runs,
            database_down_since,
            health_checks,
            proof_freshness: freshness,
        };
        if !state.readiness.recorded {
            self.store(&mut state).await;
        }
        if state.database_down_since.is_none() {
            self.watch(&state, now).await;
        }
        self.sender.send_if_modified(|current| {
            // Only a change a reader can see is pushed.
            let visible = |live: &LiveState| {
                let mut live = live.clone();
                live.readiness.observed_at = DateTime::<Utc>::MIN_UTC;
                for check in &mut live.health_checks {
                    check.last_seen = None;
                }
                live
            };
            if visible(current) == visible(&state) {
                // When each check last answered is for the readiness document:
                // kept without pushing a page update.
                if current.health_checks != state.health_checks {
                    let mut quiet = (**current).clone();
                    quiet.health_checks = state.health_checks;
                    *current = Arc::new(quiet);
                }
                false
            } else {
                *current = Arc::new(state);
                true
            }
        });
    }

    /// Stores the snapshot and reloads the history it belongs to.
    async fn store(&self, state: &mut LiveState) {
        let evaluation = evaluate(&self.register, &state.readiness.inputs);
        match snapshots::record(&self.pool, &self.register, &state.readiness, &evaluation).await {
            Ok(first_seen_at) => {
                state.readiness.first_seen_at = first_seen_at;
                state.readiness.recorded = true;
                match tokio::try_join!(
                    snapshots::points(&self.pool, &self.label, CHART_POINTS),
                    snapshots::changes(&self.pool, &self.label, LISTED_CHANGES),
                ) {
                    Ok((points, mut changes)) => {
                        for entry in &mut changes {
                            entry.title = match &entry.change {
                                ReadinessChange::BlockerWentLive { blocker }
                                | ReadinessChange::BlockerCleared { blocker } => self
                                    .register
                                    .blocker(blocker)
                                    .map(|blocker| blocker.title.clone()),
                                _ => None,
                            };
                        }
                        state.points = points;
                        state.changes = changes;
                    }
                    Err(error) => tracing::warn!(%error, "could not read the readiness history"),
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not store the readiness snapshot; will retry");
            }
        }
    }

    /// Records the events of what changed among the watched subjects since the
    /// last reading (nothing when nothing did), and of rooms gone stale after a
    /// readiness change; retried at the next reading when the database refuses.
    async fn watch(&self, state: &LiveState, now: DateTime<Utc>) {
        let margin =
            chrono::Duration::hours(i64::from(self.register.readiness.proof_warning_hours));
        let stale_after = self
            .source
            .stale_after()
            .and_then(|window| chrono::Duration::from_std(window).ok());
        let mut watched: Vec<events::Watched> = state
            .proof_freshness
            .iter()
            .map(|(id, freshness)| events::Watched::Proof {
                id: id.clone(),
                freshness: freshness.clone(),
                margin,
            })
            .collect();
        let stale = state.readiness.stale.as_ref();
        watched.push(events::Watched::Source {
            label: self.label.clone(),
            state: source_state(stale, stale_after, now),
            last_seen: stale.map(|stale| stale.since),
        });
        let mut last = self.last_watched.lock().await;
        if last.as_ref() != Some(&watched) {
            match events::record(&self.pool, &self.register, &watched, now).await {
                Ok(_) => *last = Some(watched),
                Err(error) => {
                    tracing::warn!(%error, "could not record readiness events; will retry");
                }
            }
        }
        drop(last);
        // Rooms go stale only when readiness changes (a signature makes a room
        // accepted, never stale).
        let mut rooms_at = self.rooms_watched_at.lock().await;
        if rooms_at.as_deref() != Some(state.readiness.digest.as_str()) {
            let inputs = &state.readiness.inputs;
            match crate::events::rooms_watch::record(&self.pool, &self.register, inputs, now).await
            {
                Ok(_) => *rooms_at = Some(state.readiness.digest.clone()),
                Err(error) => {
                    tracing::warn!(%error, "could not record the rooms' states; will retry");
                }
            }
        }
    }

    /// Dependencies and public checks from the source; the staleness of a remote
    /// source or a quiet deployment; the deployment's version; their provenance.
    async fn observe(&self, now: DateTime<Utc>) -> Observation {
        match &self.source {
            Source::Environment { name } => {
                let dependencies = environment::observe(self.register.dependency_names());
                let checks = vec![database_check(&self.pool).await];
                let source = FactSource::Environment { name: name.clone() };
                Observation {
                    provenance: Provenance {
                        dependencies: provenance::all(dependencies.keys(), &source, now),
                        public_checks: provenance::all(
                            checks.iter().map(|check| &check.name),
                            &source,
                            now,
                        ),
                    },
                    dependencies,
                    public_checks: checks,
                    stale: None,
                    version: None,
                }
            }
            Source::Deployment { name, stale_after } => {
                let mut last = self.last_report.lock().await;
                match deployments::store::latest_report(&self.pool, name).await {
                    Ok(report) => *last = report,
                    Err(error) => {
                        tracing::warn!(deployment = %name, %error, "could not read the deployment's latest report");
                    }
                }
                deployment::observe(
                    &self.register,
                    name,
                    last.as_ref(),
                    now,
                    *stale_after,
                    self.started_at,
                )
            }
            Source::Remote {
                source,
                stale_after,
            } => {
                let mut last = self.last_remote.lock().await;
                let origin = FactSource::Remote {
                    url: source.label(),
                };
                match source.read().await {
                    Ok(observed) => {
                        *last = Some(LastReading {
                            observed: observed.clone(),
                            at: now,
                        });
                        let mut checks = vec![reachable(None)];
                        checks.extend(observed.public_checks);
                        Observation {
                            provenance: Provenance {
                                dependencies: provenance::all(
                                    observed.dependencies.keys(),
                                    &origin,
                                    now,
                                ),
                                public_checks: provenance::all(
                                    checks.iter().map(|check| &check.name),
                                    &origin,
                                    now,
                                ),
                            },
                            dependencies: observed.dependencies,
                            public_checks: checks,
                            stale: None,
                            version: observed.version,
                        }
                    }
                    Err(error) => {
                        tracing::warn!(source = %self.label, %error, "readiness source did not answer");
                        let since = last.as_ref().map_or(now, |reading| reading.at);
                        let stale = Staleness {
                            since,
                            error: error.to_string(),
                        };
                        let within_window = last.as_ref().is_some_and(|reading| {
                            (now - reading.at).to_std().unwrap_or_default() < *stale_after
                        });
                        let (dependencies, mut checks, version) = last.as_ref().map_or_else(
                            || (BTreeMap::new(), Vec::new(), None),
                            |reading| {
                                (
                                    reading.observed.dependencies.clone(),
                                    reading.observed.public_checks.clone(),
                                    reading.observed.version.clone(),
                                )
                            },
                        );
                        // Within the window the last answer stands, marked stale;
                        // past it the deployment counts as unreachable.
                        let detail = (!within_window).then(|| match last.as_ref() {
                            Some(reading) => format!(
                                "no answer since {}: {error}",
                                reading.at.format("%Y-%m-%d %H:%M:%S UTC")
                            ),
                            None => format!("no answer yet: {error}"),
                        });
                        let mut provenance = Provenance {
                            dependencies: provenance::all(dependencies.keys(), &origin, since),
                            public_checks: provenance::all(
                                checks.iter().map(|check| &check.name),
                                &origin,
                                since,
                            ),
                        };
                        checks.insert(0, reachable(detail));
                        provenance.public_checks.extend(provenance::all(
                            [&checks[0].name],
                            &origin,
                            now,
                        ));
                        Observation {
                            dependencies,
                            public_checks: checks,
                            stale: Some(stale),
                            version,
                            provenance,
                        }
                    }
                }
            }
        }
    }
}

fn reachable(failure: Option<String>) -> PublicCheck {
    PublicCheck {
        name: "deployment reachable".to_owned(),
        passed: failure.is_none(),
        detail: failure,
    }
}

async fn listen(pool: &PgPool, wake: &Notify) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANGES_CHANNEL).await?;
    loop {
        listener.recv().await?;
        wake.notify_one();
    }
}

/// The database answers a trivial query within the timeout.
pub async fn database_check(pool: &PgPool) -> PublicCheck {
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
