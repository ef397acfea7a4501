//! Server only: the handle through which the server publishes the current
//! [`LiveState`] to the server functions of [`crate::page_data`] (evaluated once
//! per change, with the triage index built over it), the stored history they may
//! ask for beyond it ([`HistoryStore`]), and who is asking ([`current_viewer`]).
//!
//! Depends on [`crate::live_state`] and [`crate::domain`]; the server provides a
//! [`LiveClearance`] in Leptos context and implements the stores.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use crate::domain::register::{Blocker, RegisterOutline};
use crate::domain::triage::Triage;
use crate::domain::{evaluate, Evaluation, Register};
use crate::live_state::{BlockerHistory, LiveState, ReadinessSnapshot};

/// Shared with every request through Leptos context: the loaded register, the
/// latest live state published by the server's readiness monitor, and the store.
#[derive(Clone)]
pub struct LiveClearance {
    pub register: Arc<Register>,
    pub outline: Arc<RegisterOutline>,
    pub state: watch::Receiver<Arc<LiveState>>,
    pub store: Arc<dyn HistoryStore>,
    evaluated: Arc<Mutex<Option<Arc<Evaluated>>>>,
}

/// One live state evaluated, with the blocker triage index built over it: computed
/// once per state, shared by every request that renders it.
#[derive(Debug)]
pub struct Evaluated {
    pub live: Arc<LiveState>,
    pub evaluation: Evaluation,
    pub triage: Triage,
}

impl fmt::Debug for LiveClearance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveClearance")
            .field("organisation", &self.register.organisation)
            .finish_non_exhaustive()
    }
}

impl LiveClearance {
    pub fn new(
        register: Arc<Register>,
        state: watch::Receiver<Arc<LiveState>>,
        store: Arc<dyn HistoryStore>,
    ) -> Self {
        Self {
            outline: Arc::new(register.outline()),
            register,
            state,
            store,
            evaluated: Arc::default(),
        }
    }

    pub fn current(&self) -> Arc<LiveState> {
        Arc::clone(&self.state.borrow())
    }

    /// The current live state, evaluated. The first request after a change pays
    /// for the evaluation; concurrent ones wait for it rather than repeat it.
    pub fn evaluated(&self) -> Arc<Evaluated> {
        let live = self.current();
        let mut cache = self
            .evaluated
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(evaluated) = cache
            .as_ref()
            .filter(|evaluated| Arc::ptr_eq(&evaluated.live, &live))
        {
            return Arc::clone(evaluated);
        }
        let evaluation = evaluate(&self.register, &live.readiness.inputs);
        let triage = Triage::new(&self.register, &evaluation);
        let evaluated = Arc::new(Evaluated {
            live,
            evaluation,
            triage,
        });
        *cache = Some(Arc::clone(&evaluated));
        evaluated
    }
}

/// A failed read of the stored history; the pages only say that it failed.
#[derive(Debug, thiserror::Error)]
#[error("history store: {0}")]
pub struct StoreError(pub String);

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The stored history the pages read beyond the live state. The server implements
/// it over PostgreSQL; the pages never see a database.
pub trait HistoryStore: Send + Sync + 'static {
    /// `blocker`'s recent proof runs and since when each of its dependencies has
    /// had the state it has in `readiness`.
    fn blocker_history<'a>(
        &'a self,
        readiness: &'a ReadinessSnapshot,
        blocker: &'a Blocker,
    ) -> StoreFuture<'a, BlockerHistory>;
}

/// The viewer the server's session middleware attached to this request; the
/// public when there is none.
pub fn current_viewer() -> crate::domain::access::Viewer {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<crate::domain::access::Viewer>()
                .cloned()
        })
        .unwrap_or_default()
}
