//! Launch rooms in PostgreSQL: every state transition, the rules on who may change
//! what, row-level security alone, append-only tables, and the hash chains under
//! concurrency and tampering.

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::common::{attach_everything, register, tenant_form, world, World};
use app::domain::access::Viewer;
use app::domain::launch_room::{AcceptanceForm, EvidenceForm, RevocationForm, RoomState};
use app::domain::ledger::{ChainBreak, EvidenceAction, Ledger};
use app::domain::{DependencyState, PublicCheck, ReadinessInputs, Register};
use server::rooms::verify::verify_all;
use server::rooms::{self, RoomError, Submission};
use server::tenancy::{self, Acting};
use server::tenants::{self, TenantForm};

pub(crate) fn inputs(register: &Register, configured: &[&str]) -> ReadinessInputs {
    ReadinessInputs {
        dependencies: register
            .dependency_names()
            .into_iter()
            .map(|name| {
                let state = if configured.contains(&name) {
                    DependencyState::Configured
                } else {
                    DependencyState::Missing
                };
                (name.to_owned(), state)
            })
            .collect(),
        public_checks: vec![PublicCheck {
            name: "database reachable".to_owned(),
            passed: true,
            detail: None,
        }],
        proofs: BTreeMap::new(),
    }
}

pub(crate) fn acceptance(inputs: &ReadinessInputs, exclusions: &[&str]) -> AcceptanceForm {
    AcceptanceForm {
        signer_name: "Ada Buyer".to_owned(),
        signer_role: "Chief Operating Officer".to_owned(),
        approval_reference: "PO-2026-114".to_owned(),
        exclusions: exclusions.iter().map(|id| (*id).to_owned()).collect(),
        residual_risks: "Support email stays manual.".to_owned(),
        readiness_digest: inputs.digest(),
    }
}

async fn state(
    pool: &PgPool,
    register: &Register,
    viewer: &Viewer,
    slug: &str,
    now: &ReadinessInputs,
) -> RoomState {
    rooms::load(pool, viewer, slug)
        .await
        .unwrap()
        .unwrap()
        .status(register, now)
        .state
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    let mut tx = tenancy::begin(pool, Acting::System).await.unwrap();
    let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    count
}

