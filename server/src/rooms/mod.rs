//! Launch rooms in PostgreSQL: a tenant's evidence changes and acceptance records,
//! appended to their hash chains under a lock on the chain's head, and read back
//! under row-level security as the asking viewer.
//!
//! The rules (what may be signed, what an attachment needs, what the room's state
//! is) live in `app::domain::launch_room`; this module loads what they need,
//! applies them, and stores the result only if what they were applied to is still
//! what the database holds.

pub mod handlers;
mod kept;
pub mod store;
pub mod verify;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use app::domain::access::{FieldError, TenantScope, Viewer};
use app::domain::chain_page::{ChainPage, PageRequest};
use app::domain::launch_room::{
    check_acceptance, check_evidence, check_revocation, current_evidence, room_status,
    AcceptanceForm, AttachedEvidence, EvidenceForm, RevocationForm, RoomInputs, RoomStatus,
};
use app::domain::ledger::{
    storable_time, AcceptanceKind, AcceptanceRecord, ChainHead, EvidenceAction, EvidenceChange,
    Ledger, GENESIS_DIGEST,
};
use app::domain::tenant::Tenant;
use app::domain::{ReadinessInputs, Register};

use crate::tenancy::{self, Acting};
use crate::tenants::TenantRow;

/// The launch rooms of one database, as this server writes them: the pool, and
/// the room each tenant's signatures were last checked against (see [`submit`]).
/// Clones share both; make one per database and pass it to every writer.
#[derive(Clone, Debug)]
pub struct RoomDb {
    pool: PgPool,
    kept: kept::KeptRooms,
}

impl RoomDb {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            kept: kept::KeptRooms::default(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// A tenant with everything its launch room is made of.
#[derive(Clone, Debug)]
pub struct RoomRecords {
    pub tenant: Tenant,
    /// In chain order.
    pub evidence: Vec<EvidenceChange>,
    /// In chain order.
    pub acceptances: Vec<AcceptanceRecord>,
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
}

/// A room's state from what it depends on: the tenant's motion, the evidence
/// changes (the whole chain or only those in force: the items still attached come
/// out the same), and the acceptance record at the chain's head.
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

#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// No such tenant, or one the viewer may not see: the same answer for both.
    #[error("no such launch room")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl RoomError {
    pub fn fields(&self) -> &[FieldError] {
        match self {
            Self::Invalid(errors) => errors,
            _ => &[],
        }
    }
}

/// Who is writing: the account and how the ledger names it.
fn writer(viewer: &Viewer) -> Option<(i64, &str)> {
    match viewer {
        Viewer::Account(account) => Some((account.id, account.email.as_str())),
        Viewer::Public => None,
    }
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

/// The tenant named by `slug`, or with id `id` when no slug is given, among
/// the tenants `only` allows (`None`: any).
async fn find_tenant(
    tx: &mut Transaction<'_, Postgres>,
    slug: Option<&str>,
    id: i64,
    only: Option<i64>,
) -> Result<Option<Tenant>, sqlx::Error> {
    let row = sqlx::query_as!(
        TenantRow,
        r#"SELECT id, slug, name, motion, billing_route, created_at
           FROM tenants
           WHERE CASE WHEN $1::text IS NULL THEN id = $2 ELSE slug = $1 END
             AND ($3::bigint IS NULL OR id = $3)"#,
        slug,
        id,
        only
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(Tenant::from))
}

/// The tenant `slug`, when `viewer` may read it.
async fn tenant_by_slug(
    tx: &mut Transaction<'_, Postgres>,
    viewer: &Viewer,
    slug: &str,
) -> Result<Option<Tenant>, sqlx::Error> {
    match tenant_filter(viewer) {
        Some(only) => find_tenant(tx, Some(slug), 0, only).await,
        None => Ok(None),
    }
}

async fn evidence_of(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: i64,
) -> Result<Vec<EvidenceChange>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, tenant_id, seq, action, gate_id, item, reference, note, actor, at,
                  prev_digest, digest
           FROM evidence_changes WHERE tenant_id = $1 ORDER BY seq"#,
        tenant_id
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| EvidenceChange {
            id: row.id,
            tenant_id: row.tenant_id,
            seq: row.seq,
            // The column's CHECK allows only the two; anything else fails the chain.
            action: EvidenceAction::parse(&row.action).unwrap_or(EvidenceAction::Detached),
            gate_id: row.gate_id,
            item: row.item,
            reference: row.reference,
            note: row.note,
            actor: row.actor,
            at: row.at,
            prev_digest: row.prev_digest,
            digest: row.digest,
        })
        .collect())
}

