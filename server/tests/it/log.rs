//! The transparency log: receipts, checkpoints and proofs, checked by our own
//! verifier and by Go's `golang.org/x/mod/sumdb/{tlog,note}`
//! (`end2end/tlog-verify`, built by `setup_go_verifier` in scripts/lib.sh; its
//! path is in `CLEARANCE_TLOG_VERIFY`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::common::{attach_everything, register, send, test_app, test_log_key, world};
use crate::rooms::{acceptance, inputs};
use app::domain::ledger::AcceptanceRecord;
use server::log::receipt::{self, Receipt, ReceiptError};
use server::log::{LogKey, Sequencer};
use server::rooms::{self, Submission};

/// The Go verifier; the tests need it (scripts/test builds it).
fn go_verifier() -> PathBuf {
    PathBuf::from(std::env::var("CLEARANCE_TLOG_VERIFY").expect(
        "CLEARANCE_TLOG_VERIFY: build Go's verifier first (`source scripts/lib.sh && setup_go_verifier`)",
    ))
}

/// Runs the Go verifier: its exit code and what it printed.
fn go(args: &[&Path]) -> (i32, String) {
    let output = Command::new(go_verifier())
        .args(args)
        .output()
        .expect("the Go verifier runs");
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("temporary file");
    path
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clearance-log-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// Acme's sponsor signs once more.
async fn sign(pool: &PgPool, sponsor: &app::domain::access::Viewer) -> AcceptanceRecord {
    let register = register();
    let now = inputs(&register, &[]);
    rooms::submit(
        pool,
        &register,
        &now,
        sponsor,
        Some("acme"),
        Submission::Accept(&acceptance(&now, &[])),
    )
    .await
    .expect("signed")
    .1
}

fn sequencer(pool: &PgPool, key: &Arc<LogKey>) -> (Sequencer, CancellationToken) {
    let stop = CancellationToken::new();
    (
        Sequencer::spawn(pool.clone(), Arc::clone(key), stop.clone()),
        stop,
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn a_signature_gets_a_receipt_that_checks_here_and_in_go(pool: PgPool) {
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "PO-LOG-1").await;
    let key = test_log_key();
    let (log, stop) = sequencer(&pool, &key);
    let first = sign(&pool, &w.sponsor_a).await;
    let first_receipt = receipt::issue(&pool, &log, &first)
        .await
        .expect("a receipt");
    let record = sign(&pool, &w.sponsor_a).await;
    let receipt = receipt::issue(&pool, &log, &record)
        .await
        .expect("a receipt");
    stop.cancel();

    // Every evidence change and both records are leaves; ours is the last.
    let leaves: i64 = sqlx::query_scalar("SELECT count(*) FROM log_leaves")
        .fetch_one(&pool)
        .await
        .unwrap();
    let size = u64::try_from(leaves).unwrap();
    let verified = receipt
        .verify(key.verifier_key())
        .expect("our verifier accepts it");
    assert_eq!((verified.index, verified.size), (size - 1, size));
    assert_eq!(receipt.record.format, 2, "new records cover their account");
    first_receipt
        .verify(key.verifier_key())
        .expect("the first receipt still checks against its own checkpoint");

    let dir = temp_dir("receipt");
    let key_file = write(&dir, "log.vkey", key.verifier_key());
    let receipt_file = write(
        &dir,
        "receipt.json",
        &serde_json::to_string(&receipt).unwrap(),
    );
    let (code, said) = go(&[Path::new("receipt"), &key_file, &receipt_file]);
    assert_eq!(code, 0, "Go's tlog accepts the receipt: {said}");
    let checkpoint_file = write(&dir, "checkpoint", &receipt.checkpoint);
    let (code, said) = go(&[Path::new("checkpoint"), &key_file, &checkpoint_file]);
    assert_eq!(code, 0, "Go's note opens the checkpoint: {said}");
    assert!(said.contains(&format!("\"size\":{size}")), "{said}");

    // Altered, the receipt fails in both verifiers.
    let mut altered = receipt.clone();
    altered.record.signer_name = "Mallory".to_owned();
    assert!(matches!(
        altered.verify(key.verifier_key()),
        Err(ReceiptError::RecordAltered)
    ));
    let mut moved: Receipt = receipt.clone();
    moved.leaf.index = size - 2;
    assert!(matches!(
        moved.verify(key.verifier_key()),
        Err(ReceiptError::NotIncluded)
    ));
    let moved_file = write(&dir, "moved.json", &serde_json::to_string(&moved).unwrap());
    let (code, said) = go(&[Path::new("receipt"), &key_file, &moved_file]);
    assert_eq!(code, 1, "Go refuses a proof for another index: {said}");

    // A checkpoint signed by another key is refused, here and in Go.
    let other = test_log_key();
    let forged = other
        .sign_checkpoint(size, tlog_tiles::record_hash(b"forged"))
        .expect("signed");
    let mut forged_receipt = receipt.clone();
    forged_receipt.checkpoint = forged.clone();
    assert!(matches!(
        forged_receipt.verify(key.verifier_key()),
        Err(ReceiptError::Checkpoint(_))
    ));
    let forged_file = write(&dir, "forged", &forged);
    let (code, said) = go(&[Path::new("checkpoint"), &key_file, &forged_file]);
    assert_eq!(code, 1, "Go refuses another key's checkpoint: {said}");
    std::fs::remove_dir_all(dir).ok();
}

#[sqlx::test(migrations = "../migrations")]
async fn two_servers_sequence_one_log_and_the_other_takes_over_when_the_leader_ends(pool: PgPool) {
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "PO-LOG-2").await;
    let key = test_log_key();
    let servers = [sequencer(&pool, &key), sequencer(&pool, &key)];
    let started = std::time::Instant::now();
    while !servers.iter().any(|(log, _)| log.is_leading()) {
        assert!(started.elapsed().as_secs() < 5, "nobody leads");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let leading: Vec<bool> = servers.iter().map(|(log, _)| log.is_leading()).collect();
    assert_eq!(
        leading.iter().filter(|lead| **lead).count(),
        1,
        "{leading:?}"
    );
    let (leader, follower) = if leading[0] { (0, 1) } else { (1, 0) };

    // Receipts through either server check, in one log.
    let mut sizes = Vec::new();
    let mut follower_waited = std::time::Duration::ZERO;
    for round in 0..6 {
        let (log, _) = &servers[[leader, follower][round % 2]];
        let record = sign(&pool, &w.sponsor_a).await;
        let asked = std::time::Instant::now();
        let receipt = receipt::issue(&pool, log, &record)
            .await
            .expect("a receipt");
        if round % 2 == 1 {
            follower_waited += asked.elapsed();
        }
        let verified = receipt.verify(key.verifier_key()).expect("it checks");
        sizes.push(verified.size);
    }
    assert!(sizes.windows(2).all(|pair| pair[0] < pair[1]), "{sizes:?}");
    // The follower is told (NOTIFY), not left to find out on its next second.
    assert!(
        follower_waited < std::time::Duration::from_millis(600),
        "three receipts through the follower took {follower_waited:?}"
    );

    // The leader ends: the other server takes over within seconds and answers.
    servers[leader].1.cancel();
    let record = sign(&pool, &w.sponsor_a).await;
    let asked = std::time::Instant::now();
    let receipt = receipt::issue(&pool, &servers[follower].0, &record)
        .await
        .expect("a receipt from the new leader");
    assert!(asked.elapsed().as_secs() < 5, "took {:?}", asked.elapsed());
    assert!(servers[follower].0.is_leading());
    let verified = receipt.verify(key.verifier_key()).expect("it checks");
    assert!(verified.size > *sizes.last().unwrap());
    servers[follower].1.cancel();
}

#[sqlx::test(migrations = "../migrations")]
async fn checkpoints_are_consistent_and_go_computes_the_same_root(pool: PgPool) {
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "PO-LOG-2").await;
    let app = test_app(&pool, None, Default::default()).await;
    let log = app.state.log.clone();
    let key = app.state.log.key().verifier_key().to_owned();
    let mut checkpoints = Vec::new();
    for _ in 0..4 {
        let record = sign(&pool, &w.sponsor_a).await;
        checkpoints.push(
            receipt::issue(&pool, &log, &record)
                .await
                .unwrap()
                .checkpoint,
        );
    }
    let size = |note: &str| note.lines().nth(1).unwrap().parse::<u64>().unwrap();
    let (old, new) = (&checkpoints[0], &checkpoints[3]);
    let (from, to) = (size(old), size(new));
    assert!(from < to);

    let answer = send(
        &app.router,
        Request::get(format!("/api/log/consistency?from={from}&to={to}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let dir = temp_dir("consistency");
    let key_file = write(&dir, "log.vkey", &key);
    let old_file = write(&dir, "old", old);
    let new_file = write(&dir, "new", new);
    let proof_file = write(&dir, "proof.json", &answer.body);
    let (code, said) = go(&[
        Path::new("consistency"),
        &key_file,
        &old_file,
        &new_file,
        &proof_file,
    ]);
    assert_eq!(code, 0, "Go's tlog accepts the consistency proof: {said}");

    // The newest checkpoint over HTTP is the last one signed, and Go computes
    // the same root from the leaves the database holds.
    let answer = send(
        &app.router,
        Request::get("/api/log/checkpoint")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(&answer.body, new);
    let leaves: Vec<String> = sqlx::query_scalar("SELECT leaf FROM log_leaves ORDER BY idx")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(leaves.len() as u64, to);
    let leaves_file = write(
        &dir,
        "leaves.json",
        &serde_json::to_string(&leaves).unwrap(),
    );
    let (code, said) = go(&[Path::new("tree"), &leaves_file]);
    assert_eq!(code, 0, "{said}");
    let root_line = new.lines().nth(2).unwrap();
    assert!(
        said.contains(root_line),
        "Go's root {said} is the checkpoint's {root_line}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[sqlx::test(migrations = "../migrations")]
async fn the_log_api_answers_and_refuses_clearly(pool: PgPool) {
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "PO-LOG-3").await;
    let app = test_app(&pool, None, Default::default()).await;
    let size = app.state.log.flush().await.expect("sequenced").head.size;
    assert!(size >= 2, "the evidence changes are leaves");
    let get = |uri: &str| Request::get(uri.to_owned()).body(Body::empty()).unwrap();
    let key = send(&app.router, get("/api/log/key")).await;
    assert_eq!(key.status, StatusCode::OK);
    assert_eq!(key.body.trim(), app.state.log.key().verifier_key());
    assert!(!key.body.contains("PRIVATE"));

    let proof = send(
        &app.router,
        get(&format!("/api/log/inclusion?index=1&size={size}")),
    )
    .await;
    assert_eq!(proof.status, StatusCode::OK, "{}", proof.body);
    assert!(proof.body.contains("\"proof\":["));
    let bigger = size + 1;
    for (uri, status) in [
        (
            format!("/api/log/inclusion?index={size}&size={size}"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/log/inclusion?index=x&size={size}"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/log/inclusion?index=0&size={bigger}"),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/log/consistency?from=2&to=1".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/log/consistency?from=1&to={bigger}"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/api/log/checkpoint?size={bigger}"),
            StatusCode::NOT_FOUND,
        ),
        (format!("/api/log/checkpoint?size={size}"), StatusCode::OK),
    ] {
        let answer = send(&app.router, get(&uri)).await;
        assert_eq!(answer.status, status, "{uri}: {}", answer.body);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sponsor_downloads_a_fresh_receipt_and_no_one_else_can(pool: PgPool) {
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "PO-LOG-4").await;
    let app = test_app(&pool, None, Default::default()).await;
    // Signed through the room's form path, which does not wait for the log.
    let record = sign(&pool, &w.sponsor_a).await;
    let (_, token) = server::auth::tokens::create(&pool, "sponsor@acme.example", "ci")
        .await
        .unwrap();
    let (_, other) = server::auth::tokens::create(&pool, "sponsor@borealis.example", "ci")
        .await
        .unwrap();
    let get = |uri: &str, token: &str| {
        Request::get(uri.to_owned())
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let uri = format!("/api/platform/launch-receipt?seq={}&download=1", record.seq);
    let answer = send(&app.router, get(&uri, &token)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let receipt: Receipt = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(receipt.record.digest, record.digest);
    receipt
        .verify(app.state.log.key().verifier_key())
        .expect("the downloaded receipt checks");

    let answer = send(&app.router, get(&format!("{uri}&tenant=acme"), &other)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    let answer = send(
        &app.router,
        get("/api/platform/launch-receipt?seq=99", &token),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
}
