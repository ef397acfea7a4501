//! A launch motion's outlook: each requirement met or unmet, and what would move
//! its status ("configure STRIPE_SECRET_KEY and pass the Stripe self-serve billing
//! proof → conditional").
//!
//! The steps are not guessed: each one is applied to a copy of the readiness inputs
//! and the motion is evaluated again, so the status a step names is the status the
//! evaluation would give.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::evaluation::{
    evaluate_with_context, CustomerContext, DependencyState, Evaluation, MotionStatus,
    ReadinessInputs, Reason,
};
use super::register::{Blocker, LaunchMotion, Register};

/// One of a motion's requirements and whether it holds now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub text: String,
    pub met: bool,
    /// Hard requirements block; the others leave the motion conditional.
    pub hard: bool,
    /// Ids of the blockers that keep it unmet.
    pub blockers: Vec<String>,
}

/// Something an operator or a customer can do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    MakePublicChecksPass {
        checks: Vec<String>,
    },
    /// Configure the missing dependencies and pass the proof of one blocker.
    ClearBlocker {
        blocker: String,
        title: String,
        configure: Vec<String>,
        /// The proof's name, when it has no passing run.
        prove: Option<String>,
        /// Whether the customer can instead scope the blocker into the order form.
        scopable: bool,
    },
    AttachEvidence {
        gate: String,
        name: String,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MakePublicChecksPass { checks } => {
                write!(f, "make the public checks pass ({})", checks.join(", "))
            }
            Self::ClearBlocker {
                title,
                configure,
                prove,
                scopable,
                ..
            } => {
                match (configure.is_empty(), prove) {
                    (false, Some(proof)) => {
                        write!(f, "configure {} and pass the {proof}", configure.join(", "))?;
                    }
                    (false, None) => write!(f, "configure {}", configure.join(", "))?,
                    (true, Some(proof)) => write!(f, "pass the {proof}")?,
                    (true, None) => write!(f, "clear {title}")?,
                }
                if *scopable {
                    write!(f, " (or scope {title} into the order form)")?;
                }
                Ok(())
            }
            Self::AttachEvidence { name, .. } => {
                write!(f, "attach the customer's evidence for {name}")
            }
        }
    }
}

/// A set of actions and the status the motion would have after them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub actions: Vec<Action>,
    pub to: MotionStatus,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let actions: Vec<String> = self.actions.iter().map(ToString::to_string).collect();
        write!(f, "{} → {}", actions.join("; "), self.to)
    }
}

/// Everything the motion view shows beyond the status and its reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MotionOutlook {
    pub requirements: Vec<Requirement>,
    /// From the current status towards `clear`, one status change per step.
    pub steps: Vec<Step>,
}

/// The outlook of `motion` (public view: no tenant evidence).
pub fn motion_outlook(
    register: &Register,
    motion: &LaunchMotion,
    inputs: &ReadinessInputs,
    evaluation: &Evaluation,
) -> MotionOutlook {
    MotionOutlook {
        requirements: requirements(register, motion, inputs, evaluation),
        steps: steps(register, motion, inputs, evaluation),
    }
}

fn live_ids<'a>(
    register: &'a Register,
    evaluation: &'a Evaluation,
    keep: impl Fn(&Blocker) -> bool + 'a,
) -> impl Iterator<Item = String> + 'a {
    register
        .blockers
        .iter()
        .zip(&evaluation.blockers)
        .filter(move |(blocker, state)| state.live && keep(blocker))
        .map(|(blocker, _)| blocker.id.clone())
}

fn requirements(
    register: &Register,
    motion: &LaunchMotion,
    inputs: &ReadinessInputs,
    evaluation: &Evaluation,
) -> Vec<Requirement> {
    let requires = &motion.requires;
    let mut list = Vec::new();
    if requires.public_checks {
        let failing: Vec<&str> = inputs
            .public_checks
            .iter()
            .filter(|check| !check.passed)
            .map(|check| check.name.as_str())
            .collect();
        list.push(Requirement {
            text: if failing.is_empty() {
                "Public checks pass".to_owned()
            } else {
                format!("Public checks pass (failing: {})", failing.join(", "))
            },
            met: failing.is_empty(),
            hard: true,
            blockers: Vec::new(),
        });
    }
    if requires.strict_readiness {
        let live: Vec<String> = live_ids(register, evaluation, |_| true).collect();
        list.push(Requirement {
            text: format!(
                "Strict readiness is ready: no live blocker at all ({} live)",
                live.len()
            ),
            met: live.is_empty() && inputs.public_checks_pass(),
            hard: true,
            blockers: live,
        });
    }
    for id in &requires.cleared_blockers {
        let title = register
            .blocker(id)
            .map_or_else(|| id.clone(), |blocker| blocker.title.clone());
        let live = evaluation.blocker(id).is_some_and(|state| state.live);
        list.push(Requirement {
            text: format!("{title} cleared: dependencies configured and proof passing"),
            met: !live,
            hard: true,
            blockers: if live { vec![id.clone()] } else { Vec::new() },
        });
    }
    for scope_id in &requires.conditional_scopes {
        let label = register
            .scope(scope_id)
            .map_or_else(|| scope_id.clone(), |scope| scope.label.clone());
        let live: Vec<String> = live_ids(register, evaluation, |blocker| {
            blocker.scope == *scope_id && !requires.cleared_blockers.contains(&blocker.id)
        })
        .collect();
        list.push(Requirement {
            text: format!(
                "Every {label} blocker proven or scoped into the order form ({} live)",
                live.len()
            ),
            met: live.is_empty(),
            hard: false,
            blockers: live,
        });
    }
    for gate_id in &requires.evidence_gates {
        let name = register
            .gate(gate_id)
            .map_or_else(|| gate_id.clone(), |gate| gate.name.clone());
        list.push(Requirement {
            text: format!("Customer evidence attached for each tenant: {name}"),
            // The public register holds no tenant's evidence.
            met: false,
            hard: false,
            blockers: Vec::new(),
        });
    }
    list
}

