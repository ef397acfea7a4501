//! A tenant's launch room: its evidence gates, its launch acceptance, and what they
//! make of the tenant's motion. Pure: the server feeds it the stored records and
//! the live readiness, the pages and the API show what it returns.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::FieldError;
use super::evaluation::{
    evaluate_with_context, CustomerContext, DependencyState, MotionEvaluation, ReadinessInputs,
};
use super::ledger::{AcceptanceKind, AcceptanceRecord, EvidenceAction, EvidenceChange};
use super::register::{LaunchMotion, Register};

/// How the tenant pays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingRoute {
    #[default]
    InvoiceOnly,
    StripeReady,
}

impl BillingRoute {
    pub const ALL: [Self; 2] = [Self::InvoiceOnly, Self::StripeReady];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvoiceOnly => "invoice_only",
            Self::StripeReady => "stripe_ready",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::InvoiceOnly => "invoice-only",
            Self::StripeReady => "Stripe-ready",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim().replace('-', "_");
        Self::ALL.into_iter().find(|route| route.as_str() == value)
    }
}

impl fmt::Display for BillingRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The motion a tenant pursues must be one the register declares.
pub fn check_motion<'r>(
    register: &'r Register,
    motion: &str,
) -> Result<&'r LaunchMotion, FieldError> {
    register
        .motion(motion.trim())
        .ok_or_else(|| FieldError::new("motion", "choose one of the register's launch motions"))
}

/// Where a launch room stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomState {
    /// Evidence is outstanding or the motion is blocked.
    Setup,
    /// Everything but the signature is in place.
    ReadyForAcceptance,
    /// Signed, and readiness is what was signed.
    Accepted,
    /// Signed, but readiness changed since: not live until signed again.
    Stale,
    /// The latest record is a revocation.
    Revoked,
}

impl RoomState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::ReadyForAcceptance => "ready_for_acceptance",
            Self::Accepted => "accepted",
            Self::Stale => "stale",
            Self::Revoked => "revoked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::ReadyForAcceptance => "ready for acceptance",
            Self::Accepted => "accepted",
            Self::Stale => "changed since acceptance",
            Self::Revoked => "revoked",
        }
    }
}

impl fmt::Display for RoomState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Evidence currently attached to one item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedEvidence {
    pub reference: String,
    pub note: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// The evidence attached now, by gate id and item, from the changes in order.
pub fn current_evidence(
    changes: &[EvidenceChange],
) -> BTreeMap<(String, String), AttachedEvidence> {
    let mut current = BTreeMap::new();
    for change in changes {
        let key = (change.gate_id.clone(), change.item.clone());
        match change.action {
            EvidenceAction::Attached => {
                current.insert(
                    key,
                    AttachedEvidence {
                        reference: change.reference.clone(),
                        note: change.note.clone(),
                        actor: change.actor.clone(),
                        at: change.at,
                    },
                );
            }
            EvidenceAction::Detached => {
                current.remove(&key);
            }
        }
    }
    current
}

/// One evidence item of a gate, attached or outstanding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemStatus {
    pub item: String,
    pub attached: Option<AttachedEvidence>,
}

/// One evidence gate as it stands for a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateStatus {
    pub gate_id: String,
    /// Whether the tenant's motion requires this gate.
    pub required: bool,
    /// Satisfied by the current acceptance rather than by attached items.
    pub by_acceptance: bool,
    pub satisfied: bool,
    pub items: Vec<ItemStatus>,
}

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

/// Everything a launch room shows that is computed rather than stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomStatus {
    pub state: RoomState,
    /// The tenant's motion evaluated with its evidence and exclusions; `None`
    /// while the tenant has no motion the register knows.
    pub motion: Option<MotionEvaluation>,
    pub gates: Vec<GateStatus>,
    /// Live blockers this motion lets a signer scope out of the order form.
    pub scopable: Vec<String>,
    /// Live blockers in the way of the motion (required or in its scopes).
    pub open_blockers: Vec<String>,
    /// Why the room is not ready for acceptance, as sentences.
    pub outstanding: Vec<String>,
    /// With a stale acceptance: what changed since it was signed.
    pub changed_since_acceptance: Vec<InputChange>,
    /// The readiness digest a new signature would bind to.
    pub readiness_digest: String,
}

impl RoomStatus {
    /// A tenant counts as live only with a current, unrevoked acceptance.
    pub fn is_live(&self) -> bool {
        self.state == RoomState::Accepted
    }

    /// Whether a buyer sponsor may sign now.
    pub fn accepts_signature(&self) -> bool {
        self.outstanding.is_empty()
    }
}

