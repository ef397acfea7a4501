//! Queuing each new event's deliveries: one row per endpoint that wants it,
//! and (with e-mail configured) one mail per subscription that wants it and may
//! see it. Events are claimed with `FOR UPDATE SKIP LOCKED`, so concurrent
//! workers split them and each event fans out once; the deliveries, the mail
//! and the mark are written in one transaction, so a crash leaves the event to
//! fan out again.

use sqlx::PgPool;

use crate::tenancy::{self, Acting};

/// Events fanned out per transaction.
const BATCH: i64 = 200;

/// Queues the deliveries of up to one batch of new events, oldest first;
/// answers how many events it handled. Queues no mail.
pub async fn run_once(pool: &PgPool) -> Result<usize, sqlx::Error> {
    run_once_with_mail(pool, None).await
}

/// [`run_once`], also queuing each event's mail when `mail_links` (the public
/// URL mail links are built on) is given, that is when e-mail is configured.
pub async fn run_once_with_mail(
    pool: &PgPool,
    mail_links: Option<&str>,
) -> Result<usize, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::System).await?;
    let ids = sqlx::query_scalar!(
        r#"SELECT id FROM events WHERE fanned_out_at IS NULL
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"#,
        BATCH
    )
    .fetch_all(&mut *tx)
    .await?;
    if ids.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    // An endpoint's motion filter applies to events about a motion, its tenant
    // filter to tenant events; an empty filter wants everything.
    sqlx::query!(
        r#"INSERT INTO deliveries (event_id, endpoint_id)
           SELECT e.id, w.id FROM events e
           JOIN webhook_endpoints w ON w.enabled
             AND (cardinality(w.event_types) = 0 OR e.type = ANY (w.event_types))
             AND (cardinality(w.motions) = 0 OR e.motion IS NULL OR e.motion = ANY (w.motions))
             AND (cardinality(w.tenant_ids) = 0 OR e.tenant_id IS NULL
                  OR e.tenant_id = ANY (w.tenant_ids))
           WHERE e.id = ANY ($1)
           ON CONFLICT (event_id, endpoint_id) DO NOTHING"#,
        &ids
    )
    .execute(&mut *tx)
    .await?;
    if let Some(public_url) = mail_links {
        crate::mail::store::queue_for_events(&mut tx, public_url, &ids).await?;
    }
    sqlx::query!(
        "UPDATE events SET fanned_out_at = now() WHERE id = ANY ($1)",
        &ids
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ids.len())
}
