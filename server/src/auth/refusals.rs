//! Throttle refusals, counted in memory and written to the access log in
//! bursts. Refusing is cheap (no password hashing), so a flood of refusals
//! could otherwise become a flood of database writes. The first refusal of a
//! burst is written at once; identical ones after it (same action, actor,
//! subject and account, from any address) are counted in memory and added to
//! its row every [`FLUSH_EVERY`]. At most [`MAX_PENDING`] bursts are held;
//! beyond that a refusal is written directly (and still merged by the
//! database, see [`audit::record_repeated`]). A crash loses at most one
//! second's count, never the first row of a burst.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::audit::{self, Action, Event};

/// How often counted refusals are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Most bursts counted in memory at once.
pub const MAX_PENDING: usize = 10_000;

#[derive(Clone, PartialEq, Eq, Hash)]
struct BurstKey {
    action: Action,
    actor: String,
    subject: Option<String>,
    account_id: Option<i64>,
}

struct Pending {
    /// The first refusal's address.
    remote_addr: Option<String>,
    /// Refusals since the last write.
    count: i32,
    several_addresses: bool,
}

/// The refusal counter, shared by every request.
#[derive(Clone)]
pub struct RefusalLog {
    pool: PgPool,
    pending: Arc<Mutex<HashMap<BurstKey, Pending>>>,
}

impl RefusalLog {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            pending: Arc::default(),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<BurstKey, Pending>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a refusal: the first of a burst at once, the rest counted.
    pub async fn record(&self, event: &Event<'_>) {
        let key = BurstKey {
            action: event.action,
            actor: audit::clip(event.actor, 300),
            subject: event.subject.map(|subject| audit::clip(subject, 300)),
            account_id: event.account_id,
        };
        let address = event.remote_addr.map(|addr| audit::clip(addr, 100));
        {
            let mut pending = self.pending();
            if let Some(burst) = pending.get_mut(&key) {
                burst.count = burst.count.saturating_add(1);
                burst.several_addresses |= burst.remote_addr != address;
                return;
            }
            if pending.len() < MAX_PENDING {
                pending.insert(
                    key,
                    Pending {
                        remote_addr: address,
                        count: 0,
                        several_addresses: false,
                    },
                );
            }
        }
        audit::record(&self.pool, event).await;
    }

    /// Writes every counted refusal and starts the bursts over.
    pub async fn flush(&self) {
        let drained = std::mem::take(&mut *self.pending());
        for (key, burst) in drained {
            if burst.count == 0 {
                continue;
            }
            let event = Event {
                account_id: key.account_id,
                actor: &key.actor,
                action: key.action,
                subject: key.subject.as_deref(),
                remote_addr: burst.remote_addr.as_deref(),
            };
            audit::record_repeated(&self.pool, &event, burst.count, burst.several_addresses).await;
        }
    }

    /// Bursts counted in memory now.
    pub fn pending_bursts(&self) -> usize {
        self.pending().len()
    }

    /// Flushes every [`FLUSH_EVERY`], and once more when `stop` is cancelled.
    pub fn spawn_flushing(&self, stop: CancellationToken) {
        let log = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(FLUSH_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => log.flush().await,
                    () = stop.cancelled() => {
                        log.flush().await;
                        return;
                    }
                }
            }
        });
    }
}
