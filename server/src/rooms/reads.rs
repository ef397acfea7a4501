//! Reading launch rooms as a viewer: a tenant's two chains whole (for the dossier),
//! a room's head (what its state is worked out from), a room's head with a page of
//! each chain's history, and every room's head for the list.
//!
//! Each read is one transaction in one snapshot (`REPEATABLE READ`), so its parts
//! agree with each other while others append: a chain and the head recorded for
//! it, a page and the state it is shown with.

use std::collections::HashMap;

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use app::domain::access::{TenantScope, Viewer};
use app::domain::chain_page::{ChainPage, PageRequest};
use app::domain::launch_room::{current_evidence, room_status, RoomInputs, RoomStatus};
use app::domain::ledger::{
    verify_chain, AcceptanceRecord, ChainBreak, ChainHead, EvidenceChange, Ledger,
};
use app::domain::tenant::Tenant;
use app::domain::{ReadinessInputs, Register};

use super::heads;
use super::rows::{AcceptanceRecordRow, EvidenceChangeRow};
use crate::tenancy::{self, Acting};
use crate::tenants::TenantRow;

/// A tenant with both its chains whole and where each is recorded to end.
#[derive(Clone, Debug)]
pub struct RoomRecords {
    pub tenant: Tenant,
    /// In chain order.
    pub evidence: Vec<EvidenceChange>,
    /// In chain order.
    pub acceptances: Vec<AcceptanceRecord>,
    pub evidence_head: Option<ChainHead>,
    pub acceptance_head: Option<ChainHead>,
}

impl RoomRecords {
    /// The room worked out against `inputs`.
    pub fn status(&self, register: &Register, inputs: &ReadinessInputs) -> RoomStatus {
        status_of(
            &self.tenant,
            &self.evidence,
            self.acceptances.last(),
            register,
            inputs,
        )
    }

    /// Both chains recomputed against their heads: (evidence, acceptance).
    pub fn verify(&self) -> (Result<usize, ChainBreak>, Result<usize, ChainBreak>) {
        (
            verify_chain(&self.evidence, self.evidence_head.as_ref()),
            verify_chain(&self.acceptances, self.acceptance_head.as_ref()),
        )
    }
}

/// What a room's state is worked out from, and nothing that grows with its
/// history: what every page and document that shows the state loads.
#[derive(Clone, Debug)]
pub struct RoomHead {
    pub tenant: Tenant,
    /// The evidence in force: for each item still attached, the change that
    /// attached it, in chain order.
    pub evidence: Vec<EvidenceChange>,
    /// The record at the acceptance chain's head: the only one the state depends on.
    pub latest: Option<AcceptanceRecord>,
}

impl RoomHead {
    /// The room worked out against `inputs`.
    pub fn status(&self, register: &Register, inputs: &ReadinessInputs) -> RoomStatus {
        status_of(
            &self.tenant,
            &self.evidence,
            self.latest.as_ref(),
            register,
            inputs,
        )
    }
}

/// A room's head with one page of each chain's history.
#[derive(Clone, Debug)]
pub struct RoomPage {
    pub head: RoomHead,
    /// Newest first.
    pub acceptances: ChainPage<AcceptanceRecord>,
    /// Newest first; empty unless asked for.
    pub evidence: ChainPage<EvidenceChange>,
}

/// A room's state from the tenant's motion, its evidence changes (the whole chain
/// or only those in force: the items still attached come out the same) and the
/// acceptance record at the chain's head.
fn status_of(
    tenant: &Tenant,
    evidence: &[EvidenceChange],
    latest: Option<&AcceptanceRecord>,
    register: &Register,
    inputs: &ReadinessInputs,
) -> RoomStatus {
    let evidence = current_evidence(evidence);
    room_status(&RoomInputs {
        register,
        inputs,
        motion: &tenant.motion,
        evidence: &evidence,
        latest,
    })
}

/// The tenant ids `viewer` may read, as a query parameter: `Some(None)` for
/// every tenant, `Some(Some(id))` for a sponsor's own, `None` for no tenant at
/// all. Room queries filter on it in the code as well as through row-level
/// security, so either alone keeps a sponsor to their own tenant.
fn tenant_filter(viewer: &Viewer) -> Option<Option<i64>> {
    match viewer.tenant_scope() {
        TenantScope::Every => Some(None),
        TenantScope::One(tenant) => Some(Some(tenant)),
        TenantScope::Nothing => None,
    }
}