/// Tenant `tenant_id`'s acceptance records from `from_seq` on, in chain order.
async fn acceptances_of(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: i64,
    from_seq: i32,
) -> Result<Vec<AcceptanceRecord>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, tenant_id, seq, kind, motion, signer_name, signer_role,
                  approval_reference, exclusions, residual_risks, readiness_digest,
                  readiness_inputs AS "readiness_inputs: Json<ReadinessInputs>",
                  open_blockers, actor, signed_at, prev_digest, digest
           FROM acceptance_records WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq"#,
        tenant_id,
        from_seq
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| AcceptanceRecord {
            id: row.id,
            tenant_id: row.tenant_id,
            seq: row.seq,
            kind: AcceptanceKind::parse(&row.kind).unwrap_or(AcceptanceKind::Revoked),
            motion: row.motion,
            signer_name: row.signer_name,
            signer_role: row.signer_role,
            approval_reference: row.approval_reference,
            exclusions: row.exclusions,
            residual_risks: row.residual_risks,
            readiness_digest: row.readiness_digest,
            readiness_inputs: row.readiness_inputs.0,
            open_blockers: row.open_blockers,
            actor: row.actor,
            signed_at: row.signed_at,
            prev_digest: row.prev_digest,
            digest: row.digest,
        })
        .collect())
}

/// One page of tenant `tenant_id`'s acceptance records, newest first: an index
/// range scan of `(tenant_id, seq)`, however long the chain.
async fn acceptance_page(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: i64,
    request: PageRequest,
) -> Result<ChainPage<AcceptanceRecord>, sqlx::Error> {
    let rows = sqlx::query_as!(
        AcceptanceRecordRow,
        r#"SELECT id, tenant_id, seq, kind, motion, signer_name, signer_role,
                  approval_reference, exclusions, residual_risks, readiness_digest,
                  readiness_inputs AS "readiness_inputs: Json<ReadinessInputs>",
                  open_blockers, actor, signed_at, prev_digest, digest
           FROM acceptance_records WHERE tenant_id = $1 AND seq < $2
           ORDER BY seq DESC LIMIT $3"#,
        tenant_id,
        request.below(),
        request.fetch()
    )
    .fetch_all(&mut **tx)
    .await?;
    let page = ChainPage::from_rows(rows, request, |row| row.seq);
    Ok(page.map(AcceptanceRecord::from))
}

/// One page of tenant `tenant_id`'s evidence changes, newest first.
async fn evidence_page(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: i64,
    request: PageRequest,
) -> Result<ChainPage<EvidenceChange>, sqlx::Error> {
    let rows = sqlx::query_as!(
        EvidenceChangeRow,
        r#"SELECT id, tenant_id, seq, action, gate_id, item, reference, note, actor, at,
                  prev_digest, digest
           FROM evidence_changes WHERE tenant_id = $1 AND seq < $2
           ORDER BY seq DESC LIMIT $3"#,
        tenant_id,
        request.below(),
        request.fetch()
    )
    .fetch_all(&mut **tx)
    .await?;
    let page = ChainPage::from_rows(rows, request, |row| row.seq);
    Ok(page.map(EvidenceChange::from))
}

/// Tenant `tenant_id`'s evidence in force: of each item, its newest change when
/// that attached it. PostgreSQL picks them, so the server holds one row per
/// attached item rather than the whole chain.
async fn evidence_in_force(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: i64,
) -> Result<Vec<EvidenceChange>, sqlx::Error> {
    let rows = sqlx::query_as!(
        EvidenceChangeRow,
        r#"SELECT id AS "id!", tenant_id AS "tenant_id!", seq AS "seq!", action AS "action!",
                  gate_id AS "gate_id!", item AS "item!", reference AS "reference!",
                  note AS "note!", actor AS "actor!", at AS "at!",
                  prev_digest AS "prev_digest!", digest AS "digest!"
           FROM (SELECT DISTINCT ON (gate_id, item) *
                 FROM evidence_changes WHERE tenant_id = $1
                 ORDER BY gate_id, item, seq DESC) AS newest
           WHERE action = 'attached'
           ORDER BY seq"#,
        tenant_id
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(EvidenceChange::from).collect())
}

