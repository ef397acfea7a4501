//! The room each tenant's signatures were last checked against, kept by this
//! server so that a signature usually costs one statement: the append, which
//! writes only if the database still holds exactly the room kept here (see
//! `clearance_append_acceptance`). Nothing kept here is trusted: a room that has
//! moved on (another server signed, an operator changed the evidence or the
//! motion, the sponsor revoked) only costs a refused append and a fresh read.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::SigningRoom;

/// The rooms kept for one database, by tenant id. Clones share them.
#[derive(Clone, Default)]
pub(super) struct KeptRooms(Arc<Mutex<HashMap<i64, Arc<SigningRoom>>>>);

impl KeptRooms {
    fn rooms(&self) -> MutexGuard<'_, HashMap<i64, Arc<SigningRoom>>> {
        // A panic elsewhere leaves whole entries behind, never half-written ones.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The room kept for tenant `tenant`, if any.
    pub(super) fn get(&self, tenant: i64) -> Option<Arc<SigningRoom>> {
        self.rooms().get(&tenant).cloned()
    }

    /// Keeps `room` for its tenant, in place of the one kept before.
    pub(super) fn keep(&self, room: Arc<SigningRoom>) {
        self.rooms().insert(room.tenant.id, room);
    }

    /// Forgets the room kept for tenant `tenant`, which has moved on.
    pub(super) fn forget(&self, tenant: i64) {
        self.rooms().remove(&tenant);
    }
}

impl fmt::Debug for KeptRooms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeptRooms")
            .field("tenants", &self.rooms().len())
            .finish()
    }
}
