//! Launch rooms: every room state, the tenant's motion status with evidence and
//! exclusions, the acceptance and evidence rules, and the hash chain verifier.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};

use super::{inputs_with, thesmios, with_passing_proofs};
use crate::domain::launch_room::*;
use crate::domain::ledger::*;
use crate::domain::{MotionStatus, ReadinessInputs, Reason, Register};

const PRIVATE_BETA: &str = "managed-private-beta";

/// Every item of every non-acceptance gate attached.
fn all_evidence(register: &Register) -> BTreeMap<(String, String), AttachedEvidence> {
    register
        .customer_evidence
        .gates
        .iter()
        .filter(|gate| !gate.satisfied_by_acceptance)
        .flat_map(|gate| {
            gate.items
                .iter()
                .map(move |item| (gate.id.clone(), item.clone()))
        })
        .map(|key| {
            (
                key,
                AttachedEvidence {
                    reference: "ref".to_owned(),
                    note: String::new(),
                    actor: "op@example.com".to_owned(),
                    at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
                },
            )
        })
        .collect()
}

fn record(
    kind: AcceptanceKind,
    inputs: &ReadinessInputs,
    exclusions: &[&str],
    seq: i32,
    prev: &str,
) -> AcceptanceRecord {
    let mut record = AcceptanceRecord {
        id: i64::from(seq),
        tenant_id: 7,
        seq,
        kind,
        motion: PRIVATE_BETA.to_owned(),
        signer_name: "Ada Buyer".to_owned(),
        signer_role: "COO".to_owned(),
        approval_reference: "PO-1".to_owned(),
        exclusions: exclusions.iter().map(|id| (*id).to_owned()).collect(),
        residual_risks: String::new(),
        readiness_digest: inputs.digest(),
        readiness_inputs: inputs.clone(),
        open_blockers: Vec::new(),
        actor: "sponsor@example.com".to_owned(),
        account_id: Some(3),
        signed_at: storable_time(Utc.with_ymd_and_hms(2026, 11, 2, 3, 4, 5).unwrap()),
        prev_digest: prev.to_owned(),
        digest: String::new(),
        format: FORMAT_V2,
    };
    record.digest = record.computed_digest();
    record
}

fn status_of(
    register: &Register,
    inputs: &ReadinessInputs,
    evidence: &BTreeMap<(String, String), AttachedEvidence>,
    latest: Option<&AcceptanceRecord>,
) -> RoomStatus {
    room_status(&RoomInputs {
        register,
        inputs,
        motion: PRIVATE_BETA,
        evidence,
        latest,
    })
}

fn form(digest: &str, exclusions: &[&str]) -> AcceptanceForm {
    AcceptanceForm {
        signer_name: "Ada Buyer".to_owned(),
        signer_role: "COO".to_owned(),
        approval_reference: "PO-1".to_owned(),
        exclusions: exclusions.iter().map(|id| (*id).to_owned()).collect(),
        residual_risks: "Manual support fallback.".to_owned(),
        readiness_digest: digest.to_owned(),
    }
}

#[test]
fn a_new_room_is_in_setup_with_every_required_gate_outstanding() {
    let register = thesmios();
    let inputs = inputs_with(&register, &[]);
    let status = status_of(&register, &inputs, &BTreeMap::new(), None);
    assert_eq!(status.state, RoomState::Setup);
    assert_eq!(
        status.motion.as_ref().unwrap().status,
        MotionStatus::Conditional
    );
    // Four gates for private beta, three of them by evidence items.
    assert_eq!(status.gates.iter().filter(|gate| gate.required).count(), 4);
    assert_eq!(status.outstanding.len(), 3);
    assert!(status.outstanding[0]
        .starts_with("Customer order-form scope: 3 evidence items outstanding"));
    // The private-beta blockers are the ones a signer may scope out.
    assert_eq!(
        status.scopable,
        vec!["authenticated-smoke-fixtures", "support-email"]
    );
    assert!(!status.is_live());
}