/// Tenant `tenant`'s head: its evidence in force and newest acceptance record.
async fn head_of(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Tenant,
) -> Result<RoomHead, sqlx::Error> {
    let evidence = evidence_in_force(tx, tenant.id).await?;
    let latest = acceptance_page(tx, tenant.id, PageRequest::newest(1))
        .await?
        .records
        .pop();
    Ok(RoomHead {
        tenant,
        evidence,
        latest,
    })
}

async fn records(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Tenant,
) -> Result<RoomRecords, sqlx::Error> {
    let evidence = evidence_of(tx, tenant.id).await?;
    let acceptances = acceptances_of(tx, tenant.id, 0).await?;
    Ok(RoomRecords {
        tenant,
        evidence,
        acceptances,
    })
}

/// The room `slug` as `viewer` may see it, with both chains whole: for the
/// dossier, a download that carries and verifies them. `None` when the tenant
/// does not exist or belongs to someone else (row-level security hides it).
pub async fn load(
    pool: &PgPool,
    viewer: &Viewer,
    slug: &str,
) -> Result<Option<RoomRecords>, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let Some(tenant) = tenant_by_slug(&mut tx, viewer, slug).await? else {
        return Ok(None);
    };
    let room = records(&mut tx, tenant).await?;
    tx.commit().await?;
    Ok(Some(room))
}

/// The room `slug`'s head, as [`load`] finds it.
pub async fn load_head(
    pool: &PgPool,
    viewer: &Viewer,
    slug: &str,
) -> Result<Option<RoomHead>, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let Some(tenant) = tenant_by_slug(&mut tx, viewer, slug).await? else {
        return Ok(None);
    };
    let head = head_of(&mut tx, tenant).await?;
    tx.commit().await?;
    Ok(Some(head))
}

