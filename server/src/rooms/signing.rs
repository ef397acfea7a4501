//! A buyer sponsor signs or revokes their tenant's launch acceptance, in one
//! plain transaction: read what the check needs (the acceptance chain's head,
//! the tenant, its evidence in force, the record at the head) in one statement,
//! check and digest in Rust, then one statement moves the head (only if it is
//! still the head read), inserts the record, writes its event and queues its
//! log leaf; commit. Two signatures of one tenant at the same moment cannot
//! fork the chain: the second finds the head moved, writes nothing and tries
//! again, this time locking the head before it reads.

use chrono::Utc;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use app::domain::access::{AccountSummary, Role, Viewer};
use app::domain::events as event;
use app::domain::launch_room::{
    check_acceptance, check_revocation, room_status, AcceptanceForm, RevocationForm, RoomInputs,
};
use app::domain::ledger::{storable_time, AcceptanceRecord, Ledger, FORMAT_V2};
use app::domain::tenant::Tenant;
use app::domain::{ReadinessInputs, Register};
use app::live::LiveClearance;

use super::{heads, RoomError};
use crate::tenancy::{self, Acting};

/// How often a signature is tried when it loses a race: another signature of
/// the tenant moved the head first, or PostgreSQL aborted it for a conflict
/// with another transaction (a serialization failure or a deadlock). Any other
/// error is answered at once.
const ATTEMPTS: u32 = 3;