fn clear_blocker_action(
    register: &Register,
    motion: &LaunchMotion,
    blocker_id: &str,
    evaluation: &Evaluation,
) -> Option<Action> {
    let blocker = register.blocker(blocker_id)?;
    let state = evaluation.blocker(blocker_id)?;
    Some(Action::ClearBlocker {
        blocker: blocker.id.clone(),
        title: blocker.title.clone(),
        configure: state.missing.clone(),
        prove: (!state.proof_passing).then(|| {
            register
                .proof(&blocker.proof)
                .map_or_else(|| blocker.proof.clone(), |proof| proof.name.clone())
        }),
        scopable: motion.requires.conditional_scopes.contains(&blocker.scope)
            && !motion.requires.cleared_blockers.contains(&blocker.id),
    })
}

/// The inputs after `actions`: missing dependencies configured, proofs passing,
/// public checks passing; and the evidence the actions attach.
fn apply(
    register: &Register,
    inputs: &ReadinessInputs,
    context: &CustomerContext,
    actions: &[Action],
) -> (ReadinessInputs, CustomerContext) {
    let mut inputs = inputs.clone();
    let mut context = context.clone();
    for action in actions {
        match action {
            Action::MakePublicChecksPass { .. } => {
                for check in &mut inputs.public_checks {
                    check.passed = true;
                }
            }
            Action::ClearBlocker { blocker, .. } => {
                if let Some(blocker) = register.blocker(blocker) {
                    for name in &blocker.dependencies {
                        inputs
                            .dependencies
                            .insert(name.clone(), DependencyState::Configured);
                    }
                    inputs.proofs.insert(blocker.proof.clone(), true);
                }
            }
            Action::AttachEvidence { gate, .. } => {
                context.satisfied_gates.insert(gate.clone());
            }
        }
    }
    (inputs, context)
}

/// Walks from the current status to `clear`: first whatever removes the hard
/// reasons, then the soft ones, re-evaluating after each step.
fn steps(
    register: &Register,
    motion: &LaunchMotion,
    inputs: &ReadinessInputs,
    evaluation: &Evaluation,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut inputs = inputs.clone();
    let mut context = CustomerContext::default();
    let mut evaluation = evaluation.clone();
    // Two passes at most: hard reasons, then soft; a third would mean the
    // evaluation disagrees with its own reasons, so stop rather than loop.
    for _ in 0..3 {
        let Some(state) = evaluation.motion(&motion.id) else {
            break;
        };
        if state.status == MotionStatus::Clear {
            break;
        }
        let hard = state.status == MotionStatus::Blocked;
        let mut actions = Vec::new();
        let mut seen = BTreeSet::new();
        for reason in state
            .reasons
            .iter()
            .filter(|reason| reason.is_hard() == hard)
        {
            match reason {
                Reason::PublicChecksFailing { checks } => {
                    actions.push(Action::MakePublicChecksPass {
                        checks: checks.clone(),
                    });
                }
                Reason::StrictReadinessNotReady { .. } => {
                    for id in live_ids(register, &evaluation, |_| true) {
                        if seen.insert(id.clone()) {
                            actions.extend(clear_blocker_action(
                                register,
                                motion,
                                &id,
                                &evaluation,
                            ));
                        }
                    }
                }
                Reason::RequiredBlockerLive { blocker, .. }
                | Reason::ScopedBlockerLive { blocker, .. } => {
                    if seen.insert(blocker.clone()) {
                        actions.extend(clear_blocker_action(
                            register,
                            motion,
                            blocker,
                            &evaluation,
                        ));
                    }
                }
                Reason::EvidenceGateOutstanding { gate, name } => {
                    actions.push(Action::AttachEvidence {
                        gate: gate.clone(),
                        name: name.clone(),
                    });
                }
            }
        }
        if actions.is_empty() {
            break;
        }
        (inputs, context) = apply(register, &inputs, &context, &actions);
        evaluation = evaluate_with_context(register, &inputs, &context);
        let Some(after) = evaluation.motion(&motion.id) else {
            break;
        };
        steps.push(Step {
            actions,
            to: after.status,
        });
    }
    steps
}