#[test]
fn with_every_item_attached_the_room_is_ready_and_acceptance_makes_it_live() {
    let register = thesmios();
    let inputs = inputs_with(&register, &[]);
    let evidence = all_evidence(&register);
    let ready = status_of(&register, &inputs, &evidence, None);
    assert_eq!(ready.state, RoomState::ReadyForAcceptance);
    assert!(ready.accepts_signature());
    // Still conditional: the acceptance gate and the scoped blockers remain.
    assert_eq!(
        ready.motion.as_ref().unwrap().status,
        MotionStatus::Conditional
    );

    let signed = record(AcceptanceKind::Accepted, &inputs, &[], 1, GENESIS_DIGEST);
    let accepted = status_of(&register, &inputs, &evidence, Some(&signed));
    assert_eq!(accepted.state, RoomState::Accepted);
    assert!(accepted.is_live());
    let reasons = &accepted.motion.as_ref().unwrap().reasons;
    assert!(reasons
        .iter()
        .all(|reason| matches!(reason, Reason::ScopedBlockerLive { .. })));
}

#[test]
fn exclusions_clear_the_tenant_motion_of_scoped_blockers() {
    let register = thesmios();
    let inputs = inputs_with(&register, &[]);
    let evidence = all_evidence(&register);
    let signed = record(
        AcceptanceKind::Accepted,
        &inputs,
        &["authenticated-smoke-fixtures", "support-email"],
        1,
        GENESIS_DIGEST,
    );
    let status = status_of(&register, &inputs, &evidence, Some(&signed));
    assert_eq!(status.motion.as_ref().unwrap().status, MotionStatus::Clear);
}

#[test]
fn an_exclusion_never_lifts_a_hard_requirement() {
    let register = thesmios();
    let inputs = inputs_with(&register, &[]);
    let mut signed = record(
        AcceptanceKind::Accepted,
        &inputs,
        &["support-email"],
        1,
        GENESIS_DIGEST,
    );
    signed.motion = "self-serve-paid-launch".to_owned();
    let status = room_status(&RoomInputs {
        register: &register,
        inputs: &inputs,
        motion: "self-serve-paid-launch",
        evidence: &all_evidence(&register),
        latest: Some(&signed),
    });
    let motion = status.motion.unwrap();
    assert_eq!(motion.status, MotionStatus::Blocked);
    let excluded = motion
        .reasons
        .iter()
        .find(|reason| matches!(reason, Reason::RequiredBlockerLive { blocker, .. } if blocker == "support-email"))
        .unwrap();
    assert!(excluded
        .to_string()
        .ends_with("scoped out by the acceptance, but this motion requires it cleared"));
    assert!(status
        .outstanding
        .iter()
        .any(|line| line.contains("cannot be accepted while blocked")));
}

#[test]
fn a_readiness_change_after_signing_makes_the_room_stale_and_says_what_changed() {
    let register = thesmios();
    let before = inputs_with(&register, &[]);
    let evidence = all_evidence(&register);
    let signed = record(AcceptanceKind::Accepted, &before, &[], 1, GENESIS_DIGEST);
    let after = with_passing_proofs(
        inputs_with(&register, &["RESEND_API_KEY"]),
        &["support-notification"],
    );
    let status = status_of(&register, &after, &evidence, Some(&signed));
    assert_eq!(status.state, RoomState::Stale);
    assert!(!status.is_live());
    let changes: Vec<String> = status
        .changed_since_acceptance
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        changes,
        vec![
            "RESEND_API_KEY: missing → configured",
            "proof support-notification: not passing → passing"
        ]
    );
    // The acceptance gate is outstanding again: the tenant's motion is conditional.
    let reasons = &status.motion.as_ref().unwrap().reasons;
    assert!(reasons.iter().any(|reason| matches!(reason, Reason::EvidenceGateOutstanding { gate, .. } if gate == "customer-acceptance-record")));
}

#[test]
fn a_revocation_ends_the_acceptance() {
    let register = thesmios();
    let inputs = inputs_with(&register, &[]);
    let evidence = all_evidence(&register);
    let signed = record(
        AcceptanceKind::Accepted,
        &inputs,
        &["support-email"],
        1,
        GENESIS_DIGEST,
    );
    let revoked = record(AcceptanceKind::Revoked, &inputs, &[], 2, &signed.digest);
    let status = status_of(&register, &inputs, &evidence, Some(&revoked));
    assert_eq!(status.state, RoomState::Revoked);
    assert!(!status.is_live());
    // Its exclusions went with it.
    assert!(status.motion.unwrap().reasons.iter().any(|reason| matches!(reason, Reason::ScopedBlockerLive { blocker, .. } if blocker == "support-email")));
}

