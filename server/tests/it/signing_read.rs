//! What a signature reads, whatever plan PostgreSQL caches for it: one record of
//! the tenant's acceptance chain, however long the chain has grown. A generic
//! plan cached after the tables were analysed while small once read the whole
//! chain for every signature (docs/performance.md, "Results").

use std::str::FromStr;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::common::{attach_everything, register, serving_database_url, world};
use crate::rooms::{acceptance, inputs};
use app::domain::ledger::GENESIS_DIGEST;
use server::rooms::{self, Submission};
use server::tenancy::{self, Acting};

/// Every plan node of `plan` (an `EXPLAIN (FORMAT JSON)` plan) and below.
fn nodes<'a>(plan: &'a Value, found: &mut Vec<&'a Value>) {
    found.push(plan);
    for child in plan["Plans"].as_array().into_iter().flatten() {
        nodes(child, found);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_signature_reads_one_record_of_its_chain_whatever_plan_is_cached(pool: PgPool) {
    let register = register();
    let w = world(&pool).await;
    attach_everything(&pool, &w.operator, "acme", "PO-1").await;
    attach_everything(&pool, &w.operator, "borealis", "PO-2").await;
    let now = inputs(&register, &[]);
    let form = acceptance(&now, &["support-email"]);

    // The server's role on one connection that plans every statement generically,
    // as the pool's connections come to after their first executions.
    let options = PgConnectOptions::from_str(&serving_database_url(&pool))
        .unwrap()
        .options([("plan_cache_mode", "force_generic_plan")]);
    let signing = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let sign = |sponsor| {
        let (signing, register, now, form) = (&signing, &register, &now, &form);
        async move {
            rooms::submit(
                signing,
                register,
                now,
                sponsor,
                None,
                Submission::Accept(form),
            )
            .await
            .expect("signs")
        }
    };
    for _ in 0..40 {
        sign(&w.sponsor_a).await;
    }
    sign(&w.sponsor_b).await;
    // Statistics of short chains, as autovacuum takes them from a young database;
    // the next signature plans its statements with them.
    sqlx::query("ANALYZE acceptance_records, ledger_heads, tenants, evidence_changes")
        .execute(&pool)
        .await
        .unwrap();
    let (_, record) = sign(&w.sponsor_a).await;
    assert_eq!(record.seq, 41);

    // The signing read, as prepared on that connection, run again for acme.
    // The pool's one connection, as acme's sponsor.
    let mut tx = tenancy::begin(&signing, Acting::As(&w.sponsor_a))
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM pg_prepared_statements
         WHERE statement LIKE '%evidence_changes%' AND statement LIKE '%ledger_heads h%'
           AND statement NOT LIKE '%pg_prepared_statements%'",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert_eq!(names.len(), 1, "one signing read prepared: {names:?}");
    let explained: Value = sqlx::query_scalar(&format!(
        "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {}({}, '{GENESIS_DIGEST}')",
        names[0], w.a
    ))
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let mut found = Vec::new();
    nodes(&explained[0]["Plan"], &mut found);
    let reads: Vec<_> = found
        .iter()
        .filter(|node| node["Relation Name"] == "acceptance_records")
        .collect();
    assert!(!reads.is_empty(), "the read takes the record at the head");
    for node in reads {
        let rows = node["Actual Rows"].as_f64().unwrap() * node["Actual Loops"].as_f64().unwrap();
        assert!(
            rows <= 1.0,
            "the signing read took {rows} acceptance records of a 41-record chain \
             to find one: {}",
            node["Node Type"]
        );
    }
    tx.rollback().await.unwrap();
    signing.close().await;
}
