//! Freshness that warns before it lapses: "expires in …" on the blocker page and
//! in the readiness document, and events recorded once per transition.

use std::collections::BTreeMap;

use axum::body::Body;
use chrono::{DateTime, Duration, Utc};
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;

use app::domain::freshness::{proof_freshness, SourceState};
use app::domain::proof_run::{NewProofRun, ProofRun};
use server::auth::session::SessionSettings;
use server::proofs;
use server::readiness::events::{self, Watched};

const PROOF: &str = "stripe-self-serve-billing";

async fn passing_run(pool: &PgPool, ran_at: DateTime<Utc>) -> ProofRun {
    proofs::record(
        pool,
        &crate::common::register(),
        &NewProofRun {
            proof_id: PROOF.to_owned(),
            passed: true,
            ran_at,
            actor: "ci".to_owned(),
            output_digest: None,
            excerpt: String::new(),
        },
    )
    .await
    .unwrap()
}

async fn get(app: &axum::Router, uri: &str) -> String {
    let response = app
        .clone()
        .oneshot(http::Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

/// Kinds of the stored events, oldest first.
async fn event_kinds(pool: &PgPool, subject: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT kind FROM readiness_events WHERE subject = $1 ORDER BY id")
        .bind(subject)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_pass_near_its_window_says_expires_in_on_the_page_and_in_the_document_once(pool: PgPool) {
    // The default window is 30 days, the margin 24 hours: 5 hours left.
    passing_run(
        &pool,
        Utc::now() - Duration::days(30) + Duration::hours(5) + Duration::minutes(10),
    )
    .await;
    let app = crate::common::test_app(&pool, None, SessionSettings::default()).await;
    for _ in 0..3 {
        app.monitor.refresh().await;
    }
    let document: serde_json::Value =
        serde_json::from_str(&get(&app.router, "/api/readiness").await).unwrap();
    let fact = &document["proof_freshness"][PROOF];
    assert_eq!(fact["state"], "expiring");
    assert_eq!(fact["warning"], "expires in 5 h");
    assert_eq!(fact["source"], "proof_runs");
    assert!(fact["expires_at"].is_string() && fact["last_seen"].is_string());
    assert_eq!(
        document["proofs"][PROOF], true,
        "still passing until it lapses"
    );
    assert_eq!(
        document["proof_freshness"]["scim-enterprise-sso"]["state"],
        "never_run"
    );

    let html = get(&app.router, &format!("/blockers/{PROOF}")).await;
    assert!(
        html.contains(r#"data-testid="proof-freshness""#) && html.contains("expires in 5 h"),
        "{html}"
    );

    // Another process polling the same database: still one event.
    let second = crate::common::test_app(&pool, None, SessionSettings::default()).await;
    second.monitor.refresh().await;
    assert_eq!(event_kinds(&pool, PROOF).await, ["proof_expiring"]);

    // A new pass: recovered, once.
    passing_run(&pool, Utc::now()).await;
    for _ in 0..3 {
        app.monitor.refresh().await;
        second.monitor.refresh().await;
    }
    assert_eq!(
        event_kinds(&pool, PROOF).await,
        ["proof_expiring", "proof_recovered"]
    );
    let html = get(&app.router, &format!("/blockers/{PROOF}")).await;
    assert!(!html.contains(r#"data-testid="proof-freshness""#));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_lapsed_proof_says_since_when_it_has_had_no_passing_run(pool: PgPool) {
    let ran_at = Utc::now() - Duration::days(40);
    passing_run(&pool, ran_at).await;
    let app = crate::common::test_app(&pool, None, SessionSettings::default()).await;
    let document: serde_json::Value =
        serde_json::from_str(&get(&app.router, "/api/readiness").await).unwrap();
    let fact = &document["proof_freshness"][PROOF];
    assert_eq!(fact["state"], "expired");
    let since = ran_at.format("%Y-%m-%d %H:%M UTC").to_string();
    assert_eq!(
        fact["warning"],
        format!("expired 10 days ago; no passing run since {since}")
    );
    assert_eq!(document["proofs"][PROOF], false);
    let html = get(&app.router, &format!("/blockers/{PROOF}")).await;
    assert!(
        html.contains(&format!("no passing run since {since}")),
        "{html}"
    );
    assert_eq!(event_kinds(&pool, PROOF).await, ["proof_expired"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn expiry_and_a_quiet_source_are_recorded_once_per_transition_whatever_the_polling(
    pool: PgPool,
) {
    let register = crate::common::register();
    let ran_at: DateTime<Utc> = "2026-01-01T12:00:00Z".parse().unwrap();
    let run = passing_run(&pool, ran_at).await;
    let latest = BTreeMap::from([(PROOF.to_owned(), run)]);
    let proof_at = |now: DateTime<Utc>| Watched::Proof {
        id: PROOF.to_owned(),
        freshness: proof_freshness(&register, &latest, now)[PROOF].clone(),
        margin: Duration::hours(24),
    };
    // "Now" is injected: a day of polls while fresh, expiring, then expired.
    for hours in [
        1,
        2,
        3,
        29 * 24 + 13,
        29 * 24 + 14,
        30 * 24 + 1,
        30 * 24 + 2,
    ] {
        let now = ran_at + Duration::hours(hours);
        events::record(&pool, &crate::common::register(), &[proof_at(now)], now)
            .await
            .unwrap();
    }
    assert_eq!(
        event_kinds(&pool, PROOF).await,
        ["proof_expiring", "proof_expired"]
    );
    let stored = events::recent(&pool, 10).await.unwrap();
    assert_eq!(stored[0].occurred_at, ran_at + Duration::days(30));
    assert_eq!(
        stored[1].occurred_at,
        ran_at + Duration::days(29),
        "the warning is dated when the margin began"
    );

    let last_seen: DateTime<Utc> = "2026-02-01T00:00:00Z".parse().unwrap();
    let source = |state| Watched::Source {
        label: "https://deploy.example/api/readiness".to_owned(),
        state,
        last_seen: (state == SourceState::Quiet).then_some(last_seen),
    };
    let now = last_seen + Duration::minutes(5);
    for state in [
        SourceState::Answering,
        SourceState::Quiet,
        SourceState::Quiet,
        SourceState::Quiet,
        SourceState::Answering,
        SourceState::Answering,
    ] {
        events::record(&pool, &crate::common::register(), &[source(state)], now)
            .await
            .unwrap();
    }
    let label = "https://deploy.example/api/readiness";
    assert_eq!(
        event_kinds(&pool, label).await,
        ["source_stale", "source_recovered"]
    );
    let detail: String =
        sqlx::query_scalar("SELECT detail FROM readiness_events WHERE kind = 'source_stale'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(detail, "no answer since 2026-02-01 00:00:00 UTC");
}
