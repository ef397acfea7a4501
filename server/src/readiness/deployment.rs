//! A deployment's reports as the readiness source: the latest report stands
//! while it is younger than the register's window; past it the deployment counts
//! as gone quiet, exactly like a remote source that stops answering.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use app::domain::deployment::{public_check, ReceivedReport, REPORTING_CHECK};
use app::domain::document::{FactSource, Origin, Provenance, Staleness};
use app::domain::{PublicCheck, Register};

use super::provenance;
use super::Observation;

/// What the readiness source says, given the deployment's latest report (if
/// any). `waiting_since` is when the server began waiting for a first report.
pub fn observe(
    register: &Register,
    deployment: &str,
    latest: Option<&ReceivedReport>,
    now: DateTime<Utc>,
    stale_after: Duration,
    waiting_since: DateTime<Utc>,
) -> Observation {
    let reporter = FactSource::Reporter {
        deployment: deployment.to_owned(),
    };
    let Some(received) = latest else {
        let error = format!("no report yet from deployment {deployment}");
        return Observation {
            dependencies: BTreeMap::new(),
            public_checks: vec![reporting(Some(error.clone()))],
            stale: Some(Staleness {
                since: waiting_since,
                error,
            }),
            version: None,
            provenance: Provenance::default(),
        };
    };
    let at = received.received_at;
    let age = (now - at).to_std().unwrap_or_default();
    let quiet = age >= stale_after;
    let stale = quiet.then(|| Staleness {
        since: at,
        error: format!("no report within {} s", stale_after.as_secs()),
    });
    let detail = quiet.then(|| {
        format!(
            "no report since {} (window {} s)",
            at.format("%Y-%m-%d %H:%M:%S UTC"),
            stale_after.as_secs()
        )
    });
    // Only names the register (still) declares count.
    let declared = register.dependency_names();
    let dependencies: BTreeMap<_, _> = received
        .report
        .dependencies
        .iter()
        .filter(|(name, _)| declared.contains(&name.as_str()))
        .map(|(name, state)| (name.clone(), state.state()))
        .collect();
    let mut public_checks = vec![reporting(detail)];
    public_checks.extend(received.report.checks.iter().map(public_check));

    let mut checks = provenance::all([&REPORTING_CHECK.to_owned()], &reporter, at);
    for check in &received.report.checks {
        checks.insert(
            check.name.clone(),
            Origin {
                source: FactSource::Check {
                    url: check.url.clone(),
                    deployment: Some(deployment.to_owned()),
                },
                last_seen: at,
            },
        );
    }
    Observation {
        provenance: Provenance {
            dependencies: provenance::all(dependencies.keys(), &reporter, at),
            public_checks: checks,
        },
        dependencies,
        public_checks,
        stale,
        version: None,
    }
}

fn reporting(failure: Option<String>) -> PublicCheck {
    PublicCheck {
        name: REPORTING_CHECK.to_owned(),
        passed: failure.is_none(),
        detail: failure,
    }
}