#[sqlx::test(migrations = "../migrations")]
async fn a_room_goes_from_setup_to_accepted_to_stale_to_revoked(pool: PgPool) {
    let db = pool.clone();
    let register = register();
    let w = world(&pool).await;
    let before = inputs(&register, &[]);
    assert_eq!(
        state(&pool, &register, &w.operator, "acme", &before).await,
        RoomState::Setup
    );

    // Signing is refused while evidence is outstanding, and nothing is stored.
    let refused = rooms::submit(
        &db,
        &register,
        &before,
        &w.sponsor_a,
        None,
        Submission::Accept(&acceptance(&before, &[])),
    )
    .await;
    let Err(RoomError::Invalid(errors)) = refused else {
        panic!("expected a refusal")
    };
    assert_eq!(errors[0].field, "room");
    assert_eq!(count(&pool, "acceptance_records").await, 0);

    attach_everything(&pool, &w.operator, "acme", "https://evidence.example/gate").await;
    assert_eq!(count(&pool, "evidence_changes").await, 11);
    assert_eq!(
        state(&pool, &register, &w.operator, "acme", &before).await,
        RoomState::ReadyForAcceptance
    );

    let (tenant, record) = rooms::submit(
        &db,
        &register,
        &before,
        &w.sponsor_a,
        None,
        Submission::Accept(&acceptance(&before, &["support-email"])),
    )
    .await
    .unwrap();
    assert_eq!(tenant.slug, "acme");
    assert_eq!(
        (record.seq, record.exclusions.clone()),
        (1, vec!["support-email".to_owned()])
    );
    assert_eq!(
        record.open_blockers,
        vec!["authenticated-smoke-fixtures", "support-email"]
    );
    assert_eq!(
        state(&pool, &register, &w.sponsor_a, "acme", &before).await,
        RoomState::Accepted
    );

    // Readiness changes: stale, with what changed, until signed again.
    let after = inputs(&register, &["RESEND_API_KEY"]);
    let room = rooms::load(&pool, &w.owner, "acme").await.unwrap().unwrap();
    let status = room.status(&register, &after);
    assert_eq!(status.state, RoomState::Stale);
    assert_eq!(
        status.changed_since_acceptance[0].to_string(),
        "RESEND_API_KEY: missing → configured"
    );
    // A signature bound to the old readiness is refused.
    let old = rooms::submit(
        &db,
        &register,
        &after,
        &w.sponsor_a,
        Some("acme"),
        Submission::Accept(&acceptance(&before, &[])),
    )
    .await;
    let Err(RoomError::Invalid(errors)) = old else {
        panic!("expected a refusal")
    };
    assert_eq!(errors[0].field, "readiness_digest");
    rooms::submit(
        &db,
        &register,
        &after,
        &w.sponsor_a,
        Some("acme"),
        Submission::Accept(&acceptance(&after, &[])),
    )
    .await
    .unwrap();
    assert_eq!(
        state(&pool, &register, &w.sponsor_a, "acme", &after).await,
        RoomState::Accepted
    );

    let revoked = revoke(&db, &register, &after, &w.sponsor_a).await.unwrap();
    assert_eq!(revoked.seq, 3);
    assert_eq!(
        state(&pool, &register, &w.sponsor_a, "acme", &after).await,
        RoomState::Revoked
    );
    // Nothing standing to revoke now.
    assert!(matches!(
        revoke(&db, &register, &after, &w.sponsor_a).await,
        Err(RoomError::Invalid(_))
    ));

    // Detaching evidence puts the room back in setup for the next signature.
    let gate = register.gate("order-form-scope").unwrap();
    rooms::change_evidence(
        &db,
        &register,
        &w.operator,
        "acme",
        EvidenceAction::Detached,
        &EvidenceForm {
            gate_id: gate.id.clone(),
            item: gate.items[0].clone(),
            ..EvidenceForm::default()
        },
    )
    .await
    .unwrap();
    let room = rooms::load(&pool, &w.operator, "acme")
        .await
        .unwrap()
        .unwrap();
    assert!(!room.status(&register, &after).accepts_signature());

    let reports = verify_all(&pool).await.unwrap();
    assert!(
        reports.iter().all(|report| report.result.is_ok()),
        "{reports:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_tenants_own_sponsor_signs_and_only_operators_attach(pool: PgPool) {
    let db = pool.clone();
    let register = register();
    let w = world(&pool).await;
    let now = inputs(&register, &[]);
    attach_everything(&pool, &w.operator, "acme", "https://evidence.example/gate").await;
    let form = acceptance(&now, &[]);
    for viewer in [&w.operator, &w.owner, &Viewer::Public] {
        assert!(matches!(
            rooms::submit(
                &db,
                &register,
                &now,
                viewer,
                Some("acme"),
                Submission::Accept(&form)
            )
            .await,
            Err(RoomError::Forbidden(_))
        ));
    }
    // Another tenant's sponsor gets "no such room", the same as for a room that does not exist.
    assert!(matches!(
        rooms::submit(
            &db,
            &register,
            &now,
            &w.sponsor_b,
            Some("acme"),
            Submission::Accept(&form)
        )
        .await,
        Err(RoomError::NotFound)
    ));
    assert!(rooms::load(&pool, &w.sponsor_b, "acme")
        .await
        .unwrap()
        .is_none());
    assert!(rooms::load(&pool, &Viewer::Public, "acme")
        .await
        .unwrap()
        .is_none());
    let visible: Vec<String> = rooms::load_all(&pool, &w.sponsor_b)
        .await
        .unwrap()
        .into_iter()
        .map(|room| room.tenant.slug)
        .collect();
    assert_eq!(visible, vec!["borealis"]);

    let attach = EvidenceForm {
        gate_id: "billing-route".to_owned(),
        item: "Purchase-order terms or invoice contact".to_owned(),
        reference: "PO terms".to_owned(),
        note: String::new(),
    };
    for viewer in [&w.owner, &w.sponsor_a, &Viewer::Public] {
        assert!(matches!(
            rooms::change_evidence(
                &db,
                &register,
                viewer,
                "acme",
                EvidenceAction::Attached,
                &attach
            )
            .await,
            Err(RoomError::Forbidden(_))
        ));
    }
    // Bad input is refused with its field named, and nothing is stored.
    let before = count(&pool, "evidence_changes").await;
    let bad = EvidenceForm {
        reference: "x\u{0}y".to_owned(),
        ..attach.clone()
    };
    let Err(RoomError::Invalid(errors)) = rooms::change_evidence(
        &db,
        &register,
        &w.operator,
        "acme",
        EvidenceAction::Attached,
        &bad,
    )
    .await
    else {
        panic!("expected a refusal")
    };
    assert_eq!(errors[0].field, "reference");
    assert_eq!(count(&pool, "evidence_changes").await, before);

    rooms::submit(
        &db,
        &register,
        &now,
        &w.sponsor_a,
        Some("acme"),
        Submission::Accept(&form),
    )
    .await
    .unwrap();
    let _ = w.b;
}

#[sqlx::test(migrations = "../migrations")]
async fn row_level_security_alone_hides_another_tenants_records(pool: PgPool) {
    let db = pool.clone();
    let register = register();
    let World {
        operator,
        sponsor_a,
        sponsor_b,
        a,
        ..
    } = world(&pool).await;
    let now = inputs(&register, &[]);
    attach_everything(&pool, &operator, "acme", "https://evidence.example/gate").await;
    rooms::submit(
        &db,
        &register,
        &now,
        &sponsor_a,
        None,
        Submission::Accept(&acceptance(&now, &[])),
    )
    .await
    .unwrap();

    // No tenant filter at all: the policies decide.
    for (viewer, expected) in [(&sponsor_b, 0_i64), (&sponsor_a, 1), (&Viewer::Public, 0)] {
        let mut tx = tenancy::begin(&pool, Acting::As(viewer)).await.unwrap();
        let records: i64 = sqlx::query_scalar("SELECT count(*) FROM acceptance_records")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let evidence: i64 = sqlx::query_scalar("SELECT count(*) FROM evidence_changes")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!((records, evidence), (expected, expected * 11));
        tx.rollback().await.unwrap();
    }
    // A forged record for tenant A, written as sponsor B, is refused by the
    // database itself, whatever the code around it does.
    let mut tx = tenancy::begin(&pool, Acting::As(&sponsor_b)).await.unwrap();
    let acme: Option<i64> = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'acme'")
        .fetch_optional(&mut *tx)
        .await
        .unwrap();
    assert_eq!(acme, None, "sponsor B cannot even see tenant A");
    let forged = sqlx::query(
        "INSERT INTO acceptance_records (tenant_id, seq, kind, motion, signer_name, signer_role,
             approval_reference, exclusions, residual_risks, readiness_digest, readiness_inputs,
             open_blockers, actor, signed_at, prev_digest, digest)
         VALUES ($1, 2, 'accepted', 'm', 'Eve', 'x', '', '{}', '', repeat('0', 64), '{}', '{}',
                 'eve', now(), repeat('0', 64), repeat('0', 64))",
    )
    .bind(a)
    .execute(&mut *tx)
    .await;
    assert!(forged
        .unwrap_err()
        .to_string()
        .contains("row-level security"));
}

