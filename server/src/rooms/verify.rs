//! `server audit verify`: recomputes every tenant's evidence and acceptance chains
//! and reports the first broken link of each.

use std::fmt;

use sqlx::PgPool;

use app::domain::ledger::{verify_chain, ChainBreak, ChainHead, Ledger};

use super::{acceptances_of, evidence_of};
use crate::tenancy::{self, Acting};

/// One chain's verification result.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChainReport {
    pub tenant: String,
    pub ledger: Ledger,
    /// How many records the chain holds, or its first broken link.
    pub result: Result<usize, ChainBreak>,
    /// The digest the chain ends at, for comparing with a copy kept elsewhere.
    pub head: Option<String>,
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ledger = self.ledger.as_str();
        match &self.result {
            Ok(records) => write!(
                f,
                "ok      {} {ledger}: {records} record{} (head {})",
                self.tenant,
                if *records == 1 { "" } else { "s" },
                self.head.as_deref().unwrap_or("none")
            ),
            Err(broken) => write!(f, "BROKEN  {} {ledger}: {broken}", self.tenant),
        }
    }
}

async fn head(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    tenant_id: i64,
    ledger: Ledger,
) -> Result<Option<ChainHead>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT seq, digest FROM ledger_heads WHERE tenant_id = $1 AND ledger = $2",
        tenant_id,
        ledger.as_str()
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|row| ChainHead {
        seq: row.seq,
        digest: row.digest,
    }))
}

/// Verifies both chains of every tenant, in slug order.
pub async fn verify_all(pool: &PgPool) -> Result<Vec<ChainReport>, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::System).await?;
    let tenants = sqlx::query!("SELECT id, slug FROM tenants ORDER BY slug")
        .fetch_all(&mut *tx)
        .await?;
    let mut reports = Vec::with_capacity(tenants.len() * 2);
    for tenant in tenants {
        let evidence = evidence_of(&mut tx, tenant.id).await?;
        let evidence_head = head(&mut tx, tenant.id, Ledger::Evidence).await?;
        reports.push(ChainReport {
            tenant: tenant.slug.clone(),
            ledger: Ledger::Evidence,
            result: verify_chain(&evidence, evidence_head.as_ref()),
            head: evidence_head.map(|head| head.digest),
        });
        let acceptances = acceptances_of(&mut tx, tenant.id, 0).await?;
        let acceptance_head = head(&mut tx, tenant.id, Ledger::Acceptance).await?;
        reports.push(ChainReport {
            tenant: tenant.slug,
            ledger: Ledger::Acceptance,
            result: verify_chain(&acceptances, acceptance_head.as_ref()),
            head: acceptance_head.map(|head| head.digest),
        });
    }
    tx.commit().await?;
    Ok(reports)
}

/// Verifies one room's two chains as `viewer` reads them (row-level security
/// applies): (evidence, acceptance).
pub async fn room_chains(
    pool: &PgPool,
    viewer: &app::domain::access::Viewer,
    room: &super::RoomRecords,
) -> Result<(Result<usize, ChainBreak>, Result<usize, ChainBreak>), sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let evidence_head = head(&mut tx, room.tenant.id, Ledger::Evidence).await?;
    let acceptance_head = head(&mut tx, room.tenant.id, Ledger::Acceptance).await?;
    tx.commit().await?;
    Ok((
        verify_chain(&room.evidence, evidence_head.as_ref()),
        verify_chain(&room.acceptances, acceptance_head.as_ref()),
    ))
}