/// What the room needs to be worked out.
pub struct RoomInputs<'a> {
    pub register: &'a Register,
    pub inputs: &'a ReadinessInputs,
    pub motion: &'a str,
    pub evidence: &'a BTreeMap<(String, String), AttachedEvidence>,
    /// The tenant's newest acceptance record, if any.
    pub latest: Option<&'a AcceptanceRecord>,
}

/// Works out a launch room's state, the tenant's motion status and its gates.
pub fn room_status(room: &RoomInputs<'_>) -> RoomStatus {
    let register = room.register;
    let digest = room.inputs.digest();
    let accepted = room
        .latest
        .filter(|record| record.kind == AcceptanceKind::Accepted);
    let current_acceptance = accepted.filter(|record| record.readiness_digest == digest);

    let Some(motion) = register.motion(room.motion) else {
        return RoomStatus {
            state: RoomState::Setup,
            motion: None,
            gates: gates(register, None, room.evidence, current_acceptance.is_some()),
            scopable: Vec::new(),
            open_blockers: Vec::new(),
            outstanding: vec![
                "An operator must choose the launch motion this tenant pursues.".to_owned(),
            ],
            changed_since_acceptance: Vec::new(),
            readiness_digest: digest,
        };
    };

    let gates = gates(
        register,
        Some(motion),
        room.evidence,
        current_acceptance.is_some(),
    );
    let context = CustomerContext {
        satisfied_gates: gates
            .iter()
            .filter(|gate| gate.satisfied)
            .map(|gate| gate.gate_id.clone())
            .collect(),
        excluded_blockers: accepted
            .map(|record| record.exclusions.iter().cloned().collect())
            .unwrap_or_default(),
    };
    let evaluation = evaluate_with_context(register, room.inputs, &context);
    let motion_evaluation = evaluation.motion(&motion.id).cloned();

    let requires = &motion.requires;
    let mut scopable = Vec::new();
    let mut open_blockers = Vec::new();
    for (blocker, state) in register.blockers.iter().zip(&evaluation.blockers) {
        if !state.live {
            continue;
        }
        let required = requires.cleared_blockers.contains(&blocker.id);
        let scoped = requires.conditional_scopes.contains(&blocker.scope);
        if scoped && !required {
            scopable.push(blocker.id.clone());
        }
        if scoped || required {
            open_blockers.push(blocker.id.clone());
        }
    }

    let mut outstanding: Vec<String> = motion_evaluation
        .iter()
        .flat_map(|evaluation| &evaluation.reasons)
        .filter(|reason| reason.is_hard())
        .map(|reason| format!("{} cannot be accepted while blocked: {reason}", motion.name))
        .collect();
    for gate in gates
        .iter()
        .filter(|gate| gate.required && !gate.by_acceptance)
    {
        if !gate.satisfied {
            let name = register
                .gate(&gate.gate_id)
                .map_or(gate.gate_id.as_str(), |g| g.name.as_str());
            let missing = gate
                .items
                .iter()
                .filter(|item| item.attached.is_none())
                .count();
            outstanding.push(format!(
                "{name}: {missing} evidence item{} outstanding",
                if missing == 1 { "" } else { "s" }
            ));
        }
    }

    let state = match room.latest {
        Some(record) if record.kind == AcceptanceKind::Revoked => RoomState::Revoked,
        Some(record) if record.readiness_digest == digest => RoomState::Accepted,
        Some(_) => RoomState::Stale,
        None if outstanding.is_empty() => RoomState::ReadyForAcceptance,
        None => RoomState::Setup,
    };
    let changed_since_acceptance = match (state, accepted) {
        (RoomState::Stale, Some(record)) => input_changes(&record.readiness_inputs, room.inputs),
        _ => Vec::new(),
    };
    RoomStatus {
        state,
        motion: motion_evaluation,
        gates,
        scopable,
        open_blockers,
        outstanding,
        changed_since_acceptance,
        readiness_digest: digest,
    }
}

fn gates(
    register: &Register,
    motion: Option<&LaunchMotion>,
    evidence: &BTreeMap<(String, String), AttachedEvidence>,
    acceptance_current: bool,
) -> Vec<GateStatus> {
    register
        .customer_evidence
        .gates
        .iter()
        .map(|gate| {
            let items: Vec<ItemStatus> = gate
                .items
                .iter()
                .map(|item| ItemStatus {
                    item: item.clone(),
                    attached: evidence.get(&(gate.id.clone(), item.clone())).cloned(),
                })
                .collect();
            let satisfied = if gate.satisfied_by_acceptance {
                acceptance_current
            } else {
                items.iter().all(|item| item.attached.is_some())
            };
            GateStatus {
                gate_id: gate.id.clone(),
                required: motion
                    .is_some_and(|motion| motion.requires.evidence_gates.contains(&gate.id)),
                by_acceptance: gate.satisfied_by_acceptance,
                satisfied,
                items,
            }
        })
        .collect()
}