#[sqlx::test(migrations = "../migrations")]
async fn records_are_append_only(pool: PgPool) {
    let db = pool.clone();
    let register = register();
    let w = world(&pool).await;
    let now = inputs(&register, &[]);
    attach_everything(&pool, &w.operator, "acme", "https://evidence.example/gate").await;
    rooms::submit(
        &db,
        &register,
        &now,
        &w.sponsor_a,
        None,
        Submission::Accept(&acceptance(&now, &[])),
    )
    .await
    .unwrap();
    for statement in [
        "UPDATE acceptance_records SET signer_name = 'Eve'",
        "DELETE FROM acceptance_records",
        "TRUNCATE acceptance_records",
        "UPDATE evidence_changes SET reference = 'forged'",
        "DELETE FROM evidence_changes",
        "TRUNCATE evidence_changes",
        "TRUNCATE access_events CASCADE",
    ] {
        // Even as the tables' owner with row-level security out of the way.
        let mut tx = pool.begin().await.unwrap();
        for table in ["acceptance_records", "evidence_changes"] {
            sqlx::raw_sql(&format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        let error = sqlx::query(statement).execute(&mut *tx).await.unwrap_err();
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    assert_eq!(count(&pool, "acceptance_records").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hundred_concurrent_signings_make_one_unbroken_chain(pool: PgPool) {
    let db = pool.clone();
    let register = std::sync::Arc::new(register());
    let w = world(&pool).await;
    let now = std::sync::Arc::new(inputs(&register, &[]));
    attach_everything(&pool, &w.operator, "acme", "https://evidence.example/gate").await;
    let sponsor = std::sync::Arc::new(w.sponsor_a.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..100 {
        let (db, register, now, sponsor) =
            (db.clone(), register.clone(), now.clone(), sponsor.clone());
        tasks.spawn(async move {
            let mut form = acceptance(&now, &[]);
            form.approval_reference = format!("PO-{index}");
            rooms::submit(
                &db,
                &register,
                &now,
                &sponsor,
                None,
                Submission::Accept(&form),
            )
            .await
            .map(|(_, record)| record.seq)
        });
    }
    let mut seqs = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        seqs.push(joined.unwrap().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=100).collect::<Vec<i32>>());
    let reports = verify_all(&pool).await.unwrap();
    let acme = reports
        .iter()
        .find(|report| report.tenant == "acme" && report.ledger == Ledger::Acceptance)
        .unwrap();
    assert_eq!(acme.result, Ok(100));
}

/// Tampering as the table owner would: triggers and row security switched off.
async fn tamper(pool: &PgPool, statement: &str) {
    tamper_with(pool, "acceptance_records", statement).await;
}

/// [`tamper`] on any of the append-only tables.
async fn tamper_with(pool: &PgPool, table: &str, statement: &str) {
    let mut tx = pool.begin().await.unwrap();
    for setup in [
        format!("ALTER TABLE {table} DISABLE TRIGGER USER"),
        format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"),
    ] {
        sqlx::query(&setup).execute(&mut *tx).await.unwrap();
    }
    sqlx::raw_sql(statement).execute(&mut *tx).await.unwrap();
    for restore in [
        format!("ALTER TABLE {table} ENABLE TRIGGER USER"),
        format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"),
    ] {
        sqlx::query(&restore).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn five_signatures(pool: &PgPool) {
    let db = pool.clone();
    let register = register();
    let w = world(pool).await;
    let now = inputs(&register, &[]);
    attach_everything(pool, &w.operator, "acme", "https://evidence.example/gate").await;
    for _ in 0..5 {
        rooms::submit(
            &db,
            &register,
            &now,
            &w.sponsor_a,
            None,
            Submission::Accept(&acceptance(&now, &[])),
        )
        .await
        .unwrap();
    }
}

async fn first_break(pool: &PgPool) -> ChainBreak {
    let reports = verify_all(pool).await.unwrap();
    let (output, intact) = server::commands::audit_verify(pool).await.unwrap();
    assert!(!intact);
    assert!(output.contains("BROKEN  acme acceptance:"), "{output}");
    reports
        .into_iter()
        .find(|report| report.ledger == Ledger::Acceptance && report.tenant == "acme")
        .unwrap()
        .result
        .unwrap_err()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_verifier_catches_a_flipped_byte(pool: PgPool) {
    five_signatures(&pool).await;
    let (output, intact) = server::commands::audit_verify(&pool).await.unwrap();
    assert!(intact, "{output}");
    tamper(
        &pool,
        "UPDATE acceptance_records SET approval_reference = 'PO-2026-115' WHERE seq = 3",
    )
    .await;
    assert!(matches!(
        first_break(&pool).await,
        ChainBreak::Altered { seq: 3, .. }
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_verifier_catches_a_deleted_row(pool: PgPool) {
    five_signatures(&pool).await;
    tamper(&pool, "DELETE FROM acceptance_records WHERE seq = 2").await;
    assert!(matches!(
        first_break(&pool).await,
        ChainBreak::OutOfSequence {
            expected: 2,
            found: 3,
            ..
        }
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_verifier_catches_reordered_rows(pool: PgPool) {
    five_signatures(&pool).await;
    tamper(
        &pool,
        "UPDATE acceptance_records SET seq = 1000 WHERE seq = 2;
         UPDATE acceptance_records SET seq = 2 WHERE seq = 4;
         UPDATE acceptance_records SET seq = 4 WHERE seq = 1000;",
    )
    .await;
    assert!(matches!(
        first_break(&pool).await,
        ChainBreak::LinkBroken { seq: 2, .. } | ChainBreak::Altered { seq: 2, .. }
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_verifier_catches_truncation(pool: PgPool) {
    five_signatures(&pool).await;
    tamper(&pool, "DELETE FROM acceptance_records WHERE seq > 3").await;
    assert_eq!(
        first_break(&pool).await,
        ChainBreak::Truncated {
            ends_at: 3,
            head: 5
        }
    );
    tamper(&pool, "TRUNCATE acceptance_records").await;
    assert_eq!(
        first_break(&pool).await,
        ChainBreak::Truncated {
            ends_at: 0,
            head: 5
        }
    );
}

/// Every evidence item of Acme's room attached (at least three changes) and one
/// detached again; answers how many changes the chain holds.
async fn evidence_changes(pool: &PgPool) -> i32 {
    let db = pool.clone();
    let register = register();
    let w = world(pool).await;
    attach_everything(pool, &w.operator, "acme", "https://evidence.example/gate").await;
    let item = register.gate("order-form-scope").unwrap().items[0].clone();
    rooms::change_evidence(
        &db,
        &register,
        &w.operator,
        "acme",
        EvidenceAction::Detached,
        &EvidenceForm {
            gate_id: "order-form-scope".to_owned(),
            item,
            reference: String::new(),
            note: String::new(),
        },
    )
    .await
    .unwrap();
    let changes = i32::try_from(count(pool, "evidence_changes").await).unwrap();
    assert!(changes >= 4, "{changes}");
    let (output, intact) = server::commands::audit_verify(pool).await.unwrap();
    assert!(intact, "{output}");
    changes
}

async fn first_evidence_break(pool: &PgPool) -> ChainBreak {
    let reports = verify_all(pool).await.unwrap();
    let (output, intact) = server::commands::audit_verify(pool).await.unwrap();
    assert!(!intact);
    assert!(output.contains("BROKEN  acme evidence:"), "{output}");
    assert!(
        !output.contains("BROKEN  acme acceptance:"),
        "only the chain tampered with breaks: {output}"
    );
    reports
        .into_iter()
        .find(|report| report.ledger == Ledger::Evidence && report.tenant == "acme")
        .unwrap()
        .result
        .unwrap_err()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_verifier_catches_a_flipped_byte_in_the_evidence_chain(pool: PgPool) {
    evidence_changes(&pool).await;
    tamper_with(
        &pool,
        "evidence_changes",
        "UPDATE evidence_changes SET reference = overlay(reference placing 'H' from 1 for 1)
         WHERE seq = 2",
    )
    .await;
    assert!(matches!(
        first_evidence_break(&pool).await,
        ChainBreak::Altered { seq: 2, .. }
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_verifier_catches_a_deleted_evidence_change(pool: PgPool) {
    evidence_changes(&pool).await;
    tamper_with(
        &pool,
        "evidence_changes",
        "DELETE FROM evidence_changes WHERE seq = 2",
    )
    .await;
    assert!(matches!(
        first_evidence_break(&pool).await,
        ChainBreak::OutOfSequence {
            expected: 2,
            found: 3,
            ..
        }
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_verifier_catches_reordered_evidence_changes(pool: PgPool) {
    evidence_changes(&pool).await;
    tamper_with(
        &pool,
        "evidence_changes",
        "UPDATE evidence_changes SET seq = 1000 WHERE seq = 2;
         UPDATE evidence_changes SET seq = 2 WHERE seq = 3;
         UPDATE evidence_changes SET seq = 3 WHERE seq = 1000;",
    )
    .await;
    assert!(matches!(
        first_evidence_break(&pool).await,
        ChainBreak::LinkBroken { seq: 2, .. } | ChainBreak::Altered { seq: 2, .. }
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_verifier_catches_a_truncated_evidence_chain(pool: PgPool) {
    let changes = evidence_changes(&pool).await;
    tamper_with(
        &pool,
        "evidence_changes",
        "DELETE FROM evidence_changes WHERE seq > 2",
    )
    .await;
    assert_eq!(
        first_evidence_break(&pool).await,
        ChainBreak::Truncated {
            ends_at: 2,
            head: changes
        }
    );
    tamper_with(&pool, "evidence_changes", "TRUNCATE evidence_changes").await;
    assert_eq!(
        first_evidence_break(&pool).await,
        ChainBreak::Truncated {
            ends_at: 0,
            head: changes
        }
    );
}

/// A second server on the same database: a pool of its own.
fn another_server(pool: &PgPool) -> PgPool {
    sqlx::postgres::PgPoolOptions::new().connect_lazy_with((*pool.connect_options()).clone())
}

async fn sign(
    db: &PgPool,
    register: &Register,
    now: &ReadinessInputs,
    sponsor: &Viewer,
) -> Result<app::domain::ledger::AcceptanceRecord, RoomError> {
    rooms::submit(
        db,
        register,
        now,
        sponsor,
        Some("acme"),
        Submission::Accept(&acceptance(now, &[])),
    )
    .await
    .map(|(_, record)| record)
}

/// `sponsor` revokes the acceptance standing in their own room.
async fn revoke(
    db: &PgPool,
    register: &Register,
    now: &ReadinessInputs,
    sponsor: &Viewer,
) -> Result<app::domain::ledger::AcceptanceRecord, RoomError> {
    let revocation = RevocationForm {
        signer_name: "Ada Buyer".to_owned(),
        signer_role: "COO".to_owned(),
        reason: "Order form withdrawn".to_owned(),
    };
    rooms::submit(
        db,
        register,
        now,
        sponsor,
        None,
        Submission::Revoke(&revocation),
    )
    .await
    .map(|(_, record)| record)
}

#[sqlx::test(migrations = "../migrations")]
async fn what_another_server_changes_reaches_the_next_signature_here(pool: PgPool) {
    let db = pool.clone();
    let register = register();
    let w = world(&pool).await;
    let now = inputs(&register, &[]);
    attach_everything(&pool, &w.operator, "acme", "https://evidence.example/gate").await;
    let other = another_server(&pool);

    // This server signs and keeps the room it signed; the other signs after it.
    let first = sign(&db, &register, &now, &w.sponsor_a).await.unwrap();
    let second = sign(&other, &register, &now, &w.sponsor_a).await.unwrap();
    assert_eq!((first.seq, second.seq), (1, 2));
    // The room kept here ends at record 1: the append is refused, the room read
    // again, and the record follows the other server's.
    let third = sign(&db, &register, &now, &w.sponsor_a).await.unwrap();
    assert_eq!(third.seq, 3);
    assert_eq!(third.prev_digest, second.digest);

    // A revocation there: the room here is read again before the next signature.
    let revoked = revoke(&other, &register, &now, &w.sponsor_a).await.unwrap();
    assert_eq!(revoked.seq, 4);
    // This server last saw record 3 standing; revoking again here must find
    // record 4 and refuse.
    assert!(matches!(
        revoke(&db, &register, &now, &w.sponsor_a).await,
        Err(RoomError::Invalid(_))
    ));
    let fifth = sign(&db, &register, &now, &w.sponsor_a).await.unwrap();
    assert_eq!((fifth.seq, fifth.prev_digest), (5, revoked.digest));

    // Evidence detached there: the room kept here still has it, the database
    // does not, so the signature is refused and nothing is stored.
    let gate = register.gate("order-form-scope").unwrap();
    let item = EvidenceForm {
        gate_id: gate.id.clone(),
        item: gate.items[0].clone(),
        reference: "https://evidence.example/gate".to_owned(),
        note: String::new(),
    };
    rooms::change_evidence(
        &other,
        &register,
        &w.operator,
        "acme",
        EvidenceAction::Detached,
        &item,
    )
    .await
    .unwrap();
    let Err(RoomError::Invalid(errors)) = sign(&db, &register, &now, &w.sponsor_a).await else {
        panic!("a signature over detached evidence was accepted")
    };
    assert_eq!(errors[0].field, "room");
    assert_eq!(count(&pool, "acceptance_records").await, 5);
    // Attached again there: the refusal here was not kept either.
    rooms::change_evidence(
        &other,
        &register,
        &w.operator,
        "acme",
        EvidenceAction::Attached,
        &item,
    )
    .await
    .unwrap();
    let sixth = sign(&db, &register, &now, &w.sponsor_a).await.unwrap();
    assert_eq!(sixth.seq, 6);

    // The motion changed there to one whose evidence is not all attached.
    tenants::update(
        &other,
        &register,
        &w.operator,
        &TenantForm {
            motion: "invoice-led-paid-beta".to_owned(),
            ..tenant_form("Acme Ltd", "acme")
        },
    )
    .await
    .unwrap();
    let Err(RoomError::Invalid(errors)) = sign(&db, &register, &now, &w.sponsor_a).await else {
        panic!("a signature against the old motion was accepted")
    };
    assert_eq!(errors[0].field, "room");
    assert_eq!(count(&pool, "acceptance_records").await, 6);
    tenants::update(
        &other,
        &register,
        &w.operator,
        &tenant_form("Acme Ltd", "acme"),
    )
    .await
    .unwrap();
    let seventh = sign(&db, &register, &now, &w.sponsor_a).await.unwrap();
    assert_eq!(
        (seventh.seq, seventh.motion.as_str()),
        (7, "managed-private-beta")
    );

    // Readiness is never kept: a signature for the readiness this server
    // reviewed is refused once readiness moves on.
    let later = inputs(&register, &["RESEND_API_KEY"]);
    let Err(RoomError::Invalid(errors)) = rooms::submit(
        &db,
        &register,
        &later,
        &w.sponsor_a,
        None,
        Submission::Accept(&acceptance(&now, &[])),
    )
    .await
    else {
        panic!("a signature for old readiness was accepted")
    };
    assert_eq!(errors[0].field, "readiness_digest");

    let reports = verify_all(&pool).await.unwrap();
    let acme = reports
        .iter()
        .find(|report| report.tenant == "acme" && report.ledger == Ledger::Acceptance)
        .unwrap();
    assert_eq!(acme.result, Ok(7));
    assert!(
        reports.iter().all(|report| report.result.is_ok()),
        "{reports:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn two_servers_signing_at_once_make_one_unbroken_chain(pool: PgPool) {
    let db = pool.clone();
    let register = std::sync::Arc::new(register());
    let w = world(&pool).await;
    let now = std::sync::Arc::new(inputs(&register, &[]));
    attach_everything(&pool, &w.operator, "acme", "https://evidence.example/gate").await;
    let servers = [db.clone(), another_server(&pool)];
    let sponsor = std::sync::Arc::new(w.sponsor_a.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..60 {
        let (db, register, now, sponsor) = (
            servers[index % 2].clone(),
            register.clone(),
            now.clone(),
            sponsor.clone(),
        );
        tasks.spawn(async move {
            // Each task signs three times, so most signatures start from a room
            // kept by the server they go through, while the other appends.
            let mut seqs = Vec::new();
            for _ in 0..3 {
                seqs.push(sign(&db, &register, &now, &sponsor).await.unwrap().seq);
            }
            seqs
        });
    }
    let mut seqs = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        seqs.extend(joined.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=180).collect::<Vec<i32>>());
    let reports = verify_all(&pool).await.unwrap();
    assert!(
        reports.iter().all(|report| report.result.is_ok()),
        "{reports:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_record_can_only_name_a_signer_of_its_own_tenant(pool: PgPool) {
    let w = world(&pool).await;
    let Viewer::Account(sponsor_b) = &w.sponsor_b else {
        panic!("a sponsor account")
    };
    // Written as the system (which row-level security lets write any tenant's
    // records), naming tenant A and tenant B's sponsor, or no signer at all.
    for account in [Some(sponsor_b.id), None] {
        let mut tx = tenancy::begin(&pool, Acting::System).await.unwrap();
        let error = sqlx::query(
            "INSERT INTO acceptance_records (tenant_id, seq, kind, motion, signer_name,
                 signer_role, approval_reference, exclusions, residual_risks,
                 readiness_digest, readiness_inputs, open_blockers, account_id, actor,
                 signed_at, prev_digest, digest)
             VALUES ($1, 1, 'accepted', 'managed-private-beta', 'Eve', 'x', '', '{}', '',
                     repeat('0', 64), '{}', '{}', $2, 'eve', now(), repeat('0', 64),
                     repeat('0', 64))",
        )
        .bind(w.a)
        .bind(account)
        .execute(&mut *tx)
        .await
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("acceptance_records_signer_fkey") || error.contains("account_id"),
            "{error}"
        );
    }
    assert_eq!(count(&pool, "acceptance_records").await, 0);
}
