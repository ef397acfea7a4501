//! Signing benchmark: launch-acceptance records per second through the real
//! signing path, as the API's `PATCH /api/launch-acceptance` takes it:
//! `rooms::submit` (one transaction under row-level security that locks the
//! chain's head, reads the room, checks and digests the record in Rust, inserts
//! it, advances the head and queues the record's leaf for the transparency log),
//! then `log::receipt::issue` (the log's sequencer places the leaf, with every
//! other leaf waiting, and signs a checkpoint; the answer is the record's
//! inclusion proof in it). Beside it, a plain single-row INSERT of the same
//! record as JSON on the same database, with the same concurrency, in
//! alternating rounds.
//!
//! ```sh
//! DATABASE_URL=postgres://…/clearance_bench cargo bench -p server --bench signing
//! ```
//!
//! Settings (environment): `BENCH_SIGNINGS` records per round (default 2000),
//! `BENCH_ROUNDS` (5), `BENCH_CONCURRENCY` concurrent signers, one tenant each
//! (8). Budget: median ≥ 1,000 signatures/s, each with its receipt; the ratio
//! to the plain INSERT is reported for information. Afterwards every chain is
//! verified and every receipt checked with the log's verifier key. Exits 1 when
//! the budget fails. The database must be a throwaway one: the benchmark adds
//! tenants, accounts, records and log leaves to it.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use secrecy::SecretString;
use sqlx::PgPool;

use app::domain::access::{Role, Viewer};
use app::domain::launch_room::{AcceptanceForm, EvidenceForm};
use app::domain::ledger::EvidenceAction;
use app::domain::register_file::{parse_register, DEFAULT_REGISTER};
use app::domain::{ReadinessInputs, Register};
use server::auth::accounts::{self, NewAccount};
use server::log::receipt::{self, Receipt};
use server::log::{LogKey, Sequencer};
use server::rooms::{self, verify, Submission};
use server::tenants::{self, TenantForm};

mod common;
use common::{inputs, record_results, setting, ResultRow};

const SIGNINGS_PER_SECOND_BUDGET: f64 = 1_000.0;
/// Gates the managed private beta needs before its acceptance can be signed.
const GATES: [&str; 3] = [
    "order-form-scope",
    "authenticated-tenant-access",
    "support-incident-fallback",
];

/// One signer: a tenant ready for acceptance and its buyer sponsor.
struct Signer {
    sponsor: Viewer,
    form: AcceptanceForm,
}

async fn prepare(
    db: &PgPool,
    register: &Register,
    inputs: &ReadinessInputs,
    count: usize,
) -> anyhow::Result<Vec<Signer>> {
    let pool = db;
    let run = std::process::id();
    let password = "bench password 0123456789";
    let operator = Viewer::Account(
        accounts::create(
            pool,
            &NewAccount {
                email: &format!("bench-operator-{run}@example.com"),
                name: "Bench operator",
                role: Role::Operator,
                tenant_id: None,
                password,
            },
        )
        .await?,
    );
    let mut signers = Vec::with_capacity(count);
    for index in 0..count {
        let slug = format!("bench-{run}-{index}");
        let form = TenantForm {
            name: format!("Bench tenant {index}"),
            slug: slug.clone(),
            motion: "managed-private-beta".to_owned(),
            billing_route: "invoice_only".to_owned(),
        };
        let tenant = tenants::create(pool, register, &operator, &form)
            .await
            .map_err(|error| anyhow::anyhow!("creating a tenant: {error}"))?;
        for gate_id in GATES {
            let gate = register.gate(gate_id).context("a seed gate")?;
            for item in &gate.items {
                let evidence = EvidenceForm {
                    gate_id: gate_id.to_owned(),
                    item: item.clone(),
                    reference: "PO-BENCH-1".to_owned(),
                    note: String::new(),
                };
                rooms::change_evidence(
                    db,
                    register,
                    &operator,
                    &slug,
                    EvidenceAction::Attached,
                    &evidence,
                )
                .await
                .map_err(|error| anyhow::anyhow!("attaching evidence: {error}"))?;
            }
        }
        let sponsor = accounts::create(
            pool,
            &NewAccount {
                email: &format!("bench-sponsor-{run}-{index}@example.com"),
                name: "Bench sponsor",
                role: Role::BuyerSponsor,
                tenant_id: Some(tenant.id),
                password,
            },
        )
        .await?;
        signers.push(Signer {
            sponsor: Viewer::Account(sponsor),
            form: AcceptanceForm {
                signer_name: "Ada Buyer".to_owned(),
                signer_role: "Chief Operating Officer".to_owned(),
                approval_reference: "PO-2026-114".to_owned(),
                exclusions: Vec::new(),
                residual_risks: "Support email stays manual.".to_owned(),
                readiness_digest: inputs.digest(),
            },
        });
    }
    Ok(signers)
}

