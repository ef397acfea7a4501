//! The attacks on the ledgers that the transparency log is there to catch, made
//! as the tables' owner (the role the tests connect as): it can disable the
//! append-only triggers and row-level security, rewrite records and recompute
//! every digest, head and tree hash the database holds. The chains alone then
//! verify; checkpoints kept outside the database do not.

use std::sync::Arc;

use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::common::{attach_everything, register, test_log_key, world, World};
use crate::rooms::{acceptance, inputs};
use app::domain::ledger::AcceptanceRecord;
use server::log::leaf;
use server::log::tree::{self, HashCache};
use server::log::{audit, receipt, LogKey, Sequencer};
use server::rooms::verify::{ledgers, verify_all};
use server::rooms::{self, Submission};
use server::tenancy::{self, Acting};

/// Acme's evidence attached and five signatures, each sequenced on its own:
/// the checkpoints a buyer (or anyone) kept along the way.
async fn history(pool: &PgPool) -> (World, Arc<LogKey>, Vec<String>, Vec<AcceptanceRecord>) {
    let w = world(pool).await;
    attach_everything(pool, &w.operator, "acme", "PO-KEPT-1").await;
    let key = test_log_key();
    let stop = CancellationToken::new();
    let log = Sequencer::spawn(pool.clone(), Arc::clone(&key), stop.clone());
    let mut kept = vec![log.flush().await.unwrap().head.note.clone()];
    let mut records = Vec::new();
    let register = register();
    let now = inputs(&register, &[]);
    for _ in 0..5 {
        let (_, record) = rooms::submit(
            pool,
            &register,
            &now,
            &w.sponsor_a,
            Some("acme"),
            Submission::Accept(&acceptance(&now, &[])),
        )
        .await
        .unwrap();
        kept.push(
            receipt::issue(pool, &log, &record)
                .await
                .unwrap()
                .checkpoint,
        );
        records.push(record);
    }
    stop.cancel();
    (w, key, kept, records)
}

/// The chains alone, recomputed: what the owner's rewrite fools.
async fn assert_chains_intact(pool: &PgPool) {
    let chains = verify_all(pool).await.unwrap();
    assert!(
        chains.iter().all(|chain| chain.result.is_ok()),
        "{chains:?}"
    );
}

async fn audit(pool: &PgPool, key: &LogKey, kept: &[String]) -> (String, bool) {
    audit::verify(pool, key.verifier_key(), kept).await.unwrap()
}

