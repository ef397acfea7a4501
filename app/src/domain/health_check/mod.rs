//! Health endpoints a deployment already has, read as public checks.
//!
//! The register declares each check (`[[readiness.checks]]`: a name, a URL and the
//! format the URL answers in); the server fetches it and hands the status code and
//! body to [`judge`], which turns them into a verdict and a public-safe detail:
//! the status code, the names of failing components, or why the answer was not
//! understood. Never a response body, never a header value.
//!
//! - [`actuator`]: Spring Boot Actuator health JSON (`status`, nested `components`).
//! - [`kubernetes`]: the Kubernetes `/readyz?verbose` text (`[+]name ok`).
//! - [`health_json`]: the `application/health+json` draft (`pass` / `warn` / `fail`).

pub mod actuator;
pub mod health_json;
pub mod kubernetes;

#[cfg(test)]
mod tests;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::evaluation::PublicCheck;

/// The largest body a check reads: a bigger answer fails the check unread.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// At most this many failing components are named in a detail; the rest counted.
const NAMED_COMPONENTS: usize = 5;
/// A component name longer than this is cut (names come from the answer).
const MAX_COMPONENT_NAME: usize = 64;

/// The format a check's URL answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthCheckKind {
    /// Any 2xx passes; the body is not read.
    Http,
    /// Spring Boot Actuator's health endpoint.
    Actuator,
    /// Kubernetes' `/readyz?verbose` (or `/livez`, `/healthz`).
    Kubernetes,
    /// `application/health+json` (draft-inadarei-api-health-check).
    HealthJson,
}

impl HealthCheckKind {
    pub const ALL: [Self; 4] = [
        Self::Http,
        Self::Actuator,
        Self::Kubernetes,
        Self::HealthJson,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Actuator => "actuator",
            Self::Kubernetes => "kubernetes",
            Self::HealthJson => "health_json",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Whether the check reads the answer's body at all.
    pub fn reads_body(self) -> bool {
        self != Self::Http
    }
}

impl fmt::Display for HealthCheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A health check the register declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// Shown on the page and in the failing-checks reason.
    pub name: String,
    /// Public: shown on the page and in the readiness document as the check's
    /// source. A URL carrying credentials is refused by the register checker.
    pub url: String,
    pub kind: HealthCheckKind,
    pub timeout_ms: u64,
}

/// A check's verdict. `Warn` passes, with its detail shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckVerdict {
    Pass,
    Warn,
    Fail,
    /// No answer judged yet (the server has just started).
    Pending,
}

impl CheckVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Pending => "pending",
        }
    }

    /// Whether the check counts as passing among the public checks. A check not
    /// judged yet does not: readiness is never claimed on an unknown.
    pub fn passes(self) -> bool {
        matches!(self, Self::Pass | Self::Warn)
    }
}

/// What one reading of a check concluded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub verdict: CheckVerdict,
    /// Public-safe: a status code, component names, or why the answer failed.
    pub detail: Option<String>,
}

impl CheckOutcome {
    pub fn pass(detail: impl Into<String>) -> Self {
        Self {
            verdict: CheckVerdict::Pass,
            detail: Some(detail.into()),
        }
    }

    pub fn warn(detail: impl Into<String>) -> Self {
        Self {
            verdict: CheckVerdict::Warn,
            detail: Some(detail.into()),
        }
    }

    pub fn fail(detail: impl Into<String>) -> Self {
        Self {
            verdict: CheckVerdict::Fail,
            detail: Some(detail.into()),
        }
    }

    /// An answer that is not in the check's format.
    pub fn garbage(why: impl fmt::Display) -> Self {
        Self::fail(format!("answered garbage: {why}"))
    }

    pub fn pending() -> Self {
        Self {
            verdict: CheckVerdict::Pending,
            detail: Some("not checked yet".to_owned()),
        }
    }
}

