//! Reading the events back: the newest ones a viewer may see.

use sqlx::PgPool;

use app::domain::access::Viewer;
use app::domain::events::{Event, EventType};

use crate::tenancy::{self, Acting};

/// The newest `limit` events `viewer` may see (row-level security drops other
/// tenants' events), newest first.
pub async fn recent(pool: &PgPool, viewer: &Viewer, limit: i64) -> Result<Vec<Event>, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let rows = sqlx::query!(
        r#"SELECT event_id, type AS kind, tenant_id, motion, occurred_at, path, data
           FROM events ORDER BY id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(Event {
                id: row.event_id,
                kind: EventType::parse(&row.kind)?,
                tenant_id: row.tenant_id,
                motion: row.motion,
                occurred_at: row.occurred_at,
                path: row.path,
                data: row.data,
            })
        })
        .collect())
}
