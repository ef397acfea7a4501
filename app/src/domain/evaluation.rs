//! The evaluation: readiness inputs → live blockers → readiness → motion statuses.
//!
//! Pure functions over plain data. The server runs them to render the page and the
//! browser runs the same code after hydration.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::register::{Blocker, LaunchMotion, Register};

/// Whether a configuration name is present. The value itself is never read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyState {
    Configured,
    Missing,
}

impl DependencyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Configured => "configured",
            Self::Missing => "missing",
        }
    }
}

/// A check any visitor could run against the deployment (reachable, database up).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicCheck {
    pub name: String,
    pub passed: bool,
    /// A short, public-safe explanation when the check fails.
    pub detail: Option<String>,
}

/// What a readiness source observed about a deployment, and which proofs pass.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessInputs {
    /// Dependency name → state. A declared name absent from the map counts as missing.
    pub dependencies: BTreeMap<String, DependencyState>,
    pub public_checks: Vec<PublicCheck>,
    /// Proof id → whether its latest run passed within the freshness window.
    /// A proof absent from the map has not passed.
    #[serde(default)]
    pub proofs: BTreeMap<String, bool>,
}

impl ReadinessInputs {
    pub fn dependency(&self, name: &str) -> DependencyState {
        self.dependencies
            .get(name)
            .copied()
            .unwrap_or(DependencyState::Missing)
    }

    pub fn proof_passing(&self, proof_id: &str) -> bool {
        self.proofs.get(proof_id).copied().unwrap_or(false)
    }

    pub fn public_checks_pass(&self) -> bool {
        self.public_checks.iter().all(|check| check.passed)
    }

    /// SHA-256 (hex) of the canonical JSON encoding: maps are ordered, so equal
    /// observations always give equal digests.
    pub fn digest(&self) -> String {
        let canonical = serde_json::to_vec(self).expect("readiness inputs always serialize");
        hex::encode(Sha256::digest(&canonical))
    }
}

/// Advisory or strict readiness level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    Ready,
    Degraded,
    #[default]
    NotReady,
}

impl Readiness {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Degraded => "degraded",
            Self::NotReady => "not_ready",
        }
    }
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A launch motion's computed status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MotionStatus {
    Clear,
    Conditional,
    Blocked,
}

impl MotionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Conditional => "conditional",
            Self::Blocked => "blocked",
        }
    }
}

impl fmt::Display for MotionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a motion is not `clear`. Hard reasons block; soft ones leave it conditional.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    PublicChecksFailing {
        checks: Vec<String>,
    },
    StrictReadinessNotReady {
        live_blockers: usize,
    },
    RequiredBlockerLive {
        blocker: String,
        title: String,
        missing: Vec<String>,
        /// The proof's name, when it has no passing run.
        unproven: Option<String>,
        /// The tenant's acceptance scoped it out, which this motion does not allow.
        #[serde(default)]
        excluded: bool,
    },
    ScopedBlockerLive {
        blocker: String,
        title: String,
        scope: String,
        missing: Vec<String>,
        unproven: Option<String>,
    },
    EvidenceGateOutstanding {
        gate: String,
        name: String,
    },
}

impl Reason {
    pub fn is_hard(&self) -> bool {
        matches!(
            self,
            Self::PublicChecksFailing { .. }
                | Self::StrictReadinessNotReady { .. }
                | Self::RequiredBlockerLive { .. }
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PublicChecksFailing { checks } => {
                write!(f, "Public checks failing: {}", checks.join(", "))
            }
            Self::StrictReadinessNotReady { live_blockers } => write!(
                f,
                "Strict readiness is not_ready: {live_blockers} live blocker{}",
                if *live_blockers == 1 { "" } else { "s" }
            ),
            Self::RequiredBlockerLive {
                title,
                missing,
                unproven,
                excluded,
                ..
            } => {
                write!(f, "Required blocker live: {title}")?;
                write_why_live(f, missing, unproven.as_deref())?;
                if *excluded {
                    f.write_str(
                        " — scoped out by the acceptance, but this motion requires it cleared",
                    )?;
                }
                Ok(())
            }
            Self::ScopedBlockerLive {
                title,
                scope,
                missing,
                unproven,
                ..
            } => {
                write!(
                    f,
                    "{scope} blocker to prove or scope into the order form: {title}"
                )?;
                write_why_live(f, missing, unproven.as_deref())
            }
            Self::EvidenceGateOutstanding { name, .. } => {
                write!(f, "Customer evidence outstanding: {name}")
            }
        }
    }
}

fn write_why_live(
    f: &mut fmt::Formatter<'_>,
    missing: &[String],
    unproven: Option<&str>,
) -> fmt::Result {
    match (missing.is_empty(), unproven) {
        (true, None) => Ok(()),
        (false, None) => write!(f, " ({} missing)", missing.join(", ")),
        (true, Some(proof)) => write!(f, " ({proof} has no passing run)"),
        (false, Some(proof)) => write!(
            f,
            " ({} missing; {proof} has no passing run)",
            missing.join(", ")
        ),
    }
}

