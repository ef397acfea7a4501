//! The transparency log: every acceptance record, evidence change and access
//! event is a leaf of one append-only Merkle tree (RFC 6962 hashing, stored the
//! way Go's `sumdb/tlog` stores it), and every state of the tree is a checkpoint
//! signed with a key the database does not hold (C2SP `tlog-checkpoint` in a
//! C2SP `signed-note`). Someone who kept a checkpoint can tell whether today's
//! log still contains, unchanged, everything that checkpoint covered.
//!
//! - [`leaf`]: the text of each kind of leaf (pure).
//! - [`tree`]: appending leaves and making proofs over stored hashes (pure,
//!   but for reading what it lacks from the database).
//! - [`key`]: the signing key, checkpoints signed and opened.
//! - [`store`]: the log's tables.
//! - [`sequencer`]: gives pending leaves their place and signs checkpoints, in
//!   batches, on the one server that leads ([`leader`]); the others pass
//!   their requests on.
//! - [`receipt`]: what a signer keeps: record, inclusion proof, checkpoint.
//! - [`audit`]: the whole log checked against checkpoints kept elsewhere.
//! - [`api`]: checkpoint, key and proofs over HTTP; [`cli`]: the key and
//!   receipts on the command line.

pub mod api;
pub mod audit;
pub mod cli;
pub mod key;
pub mod leader;
pub mod leaf;
pub mod receipt;
pub mod sequencer;
pub mod store;
pub mod tree;

pub use key::LogKey;
pub use sequencer::Sequencer;

/// What can go wrong while appending to the log or proving something about it.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("tree: {0}")]
    Tree(#[from] tlog_tiles::Error),
    #[error("the log's stored hashes are incomplete: {0} missing")]
    MissingHashes(usize),
    #[error("could not sign the checkpoint: {0}")]
    Sign(String),
    #[error(
        "the log's newest checkpoint (tree size {size}) is not signed by this server's key \
         {key}: every server of a deployment signs with the same key file \
         (docs/operations.md#the-log-key)"
    )]
    ForeignKey { size: u64, key: String },
    #[error("the log sequencer is not running")]
    Stopped,
    #[error("{0}")]
    Invalid(String),
}
