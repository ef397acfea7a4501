//! The sequencer: takes the pending leaves in batches, gives each the next
//! index, stores the hashes they add and signs a checkpoint of the new tree, all
//! in one transaction under a lock every server shares. A writer that needs its
//! receipt asks for a flush after committing; requests that arrive while a batch
//! runs are served together by the next one. Leaves written by others (access
//! events, another server) are picked up within a second.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tlog_tiles::{Hash, EMPTY_HASH};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::store::{self, Head};
use super::tree::{self, HashCache};
use super::{leaf, LogError, LogKey};

/// The most leaves one batch places.
const BATCH_LIMIT: i64 = 5_000;
/// How often leaves nobody asked a flush for are looked for.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Where a leaf of a batch was placed, with its inclusion proof in the batch's
/// checkpoint.
#[derive(Debug, Clone)]
pub struct Placed {
    pub index: u64,
    pub proof: Vec<Hash>,
}

/// A batch sequenced: the checkpoint signed after it, and where each of its
/// leaves went, by the record it stands for (kind, row id).
#[derive(Debug)]
pub struct Batch {
    pub head: Head,
    pub placed: HashMap<(String, i64), Placed>,
}

type Reply = oneshot::Sender<Result<Arc<Batch>, String>>;

/// A handle on this server's sequencer task.
#[derive(Clone, Debug)]
pub struct Sequencer {
    requests: mpsc::UnboundedSender<Reply>,
    key: Arc<LogKey>,
}

impl Sequencer {
    /// Starts the sequencer; it stops when `shutdown` is cancelled.
    pub fn spawn(pool: PgPool, key: Arc<LogKey>, shutdown: CancellationToken) -> Self {
        let (requests, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, Arc::clone(&key), receiver, shutdown));
        Self { requests, key }
    }

    /// The key checkpoints are signed with.
    pub fn key(&self) -> &LogKey {
        &self.key
    }

    /// Sequences every leaf committed before the call (here or elsewhere) and
    /// answers the batch that did it.
    pub async fn flush(&self) -> Result<Arc<Batch>, LogError> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(reply).map_err(|_| LogError::Stopped)?;
        answer
            .await
            .map_err(|_| LogError::Stopped)?
            .map_err(LogError::Invalid)
    }
}

/// What the task keeps between batches: the tree's size and the hashes that
/// appending to it needs. Emptied after any failure, and whenever another
/// server has sequenced meanwhile.
#[derive(Default)]
struct State {
    size: Option<u64>,
    cache: HashCache,
}

async fn run(
    pool: PgPool,
    key: Arc<LogKey>,
    mut requests: mpsc::UnboundedReceiver<Reply>,
    shutdown: CancellationToken,
) {
    let mut state = State::default();
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        let mut waiting = Vec::new();
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            request = requests.recv() => match request {
                Some(reply) => waiting.push(reply),
                None => return,
            },
            _ = poll.tick() => {}
        }
        while let Ok(reply) = requests.try_recv() {
            waiting.push(reply);
        }
        let result = sequence(&pool, &key, &mut state, waiting.is_empty()).await;
        match &result {
            Err(error) if !failing => {
                tracing::warn!(%error, "could not sequence the transparency log; retrying");
                failing = true;
            }
            Err(_) => {}
            Ok(_) if failing => {
                tracing::info!("the transparency log is sequenced again");
                failing = false;
            }
            Ok(_) => {}
        }
        if result.is_err() {
            state = State::default();
        }
        // Not idle when anyone waits, so a batch always answers them.
        let answer = result
            .map_err(|error| error.to_string())
            .and_then(|batch| batch.ok_or_else(|| "nothing was sequenced".to_owned()));
        for reply in waiting {
            let _ = reply.send(answer.clone());
        }
    }
}

/// One batch. `idle`: nobody is waiting, so do nothing unless leaves wait.
async fn sequence(
    pool: &PgPool,
    key: &LogKey,
    state: &mut State,
    idle: bool,
) -> Result<Option<Arc<Batch>>, LogError> {
    if idle && state.size.is_some() && !store::any_pending(&mut *pool.acquire().await?).await? {
        return Ok(None);
    }
    let mut tx = pool.begin().await?;
    store::lock(&mut tx).await?;
    let head = match store::head(&mut tx).await? {
        Some(head) => head,
        None => {
            let first = Head {
                size: 0,
                root: EMPTY_HASH,
                note: key.sign_checkpoint(0, EMPTY_HASH).map_err(LogError::Sign)?,
            };
            store::write_checkpoint(&mut tx, &first).await?;
            first
        }
    };
    if state.size != Some(head.size) {
        *state = State {
            size: Some(head.size),
            cache: HashCache::default(),
        };
    }
    let pending = store::take_pending(&mut tx, BATCH_LIMIT).await?;
    if pending.is_empty() {
        tx.commit().await?;
        return Ok(Some(Arc::new(Batch {
            head,
            placed: HashMap::new(),
        })));
    }
    let size = head.size;
    let leaves: Vec<Hash> = pending
        .iter()
        .map(|pending| leaf::hash(&pending.leaf))
        .collect();
    let added = tree::with_hashes(&mut tx, &mut state.cache, |cache| {
        tree::append(cache, size, &leaves)
    })
    .await?;
    for (index, hash) in &added {
        state.cache.insert(*index, *hash);
    }
    let new_size = size + leaves.len() as u64;
    let root = tree::with_hashes(&mut tx, &mut state.cache, |cache| {
        tree::root(cache, new_size)
    })
    .await?;
    let mut placed = HashMap::with_capacity(pending.len());
    for (index, leaf) in (size..).zip(&pending) {
        let proof = tree::with_hashes(&mut tx, &mut state.cache, |cache| {
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
    store::write_batch(&mut tx, size, &pending, &added, &head).await?;
    tx.commit().await?;
    state.cache.keep_frontier(new_size);
    state.size = Some(new_size);
    Ok(Some(Arc::new(Batch { head, placed })))
}
