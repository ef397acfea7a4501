//! The gauges computed at scrape time: the register's live evaluation (motions,
//! blockers, readiness, proofs, the source), and the server's own state (event
//! streams, the database pool, deliveries). Each scrape builds them afresh in a
//! registry of its own, so a motion or proof that leaves the register leaves the
//! scrape with it. Every label value comes from the register or a fixed list:
//! never a dependency's value, nor anything a client sent.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use prometheus::proto::MetricFamily;
use prometheus::{GaugeVec, IntGauge, IntGaugeVec, Opts, Registry};
use sqlx::PgPool;

use app::domain::freshness::FreshnessState;
use app::domain::{MotionStatus, Readiness, Register};
use app::live::Evaluated;

const MOTION_STATUSES: [MotionStatus; 3] = [
    MotionStatus::Clear,
    MotionStatus::Conditional,
    MotionStatus::Blocked,
];
const READINESS_LEVELS: [Readiness; 3] =
    [Readiness::Ready, Readiness::Degraded, Readiness::NotReady];
const FRESHNESS_STATES: [FreshnessState; 5] = [
    FreshnessState::Fresh,
    FreshnessState::Expiring,
    FreshnessState::Expired,
    FreshnessState::Failing,
    FreshnessState::NeverRun,
];

/// The delivery channels and statuses every scrape lists, at 0 when none has
/// them, so an alert on `dead` deliveries has a series to watch from the start.
pub const DELIVERY_CHANNELS: [&str; 2] = ["webhook", "email"];
pub const DELIVERY_STATUSES: [&str; 3] = ["pending", "delivered", "failed"];

fn gauges(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<GaugeVec> {
    let vec = GaugeVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(vec.clone()))?;
    Ok(vec)
}

fn int_gauges(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntGaugeVec> {
    let vec = IntGaugeVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(vec.clone()))?;
    Ok(vec)
}

fn int_gauge(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    let gauge = IntGauge::new(name, help)?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

fn seconds_between(earlier: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    // Milliseconds are precise enough; a clock step back reads as 0, not negative.
    ((now - earlier).num_milliseconds().max(0) as f64) / 1000.0
}

/// The register's live state at `now`: motions, blockers, readiness, proofs and
/// the readiness source.
pub fn evaluation_families(
    register: &Register,
    evaluated: &Evaluated,
    now: DateTime<Utc>,
) -> prometheus::Result<Vec<MetricFamily>> {
    let registry = Registry::new();
    let evaluation = &evaluated.evaluation;
    let live = &evaluated.live;

    let motions = int_gauges(
        &registry,
        "clearance_motion_status",
        "1 for each launch motion's current status (clear, conditional, blocked), 0 for the others.",
        &["motion", "status"],
    )?;
    for motion in &evaluation.motions {
        for status in MOTION_STATUSES {
            motions
                .with_label_values(&[&motion.id, status.as_str()])
                .set(i64::from(motion.status == status));
        }
    }

    let blockers = int_gauges(
        &registry,
        "clearance_blocker_live",
        "1 while the blocker is live (a dependency missing or its proof not passing), else 0.",
        &["blocker", "scope"],
    )?;
    let per_scope = int_gauges(
        &registry,
        "clearance_live_blockers",
        "Live blockers in each launch scope of the register.",
        &["scope"],
    )?;
    let mut live_in: BTreeMap<&str, i64> = register
        .scopes
        .iter()
        .map(|scope| (scope.id.as_str(), 0))
        .collect();
    for blocker in &register.blockers {
        let is_live = evaluation
            .blocker(&blocker.id)
            .is_some_and(|evaluated| evaluated.live);
        blockers
            .with_label_values(&[&blocker.id, &blocker.scope])
            .set(i64::from(is_live));
        *live_in.entry(blocker.scope.as_str()).or_default() += i64::from(is_live);
    }
    for (scope, count) in live_in {
        per_scope.with_label_values(&[scope]).set(count);
    }

    let readiness = int_gauges(
        &registry,
        "clearance_readiness",
        "1 for the current advisory and strict readiness level (ready, degraded, not_ready), 0 for the others.",
        &["kind", "level"],
    )?;
    for (kind, level) in [
        ("advisory", evaluation.advisory),
        ("strict", evaluation.strict),
    ] {
        for candidate in READINESS_LEVELS {
            readiness
                .with_label_values(&[kind, candidate.as_str()])
                .set(i64::from(level == candidate));
        }
    }

    let passing = int_gauges(
        &registry,
        "clearance_proof_passing",
        "1 when the proof's latest run passed, 0 when it failed; absent for a proof never run.",
        &["proof"],
    )?;
    let age = gauges(
        &registry,
        "clearance_proof_age_seconds",
        "Seconds since the proof's latest run; absent for a proof never run.",
        &["proof"],
    )?;
    let freshness = int_gauges(
        &registry,
        "clearance_proof_freshness",
        "1 for the proof's state against its freshness window (fresh, expiring, expired, failing, never_run), 0 for the others.",
        &["proof", "state"],
    )?;
    for proof in &register.proofs {
        if let Some(run) = live.latest_runs.get(&proof.id) {
            passing
                .with_label_values(&[&proof.id])
                .set(i64::from(run.passed));
            age.with_label_values(&[&proof.id])
                .set(seconds_between(run.ran_at, now));
        }
        if let Some(current) = live.proof_freshness.get(&proof.id) {
            for state in FRESHNESS_STATES {
                freshness
                    .with_label_values(&[&proof.id, state.as_str()])
                    .set(i64::from(current.state == state));
            }
        }
    }

    let source = live.readiness.source.as_str();
    int_gauges(
        &registry,
        "clearance_source_stale",
        "1 while the readiness source is not answering (the last good reading is served), else 0.",
        &["source"],
    )?
    .with_label_values(&[source])
    .set(i64::from(live.readiness.stale.is_some()));
    gauges(
        &registry,
        "clearance_source_age_seconds",
        "Seconds since the readiness source was last read successfully.",
        &["source"],
    )?
    .with_label_values(&[source])
    .set(seconds_between(live.readiness.observed_at, now));
    int_gauge(
        &registry,
        "clearance_database_down",
        "1 while Clearance's own database cannot be reached, else 0.",
    )?
    .set(i64::from(live.database_down_since.is_some()));

    Ok(registry.gather())
}

/// What the server itself holds at a scrape.
pub struct ServerState<'a> {
    pub event_streams_open: usize,
    pub event_streams_limit: usize,
    pub pool: &'a PgPool,
    /// (channel, status, count); `None` when they could not be read.
    pub deliveries: Option<&'a [(String, String, i64)]>,
}

