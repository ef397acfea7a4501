//! The command-line gate and proof recording, against a real database.

use std::io::Write;

use sqlx::PgPool;

use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use server::commands::{check, record_proof};
use server::config::{CheckArgs, RecordArgs, RunStatus};

fn args(strict: bool, motion: Option<&str>) -> CheckArgs {
    CheckArgs {
        strict,
        motion: motion.map(str::to_owned),
        url: None,
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn the_strict_gate_fails_with_reasons_and_the_advisory_gate_passes(pool: PgPool) {
    let register = parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap();
    let advisory = check(&register, Some(&pool), &args(false, None))
        .await
        .unwrap();
    assert!(advisory.ready, "{}", advisory.report);
    let strict = check(&register, Some(&pool), &args(true, None))
        .await
        .unwrap();
    assert!(!strict.ready);
    assert!(strict
        .report
        .starts_with("strict readiness of deployment: NOT READY"));
    assert!(strict
        .report
        .contains("live blocker: Stripe self-serve billing"));
    let motion = check(
        &register,
        Some(&pool),
        &args(false, Some("self-serve-paid-launch")),
    )
    .await
    .unwrap();
    assert!(
        !motion.ready,
        "a blocked motion fails even the advisory gate"
    );
    assert!(check(&register, Some(&pool), &args(false, Some("nope")))
        .await
        .is_err());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_recorded_proof_run_keeps_the_digest_and_the_end_of_the_output(pool: PgPool) {
    let register = parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap();
    let mut output = tempfile();
    let text = format!("{}\nall 12 checks passed\n", "line\n".repeat(1_000));
    output.1.write_all(text.as_bytes()).unwrap();
    let recorded = record_proof(
        &register,
        &pool,
        &RecordArgs {
            proof_id: "stripe-self-serve-billing".to_owned(),
            status: Some(RunStatus::Passed),
            output: Some(output.0.clone()),
            junit: Vec::new(),
            actor: "ci: test".to_owned(),
        },
    )
    .await
    .unwrap();
    assert!(
        recorded.contains("stripe-self-serve-billing: passed"),
        "{recorded}"
    );
    let (excerpt, digest): (String, String) =
        sqlx::query_as("SELECT excerpt, output_digest FROM proof_runs")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(excerpt.chars().count(), 2_000);
    assert!(excerpt.ends_with("all 12 checks passed\n"));
    assert_eq!(digest.len(), 64);
    std::fs::remove_file(&output.0).unwrap();

    let unknown = RecordArgs {
        proof_id: "no-such-proof".to_owned(),
        status: Some(RunStatus::Failed),
        output: Some("/dev/null".into()),
        junit: Vec::new(),
        actor: "ci".to_owned(),
    };
    assert!(record_proof(&register, &pool, &unknown).await.is_err());
}

fn tempfile() -> (std::path::PathBuf, std::fs::File) {
    let path = std::env::temp_dir().join(format!(
        "clearance-proof-output-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    let file = std::fs::File::create(&path).unwrap();
    (path, file)
}
