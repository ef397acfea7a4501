//! `proof run` around real commands (the real binary against a real database and
//! a real server), and `proof record --junit` from report fixtures.

use std::path::PathBuf;
use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use server::commands::record_proof;
use server::config::RecordArgs;

const PROOF: &str = "stripe-self-serve-billing";
/// A declared dependency of the Stripe blocker, so its value is redacted.
const SECRET_NAME: &str = "STRIPE_WEBHOOK_SECRET";
const SENTINEL: &str = "whsec_SENTINEL-7c1e0f5b9a2d4e68";

fn server(pool: &PgPool) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", crate::common::database_url(pool))
        .env("RUST_LOG", "warn");
    command
}

/// Runs `server proof run PROOF …` to the end, off the async runtime.
async fn proof_run(mut command: Command, args: &[&str]) -> Output {
    command.args(["proof", "run"]).args(args);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

#[derive(Debug, sqlx::FromRow)]
struct Stored {
    passed: bool,
    excerpt: String,
    output_digest: Option<String>,
    actor: String,
}

async fn stored(pool: &PgPool) -> Vec<Stored> {
    sqlx::query_as("SELECT passed, excerpt, output_digest, actor FROM proof_runs ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_passing_command_streams_its_output_and_records_a_passed_run_with_its_digest(
    pool: PgPool,
) {
    let mut command = server(&pool);
    command.env("CLEARANCE_ACTOR", "ci: billing job");
    let output = proof_run(
        command,
        &[PROOF, "--", "sh", "-c", "echo 'all 12 checks passed'"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "all 12 checks passed\n");
    assert!(text(&output.stderr).contains("recorded run"));
    let runs = stored(&pool).await;
    assert_eq!(runs.len(), 1);
    assert!(runs[0].passed);
    assert_eq!(runs[0].actor, "ci: billing job");
    assert_eq!(
        runs[0].output_digest.as_deref(),
        Some(hex::encode(Sha256::digest(b"all 12 checks passed\n")).as_str())
    );
    assert!(runs[0].excerpt.starts_with("all 12 checks passed\n"));
    assert!(runs[0].excerpt.contains("exited with code 0"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failing_command_records_a_failed_run_and_exits_with_its_own_code(pool: PgPool) {
    let output = proof_run(
        server(&pool),
        &[
            PROOF,
            "--",
            "sh",
            "-c",
            "echo 'webhook rejected' >&2; exit 3",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("webhook rejected"));
    let runs = stored(&pool).await;
    assert_eq!(runs.len(), 1);
    assert!(!runs[0].passed);
    assert!(runs[0].excerpt.contains("webhook rejected"));
    assert!(runs[0].excerpt.contains("exited with code 3"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_command_ended_by_a_signal_exits_with_128_plus_its_number(pool: PgPool) {
    let output = proof_run(server(&pool), &[PROOF, "--", "sh", "-c", "kill -TERM $$"]).await;
    assert_eq!(output.status.code(), Some(128 + 15));
    assert!(!stored(&pool).await[0].passed);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_secret_the_command_prints_never_reaches_the_stored_excerpt(pool: PgPool) {
    let mut command = server(&pool);
    command.env(SECRET_NAME, SENTINEL);
    let script = format!(
        "echo \"signing with ${SECRET_NAME}\"; printf '%s' \"${SECRET_NAME}\" | base64; exit 1"
    );
    let output = proof_run(command, &[PROOF, "--", "sh", "-c", &script]).await;
    assert_eq!(output.status.code(), Some(1));
    // The terminal is the command's own: it printed what it printed.
    assert!(text(&output.stdout).contains(SENTINEL));
    let runs = stored(&pool).await;
    assert!(!runs[0].excerpt.contains(SENTINEL), "{}", runs[0].excerpt);
    assert!(!runs[0].excerpt.contains(&SENTINEL[6..20]));
    assert!(runs[0]
        .excerpt
        .contains(&format!("signing with [redacted {SECRET_NAME}]")));
    let everything: String =
        sqlx::query_scalar("SELECT string_agg(t::text, ' ') FROM proof_runs t")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!everything.contains(SENTINEL));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_command_that_cannot_start_is_a_clear_error_and_a_failed_run(pool: PgPool) {
    let output = proof_run(server(&pool), &[PROOF, "--", "/no/such/check-command"]).await;
    assert_eq!(output.status.code(), Some(127));
    assert!(text(&output.stderr).contains("could not start `/no/such/check-command`"));
    let runs = stored(&pool).await;
    assert_eq!(runs.len(), 1);
    assert!(!runs[0].passed);
    assert!(runs[0].excerpt.starts_with("could not start"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_registers_command_runs_through_the_shell_and_placeholders_are_refused(pool: PgPool) {
    // The default register's commands carry placeholders: nothing runs.
    let output = proof_run(server(&pool), &[PROOF]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("has placeholders (<secret>)"));
    let output = proof_run(server(&pool), &["no-such-proof", "--", "true"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown proof id"));
    assert!(stored(&pool).await.is_empty());

    let register = DEFAULT_REGISTER.replace(
        "command = \"THESMIOS_SMOKE_URL=https://www.thesmios.com npm run check:auth-api\"",
        "command = \"echo from the register && test -n \\\"$HOME$PATH\\\"\"",
    );
    let path = std::env::temp_dir().join(format!("clearance-run-{}.toml", std::process::id()));
    std::fs::write(&path, register).unwrap();
    let mut command = server(&pool);
    command.env("CLEARANCE_REGISTER", &path);
    let output = proof_run(command, &["authenticated-access-rls"]).await;
    let _ = std::fs::remove_file(&path);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "from the register\n");
    assert!(stored(&pool).await[0].passed);
}

#[sqlx::test(migrations = "../migrations")]
async fn with_server_the_run_is_recorded_through_the_api_with_the_bearer_token(pool: PgPool) {
    const TOKEN: &str = "ci-token-for-the-proof-runner-0123456789";
    let app = crate::common::test_app(&pool, Some(TOKEN), Default::default()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app
        .router
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut command = server(&pool);
    command
        .env_remove("DATABASE_URL")
        .env("CLEARANCE_API_TOKEN", TOKEN);
    let output = proof_run(
        command,
        &[PROOF, "--server", &url, "--", "sh", "-c", "echo ok; exit 4"],
    )
    .await;
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    let runs = stored(&pool).await;
    assert_eq!(runs.len(), 1);
    assert!(!runs[0].passed);
    assert!(runs[0].excerpt.starts_with("ok\n"));

    // A wrong token is refused: a clear error, nothing stored.
    let mut command = server(&pool);
    command.env(
        "CLEARANCE_API_TOKEN",
        "wrong-token-wrong-token-wrong-token-00",
    );
    let output = proof_run(command, &[PROOF, "--server", &url, "--", "true"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("refused the run: HTTP 401"));
    assert_eq!(stored(&pool).await.len(), 1);
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/junit")).join(name)
}

fn junit(files: &[&str]) -> RecordArgs {
    RecordArgs {
        proof_id: PROOF.to_owned(),
        status: None,
        output: None,
        junit: files.iter().map(|name| fixture(name)).collect(),
        actor: "ci: junit".to_owned(),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn junit_reports_pass_only_when_a_test_ran_and_none_failed_or_errored(pool: PgPool) {
    let register = parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap();
    for (files, passed) in [
        (&["surefire-passing.xml"][..], true),
        (&["pytest-passing.xml", "surefire-passing.xml"][..], true),
        (&["all-skipped.xml"][..], false),
        (&["surefire-failing.xml"][..], false),
        (&["pytest-passing.xml", "pytest-failing.xml"][..], false),
        (&["nested.xml"][..], false),
    ] {
        let said = record_proof(&register, &pool, &junit(files)).await.unwrap();
        let expected = if passed { ": passed" } else { ": failed" };
        assert!(said.contains(expected), "{files:?}: {said}");
    }
    let runs = stored(&pool).await;
    assert_eq!(
        runs[0].excerpt,
        "JUnit: 2 tests in 1 report: 2 passed, 0 failed, 0 errored, 0 skipped\n"
    );
    assert!(
        runs[2].excerpt.contains("no test ran"),
        "{}",
        runs[2].excerpt
    );
    // Surefire: the failing and the errored test, with their messages.
    assert_eq!(
        runs[3].excerpt,
        "JUnit: 4 tests in 1 report: 1 passed, 1 failed, 1 errored, 1 skipped\n\
         failure com.example.billing.WebhookTest.rejectsUnsignedEvent: expected: <400> but was: <200>\n\
         error com.example.billing.WebhookTest.replaysStoredEvent: Connection refused\n"
    );
    // pytest: the message's first line.
    assert!(runs[4].excerpt.contains(
        "failure tests.test_scim.test_rejects_bad_token: AssertionError: assert 200 == 401\n"
    ));
    // Nested suites count every case; a failure without a message gives its text.
    assert!(runs[5]
        .excerpt
        .starts_with("JUnit: 3 tests in 1 report: 2 passed, 1 failed"));
    assert!(runs[5]
        .excerpt
        .contains("failure api.billing.refunds card: refund was not issued\n"));
    let digest = hex::encode(Sha256::digest(
        std::fs::read(fixture("surefire-passing.xml")).unwrap(),
    ));
    assert_eq!(runs[0].output_digest.as_deref(), Some(digest.as_str()));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_malformed_junit_report_is_a_clear_error_and_records_nothing(pool: PgPool) {
    let register = parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap();
    for (file, says) in [
        ("malformed.xml", "malformed XML"),
        ("truncated.xml", "the document ends inside <testsuite>"),
        ("not-junit.xml", "the root element is <html>"),
    ] {
        // Alone, or after a good report: nothing is recorded either way.
        for files in [vec![file], vec!["surefire-passing.xml", file]] {
            let error = record_proof(&register, &pool, &junit(&files))
                .await
                .unwrap_err();
            let message = format!("{error:#}");
            assert!(message.contains(says), "{file}: {message}");
            assert!(message.contains(file), "{file}: {message}");
        }
    }
    assert!(stored(&pool).await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_secret_in_a_junit_failure_message_is_redacted(pool: PgPool) {
    let path = std::env::temp_dir().join(format!("clearance-junit-{}.xml", std::process::id()));
    std::fs::write(
        &path,
        format!(
            r#"<testsuite name="s"><testcase classname="c" name="signs"><failure message="bad signature for {SENTINEL}"/></testcase></testsuite>"#
        ),
    )
    .unwrap();
    // The real binary, its environment holding the value as a CI job's would.
    let mut command = server(&pool);
    command
        .env(SECRET_NAME, SENTINEL)
        .args(["proof", "record", PROOF, "--junit"])
        .arg(&path);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let runs = stored(&pool).await;
    assert!(!runs[0].excerpt.contains(SENTINEL), "{}", runs[0].excerpt);
    assert!(runs[0].excerpt.contains(&format!(
        "failure c.signs: bad signature for [redacted {SECRET_NAME}]"
    )));
}
