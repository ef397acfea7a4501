//! Transparency-log benchmark: proofs over a log of a million leaves and
//! receipts checked offline, each beside a baseline in the same run.
//!
//! 1. Builds the log in the (throwaway) database: the stored hashes are
//!    computed in memory with `log::tree::append`, as the sequencer computes
//!    them, and written with `COPY`; the checkpoint is signed with a key made
//!    for the run. Among the leaves (access events) sit acceptance records,
//!    whose receipts step 3 checks.
//! 2. Inclusion proofs of random leaves through the code `GET /api/log/inclusion`
//!    and the receipts run: a connection from the pool, `tree::with_hashes` with
//!    a fresh `HashCache` and `tree::inclusion`, reading the stored hashes from
//!    PostgreSQL. Alternating with the baseline, one primary-key
//!    `SELECT hash FROM log_hashes WHERE idx = $1` of a random stored hash, also
//!    on a connection from the pool. Every proof is checked against the signed
//!    root. Consistency proofs from a random size in the log's second half to its
//!    full size are measured the same way, for information.
//! 3. Receipts of those records (`log::receipt::stored`, as the dossier makes
//!    them) verified offline with `Receipt::verify` and the verifier key,
//!    alternating with the baseline: one SHA-256 of the record's canonical JSON
//!    (`AcceptanceRecord::computed_digest`).
//!
//! ```sh
//! DATABASE_URL=postgres://…/clearance_bench_log cargo bench -p server --bench log
//! ```
//!
//! Settings (environment): `BENCH_LOG_LEAVES` (default 1000000),
//! `BENCH_LOG_PROOFS` inclusion proofs (2000), `BENCH_LOG_CONSISTENCY`
//! consistency proofs (500), `BENCH_LOG_VERIFICATIONS` receipts verified
//! (20000). Budgets, on the 99th percentile: an inclusion proof ≤ 5 ms, a
//! receipt verified ≤ 1 ms. Exits 1 when a budget fails or a proof does not
//! check. The database must be a fresh one: the benchmark fills its log.

use std::collections::HashMap;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use secrecy::SecretString;
use sqlx::PgPool;
use tlog_tiles::{check_record, check_tree, stored_hash_count};

use app::domain::ledger::{
    canonical_time, storable_time, AcceptanceKind, AcceptanceRecord, FORMAT_V2,
};
use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use server::log::leaf;
use server::log::receipt::{self, Receipt};
use server::log::store::{self, Head};
use server::log::tree::{self, HashCache};
use server::log::LogKey;

mod common;
use common::{inputs, record_results, setting, ResultRow};

const INCLUSION_P99_BUDGET: Duration = Duration::from_millis(5);
const VERIFY_P99_BUDGET: Duration = Duration::from_millis(1);
/// Acceptance records among the leaves, each with its receipt.
const RECORDS: usize = 64;
/// Leaves computed and written per `COPY`.
const CHUNK: u64 = 100_000;
/// `ref_id` of the acceptance records, above every access leaf's.
const RECORD_IDS: i64 = 1 << 40;

/// SplitMix64: reproducible random indexes without another dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// The text of the access leaf at `index` (the filler of the log): a
/// sign-in, one second after the previous event.
fn access_leaf(index: u64) -> String {
    let at = chrono::DateTime::from_timestamp(1_796_000_000 + index as i64, 0).unwrap_or_default();
    let subject = format!("bench-{}", index % 64);
    leaf::access(&leaf::AccessFields {
        at: canonical_time(at),
        account_id: Some(1 + (index % 64) as i64),
        actor: "bench-sponsor@example.com",
        action: "sign_in_succeeded",
        subject: Some(&subject),
        remote_addr: Some("127.0.0.1"),
    })
}

