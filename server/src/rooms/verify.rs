//! `server audit verify`: recomputes every tenant's evidence and acceptance chains
//! and reports the first broken link of each.

use std::fmt;

use sqlx::{PgConnection, PgPool};

use app::domain::ledger::{ChainBreak, Ledger};

use super::reads::{records, RoomRecords};
use crate::tenancy::{self, Acting};
use crate::tenants::TenantRow;

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

/// Verifies both chains of every tenant, in slug order, all read in one snapshot.
pub async fn verify_all(pool: &PgPool) -> Result<Vec<ChainReport>, sqlx::Error> {
    let mut tx = tenancy::begin_snapshot(pool, Acting::System).await?;
    let rooms = ledgers(&mut tx).await?;
    tx.commit().await?;
    let mut reports = Vec::with_capacity(rooms.len() * 2);
    for room in rooms {
        let (evidence, acceptance) = room.verify();
        reports.push(ChainReport {
            tenant: room.tenant.slug.clone(),
            ledger: Ledger::Evidence,
            result: evidence,
            head: room.evidence_head.map(|head| head.digest),
        });
        reports.push(ChainReport {
            tenant: room.tenant.slug,
            ledger: Ledger::Acceptance,
            result: acceptance,
            head: room.acceptance_head.map(|head| head.digest),
        });
    }
    Ok(reports)
}

/// Every tenant's two chains whole, in slug order, read in the caller's
/// transaction (a system one: row-level security would hide tenants).
pub async fn ledgers(conn: &mut PgConnection) -> Result<Vec<RoomRecords>, sqlx::Error> {
    let tenants = sqlx::query_as!(
        TenantRow,
        "SELECT id, slug, name, motion, billing_route, created_at FROM tenants ORDER BY slug"
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut rooms = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        rooms.push(records(&mut *conn, tenant.into()).await?);
    }
    Ok(rooms)
}
