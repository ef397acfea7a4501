//! What operators and buyer sponsors submit for a launch room, and its checks:
//! the tenant's choices (motion, billing route), a launch acceptance or its
//! revocation, and evidence attached to or detached from an item. Every problem
//! is reported at once, each naming its field ([`FieldError`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::status::{AttachedEvidence, RoomState, RoomStatus};
use crate::domain::access::FieldError;
use crate::domain::ledger::{AcceptanceKind, EvidenceAction};
use crate::domain::register::{LaunchMotion, Register};

// --- Limits ---------------------------------------------------------------------
//
// The longest value each field may hold, in characters: the checks below enforce
// them, the pages' `maxlength` attributes repeat them, and so do the ledgers'
// CHECK constraints in the database (migrations/): change them together.

/// Longest signer name, signer role or approval reference.
pub const MAX_FIELD_CHARS: usize = 200;
/// Longest residual-risk statement or revocation reason.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Longest evidence reference (a document name or link).
pub const MAX_REFERENCE_CHARS: usize = 500;
/// Longest note beside an evidence reference.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// Longest evidence item (its text, as the register names it) that evidence can
/// be recorded against.
pub const MAX_ITEM_CHARS: usize = 1_000;

// --- The tenant's choices -------------------------------------------------------

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

// --- Launch acceptance and revocation -------------------------------------------

/// Launch acceptance as a sponsor submits it, from the form or the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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

// --- Evidence -------------------------------------------------------------------

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
            Some(item) if item.chars().count() > MAX_ITEM_CHARS => {
                errors.push(FieldError::new(
                    "item",
                    format!(
                        "evidence cannot be recorded against an item longer than {MAX_ITEM_CHARS} characters: shorten it in the register"
                    ),
                ));
                String::new()
            }
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
            } else if reference.chars().count() > MAX_REFERENCE_CHARS {
                errors.push(FieldError::new(
                    "reference",
                    format!("the reference is at most {MAX_REFERENCE_CHARS} characters"),
                ));
            } else if reference.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    "reference",
                    "the reference cannot contain control characters",
                ));
                reference.clear();
            }
            let note = form.note.trim().replace("\r\n", "\n");
            if note.chars().count() > MAX_NOTE_CHARS {
                errors.push(FieldError::new(
                    "note",
                    format!("the note is at most {MAX_NOTE_CHARS} characters"),
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