/// An acceptance record as `rooms::submit` writes it for a tenant of the
/// default register (format 2, readiness of this environment).
fn record(number: usize, prev_digest: String) -> anyhow::Result<AcceptanceRecord> {
    let register = parse_register("thesmios.toml", DEFAULT_REGISTER)?;
    let inputs = inputs(&register);
    let mut record = AcceptanceRecord {
        id: RECORD_IDS + i64::try_from(number)?,
        tenant_id: 1,
        seq: i32::try_from(number)? + 1,
        kind: AcceptanceKind::Accepted,
        motion: "managed-private-beta".to_owned(),
        signer_name: "Ada Buyer".to_owned(),
        signer_role: "Chief Operating Officer".to_owned(),
        approval_reference: "PO-2026-114".to_owned(),
        exclusions: Vec::new(),
        residual_risks: "Support email stays manual.".to_owned(),
        readiness_digest: inputs.digest(),
        readiness_inputs: inputs,
        open_blockers: Vec::new(),
        actor: "bench-sponsor@example.com".to_owned(),
        account_id: Some(1),
        signed_at: storable_time(Utc::now()),
        prev_digest,
        digest: String::new(),
        format: FORMAT_V2,
    };
    record.digest = record.computed_digest();
    Ok(record)
}

/// A CSV field, quoted (leaf texts hold newlines).
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Writes a log of `size` leaves and its signed checkpoint; answers the
/// checkpoint and the acceptance records placed in it.
async fn build(
    pool: &PgPool,
    key: &LogKey,
    size: u64,
    random: &mut Random,
) -> anyhow::Result<(Head, Vec<AcceptanceRecord>)> {
    // Where the acceptance records go: distinct random indexes.
    let mut places: HashMap<u64, usize> = HashMap::new();
    while places.len() < RECORDS.min(usize::try_from(size)?) {
        let len = places.len();
        places.entry(random.below(size)).or_insert(len);
    }
    let mut records = Vec::with_capacity(places.len());
    let mut prev = "0".repeat(64);
    for number in 0..places.len() {
        let made = record(number, prev)?;
        prev = made.digest.clone();
        records.push(made);
    }

    let mut conn = pool.acquire().await?;
    let mut cache = HashCache::default();
    let mut done = 0u64;
    while done < size {
        let end = (done + CHUNK).min(size);
        let mut leaves_csv = String::new();
        let mut hashes = Vec::new();
        for index in done..end {
            let (kind, ref_id, text) = match places.get(&index) {
                Some(number) => {
                    let record = &records[*number];
                    ("acceptance", record.id, leaf::acceptance(record))
                }
                None => ("access", i64::try_from(index)?, access_leaf(index)),
            };
            hashes.push(leaf::hash(&text));
            leaves_csv.push_str(&format!("{index},{kind},{ref_id},{}\n", quoted(&text)));
        }
        let added = tree::append(&cache, done, &hashes)?;
        let mut hashes_csv = String::with_capacity(added.len() * 80);
        for (index, hash) in &added {
            cache.insert(*index, *hash);
            hashes_csv.push_str(&format!("{index},\\x{}\n", hex::encode(hash.0)));
        }
        cache.keep_frontier(end);
        for (statement, data) in [
            (
                "COPY log_leaves (idx, kind, ref_id, leaf) FROM STDIN (FORMAT csv)",
                leaves_csv,
            ),
            (
                "COPY log_hashes (idx, hash) FROM STDIN (FORMAT csv)",
                hashes_csv,
            ),
        ] {
            let mut copy = conn.copy_in_raw(statement).await?;
            copy.send(data.into_bytes()).await?;
            copy.finish().await?;
        }
        done = end;
    }
    let root = tree::root(&cache, size)?;
    let head = Head {
        size,
        root,
        note: key
            .sign_checkpoint(size, root)
            .map_err(|error| anyhow::anyhow!("signing the checkpoint: {error}"))?,
    };
    store::write_checkpoint(&mut conn, &head).await?;
    // As autovacuum would leave them: statistics and the visibility map.
    sqlx::raw_sql("VACUUM (ANALYZE) log_leaves, log_hashes, log_checkpoints")
        .execute(&mut *conn)
        .await?;
    Ok((head, records))
}

