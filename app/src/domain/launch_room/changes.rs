//! What changed in readiness between two observations: how a stale acceptance
//! says what differs from the readiness it signed.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::evaluation::{DependencyState, ReadinessInputs};

/// A difference between the readiness an acceptance signed and readiness now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputChange {
    Dependency {
        name: String,
        from: DependencyState,
        to: DependencyState,
    },
    Proof {
        proof: String,
        from: bool,
        to: bool,
    },
    PublicCheck {
        name: String,
        from: Option<bool>,
        to: Option<bool>,
    },
}

fn passing(value: bool) -> &'static str {
    if value {
        "passing"
    } else {
        "not passing"
    }
}

fn check_state(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "passing",
        Some(false) => "failing",
        None => "absent",
    }
}

impl fmt::Display for InputChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dependency { name, from, to } => {
                write!(f, "{name}: {} → {}", from.as_str(), to.as_str())
            }
            Self::Proof { proof, from, to } => {
                write!(f, "proof {proof}: {} → {}", passing(*from), passing(*to))
            }
            Self::PublicCheck { name, from, to } => write!(
                f,
                "public check {name}: {} → {}",
                check_state(*from),
                check_state(*to)
            ),
        }
    }
}

/// What differs between two readiness observations, dependencies first, then
/// proofs, then public checks, each by name.
pub fn input_changes(before: &ReadinessInputs, after: &ReadinessInputs) -> Vec<InputChange> {
    let mut changes = Vec::new();
    let names: BTreeSet<&String> = before
        .dependencies
        .keys()
        .chain(after.dependencies.keys())
        .collect();
    for name in names {
        let (from, to) = (before.dependency(name), after.dependency(name));
        if from != to {
            changes.push(InputChange::Dependency {
                name: name.clone(),
                from,
                to,
            });
        }
    }
    let proofs: BTreeSet<&String> = before.proofs.keys().chain(after.proofs.keys()).collect();
    for proof in proofs {
        let (from, to) = (before.proof_passing(proof), after.proof_passing(proof));
        if from != to {
            changes.push(InputChange::Proof {
                proof: proof.clone(),
                from,
                to,
            });
        }
    }
    let check = |inputs: &ReadinessInputs, name: &str| {
        inputs
            .public_checks
            .iter()
            .find(|check| check.name == name)
            .map(|check| check.passed)
    };
    let checks: BTreeSet<&String> = before
        .public_checks
        .iter()
        .chain(&after.public_checks)
        .map(|check| &check.name)
        .collect();
    for name in checks {
        let (from, to) = (check(before, name), check(after, name));
        if from != to {
            changes.push(InputChange::PublicCheck {
                name: name.clone(),
                from,
                to,
            });
        }
    }
    changes
}