/// What a sponsor submits: a signature or a revocation.
#[derive(Clone, Copy, Debug)]
pub enum Submission<'a> {
    Accept(&'a AcceptanceForm),
    Revoke(&'a RevocationForm),
}

/// [`submit`] against the register and readiness `clearance` serves now.
pub async fn submit_now(
    pool: &PgPool,
    clearance: &LiveClearance,
    viewer: &Viewer,
    slug: Option<&str>,
    submission: Submission<'_>,
) -> Result<(Tenant, AcceptanceRecord), RoomError> {
    let live = clearance.current();
    submit(
        pool,
        &clearance.register,
        &live.readiness.inputs,
        viewer,
        slug,
        submission,
    )
    .await
}

/// Signs or revokes a tenant's launch acceptance: only that tenant's buyer
/// sponsor may. `slug` of `None` means the sponsor's own tenant; any other
/// tenant's slug is answered as not found. Answers the stored record and the
/// tenant it was checked against.
pub async fn submit(
    pool: &PgPool,
    register: &Register,
    inputs: &ReadinessInputs,
    viewer: &Viewer,
    slug: Option<&str>,
    submission: Submission<'_>,
) -> Result<(Tenant, AcceptanceRecord), RoomError> {
    let sponsor = sponsor(viewer)?;
    let mut attempt = 1;
    loop {
        // The first attempt reads without locking; one that lost a race locks
        // the head first, so that it cannot lose again.
        let lock = attempt > 1;
        let result = async {
            let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
            let signed = sign(&mut tx, sponsor, register, inputs, slug, submission, lock).await?;
            if signed.is_some() {
                tx.commit().await?;
            }
            Ok(signed)
        }
        .await;
        match result {
            Ok(Some(signed)) => return Ok(signed),
            Ok(None) if attempt < ATTEMPTS => {
                tracing::debug!(attempt, "another signature moved the head first; retrying");
            }
            Ok(None) => {
                return Err(RoomError::Database(sqlx::Error::Protocol(
                    "the acceptance chain's head kept moving while signing".to_owned(),
                )))
            }
            Err(RoomError::Database(error)) if attempt < ATTEMPTS && is_conflict(&error) => {
                tracing::debug!(%error, attempt, "signature conflicted with another transaction; retrying");
            }
            Err(error) => return Err(error),
        }
        attempt += 1;
    }
}

/// The signing account and its tenant, or why it may not sign.
fn sponsor(viewer: &Viewer) -> Result<(&AccountSummary, i64), RoomError> {
    match viewer {
        Viewer::Account(account) => match account.tenant_id {
            Some(tenant) if account.role == Role::BuyerSponsor => Ok((account, tenant)),
            _ => Err(RoomError::Forbidden(
                "only the tenant's buyer sponsor signs or revokes its launch acceptance",
            )),
        },
        Viewer::Public => Err(RoomError::Forbidden("sign in to sign launch acceptance")),
    }
}

/// A serialization failure or a deadlock: the transaction lost a race and may
/// simply be run again.
fn is_conflict(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .is_some_and(|code| code == "40001" || code == "40P01")
}

/// The signature itself, inside the caller's transaction; `None` when another
/// signature moved the head after it was read (nothing was written). With
/// `lock`, the head is locked before it is read, and that cannot happen.
async fn sign(
    conn: &mut PgConnection,
    (account, tenant_id): (&AccountSummary, i64),
    register: &Register,
    inputs: &ReadinessInputs,
    slug: Option<&str>,
    submission: Submission<'_>,
    lock: bool,
) -> Result<Option<(Tenant, AcceptanceRecord)>, RoomError> {
    if lock {
        heads::lock(conn, tenant_id, Ledger::Acceptance).await?;
    }
    let heads::SigningView {
        head,
        tenant,
        evidence,
        latest,
    } = heads::read_for_signing(conn, tenant_id)
        .await?
        // A sponsor reaches only its own tenant, whichever slug it names.
        .filter(|view| slug.is_none_or(|slug| slug == view.tenant.slug))
        .ok_or(RoomError::NotFound)?;
    let status = room_status(&RoomInputs {
        register,
        inputs,
        motion: &tenant.motion,
        evidence: &evidence,
        latest: latest.as_ref(),
    });
    let checked = match submission {
        Submission::Accept(form) => check_acceptance(form, &status),
        Submission::Revoke(form) => check_revocation(form, &status),
    }
    .map_err(RoomError::Invalid)?;
    let mut record = AcceptanceRecord {
        id: 0,
        tenant_id: tenant.id,
        seq: head.seq + 1,
        kind: checked.kind,
        motion: tenant.motion.clone(),
        signer_name: checked.signer_name,
        signer_role: checked.signer_role,
        approval_reference: checked.approval_reference,
        exclusions: checked.exclusions,
        residual_risks: checked.residual_risks,
        readiness_digest: status.readiness_digest,
        readiness_inputs: inputs.clone(),
        open_blockers: status.open_blockers,
        actor: account.email.clone(),
        account_id: Some(account.id),
        signed_at: storable_time(Utc::now()),
        prev_digest: head.digest,
        digest: String::new(),
        format: FORMAT_V2,
    };
    record.digest = record.computed_digest();
    let event = event::acceptance_recorded(&tenant, &record);
    let leaf = crate::log::leaf::acceptance(&record);
    // One statement moves the head if it is still the one read (a first record
    // starts it), and only then writes the record, puts its event in the outbox
    // ([`crate::events::emit`], inlined) and queues its leaf for the
    // transparency log ([`crate::log::store::enqueue`], inlined): one round trip
    // instead of five, which the signing budget needs. On a head that moved,
    // PostgreSQL waits for the transaction that moved it and then writes nothing.
    let id = sqlx::query_scalar!(
        r#"WITH head AS (
               INSERT INTO ledger_heads (tenant_id, ledger, seq, digest)
               VALUES ($1, $18, $2, $17)
               ON CONFLICT (tenant_id, ledger) DO UPDATE
                   SET seq = excluded.seq, digest = excluded.digest
                   WHERE ledger_heads.seq = excluded.seq - 1
               RETURNING seq
           ), record AS (
               INSERT INTO acceptance_records
                   (tenant_id, seq, kind, motion, signer_name, signer_role, approval_reference,
                    exclusions, residual_risks, readiness_digest, readiness_inputs, open_blockers,
                    account_id, actor, signed_at, prev_digest, digest, format)
               SELECT $1, head.seq, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                      $17, $23
               FROM head
               RETURNING id
           ), event AS (
               INSERT INTO events (type, tenant_id, motion, occurred_at, path, data)
               SELECT $19, $1, $4, $15, $20, $21 FROM record
           ), leaf AS (
               INSERT INTO log_pending (kind, ref_id, leaf)
               SELECT 'acceptance', id, $22 FROM record
           )
           SELECT id AS "id!" FROM record"#,
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
        account.id,
        record.actor,
        record.signed_at,
        record.prev_digest,
        record.digest,
        Ledger::Acceptance.as_str(),
        event.kind.as_str(),
        event.path,
        event.data,
        leaf,
        record.format,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id.map(|id| {
        record.id = id;
        (tenant, record)
    }))
}
