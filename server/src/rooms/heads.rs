//! Where each chain ends: one `ledger_heads` row per tenant and ledger. An
//! evidence change locks its chain's head, so appends to one chain queue instead
//! of forking it; a signature reads the head without a lock and moves it only if
//! it is still the one it read (`super::signing`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use app::domain::launch_room::AttachedEvidence;
use app::domain::ledger::{AcceptanceRecord, ChainHead, Ledger, GENESIS_DIGEST};
use app::domain::tenant::Tenant;

use super::rows::AcceptanceRecordRow;
use crate::tenants::TenantRow;

/// Locks a chain's head for the rest of the transaction and returns it (genesis
/// for a chain with no head yet): the next record follows it.
pub(super) async fn lock(
    conn: &mut PgConnection,
    tenant_id: i64,
    ledger: Ledger,
) -> Result<ChainHead, sqlx::Error> {
    // The no-op update on conflict locks the existing head until commit.
    let head = sqlx::query!(
        r#"INSERT INTO ledger_heads (tenant_id, ledger, seq, digest) VALUES ($1, $2, 0, $3)
           ON CONFLICT (tenant_id, ledger) DO UPDATE SET seq = ledger_heads.seq
           RETURNING seq, digest"#,
        tenant_id,
        ledger.as_str(),
        GENESIS_DIGEST
    )
    .fetch_one(conn)
    .await?;
    Ok(ChainHead {
        seq: head.seq,
        digest: head.digest,
    })
}

/// What a signature is checked against, read in one snapshot.
pub(super) struct SigningView {
    /// The acceptance chain's head (genesis before its first record).
    pub head: ChainHead,
    pub tenant: Tenant,
    /// The evidence in force, by gate id and item.
    pub evidence: BTreeMap<(String, String), AttachedEvidence>,
    /// The record at the head.
    pub latest: Option<AcceptanceRecord>,
}

/// Tenant `tenant_id`'s acceptance chain head, the tenant, its evidence in force
/// and the record at the head, in one statement and so one snapshot (they agree
/// with each other); `None` when the tenant is not visible. The record is looked
/// up by the head's position in the chain, not as the chain's newest: a plan
/// cached while the chain was short could otherwise read every record of the
/// tenant to find the newest, slower with every signature. Nothing is locked: the
/// signature's write only lands if the head is still this one
/// ([`super::signing`]), and a signature that lost that race locks first ([`lock`])
/// when it tries again.
pub(super) async fn read_for_signing(
    conn: &mut PgConnection,
    tenant_id: i64,
) -> Result<Option<SigningView>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT coalesce(h.seq, 0) AS "seq!", coalesce(h.digest, $2) AS "digest!",
                  t.id, t.slug, t.name, t.motion, t.billing_route, t.created_at,
                  ev.gates AS "gates: Vec<String>", ev.items AS "items: Vec<String>",
                  ev.refs AS "refs: Vec<String>", ev.notes AS "notes: Vec<String>",
                  ev.actors AS "actors: Vec<String>", ev.ats AS "ats: Vec<DateTime<Utc>>",
                  (SELECT a FROM acceptance_records a WHERE a.tenant_id = t.id AND a.seq = h.seq)
                      AS "latest: AcceptanceRecordRow"
           FROM tenants t
           LEFT JOIN ledger_heads h ON h.tenant_id = t.id AND h.ledger = 'acceptance'
           -- The evidence in force: each gate item's newest change, if it attached.
           CROSS JOIN LATERAL (
               SELECT array_agg(e.gate_id) AS gates, array_agg(e.item) AS items,
                      array_agg(e.reference) AS refs, array_agg(e.note) AS notes,
                      array_agg(e.actor) AS actors, array_agg(e.at) AS ats
               FROM (SELECT DISTINCT ON (gate_id, item)
                            gate_id, item, action, reference, note, actor, at
                     FROM evidence_changes WHERE tenant_id = $1
                     ORDER BY gate_id, item, seq DESC) AS e
               WHERE e.action = 'attached') AS ev
           WHERE t.id = $1"#,
        tenant_id,
        GENESIS_DIGEST
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|row| SigningView {
        head: ChainHead {
            seq: row.seq,
            digest: row.digest,
        },
        tenant: Tenant::from(TenantRow {
            id: row.id,
            slug: row.slug,
            name: row.name,
            motion: row.motion,
            billing_route: row.billing_route,
            created_at: row.created_at,
        }),
        evidence: (row.gates.unwrap_or_default().into_iter())
            .zip(row.items.unwrap_or_default())
            .zip(row.refs.unwrap_or_default())
            .zip(row.notes.unwrap_or_default())
            .zip(row.actors.unwrap_or_default())
            .zip(row.ats.unwrap_or_default())
            .map(|(((((gate, item), reference), note), actor), at)| {
                let attached = AttachedEvidence {
                    reference,
                    note,
                    actor,
                    at,
                };
                ((gate, item), attached)
            })
            .collect(),
        latest: row.latest.map(AcceptanceRecord::from),
    }))
}

/// Moves a chain's head, locked by [`lock`] in the same transaction.
pub(super) async fn advance(
    conn: &mut PgConnection,
    tenant_id: i64,
    ledger: Ledger,
    head: &ChainHead,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE ledger_heads SET seq = $3, digest = $4 WHERE tenant_id = $1 AND ledger = $2",
        tenant_id,
        ledger.as_str(),
        head.seq,
        head.digest
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A chain's head as stored, without locking it; `None` before its first record.
pub(super) async fn read(
    conn: &mut PgConnection,
    tenant_id: i64,
    ledger: Ledger,
) -> Result<Option<ChainHead>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT seq, digest FROM ledger_heads WHERE tenant_id = $1 AND ledger = $2",
        tenant_id,
        ledger.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| ChainHead {
        seq: row.seq,
        digest: row.digest,
    }))
}