/// The q-th quantile (0–1) of sorted `values`, interpolated between the
/// closest ranks (as `end2end/bench/stats.mjs` computes it).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let position = (sorted.len() - 1) as f64 * q;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    let (a, b) = (sorted[low].as_secs_f64(), sorted[high].as_secs_f64());
    Duration::from_secs_f64(a + (b - a) * (position - low as f64))
}

/// p50, p99 and max of a sample.
struct Stats {
    p50: Duration,
    p99: Duration,
    max: Duration,
    count: usize,
}

impl Stats {
    fn of(mut values: Vec<Duration>) -> Self {
        values.sort();
        Self {
            p50: quantile(&values, 0.5),
            p99: quantile(&values, 0.99),
            max: values[values.len() - 1],
            count: values.len(),
        }
    }

    fn line(&self, label: &str) -> String {
        format!(
            "{label:<58} p50 {:>9}   p99 {:>9}   max {:>9}   ({} samples)",
            ms(self.p50),
            ms(self.p99),
            ms(self.max),
            self.count
        )
    }

    fn spread(&self) -> String {
        format!("p50 {}, max {}", ms(self.p50), ms(self.max))
    }
}

/// Milliseconds with three decimals (microsecond resolution).
fn ms(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1_000.0)
}

fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

async fn run() -> anyhow::Result<bool> {
    let url = std::env::var("DATABASE_URL").context("set DATABASE_URL to a fresh database")?;
    let size = setting("BENCH_LOG_LEAVES", 1_000_000)? as u64;
    let proofs = setting("BENCH_LOG_PROOFS", 2_000)?;
    let consistencies = setting("BENCH_LOG_CONSISTENCY", 500)?;
    let verifications = setting("BENCH_LOG_VERIFICATIONS", 20_000)?;
    let pool = server::db::connect_and_migrate(&SecretString::from(url), 4).await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM log_leaves")
        .fetch_one(&pool)
        .await?;
    anyhow::ensure!(
        existing == 0,
        "the log already holds {existing} leaves: the benchmark needs a fresh database"
    );
    println!(
        "Log: {} leaves, {proofs} inclusion proofs, {consistencies} consistency proofs, \
         {verifications} receipt verifications, PostgreSQL {}",
        thousands(size),
        sqlx::query_scalar::<_, String>("SHOW server_version")
            .fetch_one(&pool)
            .await?
    );
    let (secret, verifier_key) = LogKey::generate("clearance.bench/log")?;
    let key = LogKey::from_secret(&secret)?;
    let mut random = Random(0x5eed_c1ea_4a9c_e000);

    let started = Instant::now();
    let (head, records) = build(&pool, &key, size, &mut random).await?;
    let built = started.elapsed();
    let (tables, hash_count): (String, i64) = sqlx::query_as(
        "SELECT pg_size_pretty(pg_total_relation_size('log_leaves')
                                + pg_total_relation_size('log_hashes')),
                (SELECT count(*) FROM log_hashes)",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "built: {} leaves, {} stored hashes, {tables} with indexes, in {:.1} s",
        thousands(size),
        thousands(u64::try_from(hash_count)?),
        built.as_secs_f64()
    );
    anyhow::ensure!(
        u64::try_from(hash_count)? == stored_hash_count(size),
        "{hash_count} stored hashes, expected {}",
        stored_hash_count(size)
    );
    let record_at: HashMap<u64, String> = {
        let mut conn = pool.acquire().await?;
        let mut found = HashMap::new();
        for record in &records {
            let (index, text) = store::leaf_of(&mut conn, leaf::LeafKind::Acceptance, record.id)
                .await?
                .context("a record's leaf")?;
            found.insert(index, text);
        }
        found
    };
    let leaf_hash = |index: u64| match record_at.get(&index) {
        Some(text) => leaf::hash(text),
        None => leaf::hash(&access_leaf(index)),
    };

    // Inclusion proofs against the baseline, alternating (which goes first too).
    let mut unchecked = 0usize;
    let stored = stored_hash_count(size);
    let (mut proving, mut selecting) = (Vec::new(), Vec::new());
    for round in 0..proofs + proofs / 10 {
        let warm_up = round < proofs / 10;
        let index = random.below(size);
        let hash_index = random.below(stored);
        let prove = async {
            let started = Instant::now();
            let mut conn = pool.acquire().await?;
            let proof = tree::with_hashes(&mut conn, &mut HashCache::default(), |cache| {
                tree::inclusion(cache, size, index)
            })
            .await?;
            anyhow::Ok((started.elapsed(), proof))
        };
        let select = async {
            let started = Instant::now();
            let mut conn = pool.acquire().await?;
            let hash: Vec<u8> = sqlx::query_scalar("SELECT hash FROM log_hashes WHERE idx = $1")
                .bind(i64::try_from(hash_index)?)
                .fetch_one(&mut *conn)
                .await?;
            black_box(hash);
            anyhow::Ok(started.elapsed())
        };
        let ((proof_time, proof), select_time) = if round % 2 == 0 {
            let proved = prove.await?;
            (proved, select.await?)
        } else {
            let selected = select.await?;
            (prove.await?, selected)
        };
        if check_record(&proof, size, head.root, index, leaf_hash(index)).is_err() {
            unchecked += 1;
        }
        if !warm_up {
            proving.push(proof_time);
            selecting.push(select_time);
        }
    }
    let proving = Stats::of(proving);
    let selecting = Stats::of(selecting);
    println!(
        "{}",
        proving.line(&format!(
            "inclusion proof, {} leaves (with_hashes + inclusion)",
            thousands(size)
        ))
    );
    println!(
        "{}",
        selecting.line("one primary-key SELECT of a stored hash (baseline)")
    );

    // Consistency proofs from a random size in the second half to the whole log.
    let mut consistency = Vec::new();
    for round in 0..consistencies + consistencies / 10 {
        let from = size / 2 + random.below(size - size / 2).max(1);
        let started = Instant::now();
        let mut conn = pool.acquire().await?;
        let proof = tree::with_hashes(&mut conn, &mut HashCache::default(), |cache| {
            tree::consistency(cache, size, from)
        })
        .await?;
        let elapsed = started.elapsed();
        drop(conn);
        // Checked against the old root, read outside the timing.
        let mut conn = pool.acquire().await?;
        let old_root = tree::with_hashes(&mut conn, &mut HashCache::default(), |cache| {
            tree::root(cache, from)
        })
        .await?;
        if check_tree(&proof, size, head.root, from, old_root).is_err() {
            unchecked += 1;
        }
        if round >= consistencies / 10 {
            consistency.push(elapsed);
        }
    }
    let consistency = Stats::of(consistency);
    println!(
        "{}",
        consistency.line(&format!(
            "consistency proof, {}–{} → {} leaves",
            thousands(size / 2),
            thousands(size),
            thousands(size)
        ))
    );

    // Receipts, made as the dossier makes them, verified offline.
    let mut receipts: Vec<Receipt> = Vec::with_capacity(records.len());
    for record in &records {
        receipts.push(
            receipt::stored(&pool, record)
                .await?
                .context("a record's receipt")?,
        );
    }
    let mut refused = 0usize;
    let (mut verifying, mut digesting) = (Vec::new(), Vec::new());
    for round in 0..verifications + verifications / 10 {
        let receipt = &receipts[round % receipts.len()];
        let verify = || {
            let started = Instant::now();
            let verified = black_box(receipt).verify(&verifier_key);
            (started.elapsed(), verified)
        };
        let digest = || {
            let started = Instant::now();
            black_box(black_box(&receipt.record).computed_digest());
            started.elapsed()
        };
        let ((verify_time, verified), digest_time) = if round % 2 == 0 {
            let verified = verify();
            (verified, digest())
        } else {
            let digested = digest();
            (verify(), digested)
        };
        if !matches!(verified, Ok(ref v) if v.size == size) {
            refused += 1;
        }
        if round >= verifications / 10 {
            verifying.push(verify_time);
            digesting.push(digest_time);
        }
    }
    let verifying = Stats::of(verifying);
    let digesting = Stats::of(digesting);
    println!(
        "{}",
        verifying.line("receipt verified offline (Receipt::verify)")
    );
    println!(
        "{}",
        digesting.line("SHA-256 of the record's canonical JSON (baseline)")
    );

    let pass_inclusion = proving.p99 <= INCLUSION_P99_BUDGET;
    let pass_verify = verifying.p99 <= VERIFY_P99_BUDGET;
    let all_checked = unchecked == 0 && refused == 0;
    let mark = |pass: bool| if pass { "✓" } else { "✗ FAILS" };
    println!(
        "budgets (p99): inclusion proof {} ≤ {} {}; receipt verified {} ≤ {} {}",
        ms(proving.p99),
        ms(INCLUSION_P99_BUDGET),
        mark(pass_inclusion),
        ms(verifying.p99),
        ms(VERIFY_P99_BUDGET),
        mark(pass_verify)
    );
    println!(
        "checked: {} inclusion and {} consistency proofs against the signed root, {} \
         receipt verifications: {}",
        proofs + proofs / 10,
        consistencies + consistencies / 10,
        verifications + verifications / 10,
        if all_checked {
            "all check".to_owned()
        } else {
            format!("{unchecked} proofs and {refused} receipts DO NOT CHECK")
        }
    );
    let leaves = thousands(size);
    record_results(&[
        ResultRow::figure(
            format!("log: {leaves} leaves built (hashes in memory, COPY), seconds"),
            format!("{:.1} s", built.as_secs_f64()),
            format!("{tables} with indexes"),
        ),
        ResultRow::budget(
            format!(
                "log: inclusion proof in {leaves} leaves from PostgreSQL, p99 of {}",
                proving.count
            ),
            ms(proving.p99),
            proving.spread(),
            format!("p99 ≤ {}", ms(INCLUSION_P99_BUDGET)),
            pass_inclusion,
        ),
        ResultRow::figure(
            format!(
                "log: one primary-key SELECT of a stored hash (baseline), p99 of {}",
                selecting.count
            ),
            ms(selecting.p99),
            selecting.spread(),
        ),
        ResultRow::figure(
            format!(
                "log: consistency proof {}–{leaves} → {leaves}, p99 of {} (for information)",
                thousands(size / 2),
                consistency.count
            ),
            ms(consistency.p99),
            consistency.spread(),
        ),
        ResultRow::budget(
            format!(
                "log: receipt verified offline (Receipt::verify), p99 of {}",
                verifying.count
            ),
            ms(verifying.p99),
            verifying.spread(),
            format!("p99 ≤ {}", ms(VERIFY_P99_BUDGET)),
            pass_verify,
        ),
        ResultRow::figure(
            format!(
                "log: SHA-256 of the record's canonical JSON (baseline), p99 of {}",
                digesting.count
            ),
            ms(digesting.p99),
            digesting.spread(),
        ),
        ResultRow::budget(
            "log: every proof and receipt checked against the signed checkpoint",
            format!(
                "{} proofs, {} receipts",
                proofs + proofs / 10 + consistencies + consistencies / 10,
                verifications + verifications / 10
            ),
            String::new(),
            "all check".to_owned(),
            all_checked,
        ),
    ])?;
    Ok(pass_inclusion && pass_verify && all_checked)
}

fn main() -> ExitCode {
    common::main(run())
}
