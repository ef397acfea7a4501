//! Notifications, from the change to the receiver. Every change in the event
//! catalogue ([`app::domain::events`]) is written to the `events` table in the
//! same transaction as the change itself ([`emit`]): the outbox. The worker
//! ([`worker`]) queues each new event's deliveries ([`fanout`]) and sends them
//! ([`crate::webhooks::deliver`]); any number of server processes may run it.
//! [`rooms_watch`] turns a signed acceptance going stale into an event.

pub mod fanout;
pub mod rooms_watch;
pub mod store;
pub mod worker;

use sqlx::PgConnection;

use app::domain::events::NewEvent;

/// Writes `event` to the outbox inside the caller's transaction, so that it
/// exists exactly when the change that caused it does. Answers its row id.
pub async fn emit(conn: &mut PgConnection, event: &NewEvent) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO events (type, tenant_id, motion, occurred_at, path, data)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"#,
        event.kind.as_str(),
        event.tenant_id,
        event.motion,
        event.occurred_at,
        event.path,
        event.data,
    )
    .fetch_one(conn)
    .await
}

/// Writes several events, in order.
pub async fn emit_all(conn: &mut PgConnection, events: &[NewEvent]) -> Result<(), sqlx::Error> {
    for event in events {
        emit(&mut *conn, event).await?;
    }
    Ok(())
}
