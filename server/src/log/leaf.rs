//! The text of each leaf. A leaf names its record and carries the record's
//! digest, which covers every field of the record; the tree holds the leaf's
//! RFC 6962 hash (`SHA-256(0x00 ‖ text)`). Anyone holding the record can
//! rebuild the text, and so check the record against the log.

use app::domain::ledger::{AcceptanceRecord, EvidenceChange};
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

/// The leaf of an access-log event with row id `id` and content digest `digest`.
pub fn access(id: i64, digest: &str) -> String {
    format!("{FORMAT}\naccess\nid {id}\ndigest {digest}\n")
}

/// The hash the tree holds for `text`.
pub fn hash(text: &str) -> Hash {
    tlog_tiles::record_hash(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_names_its_record_and_digest() {
        let text = access(7, &"ab".repeat(32));
        assert_eq!(
            text,
            format!(
                "clearance-log-leaf/1\naccess\nid 7\ndigest {}\n",
                "ab".repeat(32)
            )
        );
        assert_ne!(hash(&text), hash(&access(8, &"ab".repeat(32))));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [LeafKind::Acceptance, LeafKind::Evidence, LeafKind::Access] {
            assert_eq!(LeafKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(LeafKind::parse("other"), None);
    }
}
