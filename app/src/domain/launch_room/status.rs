//! What a launch room stands at, worked out from the stored records and the live
//! readiness: the room's state, each evidence gate and item, and the tenant's
//! motion evaluated with its evidence and exclusions.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::changes::{input_changes, InputChange};
use crate::domain::evaluation::{
    evaluate_with_context, CustomerContext, MotionEvaluation, ReadinessInputs,
};
use crate::domain::ledger::{AcceptanceKind, AcceptanceRecord, EvidenceAction, EvidenceChange};
use crate::domain::register::{LaunchMotion, Register};

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