/// What an owner does first: nothing refuses it any more.
async fn unguard(conn: &mut PgConnection) {
    for table in [
        "acceptance_records",
        "evidence_changes",
        "ledger_heads",
        "log_leaves",
        "log_hashes",
        "log_checkpoints",
    ] {
        sqlx::query(&format!("ALTER TABLE {table} DISABLE TRIGGER USER"))
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query(&format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
}

/// Recomputes the stored tree from the stored leaves, as a careful attacker
/// would after editing them.
async fn recompute_tree(conn: &mut PgConnection) {
    let leaves: Vec<String> = sqlx::query_scalar("SELECT leaf FROM log_leaves ORDER BY idx")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let hashes: Vec<_> = leaves.iter().map(|text| leaf::hash(text)).collect();
    let added = tree::append(&HashCache::default(), 0, &hashes).unwrap();
    sqlx::query("DELETE FROM log_hashes")
        .execute(&mut *conn)
        .await
        .unwrap();
    for (index, hash) in added {
        sqlx::query("INSERT INTO log_hashes (idx, hash) VALUES ($1, $2)")
            .bind(i64::try_from(index).unwrap())
            .bind(hash.0.to_vec())
            .execute(&mut *conn)
            .await
            .unwrap();
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_untouched_log_matches_every_kept_checkpoint(pool: PgPool) {
    let (_, key, kept, _) = history(&pool).await;
    let (report, intact) = audit(&pool, &key, &kept).await;
    assert!(intact, "{report}");
    assert_eq!(
        report.matches("ok      consistent with").count(),
        kept.len(),
        "{report}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rewritten_record_with_everything_recomputed_is_caught_and_named(pool: PgPool) {
    let (w, key, kept, records) = history(&pool).await;
    let mut tx = pool.begin().await.unwrap();
    unguard(&mut tx).await;
    // Record 3's signer becomes Mallory; every digest after it, the head, the
    // leaves and the tree are recomputed to match.
    let mut chain = records.clone();
    chain[2].signer_name = "Mallory".to_owned();
    for index in 2..chain.len() {
        if index > 2 {
            chain[index].prev_digest = chain[index - 1].digest.clone();
        }
        chain[index].digest = chain[index].computed_digest();
        let record = &chain[index];
        sqlx::query(
            "UPDATE acceptance_records SET signer_name = $2, prev_digest = $3, digest = $4 WHERE id = $1",
        )
        .bind(record.id)
        .bind(&record.signer_name)
        .bind(&record.prev_digest)
        .bind(&record.digest)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query("UPDATE log_leaves SET leaf = $2 WHERE kind = 'acceptance' AND ref_id = $1")
            .bind(record.id)
            .bind(leaf::acceptance(record))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    sqlx::query(
        "UPDATE ledger_heads SET digest = $2 WHERE tenant_id = $1 AND ledger = 'acceptance'",
    )
    .bind(w.a)
    .bind(&chain[4].digest)
    .execute(&mut *tx)
    .await
    .unwrap();
    recompute_tree(&mut tx).await;
    tx.commit().await.unwrap();

    // The chains alone cannot tell.
    let chains = verify_all(&pool).await.unwrap();
    assert!(
        chains.iter().all(|chain| chain.result.is_ok()),
        "{chains:?}"
    );
    // The kept checkpoints can, from the first one signed after record 3.
    let (report, intact) = audit(&pool, &key, &kept).await;
    assert!(!intact, "{report}");
    assert!(
        report.contains("no longer matches the kept checkpoint")
            && report.contains(&format!(
                "acceptance record 3 of acme (row {})",
                records[2].id
            )),
        "{report}"
    );
    // The checkpoints from before record 3 still match: the change is after them.
    assert_eq!(
        report.matches("ok      consistent with").count(),
        3,
        "{report}"
    );
    // The one right after record 3 names it and nothing else.
    let line = report
        .lines()
        .find(|line| line.contains("no longer matches"))
        .unwrap();
    assert!(
        !line.contains("record 2 of") && !line.contains("record 4 of"),
        "{line}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn deleting_the_last_records_or_all_of_them_is_caught(pool: PgPool) {
    let (w, key, kept, records) = history(&pool).await;
    let mut tx = pool.begin().await.unwrap();
    unguard(&mut tx).await;
    let last_two: Vec<i64> = records[3..].iter().map(|record| record.id).collect();
    sqlx::query("DELETE FROM acceptance_records WHERE id = ANY($1)")
        .bind(&last_two)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("DELETE FROM log_leaves WHERE kind = 'acceptance' AND ref_id = ANY($1)")
        .bind(&last_two)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE ledger_heads SET seq = 3, digest = $2 WHERE tenant_id = $1 AND ledger = 'acceptance'")
        .bind(w.a)
        .bind(&records[2].digest)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("DELETE FROM log_checkpoints WHERE size > (SELECT count(*) FROM log_leaves)")
        .execute(&mut *tx)
        .await
        .unwrap();
    recompute_tree(&mut tx).await;
    tx.commit().await.unwrap();
    assert_chains_intact(&pool).await;
    let (report, intact) = audit(&pool, &key, &kept).await;
    assert!(!intact, "{report}");
    assert_eq!(report.matches("leaves were removed").count(), 2, "{report}");

    // Everything gone, the log included: "0 records, ok" no longer.
    let mut tx = pool.begin().await.unwrap();
    unguard(&mut tx).await;
    for table in [
        "log_checkpoints",
        "log_hashes",
        "log_leaves",
        "acceptance_records",
        "evidence_changes",
        "ledger_heads",
    ] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert_chains_intact(&pool).await;
    let (report, intact) = audit(&pool, &key, &kept).await;
    assert!(!intact, "{report}");
    assert!(report.contains("but the log holds 0"), "{report}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_forged_record_in_the_middle_is_caught(pool: PgPool) {
    let (w, key, kept, _) = history(&pool).await;
    // A forged evidence change for Borealis, given a leaf in the middle of the
    // log, everything after it moved up and the tree recomputed.
    let mut tx = tenancy::begin(&pool, Acting::System).await.unwrap();
    unguard(&mut tx).await;
    let forged: i64 = sqlx::query_scalar(
        "INSERT INTO evidence_changes (tenant_id, seq, action, gate_id, item, reference, note, actor, at, prev_digest, digest)
         VALUES ($1, 1, 'attached', 'order-form-scope', 'Signed order form', 'FORGED', '', 'mallory', now(), $2, $2)
         RETURNING id",
    )
    .bind(w.b)
    .bind("0".repeat(64))
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let rooms = ledgers(&mut tx).await.unwrap();
    let mut change = rooms
        .iter()
        .find(|room| room.tenant.id == w.b)
        .unwrap()
        .evidence[0]
        .clone();
    change.digest = change.computed_digest();
    sqlx::query("UPDATE evidence_changes SET digest = $2 WHERE id = $1")
        .bind(forged)
        .bind(&change.digest)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO ledger_heads (tenant_id, ledger, seq, digest) VALUES ($1, 'evidence', 1, $2)",
    )
    .bind(w.b)
    .bind(&change.digest)
    .execute(&mut *tx)
    .await
    .unwrap();
    let middle: i64 = 4;
    sqlx::query("UPDATE log_leaves SET idx = idx + 1000000 WHERE idx >= $1")
        .bind(middle)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE log_leaves SET idx = idx - 999999 WHERE idx >= 1000000")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("INSERT INTO log_leaves (idx, kind, ref_id, leaf) VALUES ($1, 'evidence', $2, $3)")
        .bind(middle)
        .bind(forged)
        .bind(leaf::evidence(&change))
        .execute(&mut *tx)
        .await
        .unwrap();
    recompute_tree(&mut tx).await;
    tx.commit().await.unwrap();
    assert_chains_intact(&pool).await;
    let (report, intact) = audit(&pool, &key, &kept).await;
    assert!(!intact, "{report}");
    assert!(report.contains("evidence change 1 of borealis"), "{report}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_checkpoint_signed_by_another_key_is_refused(pool: PgPool) {
    let (_, key, mut kept, _) = history(&pool).await;
    let other = test_log_key();
    let size: u64 = kept[1].lines().nth(1).unwrap().parse().unwrap();
    kept.push(
        other
            .sign_checkpoint(size, tlog_tiles::record_hash(b"forged root"))
            .unwrap(),
    );
    let (report, intact) = audit(&pool, &key, &kept).await;
    assert!(!intact, "{report}");
    assert!(report.contains("REFUSED kept checkpoint #7"), "{report}");
    assert!(report.contains("not signed by the log's key"), "{report}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rewritten_access_event_is_caught(pool: PgPool) {
    let (_, key, mut kept, _) = history(&pool).await;
    // A sign-in, sequenced and kept.
    server::auth::audit::record(
        &pool,
        &server::auth::audit::Event {
            account_id: None,
            actor: "mallory@example.com",
            action: server::auth::audit::Action::SignInFailed,
            subject: None,
            remote_addr: Some("198.51.100.7"),
        },
    )
    .await;
    let stop = CancellationToken::new();
    let log = Sequencer::spawn(pool.clone(), Arc::clone(&key), stop.clone());
    kept.push(log.flush().await.unwrap().head.note.clone());
    stop.cancel();
    let (report, intact) = audit(&pool, &key, &kept).await;
    assert!(intact, "{report}");

    // The owner makes the failed sign-in someone else's, from elsewhere.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE access_events DISABLE TRIGGER USER")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE access_events SET remote_addr = '203.0.113.9' WHERE actor = 'mallory@example.com'",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (report, intact) = audit(&pool, &key, &kept).await;
    assert!(!intact, "{report}");
    assert!(
        report.contains("access event sign_in_failed by mallory@example.com"),
        "{report}"
    );
}
