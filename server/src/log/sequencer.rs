//! The sequencer: gives pending leaves their place in the tree, in batches, and
//! signs a checkpoint after each. One server of a deployment leads
//! ([`Leader`]: it holds a lock in PostgreSQL); the others follow. A writer that
//! needs its receipt asks its own server's sequencer after committing:
//!
//! - on the leader, the batch running when the request arrives answers it if
//!   that batch placed the writer's leaf, otherwise the next batch does;
//! - on a follower, the request is passed on to the leader (PostgreSQL
//!   `NOTIFY`), and answered once the queue no longer holds any leaf committed
//!   before it (the leader says after each batch that the tree grew).
//!
//! Leaves nobody asks about (access events) are sequenced within a second; a
//! follower takes the lead within a second of the leader's end.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tlog_tiles::Hash;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::leader::Leader;
use super::leaf::LeafKind;
use super::store::{self, Head, FLUSH_CHANNEL, SEQUENCED_CHANNEL};
use super::{LogError, LogKey};

/// How often leaves nobody asked about are looked for, and a follower tries
/// to lead.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How long a request may wait before it is answered with an error.
const GIVE_UP_AFTER: Duration = Duration::from_secs(10);

/// Where a leaf of a batch was placed, with its inclusion proof in the batch's
/// checkpoint.
#[derive(Debug, Clone)]
pub struct Placed {
    pub index: u64,
    pub proof: Vec<Hash>,
}

/// A batch sequenced: the checkpoint signed after it, and where each of its
/// leaves went, by the record it stands for (kind, row id). A follower's
/// answer places nothing: the leaves it waited for are in the checkpoint.
#[derive(Debug)]
pub struct Batch {
    pub head: Head,
    pub placed: HashMap<(String, i64), Placed>,
}

type Answer = Result<Arc<Batch>, String>;

/// A request: sequence everything committed so far; `leaf` names the record
/// the caller is waiting for, if any.
struct Request {
    leaf: Option<(String, i64)>,
    reply: oneshot::Sender<Answer>,
}

/// A handle on this server's sequencer task.
#[derive(Clone, Debug)]
pub struct Sequencer {
    requests: mpsc::UnboundedSender<Request>,
    key: Arc<LogKey>,
    leading: Arc<AtomicBool>,
}

impl Sequencer {
    /// Starts the sequencer; it stops when `shutdown` is cancelled.
    pub fn spawn(pool: PgPool, key: Arc<LogKey>, shutdown: CancellationToken) -> Self {
        let (requests, receiver) = mpsc::unbounded_channel();
        let leading = Arc::new(AtomicBool::new(false));
        let task = Task {
            pool,
            key: Arc::clone(&key),
            requests: receiver,
            waiting: Vec::new(),
            leader: None,
            leading: Arc::clone(&leading),
            announce: false,
            listener: None,
            failing: false,
        };
        tokio::spawn(run(task, shutdown));
        Self {
            requests,
            key,
            leading,
        }
    }

    /// Whether this server sequences the log now (one server of a deployment
    /// does).
    pub fn is_leading(&self) -> bool {
        self.leading.load(Ordering::Relaxed)
    }

    /// The key checkpoints are signed with.
    pub fn key(&self) -> &LogKey {
        &self.key
    }

    /// Sequences every leaf committed before the call (here or elsewhere) and
    /// answers the batch that did it.
    pub async fn flush(&self) -> Result<Arc<Batch>, LogError> {
        self.ask(None).await
    }

    /// As [`Self::flush`], for a caller waiting for the leaf of the record
    /// `ref_id` of `kind`: a batch already running may answer it.
    pub async fn place(&self, kind: LeafKind, ref_id: i64) -> Result<Arc<Batch>, LogError> {
        self.ask(Some((kind.as_str().to_owned(), ref_id))).await
    }

    async fn ask(&self, leaf: Option<(String, i64)>) -> Result<Arc<Batch>, LogError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { leaf, reply })
            .map_err(|_| LogError::Stopped)?;
        answer
            .await
            .map_err(|_| LogError::Stopped)?
            .map_err(LogError::Invalid)
    }
}

