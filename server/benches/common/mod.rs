//! What the benchmarks in this directory share: settings from the
//! environment, this environment's readiness, the rows of `scripts/bench`'s
//! final table, and `main`.

use std::future::Future;
use std::process::ExitCode;

use anyhow::Context;

use app::domain::{DependencyState, PublicCheck, ReadinessInputs, Register};

/// A positive integer setting from the environment, or `default`.
pub fn setting(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .ok()
            .filter(|value| *value > 0)
            .with_context(|| format!("{name} must be a positive integer")),
        Err(_) => Ok(default),
    }
}

/// One row of `scripts/bench`'s final table (`end2end/bench/stats.mjs` writes the
/// same shape).
#[derive(serde::Serialize)]
pub struct ResultRow {
    measure: String,
    figure: String,
    spread: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    budget: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pass: Option<bool>,
}

impl ResultRow {
    pub fn figure(measure: impl Into<String>, figure: String, spread: String) -> Self {
        Self {
            measure: measure.into(),
            figure,
            spread,
            budget: None,
            pass: None,
        }
    }

    pub fn budget(
        measure: impl Into<String>,
        figure: String,
        spread: String,
        limit: String,
        pass: bool,
    ) -> Self {
        Self {
            budget: Some(limit),
            pass: Some(pass),
            ..Self::figure(measure, figure, spread)
        }
    }
}

/// Appends the rows to `BENCH_RESULTS` (JSON lines) when it is set.
pub fn record_results(rows: &[ResultRow]) -> anyhow::Result<()> {
    let Ok(path) = std::env::var("BENCH_RESULTS") else {
        return Ok(());
    };
    let mut lines = String::new();
    for row in rows {
        lines.push_str(&serde_json::to_string(row)?);
        lines.push('\n');
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, lines.as_bytes()))
        .with_context(|| format!("writing {path}"))
}

/// Runs `run` on a multi-threaded runtime: exit 0 when every budget holds, 1
/// when one fails, 2 on an error. `cargo bench` passes `--bench`; settings come
/// from the environment.
pub fn main(run: impl Future<Output = anyhow::Result<bool>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Readiness as this environment would read it: nothing configured, the
/// database reachable. The managed private beta is conditional, so it can be
/// accepted.
pub fn inputs(register: &Register) -> ReadinessInputs {
    ReadinessInputs {
        dependencies: register
            .dependency_names()
            .into_iter()
            .map(|name| (name.to_owned(), DependencyState::Missing))
            .collect(),
        public_checks: vec![PublicCheck {
            name: "database reachable".to_owned(),
            passed: true,
            detail: None,
        }],
        proofs: Default::default(),
    }
}