/// The tenant `slug`, when `viewer` may read it.
pub(super) async fn tenant_by_slug(
    conn: &mut PgConnection,
    viewer: &Viewer,
    slug: &str,
) -> Result<Option<Tenant>, sqlx::Error> {
    let Some(only) = tenant_filter(viewer) else {
        return Ok(None);
    };
    let row = sqlx::query_as!(
        TenantRow,
        r#"SELECT id, slug, name, motion, billing_route, created_at FROM tenants
           WHERE slug = $1 AND ($2::bigint IS NULL OR id = $2)"#,
        slug,
        only
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Tenant::from))
}

/// Tenant `tenant_id`'s evidence in force: of each item, its newest change when
/// that attached it, in chain order. PostgreSQL picks them, so the server holds
/// one row per attached item rather than the whole chain.
pub(super) async fn evidence_in_force(
    conn: &mut PgConnection,
    tenant_id: i64,
) -> Result<Vec<EvidenceChange>, sqlx::Error> {
    let rows = sqlx::query_as!(
        EvidenceChangeRow,
        r#"SELECT id AS "id!", tenant_id AS "tenant_id!", seq AS "seq!", action AS "action!",
                  gate_id AS "gate_id!", item AS "item!", reference AS "reference!",
                  note AS "note!", account_id, actor AS "actor!", at AS "at!",
                  prev_digest AS "prev_digest!", digest AS "digest!", format AS "format!"
           FROM (SELECT DISTINCT ON (gate_id, item) *
                 FROM evidence_changes WHERE tenant_id = $1
                 ORDER BY gate_id, item, seq DESC) AS newest
           WHERE action = 'attached'
           ORDER BY seq"#,
        tenant_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(EvidenceChange::from).collect())
}

/// Tenant `tenant_id`'s acceptance records below seq `below`, newest first, at
/// most `limit`: an index range scan of `(tenant_id, seq)`, however long the chain.
async fn acceptances_before(
    conn: &mut PgConnection,
    tenant_id: i64,
    below: i32,
    limit: i64,
) -> Result<Vec<AcceptanceRecord>, sqlx::Error> {
    let rows = sqlx::query_as!(
        AcceptanceRecordRow,
        r#"SELECT id, tenant_id, seq, kind, motion, signer_name, signer_role,
                  approval_reference, exclusions, residual_risks, readiness_digest,
                  readiness_inputs AS "readiness_inputs: Json<ReadinessInputs>",
                  open_blockers, account_id, actor, signed_at, prev_digest, digest, format
           FROM acceptance_records WHERE tenant_id = $1 AND seq < $2
           ORDER BY seq DESC LIMIT $3"#,
        tenant_id,
        below,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(AcceptanceRecord::from).collect())
}

/// Tenant `tenant_id`'s evidence changes below seq `below`, newest first, at most
/// `limit`.
async fn evidence_before(
    conn: &mut PgConnection,
    tenant_id: i64,
    below: i32,
    limit: i64,
) -> Result<Vec<EvidenceChange>, sqlx::Error> {
    let rows = sqlx::query_as!(
        EvidenceChangeRow,
        r#"SELECT id, tenant_id, seq, action, gate_id, item, reference, note, account_id,
                  actor, at, prev_digest, digest, format
           FROM evidence_changes WHERE tenant_id = $1 AND seq < $2
           ORDER BY seq DESC LIMIT $3"#,
        tenant_id,
        below,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(EvidenceChange::from).collect())
}

/// The record at tenant `tenant_id`'s acceptance chain's head.
pub(super) async fn latest_acceptance(
    conn: &mut PgConnection,
    tenant_id: i64,
) -> Result<Option<AcceptanceRecord>, sqlx::Error> {
    Ok(acceptances_before(conn, tenant_id, i32::MAX, 1)
        .await?
        .pop())
}

