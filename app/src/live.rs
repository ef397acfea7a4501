//! Server-only: how the server publishes the current readiness to the views, and
//! the stored history they can ask for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::watch;

use crate::clearance::{BlockerHistory, LiveState, ReadinessSnapshot};
use crate::domain::register::Blocker;
use crate::domain::Register;

/// Shared with every request through Leptos context: the loaded register, the
/// latest live state published by the server's readiness monitor, and the store.
#[derive(Clone)]
pub struct LiveClearance {
    pub register: Arc<Register>,
    pub state: watch::Receiver<Arc<LiveState>>,
    pub store: Arc<dyn HistoryStore>,
}

impl fmt::Debug for LiveClearance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveClearance")
            .field("organisation", &self.register.organisation)
            .finish_non_exhaustive()
    }
}

impl LiveClearance {
    pub fn current(&self) -> Arc<LiveState> {
        Arc::clone(&self.state.borrow())
    }
}

/// A failed read of the stored history; the views only say that it failed.
#[derive(Debug, thiserror::Error)]
#[error("history store: {0}")]
pub struct StoreError(pub String);

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The stored history the views read beyond the live state. The server implements
/// it over PostgreSQL; the views never see a database.
pub trait HistoryStore: Send + Sync + 'static {
    /// `blocker`'s recent proof runs and since when each of its dependencies has
    /// had the state it has in `readiness`.
    fn blocker_history<'a>(
        &'a self,
        readiness: &'a ReadinessSnapshot,
        blocker: &'a Blocker,
    ) -> StoreFuture<'a, BlockerHistory>;
}