#[test]
fn a_tenant_without_a_known_motion_stays_in_setup() {
    let register = thesmios();
    let inputs = inputs_with(&register, &[]);
    let status = room_status(&RoomInputs {
        register: &register,
        inputs: &inputs,
        motion: "",
        evidence: &BTreeMap::new(),
        latest: None,
    });
    assert_eq!(status.state, RoomState::Setup);
    assert!(status.motion.is_none());
    assert!(!status.accepts_signature());
}

#[test]
fn a_signature_is_checked_field_by_field_and_against_the_room() {
    let register = thesmios();
    let inputs = inputs_with(&register, &[]);
    let ready = status_of(&register, &inputs, &all_evidence(&register), None);
    let digest = inputs.digest();

    let checked = check_acceptance(
        &form(&digest, &["support-email", "support-email", " "]),
        &ready,
    )
    .unwrap();
    assert_eq!(checked.exclusions, vec!["support-email"]);

    let mut bad = form(
        "0".repeat(64).as_str(),
        &["stripe-self-serve-billing", "nope"],
    );
    bad.signer_name = "  ".to_owned();
    bad.signer_role = "x".repeat(MAX_FIELD_CHARS + 1);
    bad.approval_reference = "PO\u{7}1".to_owned();
    bad.residual_risks = "fine\nmultiline\tok".to_owned();
    let errors = check_acceptance(&bad, &ready).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "signer_name",
            "signer_role",
            "approval_reference",
            "exclusions",
            "readiness_digest"
        ]
    );
    assert_eq!(
        errors[3].message,
        "nope, stripe-self-serve-billing are not a live blocker this motion allows to be scoped out"
    );

    let setup = status_of(&register, &inputs, &BTreeMap::new(), None);
    let errors = check_acceptance(&form(&digest, &[]), &setup).unwrap_err();
    assert_eq!(errors[0].field, "room");
    assert!(errors[0]
        .message
        .starts_with("the launch room is not ready for acceptance: Customer order-form scope"));

    let mut long = form(&digest, &[]);
    long.residual_risks = "r".repeat(MAX_TEXT_CHARS + 1);
    assert_eq!(check_acceptance_fields(&long)[0].field, "residual_risks");
}

#[test]
fn only_a_standing_acceptance_can_be_revoked() {
    let register = thesmios();
    let inputs = inputs_with(&register, &[]);
    let evidence = all_evidence(&register);
    let revocation = RevocationForm {
        signer_name: "Ada".to_owned(),
        signer_role: "COO".to_owned(),
        reason: "Scope changed".to_owned(),
    };
    let ready = status_of(&register, &inputs, &evidence, None);
    assert_eq!(
        check_revocation(&revocation, &ready).unwrap_err()[0].field,
        "room"
    );
    let signed = record(AcceptanceKind::Accepted, &inputs, &[], 1, GENESIS_DIGEST);
    let accepted = status_of(&register, &inputs, &evidence, Some(&signed));
    let checked = check_revocation(&revocation, &accepted).unwrap();
    assert_eq!(checked.kind, AcceptanceKind::Revoked);
    let empty = RevocationForm::default();
    let fields: Vec<String> = check_revocation(&empty, &accepted)
        .unwrap_err()
        .into_iter()
        .map(|error| error.field)
        .collect();
    assert_eq!(fields, vec!["signer_name", "signer_role", "reason"]);
}

