//! A tenant's launch room: its evidence gates, its launch acceptance, and what they
//! make of the tenant's motion. Pure: the server feeds it the stored records and
//! the live readiness, the pages and the API show what it returns.
//!
//! - `status`: where the room stands ([`room_status`]): its state, each gate and
//!   item, the tenant's motion evaluated with its evidence and exclusions.
//! - `changes`: what differs between the readiness an acceptance signed and
//!   readiness now ([`input_changes`]).
//! - `forms`: what operators and sponsors submit and its checks
//!   ([`check_acceptance`], [`check_revocation`], [`check_evidence`],
//!   [`check_motion`]), with every field's length limit.

mod changes;
mod forms;
mod status;

pub use changes::{input_changes, InputChange};
pub use forms::{
    check_acceptance, check_acceptance_fields, check_evidence, check_motion, check_revocation,
    AcceptanceForm, BillingRoute, CheckedAcceptance, CheckedEvidence, EvidenceForm, RevocationForm,
    MAX_FIELD_CHARS, MAX_ITEM_CHARS, MAX_NOTE_CHARS, MAX_REFERENCE_CHARS, MAX_TEXT_CHARS,
};
pub use status::{
    current_evidence, room_status, AttachedEvidence, GateStatus, ItemStatus, RoomInputs, RoomState,
    RoomStatus,
};
