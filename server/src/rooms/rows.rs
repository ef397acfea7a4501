//! The two ledger tables' rows as PostgreSQL hands them over, each turned into
//! its domain record by one `From`. Every query that reads a ledger record selects
//! into one of these.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use app::domain::ledger::{AcceptanceKind, AcceptanceRecord, EvidenceAction, EvidenceChange};
use app::domain::ReadinessInputs;

/// An `evidence_changes` row.
#[derive(Debug)]
pub(super) struct EvidenceChangeRow {
    pub id: i64,
    pub tenant_id: i64,
    pub seq: i32,
    pub action: String,
    pub gate_id: String,
    pub item: String,
    pub reference: String,
    pub note: String,
    pub account_id: Option<i64>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub prev_digest: String,
    pub digest: String,
    pub format: i16,
}

impl From<EvidenceChangeRow> for EvidenceChange {
    fn from(row: EvidenceChangeRow) -> Self {
        Self {
            id: row.id,
            tenant_id: row.tenant_id,
            seq: row.seq,
            // The table's CHECK allows only the two; anything else fails the chain.
            action: EvidenceAction::parse(&row.action).unwrap_or(EvidenceAction::Detached),
            gate_id: row.gate_id,
            item: row.item,
            reference: row.reference,
            note: row.note,
            account_id: row.account_id,
            actor: row.actor,
            at: row.at,
            prev_digest: row.prev_digest,
            digest: row.digest,
            format: row.format,
        }
    }
}

/// An `acceptance_records` row; also the table's row type, in which
/// [`super::heads::read_for_signing`] reads the record at the head as one column
/// (so the fields stay in the table's column order).
#[derive(Debug, sqlx::Type)]
#[sqlx(type_name = "acceptance_records")]
pub(super) struct AcceptanceRecordRow {
    pub id: i64,
    pub tenant_id: i64,
    pub seq: i32,
    pub kind: String,
    pub motion: String,
    pub signer_name: String,
    pub signer_role: String,
    pub approval_reference: String,
    pub exclusions: Vec<String>,
    pub residual_risks: String,
    pub readiness_digest: String,
    pub readiness_inputs: Json<ReadinessInputs>,
    pub open_blockers: Vec<String>,
    pub account_id: i64,
    pub actor: String,
    pub signed_at: DateTime<Utc>,
    pub prev_digest: String,
    pub digest: String,
    pub format: i16,
}

impl From<AcceptanceRecordRow> for AcceptanceRecord {
    fn from(row: AcceptanceRecordRow) -> Self {
        Self {
            id: row.id,
            tenant_id: row.tenant_id,
            seq: row.seq,
            // As above: the CHECK allows only the two kinds.
            kind: AcceptanceKind::parse(&row.kind).unwrap_or(AcceptanceKind::Revoked),
            motion: row.motion,
            signer_name: row.signer_name,
            signer_role: row.signer_role,
            approval_reference: row.approval_reference,
            exclusions: row.exclusions,
            residual_risks: row.residual_risks,
            readiness_digest: row.readiness_digest,
            readiness_inputs: row.readiness_inputs.0,
            open_blockers: row.open_blockers,
            account_id: Some(row.account_id),
            actor: row.actor,
            signed_at: row.signed_at,
            prev_digest: row.prev_digest,
            digest: row.digest,
            format: row.format,
        }
    }
}