#[test]
fn evidence_changes_fold_into_what_is_attached_now() {
    let register = thesmios();
    let gate = register.gate("order-form-scope").unwrap();
    let attach = EvidenceForm {
        gate_id: gate.id.clone(),
        item: gate.items[0].clone(),
        reference: "https://example.com/po".to_owned(),
        note: "signed".to_owned(),
    };
    let checked = check_evidence(
        &register,
        EvidenceAction::Attached,
        &attach,
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(checked.item, gate.items[0]);
    // Detaching what is not attached is refused.
    let errors = check_evidence(
        &register,
        EvidenceAction::Detached,
        &attach,
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert_eq!(errors[0].field, "item");
    // Unknown gates and items, missing references, and the acceptance gate are refused.
    let mut wrong = attach.clone();
    wrong.item = "Something else".to_owned();
    wrong.reference = String::new();
    let fields: Vec<String> = check_evidence(
        &register,
        EvidenceAction::Attached,
        &wrong,
        &BTreeMap::new(),
    )
    .unwrap_err()
    .into_iter()
    .map(|error| error.field)
    .collect();
    assert_eq!(fields, vec!["item", "reference"]);
    let mut acceptance_gate = attach.clone();
    acceptance_gate.gate_id = "customer-acceptance-record".to_owned();
    assert_eq!(
        check_evidence(
            &register,
            EvidenceAction::Attached,
            &acceptance_gate,
            &BTreeMap::new()
        )
        .unwrap_err()[0]
            .field,
        "gate_id"
    );

    let at = Utc.with_ymd_and_hms(2026, 11, 3, 0, 0, 0).unwrap();
    let change = |seq: i32, action: EvidenceAction, reference: &str| EvidenceChange {
        id: i64::from(seq),
        tenant_id: 1,
        seq,
        action,
        gate_id: gate.id.clone(),
        item: gate.items[0].clone(),
        reference: reference.to_owned(),
        note: String::new(),
        account_id: Some(1),
        actor: "op".to_owned(),
        at,
        prev_digest: GENESIS_DIGEST.to_owned(),
        digest: String::new(),
        format: FORMAT_V2,
    };
    let changes = vec![
        change(1, EvidenceAction::Attached, "first"),
        change(2, EvidenceAction::Attached, "second"),
    ];
    let current = current_evidence(&changes);
    assert_eq!(current.len(), 1);
    assert_eq!(current.values().next().unwrap().reference, "second");
    let mut detached = changes;
    detached.push(change(3, EvidenceAction::Detached, ""));
    assert!(current_evidence(&detached).is_empty());
}

#[test]
fn evidence_fields_are_held_to_their_limits() {
    let mut register = thesmios();
    let gate = register.gate("order-form-scope").unwrap().clone();
    let fields = |register: &Register, form: &EvidenceForm| -> Vec<String> {
        check_evidence(register, EvidenceAction::Attached, form, &BTreeMap::new())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|error| error.field)
            .collect()
    };
    let longest = EvidenceForm {
        gate_id: gate.id.clone(),
        item: gate.items[0].clone(),
        reference: "r".repeat(MAX_REFERENCE_CHARS),
        note: "n".repeat(MAX_NOTE_CHARS),
    };
    assert!(fields(&register, &longest).is_empty());
    let mut too_long = longest.clone();
    too_long.reference.push('r');
    too_long.note.push('n');
    assert_eq!(fields(&register, &too_long), ["reference", "note"]);
    // An item the database could not hold is refused before it gets there.
    let long_item = "i".repeat(MAX_ITEM_CHARS + 1);
    let index = register
        .customer_evidence
        .gates
        .iter()
        .position(|g| g.id == gate.id)
        .unwrap();
    register.customer_evidence.gates[index]
        .items
        .push(long_item.clone());
    let mut long = longest;
    long.item = long_item;
    assert_eq!(fields(&register, &long), ["item"]);
}

fn chain(length: i32) -> Vec<AcceptanceRecord> {
    let register = thesmios();
    let inputs = inputs_with(&register, &[]);
    let mut records: Vec<AcceptanceRecord> = Vec::new();
    for seq in 1..=length {
        let prev = records
            .last()
            .map_or(GENESIS_DIGEST.to_owned(), |record| record.digest.clone());
        records.push(record(AcceptanceKind::Accepted, &inputs, &[], seq, &prev));
    }
    records
}

fn head_of(records: &[AcceptanceRecord]) -> ChainHead {
    let last = records.last().unwrap();
    ChainHead {
        seq: last.seq,
        digest: last.digest.clone(),
    }
}

#[test]
fn an_intact_chain_verifies_and_every_kind_of_tampering_is_caught() {
    let records = chain(5);
    let head = head_of(&records);
    assert_eq!(verify_chain(&records, Some(&head)), Ok(5));
    assert_eq!(verify_chain::<AcceptanceRecord>(&[], None), Ok(0));

    // A changed field.
    let mut flipped = records.clone();
    flipped[2].signer_name = "Eve".to_owned();
    assert!(matches!(
        verify_chain(&flipped, Some(&head)),
        Err(ChainBreak::Altered { seq: 3, .. })
    ));

    // A changed field with its digest recomputed: the next link breaks.
    let mut rehashed = records.clone();
    rehashed[2].signer_name = "Eve".to_owned();
    rehashed[2].digest = rehashed[2].computed_digest();
    assert_eq!(
        verify_chain(&rehashed, Some(&head)),
        Err(ChainBreak::LinkBroken { seq: 4, row: 4 })
    );

    // Readiness inputs swapped under an unchanged digest.
    let mut inputs_changed = records.clone();
    inputs_changed[0]
        .readiness_inputs
        .proofs
        .insert("x".to_owned(), true);
    assert!(matches!(
        verify_chain(&inputs_changed, Some(&head)),
        Err(ChainBreak::Altered { seq: 1, .. })
    ));

    // A deleted record.
    let mut deleted = records.clone();
    deleted.remove(1);
    assert_eq!(
        verify_chain(&deleted, Some(&head)),
        Err(ChainBreak::OutOfSequence {
            expected: 2,
            found: 3,
            row: 3
        })
    );

    // Two records reordered (their sequence numbers swapped).
    let mut reordered = records.clone();
    reordered.swap(1, 2);
    reordered[1].seq = 2;
    reordered[2].seq = 3;
    assert!(matches!(
        verify_chain(&reordered, Some(&head)),
        Err(ChainBreak::LinkBroken { seq: 2, .. })
    ));

    // The tail cut off, and everything removed.
    assert_eq!(
        verify_chain(&records[..3], Some(&head)),
        Err(ChainBreak::Truncated {
            ends_at: 3,
            head: 5
        })
    );
    assert_eq!(
        verify_chain::<AcceptanceRecord>(&[], Some(&head)),
        Err(ChainBreak::Truncated {
            ends_at: 0,
            head: 5
        })
    );
    // Records with no head, and a head that names another record.
    assert_eq!(verify_chain(&records, None), Err(ChainBreak::NoHead));
    let other = ChainHead {
        seq: 5,
        digest: GENESIS_DIGEST.to_owned(),
    };
    assert_eq!(
        verify_chain(&records, Some(&other)),
        Err(ChainBreak::HeadMismatch { seq: 5 })
    );
}

#[test]
fn the_canonical_encoding_is_stable_across_a_database_round_trip() {
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 3, 4, 5).unwrap()
        + chrono::Duration::nanoseconds(123_456_789);
    let stored = storable_time(at);
    assert_eq!(canonical_time(stored), "2026-11-02T03:04:05.123456Z");
    let records = chain(1);
    // The same record always encodes to the same digest.
    assert_eq!(records[0].digest, records[0].computed_digest());
    assert_eq!(records[0].digest.len(), 64);
}