/// A declared check with its latest outcome, as the live state carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheckResult {
    pub name: String,
    pub kind: HealthCheckKind,
    /// The check's URL: where the fact came from.
    pub source: String,
    /// `verdict` and `detail`, flat in JSON.
    #[serde(flatten)]
    pub outcome: CheckOutcome,
    /// Since when the check has had this outcome; `None` while pending.
    pub since: Option<DateTime<Utc>>,
    /// When the check last answered or failed; `None` while pending.
    pub last_seen: Option<DateTime<Utc>>,
}

impl HealthCheckResult {
    pub fn pending(check: &HealthCheck) -> Self {
        Self {
            name: check.name.clone(),
            kind: check.kind,
            source: check.url.clone(),
            outcome: CheckOutcome::pending(),
            since: None,
            last_seen: None,
        }
    }

    /// The result after a reading at `at`: `since` moves only when the outcome
    /// changed.
    pub fn observed(&self, outcome: CheckOutcome, at: DateTime<Utc>) -> Self {
        let since = if outcome == self.outcome {
            self.since.unwrap_or(at)
        } else {
            at
        };
        Self {
            outcome,
            since: Some(since),
            last_seen: Some(at),
            ..self.clone()
        }
    }

    /// The check among the deployment's public checks: a warning passes with
    /// its detail marked as one. Every detail is kept, so the snapshot's digest
    /// changes whenever what the page shows of the check does.
    pub fn public_check(&self) -> PublicCheck {
        let verdict = self.outcome.verdict;
        PublicCheck {
            name: self.name.clone(),
            passed: verdict.passes(),
            detail: match verdict {
                CheckVerdict::Warn => self
                    .outcome
                    .detail
                    .as_ref()
                    .map(|detail| format!("warning: {detail}")),
                _ => self.outcome.detail.clone(),
            },
        }
    }
}

/// Judges an answer of `kind`: its status code and, for the kinds that read one,
/// its body (at most [`MAX_BODY_BYTES`], read by the caller).
pub fn judge(kind: HealthCheckKind, status: u16, body: &[u8]) -> CheckOutcome {
    let outcome = match kind {
        HealthCheckKind::Http => return judge_status(status),
        HealthCheckKind::Actuator => actuator::judge(body),
        HealthCheckKind::Kubernetes => kubernetes::judge(body),
        HealthCheckKind::HealthJson => health_json::judge(body),
    };
    // A body in the format decides, whatever the code (Actuator and health+json
    // answer 503 with a full document, Kubernetes 500 with its list). Without one,
    // a status that is not 2xx says more than "garbage".
    match outcome {
        Err(_) if !(200..300).contains(&status) => status_failure(status),
        Err(why) => CheckOutcome::garbage(why),
        Ok(outcome) => outcome,
    }
}

/// Plain HTTP: any 2xx passes. Redirects are not followed, so a 3xx fails.
pub fn judge_status(status: u16) -> CheckOutcome {
    if (200..300).contains(&status) {
        CheckOutcome::pass(format!("HTTP {status}"))
    } else {
        status_failure(status)
    }
}

fn status_failure(status: u16) -> CheckOutcome {
    if (300..400).contains(&status) {
        CheckOutcome::fail(format!(
            "answered HTTP {status} (a redirect; redirects are not followed)"
        ))
    } else {
        CheckOutcome::fail(format!("answered HTTP {status}"))
    }
}

/// A name taken from an answer, made safe to show: printable characters only,
/// cut to a bounded length.
pub(crate) fn component_name(name: &str) -> String {
    let mut clean: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_COMPONENT_NAME)
        .collect();
    if name.chars().filter(|c| !c.is_control()).count() > MAX_COMPONENT_NAME {
        clean.push('…');
    }
    clean
}

/// `a DOWN, b OUT_OF_SERVICE and 3 more`.
pub(crate) fn list_components(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(NAMED_COMPONENTS)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > NAMED_COMPONENTS {
        text.push_str(&format!(" and {} more", items.len() - NAMED_COMPONENTS));
    }
    text
}
