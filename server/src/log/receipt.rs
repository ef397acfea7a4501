//! A receipt: what a buyer sponsor keeps of a signature. The record itself, the
//! leaf that stands for it, the leaf's inclusion proof and the signed checkpoint
//! the proof leads to. With the log's public key alone, anyone can check
//! offline that the record is unchanged and that the log committed to it
//! (`server receipt verify FILE --key KEY`).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tlog_tiles::{check_record, Hash};

use app::domain::ledger::AcceptanceRecord;

use super::key::{open_checkpoint, CheckpointError};
use super::leaf::{self, LeafKind};
use super::tree::{self, HashCache};
use super::{store, LogError, Sequencer};

/// The receipt format's name and version.
pub const FORMAT: &str = "clearance-receipt/1";

/// A leaf's place in the log and its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = AcceptanceReceiptLeaf)]
pub struct ReceiptLeaf {
    pub index: u64,
    pub text: String,
}

/// An acceptance record with the proof that the log holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = AcceptanceReceipt)]
pub struct Receipt {
    /// `clearance-receipt/1`.
    pub format: String,
    #[schema(value_type = Object)]
    pub record: AcceptanceRecord,
    pub leaf: ReceiptLeaf,
    /// The leaf's RFC 6962 inclusion proof, base64 hashes from the leaf up.
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint (C2SP tlog-checkpoint in a signed note).
    pub checkpoint: String,
}

/// Why a receipt does not check.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("not a receipt of format {FORMAT}")]
    Format,
    #[error("the record was altered: its content does not match its digest")]
    RecordAltered,
    #[error("the leaf does not stand for this record")]
    WrongLeaf,
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("a proof hash is not base64 of 32 bytes")]
    BadProof,
    #[error("the inclusion proof does not lead from the leaf to the checkpoint's root")]
    NotIncluded,
}

/// What a receipt that checks proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub origin: String,
    pub index: u64,
    pub size: u64,
}

/// A hash as proofs carry it: standard base64.
pub(super) fn encode(hash: &Hash) -> String {
    base64::engine::general_purpose::STANDARD.encode(hash.0)
}

fn decode(text: &str) -> Option<Hash> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    Some(Hash(bytes.try_into().ok()?))
}

impl Receipt {
    pub fn new(record: AcceptanceRecord, index: u64, proof: &[Hash], checkpoint: String) -> Self {
        Self {
            format: FORMAT.to_owned(),
            leaf: ReceiptLeaf {
                index,
                text: leaf::acceptance(&record),
            },
            record,
            inclusion_proof: proof.iter().map(encode).collect(),
            checkpoint,
        }
    }

    /// Checks the receipt with the log's verifier key: the record matches its
    /// digest, the leaf is the record's, the checkpoint is signed by the key and
    /// the proof leads from the leaf to the checkpoint's root.
    pub fn verify(&self, verifier_key: &str) -> Result<Verified, ReceiptError> {
        if self.format != FORMAT {
            return Err(ReceiptError::Format);
        }
        if self.record.computed_digest() != self.record.digest {
            return Err(ReceiptError::RecordAltered);
        }
        if leaf::acceptance(&self.record) != self.leaf.text {
            return Err(ReceiptError::WrongLeaf);
        }
        let checkpoint = open_checkpoint(verifier_key, &self.checkpoint)?;
        let proof = self
            .inclusion_proof
            .iter()
            .map(|hash| decode(hash))
            .collect::<Option<Vec<_>>>()
            .ok_or(ReceiptError::BadProof)?;
        check_record(
            &proof,
            checkpoint.size,
            checkpoint.root,
            self.leaf.index,
            leaf::hash(&self.leaf.text),
        )
        .map_err(|_| ReceiptError::NotIncluded)?;
        Ok(Verified {
            origin: checkpoint.origin,
            index: self.leaf.index,
            size: checkpoint.size,
        })
    }
}

/// The receipt of a record just committed: sequences it (with whatever else
/// waits) and proves it in the new checkpoint.
pub async fn issue(
    pool: &PgPool,
    sequencer: &Sequencer,
    record: &AcceptanceRecord,
) -> Result<Receipt, LogError> {
    let batch = sequencer.place(LeafKind::Acceptance, record.id).await?;
    let key = (LeafKind::Acceptance.as_str().to_owned(), record.id);
    match batch.placed.get(&key) {
        Some(placed) => Ok(Receipt::new(
            record.clone(),
            placed.index,
            &placed.proof,
            batch.head.note.clone(),
        )),
        // Sequenced by an earlier batch, here or on another server.
        None => stored(pool, record)
            .await?
            .ok_or_else(|| LogError::Invalid("the record is not in the log".to_owned())),
    }
}

/// The receipt of a record already in the log, proved in the newest checkpoint;
/// `None` while it waits to be sequenced.
pub async fn stored(pool: &PgPool, record: &AcceptanceRecord) -> Result<Option<Receipt>, LogError> {
    let mut conn = pool.acquire().await?;
    let Some((index, _)) = store::leaf_of(&mut conn, LeafKind::Acceptance, record.id).await? else {
        return Ok(None);
    };
    let head = store::head(&mut conn)
        .await?
        .ok_or_else(|| LogError::Invalid("the log has no checkpoint".to_owned()))?;
    let proof = tree::with_hashes(&mut conn, &mut HashCache::default(), |cache| {
        tree::inclusion(cache, head.size, index)
    })
    .await?;
    Ok(Some(Receipt::new(record.clone(), index, &proof, head.note)))
}