/// One blocker's computed state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerEvaluation {
    pub id: String,
    pub live: bool,
    pub missing: Vec<String>,
    pub proof_passing: bool,
}

/// One motion's computed status and the reasons for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MotionEvaluation {
    pub id: String,
    pub status: MotionStatus,
    pub reasons: Vec<Reason>,
}

/// What a tenant has settled that the global register cannot know: satisfied
/// evidence gates and blockers scoped out of its order form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerContext {
    pub satisfied_gates: BTreeSet<String>,
    pub excluded_blockers: BTreeSet<String>,
}

/// The whole register evaluated against one set of readiness inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub advisory: Readiness,
    pub strict: Readiness,
    /// In register order.
    pub blockers: Vec<BlockerEvaluation>,
    pub live_blockers: usize,
    pub evidence_gates: usize,
    /// In register order.
    pub motions: Vec<MotionEvaluation>,
}

impl Evaluation {
    pub fn blocker(&self, id: &str) -> Option<&BlockerEvaluation> {
        self.blockers.iter().find(|blocker| blocker.id == id)
    }

    pub fn motion(&self, id: &str) -> Option<&MotionEvaluation> {
        self.motions.iter().find(|motion| motion.id == id)
    }

    /// What the history compares between two evaluations.
    pub fn summary(&self) -> EvaluationSummary {
        EvaluationSummary {
            advisory: self.advisory,
            strict: self.strict,
            live_blockers: self
                .blockers
                .iter()
                .filter(|blocker| blocker.live)
                .map(|blocker| blocker.id.clone())
                .collect(),
            motions: self
                .motions
                .iter()
                .map(|motion| (motion.id.clone(), motion.status))
                .collect(),
        }
    }
}

/// A blocker is live while any of its dependencies is missing or its proof has no
/// passing run.
pub fn evaluate_blocker(blocker: &Blocker, inputs: &ReadinessInputs) -> BlockerEvaluation {
    let missing: Vec<String> = blocker
        .dependencies
        .iter()
        .filter(|name| inputs.dependency(name) == DependencyState::Missing)
        .cloned()
        .collect();
    let proof_passing = inputs.proof_passing(&blocker.proof);
    BlockerEvaluation {
        id: blocker.id.clone(),
        live: !missing.is_empty() || !proof_passing,
        missing,
        proof_passing,
    }
}

/// The proof's name when the blocker is held live by its proof.
fn unproven(register: &Register, blocker: &Blocker, state: &BlockerEvaluation) -> Option<String> {
    (!state.proof_passing).then(|| {
        register
            .proof(&blocker.proof)
            .map_or_else(|| blocker.proof.clone(), |proof| proof.name.clone())
    })
}

/// Advisory readiness: `not_ready` when public checks fail, `degraded` with live
/// blockers, `ready` otherwise.
pub fn advisory_readiness(public_checks_pass: bool, live_blockers: usize) -> Readiness {
    match (public_checks_pass, live_blockers) {
        (false, _) => Readiness::NotReady,
        (true, 0) => Readiness::Ready,
        (true, _) => Readiness::Degraded,
    }
}

/// Strict readiness: `ready` only when public checks pass and no blocker is live.
pub fn strict_readiness(public_checks_pass: bool, live_blockers: usize) -> Readiness {
    if public_checks_pass && live_blockers == 0 {
        Readiness::Ready
    } else {
        Readiness::NotReady
    }
}

/// Evaluates the whole register as the public sees it (no tenant evidence).
pub fn evaluate(register: &Register, inputs: &ReadinessInputs) -> Evaluation {
    evaluate_with_context(register, inputs, &CustomerContext::default())
}

/// Evaluates the whole register with a tenant's settled evidence and exclusions.
pub fn evaluate_with_context(
    register: &Register,
    inputs: &ReadinessInputs,
    context: &CustomerContext,
) -> Evaluation {
    let blockers: Vec<BlockerEvaluation> = register
        .blockers
        .iter()
        .map(|blocker| evaluate_blocker(blocker, inputs))
        .collect();
    let live_blockers = blockers.iter().filter(|blocker| blocker.live).count();
    let public_checks_pass = inputs.public_checks_pass();
    let mut evaluation = Evaluation {
        advisory: advisory_readiness(public_checks_pass, live_blockers),
        strict: strict_readiness(public_checks_pass, live_blockers),
        blockers,
        live_blockers,
        evidence_gates: register.customer_evidence.gates.len(),
        motions: Vec::with_capacity(register.motions.len()),
    };
    evaluation.motions = register
        .motions
        .iter()
        .map(|motion| evaluate_motion(register, motion, inputs, &evaluation, context))
        .collect();
    evaluation
}