/// A round's rate (operations per second) and the machine's busy CPU time per
/// operation (ms, every process), when the machine says.
struct Measured {
    rate: f64,
    cpu_ms: Option<f64>,
}

/// Runs `total` operations split over one task per signer.
async fn measure<F, Fut>(signers: usize, total: usize, operation: F) -> anyhow::Result<Measured>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let operation = Arc::new(operation);
    let busy = busy_cpu_seconds();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(signers);
    for signer in 0..signers {
        let operation = Arc::clone(&operation);
        let share = total / signers + usize::from(signer < total % signers);
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                operation(signer).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let cpu_ms = busy
        .zip(busy_cpu_seconds())
        .map(|(before, after)| (after - before) * 1_000.0 / total as f64);
    Ok(Measured { rate, cpu_ms })
}

/// CPU time the whole machine spent busy so far (every process: the
/// benchmark and PostgreSQL alike), from `/proc/stat`: user, nice, system, irq
/// and softirq, not idle, I/O wait or time stolen by other guests. `None` off
/// Linux. The work a run costs, which varies far less than its rate on a
/// shared machine.
fn busy_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<f64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal …, in USER_HZ (100/s).
    let busy = [0, 1, 2, 5, 6]
        .iter()
        .filter_map(|index| fields.get(*index))
        .sum::<f64>();
    Some(busy / 100.0)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // The two middle values, which are one value when the count is odd.
    let count = sorted.len();
    (sorted[(count - 1) / 2] + sorted[count / 2]) / 2.0
}

