//! The register's health checks (`[[readiness.checks]]`), each on a task of its
//! own: it fetches its URL under its own timeout, judges the answer with the pure
//! parsers of [`app::domain::health_check`], and publishes the result on a board
//! the monitor reads. The monitor never waits for a check, and a check that
//! hangs holds up nothing but its own next reading.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{HeaderValue, ACCEPT};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use app::domain::health_check::{
    judge, judge_status, CheckOutcome, HealthCheck, HealthCheckKind, HealthCheckResult,
    MAX_BODY_BYTES,
};

/// The latest result of every declared check, in register order.
#[derive(Debug)]
pub struct CheckBoard {
    checks: Vec<HealthCheck>,
    results: RwLock<Vec<HealthCheckResult>>,
}

impl CheckBoard {
    /// Every check pending.
    pub fn new(checks: Vec<HealthCheck>) -> Arc<Self> {
        let results = checks.iter().map(HealthCheckResult::pending).collect();
        Arc::new(Self {
            checks,
            results: RwLock::new(results),
        })
    }

    pub fn results(&self) -> Vec<HealthCheckResult> {
        self.results
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Takes over the results another server recorded for the same checks.
    pub fn restore(&self, recorded: &[HealthCheckResult]) {
        let mut results = self.results.write().unwrap_or_else(PoisonError::into_inner);
        for result in results.iter_mut() {
            if let Some(found) = recorded
                .iter()
                .find(|found| found.name == result.name && found.source == result.source)
            {
                *result = found.clone();
            }
        }
    }

    /// Records a reading of check `index`; answers whether its outcome changed
    /// (or it had none), which is when the monitor must read again at once.
    fn record(&self, index: usize, outcome: CheckOutcome) -> bool {
        let mut results = self.results.write().unwrap_or_else(PoisonError::into_inner);
        let Some(result) = results.get_mut(index) else {
            return false;
        };
        let changed = result.last_seen.is_none() || result.outcome != outcome;
        *result = result.observed(outcome, Utc::now());
        changed
    }

    /// One task per check, reading it every `interval` (after each answer or
    /// timeout) and waking the monitor through `wake` when its outcome changes.
    pub fn spawn(self: &Arc<Self>, interval: Duration, wake: &Arc<Notify>) -> Vec<JoinHandle<()>> {
        let client = check_client();
        (0..self.checks.len())
            .map(|index| {
                let board = Arc::clone(self);
                let wake = Arc::clone(wake);
                let client = client.clone();
                tokio::spawn(async move {
                    let check = &board.checks[index];
                    loop {
                        let outcome = run_check(&client, check).await;
                        if board.record(index, outcome) {
                            tracing::info!(check = %check.name, "health check changed");
                            wake.notify_one();
                        }
                        tokio::time::sleep(interval).await;
                    }
                })
            })
            .collect()
    }
}

/// Redirects are not followed: a check reads the URL it names, and a 3xx fails
/// it with that reason.
pub fn check_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        // Start-up invariant: building fails only when the TLS backend cannot
        // start, and then no HTTP client of the server could work either.
        .expect("the HTTP client's TLS backend starts")
}

/// One reading of `check`, never longer than its timeout (the connection, the
/// headers and the whole body alike).
pub async fn run_check(client: &reqwest::Client, check: &HealthCheck) -> CheckOutcome {
    let timeout = Duration::from_millis(check.timeout_ms);
    match tokio::time::timeout(timeout, fetch(client, check)).await {
        Ok(outcome) => outcome,
        Err(_) => CheckOutcome::fail(format!("no answer within {} ms", check.timeout_ms)),
    }
}

async fn fetch(client: &reqwest::Client, check: &HealthCheck) -> CheckOutcome {
    let response = match client
        .get(&check.url)
        .header(ACCEPT, accept(check.kind))
        .send()
        .await
    {
        Ok(response) => response,
        Err(error) if error.is_connect() => return CheckOutcome::fail("could not connect"),
        Err(error) => {
            tracing::debug!(check = %check.name, %error, "health check request failed");
            return CheckOutcome::fail("the request failed before an answer");
        }
    };
    let status = response.status().as_u16();
    if !check.kind.reads_body() {
        return judge_status(status);
    }
    match read_body(response).await {
        Ok(body) => judge(check.kind, status, &body),
        Err(failure) => CheckOutcome::fail(failure),
    }
}

fn accept(kind: HealthCheckKind) -> HeaderValue {
    HeaderValue::from_static(match kind {
        HealthCheckKind::Http => "*/*",
        HealthCheckKind::Actuator => {
            "application/vnd.spring-boot.actuator.v3+json, application/json;q=0.9"
        }
        HealthCheckKind::Kubernetes => "text/plain",
        HealthCheckKind::HealthJson => "application/health+json, application/json;q=0.9",
    })
}

/// The whole body within [`MAX_BODY_BYTES`]; a bigger one is refused, not buffered.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let too_large = || format!("answered more than {} KiB", MAX_BODY_BYTES / 1024);
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| "the answer broke off".to_owned())?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