#[test]
fn billing_routes_parse_from_forms() {
    assert_eq!(
        BillingRoute::parse("invoice-only"),
        Some(BillingRoute::InvoiceOnly)
    );
    assert_eq!(
        BillingRoute::parse("stripe_ready"),
        Some(BillingRoute::StripeReady)
    );
    assert_eq!(BillingRoute::parse("cash"), None);
    assert!(check_motion(&thesmios(), "managed-private-beta").is_ok());
    assert_eq!(
        check_motion(&thesmios(), "nope").unwrap_err().field,
        "motion"
    );
}

#[test]
fn format_2_digests_cover_the_signing_account_and_format_1_still_verifies() {
    let inputs = ReadinessInputs::default();
    let signed = record(AcceptanceKind::Accepted, &inputs, &[], 1, GENESIS_DIGEST);
    // Another account, same everything else: format 2 notices.
    let mut other = signed.clone();
    other.account_id = Some(4);
    assert_ne!(other.computed_digest(), signed.digest);
    // A record of the first format never covered the account: changing it does
    // not change its digest, and it still verifies as it always did.
    let mut old = signed.clone();
    old.format = FORMAT_V1;
    old.digest = old.computed_digest();
    assert_ne!(old.digest, signed.digest);
    let mut old_other = old.clone();
    old_other.account_id = None;
    assert_eq!(old_other.computed_digest(), old.digest);
    // Every other field is covered in both formats.
    let mut renamed = signed.clone();
    renamed.signer_name = "Mallory".to_owned();
    assert_ne!(renamed.computed_digest(), signed.digest);
}