/// The room `slug`'s head with one page of its acceptance records and, when
/// `evidence` names one, a page of its evidence changes, read in one
/// transaction so the pages and the state agree.
pub async fn load_page(
    pool: &PgPool,
    viewer: &Viewer,
    slug: &str,
    acceptances: PageRequest,
    evidence: Option<PageRequest>,
) -> Result<Option<RoomPage>, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let Some(tenant) = tenant_by_slug(&mut tx, viewer, slug).await? else {
        return Ok(None);
    };
    let acceptance_records = acceptance_page(&mut tx, tenant.id, acceptances).await?;
    // The newest page starts with the head; an older one does not hold it.
    let latest = match (acceptances.before, acceptance_records.records.first()) {
        (None, first) => first.cloned(),
        (Some(_), _) => acceptance_page(&mut tx, tenant.id, PageRequest::newest(1))
            .await?
            .records
            .pop(),
    };
    let evidence_changes = match evidence {
        Some(request) => evidence_page(&mut tx, tenant.id, request).await?,
        None => ChainPage::default(),
    };
    let head = RoomHead {
        evidence: evidence_in_force(&mut tx, tenant.id).await?,
        latest,
        tenant,
    };
    tx.commit().await?;
    Ok(Some(RoomPage {
        head,
        acceptances: acceptance_records,
        evidence: evidence_changes,
    }))
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
/// list costs the same however many records the rooms hold.
pub async fn load_all(pool: &PgPool, viewer: &Viewer) -> Result<Vec<RoomHead>, sqlx::Error> {
    let Some(only) = tenant_filter(viewer) else {
        return Ok(Vec::new());
    };
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let slugs = sqlx::query_scalar!(
        "SELECT slug FROM tenants WHERE ($1::bigint IS NULL OR id = $1) ORDER BY name, id",
        only
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut rooms = Vec::with_capacity(slugs.len());
    for slug in slugs {
        if let Some(tenant) = tenant_by_slug(&mut tx, viewer, &slug).await? {
            rooms.push(head_of(&mut tx, tenant).await?);
        }
    }
    tx.commit().await?;
    Ok(rooms)
}

/// Locks a chain's head for the rest of the transaction and returns it: the
/// next record follows it. Concurrent appends to one chain queue here.
async fn lock_head(
    tx: &mut Transaction<'_, Postgres>,
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
    .fetch_one(&mut **tx)
    .await?;
    Ok(ChainHead {
        seq: head.seq,
        digest: head.digest,
    })
}

async fn advance_head(
    tx: &mut Transaction<'_, Postgres>,
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
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Attaches evidence to an item or detaches it. Operators only.
pub async fn change_evidence(
    db: &RoomDb,
    register: &Register,
    viewer: &Viewer,
    slug: &str,
    action: EvidenceAction,
    form: &EvidenceForm,
) -> Result<(Tenant, EvidenceChange), RoomError> {
    let Some((account_id, actor)) = writer(viewer).filter(|_| viewer.is_operator()) else {
        return Err(RoomError::Forbidden(
            "only operators attach and detach evidence",
        ));
    };
    let mut tx = tenancy::begin(&db.pool, Acting::As(viewer)).await?;
    let tenant = tenant_by_slug(&mut tx, viewer, slug)
        .await?
        .ok_or(RoomError::NotFound)?;
    let head = lock_head(&mut tx, tenant.id, Ledger::Evidence).await?;
    let evidence = current_evidence(&evidence_in_force(&mut tx, tenant.id).await?);
    let checked = check_evidence(register, action, form, &evidence).map_err(RoomError::Invalid)?;
    let mut change = EvidenceChange {
        id: 0,
        tenant_id: tenant.id,
        seq: head.seq + 1,
        action,
        gate_id: checked.gate_id,
        item: checked.item,
        reference: checked.reference,
        note: checked.note,
        actor: actor.to_owned(),
        at: storable_time(Utc::now()),
        prev_digest: head.digest,
        digest: String::new(),
    };
    change.digest = change.computed_digest();
    change.id = sqlx::query_scalar!(
        r#"INSERT INTO evidence_changes (tenant_id, seq, action, gate_id, item, reference, note,
                                         account_id, actor, at, prev_digest, digest)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id"#,
        change.tenant_id,
        change.seq,
        change.action.as_str(),
        change.gate_id,
        change.item,
        change.reference,
        change.note,
        account_id,
        change.actor,
        change.at,
        change.prev_digest,
        change.digest
    )
    .fetch_one(&mut *tx)
    .await?;
    advance_head(
        &mut tx,
        tenant.id,
        Ledger::Evidence,
        &ChainHead {
            seq: change.seq,
            digest: change.digest.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    // The room kept for signing has moved on: the next signature would find out,
    // at the cost of a refused append.
    db.kept.forget(tenant.id);
    Ok((tenant, change))
}

/// What a sponsor submits: a signature or a revocation.
#[derive(Clone, Debug)]
pub enum Submission<'a> {
    Accept(&'a AcceptanceForm),
    Revoke(&'a RevocationForm),
}

/// [`submit`] against the register and readiness `clearance` serves now.
pub async fn submit_now(
    db: &RoomDb,
    clearance: &app::live::LiveClearance,
    viewer: &Viewer,
    slug: Option<&str>,
    submission: Submission<'_>,
) -> Result<(Tenant, AcceptanceRecord), RoomError> {
    let live = clearance.current();
    submit(
        db,
        &clearance.register,
        &live.readiness.inputs,
        viewer,
        slug,
        submission,
    )
    .await
}

/// A room as a signature is checked against: the tenant, its evidence in force,
/// and of the acceptance history only the record at the head, which is all that
/// bears on the next one, so a signature costs the same however long the chains
/// have grown. With where both chains end, for the append to confirm that the
/// database still holds exactly this room.
///
/// Read from the database, or kept by this server since its last read or
/// signature ([`RoomDb`]); either way the append is what decides.
#[derive(Clone, Debug)]
pub(crate) struct SigningRoom {
    tenant: Arc<Tenant>,
    /// The evidence attached now, by gate and item; shared by the rooms kept
    /// after each signature, which change only the acceptance head.
    evidence: Arc<BTreeMap<(String, String), AttachedEvidence>>,
    /// Where the evidence chain ends: genesis when it is empty.
    evidence_head: ChainHead,
    /// The acceptance record at the head.
    latest: Option<AcceptanceRecord>,
    /// Where the acceptance chain ends: genesis when it is empty.
    head: ChainHead,
}

impl SigningRoom {
    fn status(&self, register: &Register, inputs: &ReadinessInputs) -> RoomStatus {
        room_status(&RoomInputs {
            register,
            inputs,
            motion: &self.tenant.motion,
            evidence: &self.evidence,
            latest: self.latest.as_ref(),
        })
    }

    /// The room once `record` is appended to its acceptance chain.
    fn after(&self, record: &AcceptanceRecord) -> Self {
        Self {
            tenant: Arc::clone(&self.tenant),
            evidence: Arc::clone(&self.evidence),
            evidence_head: self.evidence_head.clone(),
            latest: Some(record.clone()),
            head: ChainHead {
                seq: record.seq,
                digest: record.digest.clone(),
            },
        }
    }
}

/// A chain's head as `clearance_signing_room` hands it over: no row yet means
/// an empty chain, which starts from genesis.
fn head_or_genesis(seq: Option<i32>, digest: Option<String>) -> ChainHead {
    match (seq, digest) {
        (Some(seq), Some(digest)) => ChainHead { seq, digest },
        _ => ChainHead {
            seq: 0,
            digest: GENESIS_DIGEST.to_owned(),
        },
    }
}

/// One evidence change as `clearance_signing_room` and the paged and
/// current-state queries hand it over.
#[derive(Debug, sqlx::Type)]
#[sqlx(type_name = "evidence_change_row")]
struct EvidenceChangeRow {
    id: i64,
    tenant_id: i64,
    seq: i32,
    action: String,
    gate_id: String,
    item: String,
    reference: String,
    note: String,
    actor: String,
    at: DateTime<Utc>,
    prev_digest: String,
    digest: String,
}

impl From<EvidenceChangeRow> for EvidenceChange {
    fn from(row: EvidenceChangeRow) -> Self {
        Self {
            id: row.id,
            tenant_id: row.tenant_id,
            seq: row.seq,
            // The column's CHECK allows only the two; anything else fails the chain.
            action: EvidenceAction::parse(&row.action).unwrap_or(EvidenceAction::Detached),
            gate_id: row.gate_id,
            item: row.item,
            reference: row.reference,
            note: row.note,
            actor: row.actor,
            at: row.at,
            prev_digest: row.prev_digest,
            digest: row.digest,
        }
    }
}

/// An acceptance record as `clearance_signing_room` (the head) and the paged
/// queries hand it over.
#[derive(Debug, sqlx::Type)]
#[sqlx(type_name = "acceptance_record_row")]
struct AcceptanceRecordRow {
    id: i64,
    tenant_id: i64,
    seq: i32,
    kind: String,
    motion: String,
    signer_name: String,
    signer_role: String,
    approval_reference: String,
    exclusions: Vec<String>,
    residual_risks: String,
    readiness_digest: String,
    readiness_inputs: Json<ReadinessInputs>,
    open_blockers: Vec<String>,
    actor: String,
    signed_at: DateTime<Utc>,
    prev_digest: String,
    digest: String,
}

impl From<AcceptanceRecordRow> for AcceptanceRecord {
    fn from(row: AcceptanceRecordRow) -> Self {
        Self {
            id: row.id,
            tenant_id: row.tenant_id,
            seq: row.seq,
            kind: AcceptanceKind::parse(&row.kind).unwrap_or(AcceptanceKind::Revoked),
            motion: row.motion,
            signer_name: row.signer_name,
            signer_role: row.signer_role,
            approval_reference: row.approval_reference,
            exclusions: row.exclusions,
            residual_risks: row.residual_risks,
            readiness_digest: row.readiness_digest,
            readiness_inputs: row.readiness_inputs.0,
            open_blockers: row.open_blockers,
            actor: row.actor,
            signed_at: row.signed_at,
            prev_digest: row.prev_digest,
            digest: row.digest,
        }
    }
}

/// Reads tenant `tenant_id`'s room as `settings` (see [`tenancy::settings`]) in
/// one statement; `None` when row-level security hides the tenant.
async fn signing_room(
    conn: &mut PgConnection,
    (role, tenant): &(&str, String),
    tenant_id: i64,
) -> Result<Option<SigningRoom>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id AS "id!", slug AS "slug!", name AS "name!", motion AS "motion!",
                  billing_route AS "billing_route!", created_at AS "created_at!",
                  head_seq, head_digest, evidence_seq, evidence_digest,
                  evidence AS "evidence!: Vec<EvidenceChangeRow>",
                  latest AS "latest: AcceptanceRecordRow"
           FROM clearance_signing_room($1, $2, $3)"#,
        role,
        tenant,
        tenant_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| SigningRoom {
        tenant: Arc::new(Tenant::from(TenantRow {
            id: row.id,
            slug: row.slug,
            name: row.name,
            motion: row.motion,
            billing_route: row.billing_route,
            created_at: row.created_at,
        })),
        evidence: Arc::new(current_evidence(
            &row.evidence
                .into_iter()
                .map(EvidenceChange::from)
                .collect::<Vec<_>>(),
        )),
        evidence_head: head_or_genesis(row.evidence_seq, row.evidence_digest),
        latest: row.latest.map(Into::into),
        head: head_or_genesis(row.head_seq, row.head_digest),
    }))
}

/// The record `submission` appends to `signing`'s acceptance chain, digest
/// included, or why it may not.
fn next_record(
    signing: &SigningRoom,
    register: &Register,
    inputs: &ReadinessInputs,
    submission: &Submission<'_>,
    actor: &str,
) -> Result<AcceptanceRecord, RoomError> {
    let status = signing.status(register, inputs);
    let checked = match submission {
        Submission::Accept(form) => check_acceptance(form, &status),
        Submission::Revoke(form) => check_revocation(form, &status),
    }
    .map_err(RoomError::Invalid)?;
    let mut record = AcceptanceRecord {
        id: 0,
        tenant_id: signing.tenant.id,
        seq: signing.head.seq + 1,
        kind: checked.kind,
        motion: signing.tenant.motion.clone(),
        signer_name: checked.signer_name,
        signer_role: checked.signer_role,
        approval_reference: checked.approval_reference,
        exclusions: checked.exclusions,
        residual_risks: checked.residual_risks,
        readiness_digest: status.readiness_digest,
        readiness_inputs: inputs.clone(),
        open_blockers: status.open_blockers,
        actor: actor.to_owned(),
        signed_at: storable_time(Utc::now()),
        prev_digest: signing.head.digest.clone(),
        digest: String::new(),
    };
    record.digest = record.computed_digest();
    Ok(record)
}

/// Appends `record` if its chain still ends where `signing` says and the tenant's
/// motion and evidence are still what it was checked against; `None` (nothing
/// written) otherwise. The record and the new head, in one statement.
async fn append_acceptance(
    conn: &mut PgConnection,
    (role, tenant): &(&str, String),
    signing: &SigningRoom,
    account_id: i64,
    record: &AcceptanceRecord,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT clearance_append_acceptance($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                                              $12, $13, $14, $15, $16, $17, $18, $19, $20,
                                              $21)"#,
        role,
        tenant,
        signing.evidence_head.seq,
        signing.evidence_head.digest,
        record.tenant_id,
        record.seq,
        record.kind.as_str(),
        record.motion,
        record.signer_name,
        record.signer_role,
        record.approval_reference,
        &record.exclusions,
        record.residual_risks,
        record.readiness_digest,
        Json(&record.readiness_inputs) as _,
        &record.open_blockers,
        account_id,
        record.actor,
        record.signed_at,
        record.prev_digest,
        record.digest
    )
    .fetch_one(conn)
    .await
}

