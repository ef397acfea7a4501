//! The text of each leaf. A leaf names its record and carries the record's
//! digest, which covers every field of the record; the tree holds the leaf's
//! RFC 6962 hash (`SHA-256(0x00 ‖ text)`). Anyone holding the record can
//! rebuild the text, and so check the record against the log.

use app::domain::ledger::{AcceptanceRecord, EvidenceChange};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tlog_tiles::Hash;

/// The first line of every leaf: the leaf format's version.
pub const FORMAT: &str = "clearance-log-leaf/1";

/// What a leaf stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeafKind {
    Acceptance,
    Evidence,
    Access,
}

impl LeafKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acceptance => "acceptance",
            Self::Evidence => "evidence",
            Self::Access => "access",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "acceptance" => Some(Self::Acceptance),
            "evidence" => Some(Self::Evidence),
            "access" => Some(Self::Access),
            _ => None,
        }
    }
}

fn chained(kind: LeafKind, tenant_id: i64, seq: i32, digest: &str) -> String {
    format!(
        "{FORMAT}\n{}\ntenant {tenant_id}\nseq {seq}\ndigest {digest}\n",
        kind.as_str()
    )
}

/// The leaf of an acceptance record.
pub fn acceptance(record: &AcceptanceRecord) -> String {
    chained(
        LeafKind::Acceptance,
        record.tenant_id,
        record.seq,
        &record.digest,
    )
}

/// The leaf of an evidence change.
pub fn evidence(change: &EvidenceChange) -> String {
    chained(
        LeafKind::Evidence,
        change.tenant_id,
        change.seq,
        &change.digest,
    )
}

/// An access-log event's fields, as its leaf covers them (every column but
/// the row id, which the log keeps beside the leaf).
#[derive(Debug, Serialize)]
pub struct AccessFields<'a> {
    /// [`app::domain::ledger::canonical_time`] of the event's time.
    pub at: String,
    pub account_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: Option<&'a str>,
    pub remote_addr: Option<&'a str>,
}

/// The leaf of an access-log event: the SHA-256 of its fields' canonical JSON.
pub fn access(fields: &AccessFields<'_>) -> String {
    let canonical = serde_json::to_vec(&("access", fields)).unwrap_or_default();
    let digest = hex::encode(Sha256::digest(canonical));
    format!("{FORMAT}\naccess\ndigest {digest}\n")
}

/// The hash the tree holds for `text`.
pub fn hash(text: &str) -> Hash {
    tlog_tiles::record_hash(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_leaf_covers_every_field() {
        let fields = AccessFields {
            at: "2026-12-03T10:00:00.000000Z".to_owned(),
            account_id: Some(7),
            actor: "ops@example.com",
            action: "sign_in_succeeded",
            subject: None,
            remote_addr: Some("192.0.2.1"),
        };
        let text = access(&fields);
        assert!(
            text.starts_with("clearance-log-leaf/1\naccess\ndigest "),
            "{text}"
        );
        let other = AccessFields {
            remote_addr: Some("192.0.2.2"),
            ..fields
        };
        assert_ne!(access(&other), text);
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [LeafKind::Acceptance, LeafKind::Evidence, LeafKind::Access] {
            assert_eq!(LeafKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(LeafKind::parse("other"), None);
    }
}
