//! The two append-only ledgers of a launch room: evidence changes and acceptance
//! records. Each is a hash chain per tenant: a record's digest is the SHA-256 of a
//! canonical encoding of its fields, the digest of the record before it included,
//! so altering, removing or reordering any record breaks every link after it.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::evaluation::ReadinessInputs;

/// The `prev_digest` of a chain's first record.
pub const GENESIS_DIGEST: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Which ledger a chain belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ledger {
    Evidence,
    Acceptance,
}

impl Ledger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Evidence => "evidence",
            Self::Acceptance => "acceptance",
        }
    }
}

/// A time as the canonical encoding writes it: UTC, microseconds (what
/// PostgreSQL keeps), so a record read back encodes exactly as it was written.
pub fn canonical_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `at` cut to whole microseconds, so it survives a round trip through the
/// database unchanged.
pub fn storable_time(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn digest_of<T: Serialize>(canonical: &T) -> String {
    let bytes = serde_json::to_vec(canonical).expect("canonical records always serialize");
    hex::encode(Sha256::digest(bytes))
}

/// Whether evidence was attached to an item or taken off it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceAction {
    Attached,
    Detached,
}

impl EvidenceAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attached => "attached",
            Self::Detached => "detached",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "attached" => Some(Self::Attached),
            "detached" => Some(Self::Detached),
            _ => None,
        }
    }
}

/// One change to a tenant's evidence, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceChange {
    pub id: i64,
    pub tenant_id: i64,
    pub seq: i32,
    pub action: EvidenceAction,
    pub gate_id: String,
    pub item: String,
    pub reference: String,
    pub note: String,
    /// The operator's account; part of the digest from format 2 on.
    #[serde(default)]
    pub account_id: Option<i64>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub prev_digest: String,
    pub digest: String,
    /// [`FORMAT_V1`] or [`FORMAT_V2`]: which fields the digest covers.
    #[serde(default = "format_v1")]
    pub format: i16,
}

/// Records of the first format: their digest covers every field but the
/// account (it named the actor by e-mail address only).
pub const FORMAT_V1: i16 = 1;
/// Records written since the transparency log: the digest covers the account
/// as well, and the format itself.
pub const FORMAT_V2: i16 = 2;

fn format_v1() -> i16 {
    FORMAT_V1
}

/// The encoding an evidence change's digest covers: every field but the row id
/// and the digest itself, in this order.
#[derive(Serialize)]
struct EvidenceCanonical<'a> {
    ledger: &'static str,
    tenant_id: i64,
    seq: i32,
    action: &'static str,
    gate_id: &'a str,
    item: &'a str,
    reference: &'a str,
    note: &'a str,
    actor: &'a str,
    at: String,
    prev_digest: &'a str,
}

/// Format 2: format 1's fields, then the format and the account.
#[derive(Serialize)]
struct WithAccount<T> {
    #[serde(flatten)]
    fields: T,
    format: i16,
    account_id: Option<i64>,
}

impl EvidenceChange {
    pub fn computed_digest(&self) -> String {
        let fields = EvidenceCanonical {
            ledger: Ledger::Evidence.as_str(),
            tenant_id: self.tenant_id,
            seq: self.seq,
            action: self.action.as_str(),
            gate_id: &self.gate_id,
            item: &self.item,
            reference: &self.reference,
            note: &self.note,
            actor: &self.actor,
            at: canonical_time(self.at),
            prev_digest: &self.prev_digest,
        };
        match self.format {
            FORMAT_V1 => digest_of(&fields),
            format => digest_of(&WithAccount {
                fields,
                format,
                account_id: self.account_id,
            }),
        }
    }
}

/// A signature or its revocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcceptanceKind {
    Accepted,
    Revoked,
}

impl AcceptanceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "accepted" => Some(Self::Accepted),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// One launch acceptance record, as stored. A revocation carries its reason in
/// `residual_risks` and no exclusions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptanceRecord {
    pub id: i64,
    pub tenant_id: i64,
    pub seq: i32,
    pub kind: AcceptanceKind,
    pub motion: String,
    pub signer_name: String,
    pub signer_role: String,
    pub approval_reference: String,
    /// Blocker ids scoped out of the order form, sorted.
    pub exclusions: Vec<String>,
    pub residual_risks: String,
    /// [`ReadinessInputs::digest`] of `readiness_inputs`: what was reviewed.
    pub readiness_digest: String,
    pub readiness_inputs: ReadinessInputs,
    /// The live blockers the signer saw in the way of the motion.
    pub open_blockers: Vec<String>,
    /// The signed-in account that signed (its e-mail address).
    pub actor: String,
    /// The signing account's id; part of the digest from format 2 on.
    #[serde(default)]
    pub account_id: Option<i64>,
    pub signed_at: DateTime<Utc>,
    pub prev_digest: String,
    pub digest: String,
    /// [`FORMAT_V1`] or [`FORMAT_V2`]: which fields the digest covers.
    #[serde(default = "format_v1")]
    pub format: i16,
}

#[derive(Serialize)]
struct AcceptanceCanonical<'a> {
    ledger: &'static str,
    tenant_id: i64,
    seq: i32,
    kind: &'static str,
    motion: &'a str,
    signer_name: &'a str,
    signer_role: &'a str,
    approval_reference: &'a str,
    exclusions: &'a [String],
    residual_risks: &'a str,
    readiness_digest: &'a str,
    open_blockers: &'a [String],
    actor: &'a str,
    signed_at: String,
    prev_digest: &'a str,
}