/// Longest signer name, role or approval reference, in characters.
pub const MAX_FIELD_CHARS: usize = 200;
/// Longest residual-risk statement or revocation reason, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;

/// Launch acceptance as a sponsor submits it, from the form or the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceForm {
    pub signer_name: String,
    pub signer_role: String,
    pub approval_reference: String,
    #[serde(default)]
    pub exclusions: Vec<String>,
    #[serde(default)]
    pub residual_risks: String,
    /// The readiness digest the signer reviewed; the signature is refused if
    /// readiness has changed since.
    pub readiness_digest: String,
}

/// A revocation as a sponsor submits it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationForm {
    pub signer_name: String,
    pub signer_role: String,
    pub reason: String,
}

/// A validated signature or revocation, ready to be chained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedAcceptance {
    pub kind: AcceptanceKind,
    pub signer_name: String,
    pub signer_role: String,
    pub approval_reference: String,
    pub exclusions: Vec<String>,
    pub residual_risks: String,
}

fn line(
    field: &str,
    label: &str,
    value: &str,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> String {
    let value = value.trim();
    if value.is_empty() {
        if required {
            errors.push(FieldError::new(field, format!("enter the {label}")));
        }
    } else if value.chars().count() > MAX_FIELD_CHARS {
        errors.push(FieldError::new(
            field,
            format!("the {label} is at most {MAX_FIELD_CHARS} characters"),
        ));
    } else if value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            format!("the {label} cannot contain control characters or line breaks"),
        ));
    }
    value.to_owned()
}

fn text(
    field: &str,
    label: &str,
    value: &str,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> String {
    let value = value.trim().replace("\r\n", "\n");
    if value.is_empty() && required {
        errors.push(FieldError::new(field, format!("enter the {label}")));
    } else if value.chars().count() > MAX_TEXT_CHARS {
        errors.push(FieldError::new(
            field,
            format!("the {label} is at most {MAX_TEXT_CHARS} characters"),
        ));
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        errors.push(FieldError::new(
            field,
            format!("the {label} cannot contain control characters"),
        ));
    }
    value
}

fn acceptance_fields(
    form: &AcceptanceForm,
    errors: &mut Vec<FieldError>,
) -> (String, String, String, String) {
    (
        line(
            "signer_name",
            "signer name",
            &form.signer_name,
            true,
            errors,
        ),
        line(
            "signer_role",
            "signer role",
            &form.signer_role,
            true,
            errors,
        ),
        line(
            "approval_reference",
            "approval reference",
            &form.approval_reference,
            true,
            errors,
        ),
        text(
            "residual_risks",
            "residual risks",
            &form.residual_risks,
            false,
            errors,
        ),
    )
}

/// The typed fields' problems alone (not the room's), for checking a form as it
/// is filled in.
pub fn check_acceptance_fields(form: &AcceptanceForm) -> Vec<FieldError> {
    let mut errors = Vec::new();
    acceptance_fields(form, &mut errors);
    errors
}

/// Checks a signature against the room as it stands now. Every problem is
/// reported at once, each naming its field; `form` is the one for the room as
/// a whole (not ready, readiness changed since the review).
pub fn check_acceptance(
    form: &AcceptanceForm,
    status: &RoomStatus,
) -> Result<CheckedAcceptance, Vec<FieldError>> {
    let mut errors = Vec::new();
    let (signer_name, signer_role, approval_reference, residual_risks) =
        acceptance_fields(form, &mut errors);
    let mut exclusions: Vec<String> = form
        .exclusions
        .iter()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect();
    exclusions.sort();
    exclusions.dedup();
    let refused: Vec<&str> = exclusions
        .iter()
        .filter(|id| !status.scopable.contains(id))
        .map(String::as_str)
        .collect();
    if !refused.is_empty() {
        errors.push(FieldError::new(
            "exclusions",
            format!(
                "{} {} not a live blocker this motion allows to be scoped out",
                refused.join(", "),
                if refused.len() == 1 { "is" } else { "are" }
            ),
        ));
    }
    if form.readiness_digest.trim() != status.readiness_digest {
        errors.push(FieldError::new(
            "readiness_digest",
            "readiness changed since you reviewed it: review the acceptance again",
        ));
    }
    if !status.accepts_signature() {
        errors.push(FieldError::new(
            "room",
            format!(
                "the launch room is not ready for acceptance: {}",
                status.outstanding.join("; ")
            ),
        ));
    }
    if errors.is_empty() {
        Ok(CheckedAcceptance {
            kind: AcceptanceKind::Accepted,
            signer_name,
            signer_role,
            approval_reference,
            exclusions,
            residual_risks,
        })
    } else {
        Err(errors)
    }
}

/// Checks a revocation: only a standing acceptance can be revoked.
pub fn check_revocation(
    form: &RevocationForm,
    status: &RoomStatus,
) -> Result<CheckedAcceptance, Vec<FieldError>> {
    let mut errors = Vec::new();
    let signer_name = line(
        "signer_name",
        "signer name",
        &form.signer_name,
        true,
        &mut errors,
    );
    let signer_role = line(
        "signer_role",
        "signer role",
        &form.signer_role,
        true,
        &mut errors,
    );
    let reason = text("reason", "reason", &form.reason, true, &mut errors);
    if !matches!(status.state, RoomState::Accepted | RoomState::Stale) {
        errors.push(FieldError::new(
            "room",
            "there is no standing acceptance to revoke",
        ));
    }
    if errors.is_empty() {
        Ok(CheckedAcceptance {
            kind: AcceptanceKind::Revoked,
            signer_name,
            signer_role,
            approval_reference: String::new(),
            exclusions: Vec::new(),
            residual_risks: reason,
        })
    } else {
        Err(errors)
    }
}

/// Evidence an operator attaches to one item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceForm {
    pub gate_id: String,
    pub item: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub note: String,
}