fn count(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Event streams, the database pool and the deliveries.
pub fn server_families(state: &ServerState<'_>) -> prometheus::Result<Vec<MetricFamily>> {
    let registry = Registry::new();
    int_gauge(
        &registry,
        "clearance_event_streams_open",
        "Live event streams (/api/events) open now.",
    )?
    .set(count(state.event_streams_open));
    int_gauge(
        &registry,
        "clearance_event_streams_max",
        "Live event streams the server keeps open at most (CLEARANCE_MAX_EVENT_STREAMS).",
    )?
    .set(count(state.event_streams_limit));

    let connections = int_gauges(
        &registry,
        "clearance_db_pool_connections",
        "PostgreSQL connections in the pool, idle or in use.",
        &["state"],
    )?;
    let size = i64::from(state.pool.size());
    let idle = count(state.pool.num_idle()).min(size);
    connections.with_label_values(&["idle"]).set(idle);
    connections.with_label_values(&["in_use"]).set(size - idle);
    int_gauge(
        &registry,
        "clearance_db_pool_max_connections",
        "PostgreSQL connections the pool opens at most (CLEARANCE_DB_MAX_CONNECTIONS).",
    )?
    .set(i64::from(state.pool.options().get_max_connections()));

    if let Some(counts) = state.deliveries {
        deliveries(&registry, counts)?;
    }
    Ok(registry.gather())
}

/// `clearance_deliveries{channel,status}` from (channel, status, count) rows:
/// every known channel and status at 0, then the counts.
pub fn deliveries(registry: &Registry, counts: &[(String, String, i64)]) -> prometheus::Result<()> {
    let gauge = int_gauges(
        registry,
        "clearance_deliveries",
        "Notification deliveries (webhook, e-mail) in the outbox, by channel and status.",
        &["channel", "status"],
    )?;
    for channel in DELIVERY_CHANNELS {
        for status in DELIVERY_STATUSES {
            gauge.with_label_values(&[channel, status]).set(0);
        }
    }
    for (channel, status, count) in counts {
        gauge.with_label_values(&[channel, status]).set(*count);
    }
    Ok(())
}