/// A motion is `blocked` when a hard requirement fails, `conditional` when only
/// scoped blockers or customer evidence remain, and `clear` otherwise.
pub fn evaluate_motion(
    register: &Register,
    motion: &LaunchMotion,
    inputs: &ReadinessInputs,
    evaluation: &Evaluation,
    context: &CustomerContext,
) -> MotionEvaluation {
    let requires = &motion.requires;
    let mut reasons = Vec::new();

    if requires.public_checks && !inputs.public_checks_pass() {
        reasons.push(Reason::PublicChecksFailing {
            checks: inputs
                .public_checks
                .iter()
                .filter(|check| !check.passed)
                .map(|check| check.name.clone())
                .collect(),
        });
    }
    if requires.strict_readiness && evaluation.strict != Readiness::Ready {
        reasons.push(Reason::StrictReadinessNotReady {
            live_blockers: evaluation.live_blockers,
        });
    }
    for blocker_id in &requires.cleared_blockers {
        if let (Some(blocker), Some(state)) =
            (register.blocker(blocker_id), evaluation.blocker(blocker_id))
        {
            if state.live {
                reasons.push(Reason::RequiredBlockerLive {
                    blocker: blocker.id.clone(),
                    title: blocker.title.clone(),
                    missing: state.missing.clone(),
                    unproven: unproven(register, blocker, state),
                    excluded: context.excluded_blockers.contains(&blocker.id),
                });
            }
        }
    }
    for (blocker, state) in register.blockers.iter().zip(&evaluation.blockers) {
        let scoped = requires.conditional_scopes.contains(&blocker.scope);
        let already_hard = requires.cleared_blockers.contains(&blocker.id);
        if scoped && !already_hard && state.live && !context.excluded_blockers.contains(&blocker.id)
        {
            reasons.push(Reason::ScopedBlockerLive {
                blocker: blocker.id.clone(),
                title: blocker.title.clone(),
                scope: register
                    .scope(&blocker.scope)
                    .map_or_else(|| blocker.scope.clone(), |scope| scope.label.clone()),
                missing: state.missing.clone(),
                unproven: unproven(register, blocker, state),
            });
        }
    }
    for gate_id in &requires.evidence_gates {
        if let Some(gate) = register.gate(gate_id) {
            if !context.satisfied_gates.contains(gate_id) {
                reasons.push(Reason::EvidenceGateOutstanding {
                    gate: gate.id.clone(),
                    name: gate.name.clone(),
                });
            }
        }
    }

    let status = if reasons.iter().any(Reason::is_hard) {
        MotionStatus::Blocked
    } else if reasons.is_empty() {
        MotionStatus::Clear
    } else {
        MotionStatus::Conditional
    };
    MotionEvaluation {
        id: motion.id.clone(),
        status,
        reasons,
    }
}

/// The one-line decision summary: "Managed private beta: conditional. …".
pub fn decision_summary(register: &Register, evaluation: &Evaluation) -> String {
    register
        .motions
        .iter()
        .zip(&evaluation.motions)
        .map(|(motion, state)| format!("{}: {}.", motion.short_name, state.status))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The parts of an evaluation whose changes make the readiness history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationSummary {
    pub advisory: Readiness,
    pub strict: Readiness,
    pub live_blockers: BTreeSet<String>,
    pub motions: BTreeMap<String, MotionStatus>,
}

/// One change between two successive evaluations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReadinessChange {
    AdvisoryChanged {
        from: Readiness,
        to: Readiness,
    },
    StrictChanged {
        from: Readiness,
        to: Readiness,
    },
    BlockerWentLive {
        blocker: String,
    },
    BlockerCleared {
        blocker: String,
    },
    MotionChanged {
        motion: String,
        from: Option<MotionStatus>,
        to: Option<MotionStatus>,
    },
}

/// Every change from `before` to `after`, readiness first, then blockers and motions
/// in id order.
pub fn changes_between(
    before: &EvaluationSummary,
    after: &EvaluationSummary,
) -> Vec<ReadinessChange> {
    let mut changes = Vec::new();
    if before.advisory != after.advisory {
        changes.push(ReadinessChange::AdvisoryChanged {
            from: before.advisory,
            to: after.advisory,
        });
    }
    if before.strict != after.strict {
        changes.push(ReadinessChange::StrictChanged {
            from: before.strict,
            to: after.strict,
        });
    }
    for blocker in after.live_blockers.difference(&before.live_blockers) {
        changes.push(ReadinessChange::BlockerWentLive {
            blocker: blocker.clone(),
        });
    }
    for blocker in before.live_blockers.difference(&after.live_blockers) {
        changes.push(ReadinessChange::BlockerCleared {
            blocker: blocker.clone(),
        });
    }
    let motions: BTreeSet<&String> = before.motions.keys().chain(after.motions.keys()).collect();
    for motion in motions {
        let (from, to) = (
            before.motions.get(motion).copied(),
            after.motions.get(motion).copied(),
        );
        if from != to {
            changes.push(ReadinessChange::MotionChanged {
                motion: motion.clone(),
                from,
                to,
            });
        }
    }
    changes
}
