//! Server-only: how the server publishes the current readiness to the views.

use std::sync::Arc;

use tokio::sync::watch;

use crate::clearance::ReadinessSnapshot;
use crate::domain::Register;

/// Shared with every request through Leptos context: the loaded register and the
/// latest readiness snapshot, published by the server's readiness monitor.
#[derive(Clone, Debug)]
pub struct LiveClearance {
    pub register: Arc<Register>,
    pub readiness: watch::Receiver<Arc<ReadinessSnapshot>>,
}

impl LiveClearance {
    pub fn current(&self) -> Arc<ReadinessSnapshot> {
        Arc::clone(&self.readiness.borrow())
    }
}
