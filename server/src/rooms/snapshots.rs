//! The room each tenant's signatures were last checked against, kept by this
//! server so that a signature usually costs one statement: the append, which
//! writes only if the database still holds exactly the room kept here (see
//! `clearance_append_acceptance`). Nothing kept here is trusted: a room that has
//! moved on (another server signed, an operator changed the evidence or the
//! motion, the sponsor revoked) only costs a refused append and a fresh read.
//!
//! Rooms are kept per pool, a pool being one database as this server reaches it,
//! so a room read from one database is never offered to another (tests run many).
//! A pool is known by its connect options, held weakly: their allocation outlives
//! the pool while a room refers to it, so no later pool can take its address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;

use super::SigningRoom;

struct PoolRooms {
    pool: Weak<PgConnectOptions>,
    /// By tenant id.
    rooms: HashMap<i64, Arc<SigningRoom>>,
}

static KEPT: Mutex<Vec<PoolRooms>> = Mutex::new(Vec::new());

fn kept_rooms() -> MutexGuard<'static, Vec<PoolRooms>> {
    // A panic elsewhere leaves whole entries behind, never half-written ones.
    KEPT.lock().unwrap_or_else(PoisonError::into_inner)
}

fn same_pool(rooms: &PoolRooms, pool: &Arc<PgConnectOptions>) -> bool {
    std::ptr::eq(rooms.pool.as_ptr(), Arc::as_ptr(pool))
}

/// The room kept for tenant `tenant` of `pool`'s database, if any.
pub(super) fn kept(pool: &PgPool, tenant: i64) -> Option<Arc<SigningRoom>> {
    let options = pool.connect_options();
    kept_rooms()
        .iter()
        .find(|rooms| same_pool(rooms, &options))
        .and_then(|rooms| rooms.rooms.get(&tenant).cloned())
}

/// Keeps `room` for its tenant, in place of the one kept before.
pub(super) fn keep(pool: &PgPool, room: Arc<SigningRoom>) {
    let options = pool.connect_options();
    let mut kept = kept_rooms();
    // Rooms of pools dropped since go now.
    kept.retain(|rooms| rooms.pool.strong_count() > 0);
    let index = match kept.iter().position(|rooms| same_pool(rooms, &options)) {
        Some(index) => index,
        None => {
            kept.push(PoolRooms {
                pool: Arc::downgrade(&options),
                rooms: HashMap::new(),
            });
            kept.len() - 1
        }
    };
    kept[index].rooms.insert(room.tenant.id, room);
}

/// Forgets the room kept for tenant `tenant`, which has moved on.
pub(super) fn forget(pool: &PgPool, tenant: i64) {
    let options = pool.connect_options();
    if let Some(rooms) = kept_rooms()
        .iter_mut()
        .find(|rooms| same_pool(rooms, &options))
    {
        rooms.rooms.remove(&tenant);
    }
}
