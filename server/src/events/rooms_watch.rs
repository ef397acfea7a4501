//! A signed acceptance going stale, as an event: after readiness changes, each
//! room's state is compared with the one last stored (`readiness_watch`, kind
//! `room`), and a room that has become stale writes `acceptance.stale` with what
//! changed since the signature. Locked per room, so processes sharing the
//! database write it once.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use app::domain::events::acceptance_stale;
use app::domain::launch_room::RoomState;
use app::domain::{ReadinessInputs, Register};

use crate::readiness::events::swap_state;
use crate::rooms;
use crate::tenancy::{self, Acting};

/// Stores every room's state against `inputs`; answers how many went stale.
pub async fn record(
    pool: &PgPool,
    register: &Register,
    inputs: &ReadinessInputs,
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let mut went_stale = 0;
    for room in rooms::load_every(pool).await? {
        let status = room.status(register, inputs);
        let mut tx = tenancy::begin(pool, Acting::System).await?;
        let slug = room.tenant.slug.as_str();
        let changed = swap_state(&mut tx, "room", slug, status.state.as_str(), now).await?;
        let became_stale = changed.is_some_and(|previous| {
            status.state == RoomState::Stale
                && previous.as_deref() != Some(RoomState::Stale.as_str())
        });
        if became_stale {
            let reason = status
                .changed_since_acceptance
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            super::emit(&mut tx, &acceptance_stale(&room.tenant, &reason, now)).await?;
            went_stale += 1;
        }
        tx.commit().await?;
    }
    Ok(went_stale)
}