/// A tenant's both chains whole, in chain order, with their heads.
pub(super) async fn records(
    conn: &mut PgConnection,
    tenant: Tenant,
) -> Result<RoomRecords, sqlx::Error> {
    let mut evidence = evidence_before(conn, tenant.id, i32::MAX, i64::MAX).await?;
    evidence.reverse();
    let mut acceptances = acceptances_before(conn, tenant.id, i32::MAX, i64::MAX).await?;
    acceptances.reverse();
    Ok(RoomRecords {
        evidence_head: heads::read(conn, tenant.id, Ledger::Evidence).await?,
        acceptance_head: heads::read(conn, tenant.id, Ledger::Acceptance).await?,
        tenant,
        evidence,
        acceptances,
    })
}

/// Reads the room `slug` as `viewer` may see it with `read`, in one snapshot.
/// `None` when the tenant does not exist or belongs to someone else (row-level
/// security hides it): the same answer for both.
async fn in_room<T>(
    pool: &PgPool,
    viewer: &Viewer,
    slug: &str,
    read: impl AsyncFnOnce(&mut PgConnection, Tenant) -> Result<T, sqlx::Error>,
) -> Result<Option<T>, sqlx::Error> {
    let mut tx = tenancy::begin_snapshot(pool, Acting::As(viewer)).await?;
    let Some(tenant) = tenant_by_slug(&mut tx, viewer, slug).await? else {
        return Ok(None);
    };
    let room = read(&mut tx, tenant).await?;
    tx.commit().await?;
    Ok(Some(room))
}

/// The room `slug` with both chains whole and their heads: for the dossier, a
/// download that carries and verifies them.
pub async fn load(
    pool: &PgPool,
    viewer: &Viewer,
    slug: &str,
) -> Result<Option<RoomRecords>, sqlx::Error> {
    in_room(pool, viewer, slug, records).await
}

/// Acceptance record `seq` of the room `slug`, when `viewer` may see the room;
/// `Some(None)`: the room exists but has no such record.
pub async fn load_record(
    pool: &PgPool,
    viewer: &Viewer,
    slug: &str,
    seq: i32,
) -> Result<Option<Option<AcceptanceRecord>>, sqlx::Error> {
    in_room(pool, viewer, slug, async |conn, tenant| {
        let below = seq.saturating_add(1);
        let record = acceptances_before(conn, tenant.id, below, 1).await?.pop();
        Ok(record.filter(|record| record.seq == seq))
    })
    .await
}

/// The room `slug`'s head.
pub async fn load_head(
    pool: &PgPool,
    viewer: &Viewer,
    slug: &str,
) -> Result<Option<RoomHead>, sqlx::Error> {
    in_room(pool, viewer, slug, async |conn, tenant| {
        Ok(RoomHead {
            evidence: evidence_in_force(conn, tenant.id).await?,
            latest: latest_acceptance(conn, tenant.id).await?,
            tenant,
        })
    })
    .await
}

/// The room `slug`'s head with one page of its acceptance records and, when
/// `evidence` names one, a page of its evidence changes.
pub async fn load_page(
    pool: &PgPool,
    viewer: &Viewer,
    slug: &str,
    acceptances: PageRequest,
    evidence: Option<PageRequest>,
) -> Result<Option<RoomPage>, sqlx::Error> {
    in_room(pool, viewer, slug, async |conn, tenant| {
        let rows =
            acceptances_before(conn, tenant.id, acceptances.below(), acceptances.fetch()).await?;
        let page = ChainPage::from_rows(rows, acceptances, |record| record.seq);
        // The newest page starts with the head; an older one does not hold it.
        let latest = match (acceptances.before, page.records.first()) {
            (None, first) => first.cloned(),
            (Some(_), _) => latest_acceptance(conn, tenant.id).await?,
        };
        let evidence_page = match evidence {
            Some(request) => {
                let rows =
                    evidence_before(conn, tenant.id, request.below(), request.fetch()).await?;
                ChainPage::from_rows(rows, request, |change| change.seq)
            }
            None => ChainPage::default(),
        };
        Ok(RoomPage {
            head: RoomHead {
                evidence: evidence_in_force(conn, tenant.id).await?,
                latest,
                tenant,
            },
            acceptances: page,
            evidence: evidence_page,
        })
    })
    .await
}

