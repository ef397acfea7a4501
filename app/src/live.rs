//! Server-only: how the server publishes the current readiness to the views.

use std::sync::Arc;

use tokio::sync::watch;

use crate::clearance::LiveState;
use crate::domain::Register;

/// Shared with every request through Leptos context: the loaded register and the
/// latest live state, published by the server's readiness monitor.
#[derive(Clone, Debug)]
pub struct LiveClearance {
    pub register: Arc<Register>,
    pub state: watch::Receiver<Arc<LiveState>>,
}

impl LiveClearance {
    pub fn current(&self) -> Arc<LiveState> {
        Arc::clone(&self.state.borrow())
    }
}