/// `record`, appended to `signing`'s chain as row `id`: kept as this server's
/// view of the room for the tenant's next signature, and returned.
fn appended(
    db: &RoomDb,
    signing: &SigningRoom,
    mut record: AcceptanceRecord,
    id: i64,
) -> (Tenant, AcceptanceRecord) {
    record.id = id;
    db.kept.keep(Arc::new(signing.after(&record)));
    (Tenant::clone(&signing.tenant), record)
}

/// Signs or revokes a tenant's launch acceptance: only that tenant's buyer
/// sponsor may. `slug` of `None` means the sponsor's own tenant.
///
/// Usually one statement: the record is checked against the room as this server
/// last read or signed it and appended only if the database still holds exactly
/// that room (the acceptance chain's head, the motion, the evidence chain's head).
/// When anything moved, or the kept room would refuse what the current one may
/// allow, the room is read again, checked, and the record appended on the same
/// condition: two statements, no transaction held open in between. When someone
/// else appended first even then, the signature is checked again inside a
/// transaction that holds the chain's head, where concurrent signatures queue
/// instead of forking the chain.
///
/// Answers the record and the tenant it was checked against: its slug, id and
/// motion as the database holds them, its name and billing route (which no
/// signature depends on) as this server last read them.
pub async fn submit(
    db: &RoomDb,
    register: &Register,
    inputs: &ReadinessInputs,
    viewer: &Viewer,
    slug: Option<&str>,
    submission: Submission<'_>,
) -> Result<(Tenant, AcceptanceRecord), RoomError> {
    let (account_id, actor, own_tenant) = match viewer {
        Viewer::Account(account) => match account.tenant_id {
            Some(tenant) if account.role == app::domain::access::Role::BuyerSponsor => {
                (account.id, account.email.as_str(), tenant)
            }
            _ => {
                return Err(RoomError::Forbidden(
                    "only the tenant's buyer sponsor signs or revokes its launch acceptance",
                ))
            }
        },
        Viewer::Public => return Err(RoomError::Forbidden("sign in to sign launch acceptance")),
    };
    let settings = tenancy::settings(Acting::As(viewer));
    // A sponsor reaches only its own tenant, whichever slug it names.
    let named = |signing: &SigningRoom| slug.is_none_or(|slug| slug == signing.tenant.slug);
    // A room just read from the database: kept for the next signature, and the
    // sponsor's own only if it is the one named.
    let read = |signing: Option<SigningRoom>| match signing {
        Some(signing) => {
            let signing = Arc::new(signing);
            db.kept.keep(Arc::clone(&signing));
            Some(signing).filter(|signing| named(signing))
        }
        None => {
            db.kept.forget(own_tenant);
            None
        }
    };
    {
        let mut conn = db.pool.acquire().await?;
        // The room as this server last saw it: nothing it says is taken on trust.
        // A refusal it leads to is not final either (evidence may have been
        // attached since), so anything but an append reads the room again.
        if let Some(kept) = db.kept.get(own_tenant).filter(|kept| named(kept)) {
            if let Ok(record) = next_record(&kept, register, inputs, &submission, actor) {
                if let Some(id) =
                    append_acceptance(&mut conn, &settings, &kept, account_id, &record).await?
                {
                    return Ok(appended(db, &kept, record, id));
                }
            }
        }
        let signing = read(signing_room(&mut conn, &settings, own_tenant).await?)
            .ok_or(RoomError::NotFound)?;
        let record = next_record(&signing, register, inputs, &submission, actor)?;
        if let Some(id) =
            append_acceptance(&mut conn, &settings, &signing, account_id, &record).await?
        {
            return Ok(appended(db, &signing, record, id));
        }
    }
    // Each pass follows a change someone else committed; under the head's lock
    // only an evidence or motion change in between sends it round again.
    loop {
        let mut tx = tenancy::begin(&db.pool, Acting::As(viewer)).await?;
        lock_head(&mut tx, own_tenant, Ledger::Acceptance).await?;
        let signing =
            read(signing_room(&mut tx, &settings, own_tenant).await?).ok_or(RoomError::NotFound)?;
        let record = next_record(&signing, register, inputs, &submission, actor)?;
        if let Some(id) =
            append_acceptance(&mut tx, &settings, &signing, account_id, &record).await?
        {
            tx.commit().await?;
            return Ok(appended(db, &signing, record, id));
        }
    }
}
