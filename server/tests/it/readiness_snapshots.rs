//! Database tests of the readiness snapshot history: each test gets its own
//! PostgreSQL database from `#[sqlx::test]`, with the migrations applied.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, Utc};
use sqlx::PgPool;

use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use app::domain::{
    evaluate, DependencyState, PublicCheck, Readiness, ReadinessChange, ReadinessInputs, Register,
};
use app::live_state::ReadinessSnapshot;
use server::readiness::{snapshots, ReadinessMonitor, Source, ENVIRONMENT_SOURCE};

fn thesmios() -> Register {
    parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap()
}

fn inputs(configured: &[&str]) -> ReadinessInputs {
    ReadinessInputs {
        dependencies: configured
            .iter()
            .map(|name| ((*name).to_owned(), DependencyState::Configured))
            .collect::<BTreeMap<_, _>>(),
        public_checks: vec![PublicCheck {
            name: "database reachable".to_owned(),
            passed: true,
            detail: None,
        }],
        // Every proof passes, so configuring a dependency clears its blocker.
        proofs: thesmios()
            .proofs
            .iter()
            .map(|proof| (proof.id.clone(), true))
            .collect(),
    }
}

pub(crate) async fn record(
    pool: &PgPool,
    source: &str,
    configured: &[&str],
) -> chrono::DateTime<Utc> {
    let register = thesmios();
    let snapshot = ReadinessSnapshot::new(source, inputs(configured), Utc::now());
    let evaluation = evaluate(&register, &snapshot.inputs);
    snapshots::record(pool, &register, &snapshot, &evaluation)
        .await
        .unwrap()
}