/// A validated evidence change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedEvidence {
    pub action: EvidenceAction,
    pub gate_id: String,
    pub item: String,
    pub reference: String,
    pub note: String,
}

/// Checks an attachment (a reference is required) or a detachment (the item must
/// have evidence attached) against the register and the evidence attached now.
pub fn check_evidence(
    register: &Register,
    action: EvidenceAction,
    form: &EvidenceForm,
    evidence: &BTreeMap<(String, String), AttachedEvidence>,
) -> Result<CheckedEvidence, Vec<FieldError>> {
    let mut errors = Vec::new();
    let gate = register.gate(form.gate_id.trim());
    let item = match gate {
        None => {
            errors.push(FieldError::new(
                "gate_id",
                "no such evidence gate in the register",
            ));
            String::new()
        }
        Some(gate) if gate.satisfied_by_acceptance => {
            errors.push(FieldError::new(
                "gate_id",
                format!(
                    "{} is satisfied by the signed launch acceptance, not by attached evidence",
                    gate.name
                ),
            ));
            String::new()
        }
        Some(gate) => match gate
            .items
            .iter()
            .find(|item| item.as_str() == form.item.trim())
        {
            Some(item) => item.clone(),
            None => {
                errors.push(FieldError::new(
                    "item",
                    format!("{} has no such evidence item", gate.name),
                ));
                String::new()
            }
        },
    };
    let gate_id = form.gate_id.trim().to_owned();
    let (reference, note) = match action {
        EvidenceAction::Attached => {
            let mut reference = form.reference.trim().to_owned();
            if reference.is_empty() {
                errors.push(FieldError::new(
                    "reference",
                    "enter a reference or link for the evidence",
                ));
            } else if reference.chars().count() > 500 {
                errors.push(FieldError::new(
                    "reference",
                    "the reference is at most 500 characters",
                ));
            } else if reference.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    "reference",
                    "the reference cannot contain control characters",
                ));
                reference.clear();
            }
            let note = form.note.trim().replace("\r\n", "\n");
            if note.chars().count() > 2_000 {
                errors.push(FieldError::new(
                    "note",
                    "the note is at most 2000 characters",
                ));
            } else if note
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                errors.push(FieldError::new(
                    "note",
                    "the note cannot contain control characters",
                ));
            }
            (reference, note)
        }
        EvidenceAction::Detached => {
            if errors.is_empty() && !evidence.contains_key(&(gate_id.clone(), item.clone())) {
                errors.push(FieldError::new(
                    "item",
                    "no evidence is attached to this item",
                ));
            }
            (String::new(), String::new())
        }
    };
    if errors.is_empty() {
        Ok(CheckedEvidence {
            action,
            gate_id,
            item,
            reference,
            note,
        })
    } else {
        Err(errors)
    }
}