fn spread(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

async fn run() -> anyhow::Result<bool> {
    let url = std::env::var("DATABASE_URL").context("set DATABASE_URL to a throwaway database")?;
    let signings = setting("BENCH_SIGNINGS", 2_000)?;
    let rounds = setting("BENCH_ROUNDS", 5)?;
    let concurrency = setting("BENCH_CONCURRENCY", 8)?;
    let pool =
        server::db::connect_and_migrate(&SecretString::from(url), u32::try_from(concurrency + 2)?)
            .await?;
    let register = Arc::new(parse_register("thesmios.toml", DEFAULT_REGISTER)?);
    let inputs = Arc::new(inputs(&register));
    // The log's key, made for this run, and its sequencer, as the server runs it.
    let (secret, verifier_key) = LogKey::generate("clearance.bench/log")?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let sequencer = Sequencer::spawn(
        pool.clone(),
        Arc::new(LogKey::from_secret(&secret)?),
        shutdown.clone(),
    );
    // Each signature's receipt, with how long signing and then the receipt took.
    let receipts: Arc<Mutex<Vec<(Receipt, Duration, Duration)>>> = Arc::default();

    println!(
        "Signing: {signings} records per round, {rounds} rounds, {concurrency} concurrent \
         signers (one tenant each), PostgreSQL {}",
        sqlx::query_scalar::<_, String>("SHOW server_version")
            .fetch_one(&pool)
            .await?
    );
    let db = pool.clone();
    let signers = Arc::new(prepare(&db, &register, &inputs, concurrency).await?);
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_insert_baseline (
             id bigserial PRIMARY KEY,
             tenant_id bigint NOT NULL,
             record jsonb NOT NULL,
             signed_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(&pool)
    .await?;

    // The baseline stores what a signature stores: the same record, as JSON.
    let first = &signers[0];
    let (_, sample) = rooms::submit(
        &db,
        &register,
        &inputs,
        &first.sponsor,
        None,
        Submission::Accept(&first.form),
    )
    .await
    .map_err(|error| anyhow::anyhow!("a first signature: {error}"))?;
    let first_receipt = receipt::issue(&db, &sequencer, &sample)
        .await
        .context("the first signature's receipt")?;
    lock(&receipts).push((first_receipt, Duration::ZERO, Duration::ZERO));
    let sample = Arc::new(serde_json::to_value(&sample)?);

    // What `PATCH /api/launch-acceptance` does: sign, then the receipt.
    let sign = {
        let (db, register, inputs, signers, sequencer, receipts) = (
            db.clone(),
            Arc::clone(&register),
            Arc::clone(&inputs),
            Arc::clone(&signers),
            sequencer.clone(),
            Arc::clone(&receipts),
        );
        move |signer: usize| {
            let (db, register, inputs, signers, sequencer, receipts) = (
                db.clone(),
                Arc::clone(&register),
                Arc::clone(&inputs),
                Arc::clone(&signers),
                sequencer.clone(),
                Arc::clone(&receipts),
            );
            async move {
                let signer = &signers[signer];
                let started = Instant::now();
                let (_, record) = rooms::submit(
                    &db,
                    &register,
                    &inputs,
                    &signer.sponsor,
                    None,
                    Submission::Accept(&signer.form),
                )
                .await
                .map_err(|error| anyhow::anyhow!("signing: {error}"))?;
                let signed = started.elapsed();
                let receipt = receipt::issue(&db, &sequencer, &record)
                    .await
                    .context("the signature's receipt")?;
                lock(&receipts).push((receipt, signed, started.elapsed() - signed));
                Ok(())
            }
        }
    };
    let insert = {
        let pool = pool.clone();
        move |signer: usize| {
            let (pool, sample) = (pool.clone(), Arc::clone(&sample));
            async move {
                sqlx::query(
                    "INSERT INTO bench_insert_baseline (tenant_id, record) VALUES ($1, $2)",
                )
                .bind(i64::try_from(signer)?)
                .bind(&*sample)
                .execute(&pool)
                .await?;
                Ok(())
            }
        }
    };

    // Warm-up, then alternating rounds.
    measure(concurrency, concurrency * 10, sign.clone()).await?;
    measure(concurrency, concurrency * 10, insert.clone()).await?;
    let (mut signed, mut inserted, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut signing_cpu, mut insert_cpu) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (signing, baseline) = if round % 2 == 0 {
            let signing = measure(concurrency, signings, sign.clone()).await?;
            (
                signing,
                measure(concurrency, signings, insert.clone()).await?,
            )
        } else {
            let baseline = measure(concurrency, signings, insert.clone()).await?;
            (
                measure(concurrency, signings, sign.clone()).await?,
                baseline,
            )
        };
        let cpu = signing.cpu_ms.zip(baseline.cpu_ms);
        let (signing, baseline) = (signing.rate, baseline.rate);
        println!(
            "  round {}: signing {signing:>7.0}/s   plain INSERT {baseline:>7.0}/s   ratio {:.2}{}",
            round + 1,
            signing / baseline,
            cpu.map(|(signing, insert)| format!(
                "   machine CPU per signature {signing:.2} ms, per INSERT {insert:.2} ms"
            ))
            .unwrap_or_default()
        );
        signed.push(signing);
        inserted.push(baseline);
        ratios.push(signing / baseline);
        if let Some((signing, insert)) = cpu {
            signing_cpu.push(signing);
            insert_cpu.push(insert);
        }
    }

    // Every chain the benchmark grew is intact.
    let reports = verify::verify_all(&pool).await?;
    let broken: Vec<_> = reports
        .iter()
        .filter(|report| report.result.is_err())
        .map(|report| report.tenant.clone())
        .collect();
    let records: usize = reports
        .iter()
        .filter_map(|report| report.result.as_ref().ok())
        .sum();
    // Every signature's receipt checks offline with the verifier key alone.
    shutdown.cancel();
    let (receipts, (submitting, issuing)): (Vec<Receipt>, (Vec<Duration>, Vec<Duration>)) =
        std::mem::take(&mut *lock(&receipts))
            .into_iter()
            .map(|(receipt, signed, issued)| (receipt, (signed, issued)))
            .unzip();
    let refused: Vec<String> = receipts
        .iter()
        .filter_map(|receipt| {
            receipt.verify(&verifier_key).err().map(|error| {
                format!(
                    "tenant {} seq {}: {error}",
                    receipt.record.tenant_id, receipt.record.seq
                )
            })
        })
        .collect();
    // How long each signature waited for its record and then for its receipt
    // (every signature after the first, warm-up included).
    let waits = |values: &[Duration]| {
        let mut sorted: Vec<f64> = values[1..]
            .iter()
            .map(|value| value.as_secs_f64() * 1_000.0)
            .collect();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        (at(0.5), format!("p10–p90 {:.1}–{:.1} ms", at(0.1), at(0.9)))
    };
    let (submit_p50, submit_spread) = waits(&submitting);
    let (issue_p50, issue_spread) = waits(&issuing);
    let checkpoints: std::collections::HashSet<&str> = receipts
        .iter()
        .map(|receipt| receipt.checkpoint.as_str())
        .collect();

    let (signed_median, inserted_median, ratio) =
        (median(&signed), median(&inserted), median(&ratios));
    let pass_rate = signed_median >= SIGNINGS_PER_SECOND_BUDGET;
    let mark = |pass: bool| if pass { "✓" } else { "✗ FAILS" };
    let (low, high) = spread(&signed);
    println!(
        "signing (rooms::submit + receipt::issue)  median {signed_median:>7.0}/s   \
         min–max {low:.0}–{high:.0}/s   budget ≥ {SIGNINGS_PER_SECOND_BUDGET:.0}/s {}",
        mark(pass_rate)
    );
    let (low, high) = spread(&inserted);
    println!(
        "plain single-row INSERT (baseline)        median {inserted_median:>7.0}/s   \
         min–max {low:.0}–{high:.0}/s"
    );
    let (low, high) = spread(&ratios);
    println!(
        "signing / baseline                        median {ratio:>7.2}     \
         min–max {low:.2}–{high:.2}     (for information)"
    );
    let chains_intact = broken.is_empty();
    let mut rows = vec![
        ResultRow::budget(
            "signing: acceptance records per second with their receipts (rooms::submit + log::receipt::issue)",
            format!("{signed_median:.0}/s"),
            spread_text(&signed, 0, "/s"),
            format!("≥ {SIGNINGS_PER_SECOND_BUDGET:.0}/s"),
            pass_rate,
        ),
        ResultRow::figure(
            "signing: plain single-row INSERT (baseline)",
            format!("{inserted_median:.0}/s"),
            spread_text(&inserted, 0, "/s"),
        ),
        ResultRow::figure(
            "signing / plain INSERT (in-round ratios)",
            format!("{ratio:.2}"),
            spread_text(&ratios, 2, ""),
        ),
        ResultRow::budget(
            "signing: chains verified after the run",
            format!("{records} records"),
            String::new(),
            "intact".to_owned(),
            chains_intact,
        ),
        ResultRow::figure(
            "signing: per signature, rooms::submit (record committed), ms",
            format!("{submit_p50:.1} ms"),
            submit_spread.clone(),
        ),
        ResultRow::figure(
            "signing: per signature, then log::receipt::issue (sequenced, proved), ms",
            format!("{issue_p50:.1} ms"),
            issue_spread.clone(),
        ),
        ResultRow::budget(
            "signing: every receipt checked after the run (Receipt::verify)",
            format!("{} receipts", receipts.len()),
            format!("{} checkpoints", checkpoints.len()),
            "all check".to_owned(),
            refused.is_empty(),
        ),
    ];
    if !signing_cpu.is_empty() {
        let (signing, insert) = (median(&signing_cpu), median(&insert_cpu));
        println!(
            "machine CPU (every process) per signature median {signing:.2} ms, per plain INSERT \
             {insert:.2} ms: {:.1} times the work",
            signing / insert
        );
        rows.push(ResultRow::figure(
            "signing: machine CPU per signature, every process (busy time in /proc/stat), ms",
            format!("{signing:.2} ms"),
            spread_text(&signing_cpu, 2, " ms"),
        ));
        rows.push(ResultRow::figure(
            "signing: machine CPU per plain INSERT (baseline), ms",
            format!("{insert:.2} ms"),
            spread_text(&insert_cpu, 2, " ms"),
        ));
    }
    record_results(&rows)?;
    println!(
        "chains verified: {} ledgers, {records} records, {}",
        reports.len(),
        if broken.is_empty() {
            "all intact".to_owned()
        } else {
            format!("BROKEN: {}", broken.join(", "))
        }
    );
    println!(
        "per signature: rooms::submit median {submit_p50:.1} ms ({submit_spread}), then \
         receipt::issue median {issue_p50:.1} ms ({issue_spread})"
    );
    println!(
        "receipts checked: {} receipts over {} signed checkpoints ({:.1} signatures per \
         checkpoint), {}",
        receipts.len(),
        checkpoints.len(),
        receipts.len() as f64 / checkpoints.len().max(1) as f64,
        if refused.is_empty() {
            "all check".to_owned()
        } else {
            format!("{} REFUSED: {}", refused.len(), refused.join("; "))
        }
    );
    Ok(pass_rate && chains_intact && refused.is_empty())
}

fn spread_text(values: &[f64], decimals: usize, unit: &str) -> String {
    let (low, high) = spread(values);
    format!("min–max {low:.decimals$}–{high:.decimals$}{unit}")
}

fn main() -> ExitCode {
    common::main(run())
}