async fn live_counts(pool: &PgPool, source: &str) -> Vec<u32> {
    snapshots::points(pool, source, 10)
        .await
        .unwrap()
        .iter()
        .map(|point| point.live_blockers)
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_state_is_stored_with_its_evaluation(pool: PgPool) {
    record(&pool, "environment", &[]).await;
    let points = snapshots::points(&pool, "environment", 10).await.unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].advisory, Readiness::Degraded);
    assert_eq!(points[0].live_blockers, 7);
    // The first state of a source has nothing to differ from.
    assert!(snapshots::changes(&pool, "environment", 10)
        .await
        .unwrap()
        .is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unchanged_state_is_not_stored_again_and_keeps_its_first_seen_time(pool: PgPool) {
    let first = record(&pool, "environment", &[]).await;
    let second = record(&pool, "environment", &[]).await;
    assert_eq!(first, second);
    assert_eq!(live_counts(&pool, "environment").await, [7]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_changed_state_is_stored_with_what_changed(pool: PgPool) {
    record(&pool, "environment", &[]).await;
    record(&pool, "environment", &["RESEND_API_KEY"]).await;
    record(&pool, "environment", &[]).await;
    assert_eq!(
        live_counts(&pool, "environment").await,
        [7, 6, 7],
        "oldest first"
    );
    let changes: Vec<ReadinessChange> = snapshots::changes(&pool, "environment", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.change)
        .collect();
    assert_eq!(
        changes,
        [
            ReadinessChange::BlockerWentLive {
                blocker: "support-email".to_owned()
            },
            ReadinessChange::BlockerCleared {
                blocker: "support-email".to_owned()
            },
        ],
        "newest first; no motion changed status"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn sources_keep_separate_histories(pool: PgPool) {
    record(&pool, "environment", &[]).await;
    record(&pool, "https://deployment.example", &["RESEND_API_KEY"]).await;
    assert_eq!(live_counts(&pool, "environment").await, [7]);
    assert_eq!(live_counts(&pool, "https://deployment.example").await, [6]);
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_writers_store_one_change_once(pool: PgPool) {
    let writers = (0..16).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move { record(&pool, "environment", &["RESEND_API_KEY"]).await })
    });
    let mut first_seen = Vec::new();
    for writer in writers {
        first_seen.push(writer.await.unwrap());
    }
    assert_eq!(live_counts(&pool, "environment").await, [6]);
    assert!(first_seen.windows(2).all(|pair| pair[0] == pair[1]));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_database_refuses_a_malformed_snapshot(pool: PgPool) {
    let outcome = sqlx::query(
        "INSERT INTO readiness_snapshots (source, digest, inputs, advisory, strict, live_blockers)
         VALUES ('environment', 'not-a-digest', '{}', 'ready', 'ready', 0)",
    )
    .execute(&pool)
    .await;
    assert!(outcome.is_err());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_monitor_publishes_the_stored_first_seen_time_after_a_restart(pool: PgPool) {
    let register = Arc::new(thesmios());
    let (_first, first_state) =
        ReadinessMonitor::start(Arc::clone(&register), pool.clone(), Source::environment()).await;
    let first = first_state.borrow().readiness.clone();
    assert!(first.recorded);
    assert_eq!(first.source, ENVIRONMENT_SOURCE);
    assert!(
        first.inputs.public_checks_pass(),
        "the database check passes"
    );

    // A second process (or a restart) seeing the same state reports the same time.
    let (_second, second_state) =
        ReadinessMonitor::start(Arc::clone(&register), pool.clone(), Source::environment()).await;
    let second = second_state.borrow().readiness.clone();
    assert_eq!(second.first_seen_at, first.first_seen_at);
    assert_eq!(second.digest, first.digest);
    assert!(second.observed_at >= first.observed_at);
    assert!(Utc::now() - second.first_seen_at < Duration::minutes(1));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_monitor_reports_an_unreachable_database_as_a_failed_public_check(pool: PgPool) {
    let register = Arc::new(thesmios());
    let (monitor, state) =
        ReadinessMonitor::start(Arc::clone(&register), pool.clone(), Source::environment()).await;
    pool.close().await;
    monitor.refresh().await;
    let snapshot = state.borrow().readiness.clone();
    assert!(!snapshot.inputs.public_checks_pass());
    assert!(!snapshot.recorded, "the change could not be stored yet");
    assert_eq!(
        evaluate(&register, &snapshot.inputs).advisory,
        Readiness::NotReady
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_dependency_is_dated_from_the_snapshot_since_which_it_has_had_its_state(pool: PgPool) {
    use server::readiness::history::PgHistory;

    let register = thesmios();
    let support = register.blocker("support-email").unwrap();
    let store = PgHistory::shared(pool.clone());
    let at =
        |configured: &[&str]| ReadinessSnapshot::new("environment", inputs(configured), Utc::now());

    // Nothing stored yet: no date rather than a guess.
    let none = store.blocker_history(&at(&[]), support).await.unwrap();
    assert!(none.dependency_since.is_empty());

    let missing_since = record(&pool, "environment", &[]).await;
    // Another dependency changing does not re-date this one.
    record(&pool, "environment", &["STRIPE_SECRET_KEY"]).await;
    let history = store
        .blocker_history(&at(&["STRIPE_SECRET_KEY"]), support)
        .await
        .unwrap();
    assert_eq!(history.dependency_since["RESEND_API_KEY"], missing_since);

    // Configured: dated from the snapshot where it became configured.
    let configured_since = record(
        &pool,
        "environment",
        &["STRIPE_SECRET_KEY", "RESEND_API_KEY"],
    )
    .await;
    record(&pool, "environment", &["RESEND_API_KEY"]).await;
    let history = store
        .blocker_history(&at(&["RESEND_API_KEY"]), support)
        .await
        .unwrap();
    assert_eq!(history.dependency_since["RESEND_API_KEY"], configured_since);
    assert!(configured_since > missing_since);

    // Another source's history is its own.
    let other = ReadinessSnapshot::new("https://deployment.example", inputs(&[]), Utc::now());
    let history = store.blocker_history(&other, support).await.unwrap();
    assert!(history.dependency_since.is_empty());
}