/// The slug of tenant `id`, when `viewer` may see it.
pub async fn slug_of(
    pool: &PgPool,
    viewer: &Viewer,
    id: i64,
) -> Result<Option<String>, sqlx::Error> {
    let Some(only) = tenant_filter(viewer) else {
        return Ok(None);
    };
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let slug = sqlx::query_scalar!(
        "SELECT slug FROM tenants WHERE id = $1 AND ($2::bigint IS NULL OR id = $2)",
        id,
        only
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(slug)
}

/// Every room `viewer` may see, by tenant name: each one's head only, so the
/// list costs the same however many records the rooms hold, and three queries
/// however many rooms there are.
pub async fn load_all(pool: &PgPool, viewer: &Viewer) -> Result<Vec<RoomHead>, sqlx::Error> {
    match tenant_filter(viewer) {
        Some(only) => load_heads(pool, Acting::As(viewer), only).await,
        None => Ok(Vec::new()),
    }
}

/// Every room, for the server itself (watching rooms go stale).
pub async fn load_every(pool: &PgPool) -> Result<Vec<RoomHead>, sqlx::Error> {
    load_heads(pool, Acting::System, None).await
}

async fn load_heads(
    pool: &PgPool,
    acting: Acting<'_>,
    only: Option<i64>,
) -> Result<Vec<RoomHead>, sqlx::Error> {
    let mut tx = tenancy::begin_snapshot(pool, acting).await?;
    let tenants = sqlx::query_as!(
        TenantRow,
        r#"SELECT id, slug, name, motion, billing_route, created_at FROM tenants
           WHERE ($1::bigint IS NULL OR id = $1) ORDER BY name, id"#,
        only
    )
    .fetch_all(&mut *tx)
    .await?;
    let evidence = sqlx::query_as!(
        EvidenceChangeRow,
        r#"SELECT id AS "id!", tenant_id AS "tenant_id!", seq AS "seq!", action AS "action!",
                  gate_id AS "gate_id!", item AS "item!", reference AS "reference!",
                  note AS "note!", account_id, actor AS "actor!", at AS "at!",
                  prev_digest AS "prev_digest!", digest AS "digest!", format AS "format!"
           FROM (SELECT DISTINCT ON (tenant_id, gate_id, item) *
                 FROM evidence_changes WHERE ($1::bigint IS NULL OR tenant_id = $1)
                 ORDER BY tenant_id, gate_id, item, seq DESC) AS newest
           WHERE action = 'attached'
           ORDER BY tenant_id, seq"#,
        only
    )
    .fetch_all(&mut *tx)
    .await?;
    // Each tenant's newest record: one index lookup per tenant, in one statement.
    let latest = sqlx::query_as!(
        AcceptanceRecordRow,
        r#"SELECT r.id AS "id!", r.tenant_id AS "tenant_id!", r.seq AS "seq!",
                  r.kind AS "kind!", r.motion AS "motion!", r.signer_name AS "signer_name!",
                  r.signer_role AS "signer_role!",
                  r.approval_reference AS "approval_reference!",
                  r.exclusions AS "exclusions!", r.residual_risks AS "residual_risks!",
                  r.readiness_digest AS "readiness_digest!",
                  r.readiness_inputs AS "readiness_inputs!: Json<ReadinessInputs>",
                  r.open_blockers AS "open_blockers!", r.account_id AS "account_id!",
                  r.actor AS "actor!", r.signed_at AS "signed_at!",
                  r.prev_digest AS "prev_digest!", r.digest AS "digest!",
                  r.format AS "format!"
           FROM tenants t
           CROSS JOIN LATERAL (SELECT * FROM acceptance_records a WHERE a.tenant_id = t.id
                               ORDER BY a.seq DESC LIMIT 1) AS r
           WHERE ($1::bigint IS NULL OR t.id = $1)"#,
        only
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut evidence_of: HashMap<i64, Vec<EvidenceChange>> = HashMap::new();
    for row in evidence {
        evidence_of
            .entry(row.tenant_id)
            .or_default()
            .push(EvidenceChange::from(row));
    }
    let mut latest_of: HashMap<i64, AcceptanceRecord> = latest
        .into_iter()
        .map(|row| (row.tenant_id, AcceptanceRecord::from(row)))
        .collect();
    Ok(tenants
        .into_iter()
        .map(|row| {
            let tenant = Tenant::from(row);
            RoomHead {
                evidence: evidence_of.remove(&tenant.id).unwrap_or_default(),
                latest: latest_of.remove(&tenant.id),
                tenant,
            }
        })
        .collect())
}