/// A request waiting for its answer.
struct Waiter {
    leaf: Option<(String, i64)>,
    reply: oneshot::Sender<Answer>,
    since: Instant,
    /// Leading: a batch began after the request arrived, so its end answers it.
    covered: bool,
    /// Following: the newest queued leaf when it arrived (`Some(None)`: none
    /// was queued); every leaf it may wait for is at or below it.
    mark: Option<Option<i64>>,
}

impl Waiter {
    fn new(request: Request) -> Self {
        Self {
            leaf: request.leaf,
            reply: request.reply,
            since: Instant::now(),
            covered: false,
            mark: None,
        }
    }

    fn answer(self, answer: Answer) {
        let _ = self.reply.send(answer);
    }
}

/// What woke the task.
#[derive(PartialEq)]
enum Wake {
    Request,
    Tick,
    /// A follower asked the leader for a batch.
    FlushAsked,
    /// The leader wrote a checkpoint.
    Sequenced,
    Nothing,
}

impl Wake {
    fn from_channel(channel: &str) -> Self {
        if channel == FLUSH_CHANNEL {
            Self::FlushAsked
        } else {
            Self::Sequenced
        }
    }
}

struct Task {
    pool: PgPool,
    key: Arc<LogKey>,
    requests: mpsc::UnboundedReceiver<Request>,
    waiting: Vec<Waiter>,
    leader: Option<Leader>,
    /// Whether `leader` is set, for [`Sequencer::is_leading`].
    leading: Arc<AtomicBool>,
    /// Another server asked for a batch: the next one says when it is done.
    announce: bool,
    listener: Option<PgListener>,
    failing: bool,
}

async fn run(mut task: Task, shutdown: CancellationToken) {
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let wake = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            request = task.requests.recv() => match request {
                Some(request) => {
                    task.waiting.push(Waiter::new(request));
                    Wake::Request
                }
                None => break,
            },
            notified = notified(&mut task.listener) => match notified {
                Ok(channel) => Wake::from_channel(&channel),
                Err(error) => {
                    tracing::debug!(%error, "the log's listener lost its connection");
                    task.listener = None;
                    Wake::Nothing
                }
            },
            _ = poll.tick() => Wake::Tick,
        };
        task.take_requests();
        let mut flush_asked = wake == Wake::FlushAsked;
        if let Some(listener) = &mut task.listener {
            // Notifications already received: only a request for a batch counts.
            while let Some(notification) = listener.next_buffered() {
                flush_asked |= Wake::from_channel(notification.channel()) == Wake::FlushAsked;
            }
        }
        task.announce |= flush_asked;
        if wake == Wake::Tick {
            task.listen().await;
            if task.leader.is_none() {
                task.try_lead().await;
            }
        }
        if task.leader.is_some() {
            if flush_asked || matches!(wake, Wake::Request | Wake::Tick) {
                task.lead().await;
            }
        } else if wake != Wake::FlushAsked {
            task.follow().await;
        }
        task.give_up_on_old();
    }
    for waiter in task.waiting.drain(..) {
        waiter.answer(Err(LogError::Stopped.to_string()));
    }
    task.resign().await;
}

/// The channel of the next notification; never, without a listener.
async fn notified(listener: &mut Option<PgListener>) -> Result<String, sqlx::Error> {
    match listener {
        Some(listener) => Ok(listener.recv().await?.channel().to_owned()),
        None => std::future::pending().await,
    }
}

impl Task {
    fn take_requests(&mut self) {
        while let Ok(request) = self.requests.try_recv() {
            self.waiting.push(Waiter::new(request));
        }
    }

    /// Logs the first of a run of failures, and the recovery after it.
    fn outcome<T>(&mut self, result: &Result<T, LogError>) {
        match result {
            Err(error) if !self.failing => {
                tracing::warn!(%error, "could not sequence the transparency log; retrying");
                self.failing = true;
            }
            Ok(_) if self.failing => {
                tracing::info!("the transparency log is sequenced again");
                self.failing = false;
            }
            _ => {}
        }
    }

