//! Proof runs in PostgreSQL, and keeping secret values out of their excerpts.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use app::domain::proof_run::{NewProofRun, ProofRun};
use app::domain::Register;

/// Stores a validated run. The insert trigger notifies every server process.
pub async fn record(pool: &PgPool, run: &NewProofRun) -> Result<ProofRun, sqlx::Error> {
    sqlx::query_as!(
        ProofRun,
        r#"INSERT INTO proof_runs (proof_id, passed, ran_at, actor, output_digest, excerpt)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING id, proof_id, passed, ran_at, recorded_at, actor, output_digest, excerpt"#,
        run.proof_id,
        run.passed,
        run.ran_at,
        run.actor,
        run.output_digest,
        run.excerpt,
    )
    .fetch_one(pool)
    .await
}

/// The latest run of every proof that has one.
pub async fn latest_runs(pool: &PgPool) -> Result<BTreeMap<String, ProofRun>, sqlx::Error> {
    let runs = sqlx::query_as!(
        ProofRun,
        r#"SELECT DISTINCT ON (proof_id)
                  id, proof_id, passed, ran_at, recorded_at, actor, output_digest, excerpt
           FROM proof_runs
           ORDER BY proof_id, ran_at DESC, id DESC"#
    )
    .fetch_all(pool)
    .await?;
    Ok(runs
        .into_iter()
        .map(|run| (run.proof_id.clone(), run))
        .collect())
}

/// The newest `limit` runs of one proof.
pub async fn recent_runs(
    pool: &PgPool,
    proof_id: &str,
    limit: i64,
) -> Result<Vec<ProofRun>, sqlx::Error> {
    sqlx::query_as!(
        ProofRun,
        r#"SELECT id, proof_id, passed, ran_at, recorded_at, actor, output_digest, excerpt
           FROM proof_runs WHERE proof_id = $1
           ORDER BY ran_at DESC, id DESC LIMIT $2"#,
        proof_id,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Proof id → passing, for every proof the register declares: a proof passes while
/// its latest run passed and ran within the freshness window.
pub fn passing_states(
    register: &Register,
    latest: &BTreeMap<String, ProofRun>,
    now: DateTime<Utc>,
) -> BTreeMap<String, bool> {
    let window = Duration::days(i64::from(register.readiness.proof_freshness_days));
    register
        .proofs
        .iter()
        .map(|proof| {
            let passing = latest
                .get(&proof.id)
                .is_some_and(|run| run.passed && now - run.ran_at <= window);
            (proof.id.clone(), passing)
        })
        .collect()
}

/// Replaces the value of every declared dependency present in this process's
/// environment with `[redacted NAME]`, so a proof's output cannot carry a secret
/// into the database or a page. Values shorter than 4 characters are left alone:
/// they cannot be told apart from ordinary text.
pub fn redact_secrets(register: &Register, text: &str) -> String {
    let mut redacted = text.to_owned();
    for name in register.dependency_names() {
        if let Some(value) = std::env::var_os(name).and_then(|value| value.into_string().ok()) {
            if value.chars().count() >= 4 && redacted.contains(&value) {
                redacted = redacted.replace(&value, &format!("[redacted {name}]"));
            }
        }
    }
    redacted
}
