//! The one server that sequences: it holds a session lock on a connection of its
//! own for as long as it leads, so the tree it keeps in memory is the tree in the
//! database, and a batch costs two statements (read the queue; write leaves,
//! hashes and checkpoint while emptying the queue). When the process dies its
//! connection closes, PostgreSQL releases the lock, and another server takes it
//! over within a second.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{PgConnection, PgPool};
use tlog_tiles::{Hash, EMPTY_HASH};

use super::key::open_checkpoint;
use super::sequencer::{Batch, Placed};
use super::store::{self, Head};
use super::tree::{self, HashCache};
use super::{leaf, LogError, LogKey};

/// The most leaves one batch places.
const BATCH_LIMIT: i64 = 5_000;

/// This server, leading: the connection holding the lock, and the tree.
pub struct Leader {
    conn: PgConnection,
    head: Head,
    cache: HashCache,
}

/// What a batch did: the batch, and whether the queue may hold more.
pub struct Sequenced {
    pub batch: Arc<Batch>,
    pub full: bool,
}

impl Leader {
    /// Takes the lead if no other server holds it: `None` when one does. The
    /// newest checkpoint must be signed by `key`, or the log would go on under
    /// two keys.
    pub async fn try_lead(pool: &PgPool, key: &LogKey) -> Result<Option<Self>, LogError> {
        let mut conn = pool.acquire().await?;
        if !store::try_lead(&mut conn).await? {
            return Ok(None);
        }
        // The session lock belongs to this connection: it leaves the pool.
        let mut conn = conn.detach();
        let head = match store::head(&mut conn).await? {
            Some(head) => {
                check_signer(&head, key)?;
                head
            }
            None => {
                let first = Head {
                    size: 0,
                    root: EMPTY_HASH,
                    note: key.sign_checkpoint(0, EMPTY_HASH).map_err(LogError::Sign)?,
                };
                store::write_checkpoint(&mut conn, &first).await?;
                first
            }
        };
        let mut cache = HashCache::default();
        // The frontier, read once: appending needs nothing else.
        tree::with_hashes(&mut conn, &mut cache, |cache| tree::root(cache, head.size)).await?;
        Ok(Some(Self { conn, head, cache }))
    }

    /// Places the waiting leaves (up to a batch's worth) and signs a
    /// checkpoint of the tree they make; with none waiting, answers the head.
    /// `announce`: another server waits, so say when the tree grew.
    pub async fn sequence(&mut self, key: &LogKey, announce: bool) -> Result<Sequenced, LogError> {
        let pending = store::pending(&mut self.conn, BATCH_LIMIT).await?;
        if pending.is_empty() {
            if announce {
                store::announce(&mut self.conn, self.head.size).await?;
            }
            return Ok(Sequenced {
                batch: Arc::new(Batch {
                    head: self.head.clone(),
                    placed: HashMap::new(),
                }),
                full: false,
            });
        }
        let size = self.head.size;
        let leaves: Vec<Hash> = pending
            .iter()
            .map(|pending| leaf::hash(&pending.leaf))
            .collect();
        let added = tree::with_hashes(&mut self.conn, &mut self.cache, |cache| {
            tree::append(cache, size, &leaves)
        })
        .await?;
        for (index, hash) in &added {
            self.cache.insert(*index, *hash);
        }
        let new_size = size + leaves.len() as u64;
        // Everything these read is in memory; `with_hashes` reads what is not.
        let root = tree::with_hashes(&mut self.conn, &mut self.cache, |cache| {
            tree::root(cache, new_size)
        })
        .await?;
        let mut placed = HashMap::with_capacity(pending.len());
        for (index, leaf) in (size..).zip(&pending) {
            let proof = tree::with_hashes(&mut self.conn, &mut self.cache, |cache| {
                tree::inclusion(cache, new_size, index)
            })
            .await?;
            placed.insert((leaf.kind.clone(), leaf.ref_id), Placed { index, proof });
        }
        let head = Head {
            size: new_size,
            root,
            note: key
                .sign_checkpoint(new_size, root)
                .map_err(LogError::Sign)?,
        };
        store::write_batch(&mut self.conn, size, &pending, &added, &head, announce).await?;
        self.cache.keep_frontier(new_size);
        self.head = head.clone();
        Ok(Sequenced {
            full: pending.len() as i64 >= BATCH_LIMIT,
            batch: Arc::new(Batch { head, placed }),
        })
    }

    /// Gives the lead up: closing the connection releases the lock.
    pub async fn resign(self) {
        let _ = sqlx::Connection::close(self.conn).await;
    }
}

/// Refuses a log whose newest checkpoint `key` did not sign: every server of a
/// deployment must sign with the same key (docs/operations.md).
pub fn check_signer(head: &Head, key: &LogKey) -> Result<(), LogError> {
    open_checkpoint(key.verifier_key(), &head.note)
        .map(|_| ())
        .map_err(|_| LogError::ForeignKey {
            size: head.size,
            key: key.verifier_key().to_owned(),
        })
}

/// At start: the same check, when the log has a checkpoint at all.
pub async fn check_key(pool: &PgPool, key: &LogKey) -> Result<(), LogError> {
    match store::head(&mut *pool.acquire().await?).await? {
        Some(head) => check_signer(&head, key),
        None => Ok(()),
    }
}