    async fn listen(&mut self) {
        if self.listener.is_some() {
            return;
        }
        let connected = async {
            let mut listener = PgListener::connect_with(&self.pool).await?;
            listener
                .listen_all([FLUSH_CHANNEL, SEQUENCED_CHANNEL])
                .await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match connected.await {
            Ok(listener) => self.listener = Some(listener),
            Err(error) => tracing::debug!(%error, "the log's listener could not connect"),
        }
    }

    async fn try_lead(&mut self) {
        let result = Leader::try_lead(&self.pool, &self.key).await;
        self.outcome(&result);
        if let Ok(Some(leader)) = result {
            tracing::info!("this server sequences the transparency log");
            self.leader = Some(leader);
            self.leading.store(true, Ordering::Relaxed);
        }
    }

    async fn resign(&mut self) {
        if let Some(leader) = self.leader.take() {
            self.leading.store(false, Ordering::Relaxed);
            leader.resign().await;
        }
    }

    /// Runs batches until nobody here waits (a leader's part).
    async fn lead(&mut self) {
        loop {
            let Some(leader) = self.leader.as_mut() else {
                return;
            };
            for waiter in &mut self.waiting {
                waiter.covered = true;
            }
            let result = leader.sequence(&self.key, self.announce).await;
            self.announce = false;
            self.outcome(&result);
            let sequenced = match result {
                Ok(sequenced) => sequenced,
                Err(error) => {
                    let answer = Err(error.to_string());
                    for waiter in self.waiting.drain(..) {
                        waiter.answer(answer.clone());
                    }
                    self.resign().await;
                    return;
                }
            };
            // Requests that came in meanwhile are answered too, when this
            // batch placed what they wait for.
            self.take_requests();
            let batch = &sequenced.batch;
            let (done, waiting) =
                std::mem::take(&mut self.waiting)
                    .into_iter()
                    .partition(|waiter| {
                        (waiter.covered && !sequenced.full)
                            || waiter
                                .leaf
                                .as_ref()
                                .is_some_and(|leaf| batch.placed.contains_key(leaf))
                    });
            self.waiting = waiting;
            for waiter in done {
                waiter.answer(Ok(Arc::clone(batch)));
            }
            if self.waiting.is_empty() && !sequenced.full {
                return;
            }
        }
    }

    /// Passes new requests on to the leader and answers those whose leaves
    /// are all sequenced (a follower's part).
    async fn follow(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let result = self.check_progress().await;
        self.outcome(&result);
    }

    async fn check_progress(&mut self) -> Result<(), LogError> {
        let mut conn = self.pool.acquire().await?;
        if self.waiting.iter().any(|waiter| waiter.mark.is_none()) {
            let newest = store::newest_pending(&mut conn).await?;
            for waiter in &mut self.waiting {
                waiter.mark.get_or_insert(newest);
            }
            if newest.is_some() {
                store::ask_flush(&mut conn).await?;
            }
        }
        let (oldest, head) = store::progress(&mut conn).await?;
        let Some(head) = head else {
            return Ok(()); // The leader has not signed its first checkpoint yet.
        };
        let batch = Arc::new(Batch {
            head,
            placed: HashMap::new(),
        });
        let (done, waiting) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|waiter| match (waiter.mark, oldest) {
                (Some(None), _) | (Some(Some(_)), None) => true,
                (Some(Some(mark)), Some(oldest)) => mark < oldest,
                (None, _) => false,
            });
        self.waiting = waiting;
        for waiter in done {
            waiter.answer(Ok(Arc::clone(&batch)));
        }
        Ok(())
    }

    fn give_up_on_old(&mut self) {
        let (old, waiting) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|waiter| waiter.since.elapsed() > GIVE_UP_AFTER);
        self.waiting = waiting;
        for waiter in old {
            waiter.answer(Err(format!(
                "no server sequenced the transparency log within {} s",
                GIVE_UP_AFTER.as_secs()
            )));
        }
    }
}
