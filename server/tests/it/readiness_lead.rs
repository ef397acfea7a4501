//! Several servers on one database read readiness once: one polls the remote
//! source and runs the health checks, the others take its stored reading and
//! follow its changes, and the lead moves when its holder resigns or dies.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;

use app::domain::document::{ObservedReadiness, READINESS_FORMAT};
use app::domain::health_check::CheckVerdict;
use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use app::domain::{DependencyState, Register};
use app::live_state::LiveState;
use server::readiness::remote::RemoteSource;
use server::readiness::{ReadinessMonitor, Source};

const DEPENDENCY: &str = "RESEND_API_KEY";

/// A deployment that counts the readings of its document and of its health
/// endpoint; `configured` says what the document reports for [`DEPENDENCY`].
#[derive(Default)]
struct Deployment {
    readings: AtomicUsize,
    checks: AtomicUsize,
    configured: AtomicBool,
}

async fn document(State(deployment): State<Arc<Deployment>>) -> Json<ObservedReadiness> {
    deployment.readings.fetch_add(1, Ordering::SeqCst);
    let state = if deployment.configured.load(Ordering::SeqCst) {
        DependencyState::Configured
    } else {
        DependencyState::Missing
    };
    Json(ObservedReadiness {
        format: READINESS_FORMAT.to_owned(),
        version: Some("v7".to_owned()),
        dependencies: BTreeMap::from([(DEPENDENCY.to_owned(), state)]),
        public_checks: Vec::new(),
    })
}

async fn health(State(deployment): State<Arc<Deployment>>) -> &'static str {
    deployment.checks.fetch_add(1, Ordering::SeqCst);
    "ok"
}

/// The deployment on a free port, and a register with one health check on it.
async fn deployment() -> (Arc<Deployment>, String, Arc<Register>) {
    let deployment = Arc::new(Deployment::default());
    deployment.configured.store(true, Ordering::SeqCst);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/api/readiness", get(document))
        .route("/health", get(health))
        .with_state(Arc::clone(&deployment));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let text = format!(
        "{DEFAULT_REGISTER}\n[[readiness.checks]]\nname = \"edge\"\nurl = \"{base}/health\"\n"
    );
    let register = Arc::new(parse_register("lead.toml", &text).unwrap());
    (deployment, base, register)
}

async fn server(
    pool: &PgPool,
    register: &Arc<Register>,
    base: &str,
) -> (Arc<ReadinessMonitor>, watch::Receiver<Arc<LiveState>>) {
    let source = Source::Remote {
        source: RemoteSource::new(format!("{base}/api/readiness"), Duration::from_secs(2)),
        stale_after: Duration::from_secs(60),
    };
    ReadinessMonitor::start(Arc::clone(register), pool.clone(), source).await
}

fn configured(live: &LiveState) -> Option<DependencyState> {
    live.readiness.inputs.dependencies.get(DEPENDENCY).copied()
}

/// Waits until the deployment has been read more than `than` times, at most 5 s.
async fn read_more_than(deployment: &Deployment, than: usize) -> bool {
    tokio::time::timeout(Duration::from_secs(5), async {
        while deployment.readings.load(Ordering::SeqCst) <= than {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .is_ok()
}

/// Waits until `receiver`'s state satisfies `done`, at most `within`.
async fn until(
    receiver: &mut watch::Receiver<Arc<LiveState>>,
    within: Duration,
    done: impl Fn(&LiveState) -> bool,
) -> bool {
    tokio::time::timeout(within, receiver.wait_for(|live| done(live)))
        .await
        .is_ok_and(|found| found.is_ok())
}

#[sqlx::test(migrations = "../migrations")]
async fn one_server_polls_and_checks_the_others_follow_and_the_lead_moves_when_it_goes(
    pool: PgPool,
) {
    let (deployment, base, register) = deployment().await;
    let (first, _first_state) = server(&pool, &register, &base).await;
    assert_eq!(deployment.readings.load(Ordering::SeqCst), 1);
    let (second, mut second_state) = server(&pool, &register, &base).await;
    // The second server took the first one's reading instead of polling.
    assert_eq!(deployment.readings.load(Ordering::SeqCst), 1);
    assert_eq!(
        configured(&second_state.borrow()),
        Some(DependencyState::Configured)
    );
    for _ in 0..3 {
        second.refresh().await;
    }
    assert_eq!(
        deployment.readings.load(Ordering::SeqCst),
        1,
        "a follower never polls"
    );

    // The follower's loop runs, with a short check interval: it runs no check.
    let interval = Duration::from_millis(100);
    second.spawn(interval);
    second.spawn_listener();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        deployment.checks.load(Ordering::SeqCst),
        0,
        "a follower runs no check"
    );
    assert_eq!(deployment.readings.load(Ordering::SeqCst), 1);

    // The leader's loop runs the check; its result reaches the follower.
    first.spawn(interval);
    assert!(
        until(&mut second_state, Duration::from_secs(5), |live| {
            live.health_checks
                .iter()
                .any(|check| check.outcome.verdict == CheckVerdict::Pass)
        })
        .await,
        "the leader's check result reaches the follower"
    );
    assert!(deployment.checks.load(Ordering::SeqCst) >= 1);

    // A change the leader reads reaches the follower at once (NOTIFY), well
    // before the follower's own interval would.
    deployment.configured.store(false, Ordering::SeqCst);
    first.refresh().await;
    assert!(
        until(&mut second_state, Duration::from_secs(3), |live| {
            configured(live) == Some(DependencyState::Missing)
        })
        .await,
        "the follower shows the leader's new reading"
    );

    // The leader ends abruptly: PostgreSQL closes its lock's connection.
    let terminated: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND database =
                (SELECT oid FROM pg_database WHERE datname = current_database())
            AND objid::bigint = (hashtext('readiness:' || $1)::bigint & 4294967295)) AS ended",
    )
    .bind(format!("{base}/api/readiness"))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(terminated, 1, "exactly one server held the lead");
    first.refresh().await; // finds its lock gone and gives the lead up
    let readings = deployment.readings.load(Ordering::SeqCst);
    deployment.configured.store(true, Ordering::SeqCst);
    // Within its next interval the follower takes the lead and polls itself.
    assert!(
        until(&mut second_state, Duration::from_secs(5), |live| {
            configured(live) == Some(DependencyState::Configured)
        })
        .await,
        "a server took the lead again and read the deployment"
    );
    assert!(read_more_than(&deployment, readings).await);

    // Only the new leader checks now: the old one's checks stopped, it follows,
    // and exactly one server holds the lead.
    let holders = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
               AND objid::bigint = (hashtext('readiness:' || $1)::bigint & 4294967295)",
        )
        .bind(format!("{base}/api/readiness"))
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    for _ in 0..3 {
        first.refresh().await;
    }
    assert_eq!(holders().await, 1);
    let checks = deployment.checks.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let during = deployment.checks.load(Ordering::SeqCst) - checks;
    assert!(
        (2..=15).contains(&during),
        "one server checks every 100 ms for a second, not two: {during}"
    );

    // A graceful end hands the lead over within the next readings (PostgreSQL
    // releases the lock once the resigning connection's backend has ended).
    second.resign().await;
    let readings = deployment.readings.load(Ordering::SeqCst);
    assert!(
        read_more_than(&deployment, readings).await,
        "the other server took the lead"
    );
    // The resigned server follows: whoever read holds the lead.
    assert_eq!(holders().await, 1);
    for _ in 0..3 {
        second.refresh().await;
    }
    assert_eq!(holders().await, 1);
}
