//! An operator attaches evidence to a gate's item or detaches it: one
//! transaction that locks the tenant's evidence chain, checks the change against
//! the evidence in force, and appends it with its `evidence.changed` event.

use chrono::Utc;
use sqlx::PgPool;

use app::domain::access::Viewer;
use app::domain::events as event;
use app::domain::launch_room::{check_evidence, current_evidence, EvidenceForm};
use app::domain::ledger::{
    storable_time, ChainHead, EvidenceAction, EvidenceChange, Ledger, FORMAT_V2,
};
use app::domain::tenant::Tenant;
use app::domain::Register;

use super::reads::{evidence_in_force, tenant_by_slug};
use super::{heads, RoomError};
use crate::events;
use crate::tenancy::{self, Acting};

/// Attaches evidence to an item or detaches it. Operators only.
pub async fn change_evidence(
    pool: &PgPool,
    register: &Register,
    viewer: &Viewer,
    slug: &str,
    action: EvidenceAction,
    form: &EvidenceForm,
) -> Result<(Tenant, EvidenceChange), RoomError> {
    let Viewer::Account(account) = viewer else {
        return Err(RoomError::Forbidden(
            "only operators attach and detach evidence",
        ));
    };
    if !viewer.is_operator() {
        return Err(RoomError::Forbidden(
            "only operators attach and detach evidence",
        ));
    }
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let tenant = tenant_by_slug(&mut tx, viewer, slug)
        .await?
        .ok_or(RoomError::NotFound)?;
    let head = heads::lock(&mut tx, tenant.id, Ledger::Evidence).await?;
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
        account_id: Some(account.id),
        actor: account.email.clone(),
        at: storable_time(Utc::now()),
        prev_digest: head.digest,
        digest: String::new(),
        format: FORMAT_V2,
    };
    change.digest = change.computed_digest();
    change.id = sqlx::query_scalar!(
        r#"INSERT INTO evidence_changes (tenant_id, seq, action, gate_id, item, reference, note,
                                         account_id, actor, at, prev_digest, digest, format)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id"#,
        change.tenant_id,
        change.seq,
        change.action.as_str(),
        change.gate_id,
        change.item,
        change.reference,
        change.note,
        account.id,
        change.actor,
        change.at,
        change.prev_digest,
        change.digest,
        change.format
    )
    .fetch_one(&mut *tx)
    .await?;
    let head = ChainHead {
        seq: change.seq,
        digest: change.digest.clone(),
    };
    heads::advance(&mut tx, tenant.id, Ledger::Evidence, &head).await?;
    events::emit(&mut tx, &event::evidence_changed(&tenant, &change)).await?;
    crate::log::store::enqueue(
        &mut tx,
        crate::log::leaf::LeafKind::Evidence,
        change.id,
        &crate::log::leaf::evidence(&change),
    )
    .await?;
    tx.commit().await?;
    Ok((tenant, change))
}
