//! Where each chain ends: one `ledger_heads` row per tenant and ledger, locked by
//! every append so that appends to one chain queue instead of forking it.

use sqlx::PgConnection;

use app::domain::ledger::{ChainHead, Ledger, GENESIS_DIGEST};

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