impl AcceptanceRecord {
    /// Covers every field but the row id and the digest; the readiness inputs
    /// through their own digest, which [`ChainLink::content_problem`] checks.
    pub fn computed_digest(&self) -> String {
        let fields = AcceptanceCanonical {
            ledger: Ledger::Acceptance.as_str(),
            tenant_id: self.tenant_id,
            seq: self.seq,
            kind: self.kind.as_str(),
            motion: &self.motion,
            signer_name: &self.signer_name,
            signer_role: &self.signer_role,
            approval_reference: &self.approval_reference,
            exclusions: &self.exclusions,
            residual_risks: &self.residual_risks,
            readiness_digest: &self.readiness_digest,
            open_blockers: &self.open_blockers,
            actor: &self.actor,
            signed_at: canonical_time(self.signed_at),
            prev_digest: &self.prev_digest,
        };
        match self.format {
            FORMAT_V1 => digest_of(&fields),
            format => digest_of(&WithAccount {
                fields,
                format,
                account_id: self.account_id,
            }),
        }
    }
}

/// What the verifier needs of a chained record.
pub trait ChainLink {
    fn row_id(&self) -> i64;
    fn seq(&self) -> i32;
    fn prev_digest(&self) -> &str;
    fn stored_digest(&self) -> &str;
    fn computed_digest(&self) -> String;
    /// A problem with the record's content that its digest cannot show.
    fn content_problem(&self) -> Option<String> {
        None
    }
}

impl ChainLink for EvidenceChange {
    fn row_id(&self) -> i64 {
        self.id
    }
    fn seq(&self) -> i32 {
        self.seq
    }
    fn prev_digest(&self) -> &str {
        &self.prev_digest
    }
    fn stored_digest(&self) -> &str {
        &self.digest
    }
    fn computed_digest(&self) -> String {
        EvidenceChange::computed_digest(self)
    }
}

impl ChainLink for AcceptanceRecord {
    fn row_id(&self) -> i64 {
        self.id
    }
    fn seq(&self) -> i32 {
        self.seq
    }
    fn prev_digest(&self) -> &str {
        &self.prev_digest
    }
    fn stored_digest(&self) -> &str {
        &self.digest
    }
    fn computed_digest(&self) -> String {
        AcceptanceRecord::computed_digest(self)
    }
    fn content_problem(&self) -> Option<String> {
        (self.readiness_inputs.digest() != self.readiness_digest)
            .then(|| "its stored readiness inputs do not match their digest".to_owned())
    }
}

/// Where a chain ends, as recorded beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: i32,
    pub digest: String,
}

/// The first broken link of a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainBreak {
    /// A record is missing or out of place: `found` where `expected` should be.
    OutOfSequence { expected: i32, found: i32, row: i64 },
    /// The record does not name the digest of the record before it.
    LinkBroken { seq: i32, row: i64 },
    /// The record's content no longer matches its digest.
    Altered { seq: i32, row: i64, detail: String },
    /// The chain ends before its recorded head: records were cut off the end.
    Truncated { ends_at: i32, head: i32 },
    /// The last record is not the one the head names.
    HeadMismatch { seq: i32 },
    /// Records exist but no head was recorded for them.
    NoHead,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfSequence {
                expected,
                found,
                row,
            } => write!(
                f,
                "record {expected} is missing or out of place (found record {found}, row {row})"
            ),
            Self::LinkBroken { seq, row } => write!(
                f,
                "record {seq} (row {row}) does not link to the digest of record {}",
                seq - 1
            ),
            Self::Altered { seq, row, detail } => {
                write!(f, "record {seq} (row {row}) was altered: {detail}")
            }
            Self::Truncated { ends_at, head } => write!(
                f,
                "the chain ends at record {ends_at} but its head says {head}: records were removed"
            ),
            Self::HeadMismatch { seq } => {
                write!(
                    f,
                    "the head names a different record {seq} than the chain holds"
                )
            }
            Self::NoHead => f.write_str("records exist but the chain has no head"),
        }
    }
}

/// Recomputes a chain given in `seq` order, with the head recorded for it.
/// Returns how many records it holds, or the first broken link.
pub fn verify_chain<L: ChainLink>(
    links: &[L],
    head: Option<&ChainHead>,
) -> Result<usize, ChainBreak> {
    let mut previous = GENESIS_DIGEST.to_owned();
    for (index, link) in links.iter().enumerate() {
        let expected = i32::try_from(index + 1).unwrap_or(i32::MAX);
        if link.seq() != expected {
            return Err(ChainBreak::OutOfSequence {
                expected,
                found: link.seq(),
                row: link.row_id(),
            });
        }
        if link.prev_digest() != previous {
            return Err(ChainBreak::LinkBroken {
                seq: link.seq(),
                row: link.row_id(),
            });
        }
        if link.computed_digest() != link.stored_digest() {
            return Err(ChainBreak::Altered {
                seq: link.seq(),
                row: link.row_id(),
                detail: "its content does not match its digest".to_owned(),
            });
        }
        if let Some(detail) = link.content_problem() {
            return Err(ChainBreak::Altered {
                seq: link.seq(),
                row: link.row_id(),
                detail,
            });
        }
        link.stored_digest().clone_into(&mut previous);
    }
    let ends_at = links.last().map_or(0, ChainLink::seq);
    match head {
        None if links.is_empty() => Ok(0),
        None => Err(ChainBreak::NoHead),
        Some(head) if head.seq > ends_at => Err(ChainBreak::Truncated {
            ends_at,
            head: head.seq,
        }),
        Some(head) if head.seq != ends_at || head.digest != previous => {
            Err(ChainBreak::HeadMismatch { seq: head.seq })
        }
        Some(_) => Ok(links.len()),
    }
}
