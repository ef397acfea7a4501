//! Unit tests of the register file rules and of every evaluation transition,
//! against the embedded Thesmios register.

#![cfg(feature = "ssr")]
#![expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

use std::collections::BTreeMap;

use super::register_file::{parse_register, DEFAULT_REGISTER};
use super::*;

mod deployment;
mod events;
mod health_checks;
mod launch_room;
mod outlook;
mod register_file;
mod triage;

use register_file::{altered, assert_single_problem};

fn thesmios() -> Register {
    parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap()
}

/// Readiness with the public checks passing, only `configured` present, and no
/// proof run.
fn inputs_with(register: &Register, configured: &[&str]) -> ReadinessInputs {
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

fn with_passing_proofs(mut inputs: ReadinessInputs, proofs: &[&str]) -> ReadinessInputs {
    for proof in proofs {
        inputs.proofs.insert((*proof).to_owned(), true);
    }
    inputs
}

/// Every dependency configured and every proof passing.
fn everything_configured(register: &Register) -> ReadinessInputs {
    let names = register.dependency_names();
    let proofs: Vec<&str> = register
        .proofs
        .iter()
        .map(|proof| proof.id.as_str())
        .collect();
    with_passing_proofs(inputs_with(register, &names), &proofs)
}

fn status(evaluation: &Evaluation, motion: &str) -> MotionStatus {
    evaluation.motion(motion).unwrap().status
}

// --- The seed's picture -------------------------------------------------------

#[test]
fn nothing_configured_computes_exactly_the_seed_picture() {
    let register = thesmios();
    let evaluation = evaluate(&register, &inputs_with(&register, &[]));
    assert_eq!(evaluation.advisory, Readiness::Degraded);
    assert_eq!(evaluation.strict, Readiness::NotReady);
    assert_eq!(evaluation.live_blockers, 7);
    assert_eq!(evaluation.evidence_gates, 6);
    assert_eq!(
        status(&evaluation, "managed-private-beta"),
        MotionStatus::Conditional
    );
    assert_eq!(
        status(&evaluation, "invoice-led-paid-beta"),
        MotionStatus::Conditional
    );
    assert_eq!(
        status(&evaluation, "self-serve-paid-launch"),
        MotionStatus::Blocked
    );
    assert_eq!(
        status(&evaluation, "broad-enterprise-expansion"),
        MotionStatus::Blocked
    );
    assert_eq!(
        decision_summary(&register, &evaluation),
        "Managed private beta: conditional. Invoice-led paid beta: conditional. \
         Self-serve paid launch: blocked. Enterprise expansion: blocked."
    );
}

#[test]
fn an_empty_dependency_map_counts_every_dependency_as_missing() {
    let register = thesmios();
    let evaluation = evaluate(&register, &ReadinessInputs::default());
    assert_eq!(evaluation.live_blockers, 7);
    assert_eq!(evaluation.advisory, Readiness::Degraded);
}

#[test]
fn the_default_register_holds_every_seed_row() {
    let register = thesmios();
    let seed_blockers = [
        "Authenticated smoke fixture records",
        "Support email",
        "Stripe self-serve billing",
        "Enterprise OIDC broker config",
        "Enterprise SAML IdP config",
        "HRIS connector credentials",
        "Official issuer connector credentials",
    ];
    let titles: Vec<&str> = register.blockers.iter().map(|b| b.title.as_str()).collect();
    assert_eq!(titles, seed_blockers);
    assert_eq!(register.dependency_names().len(), 21);
    assert_eq!(register.proofs.len(), 4);
    assert_eq!(register.customer_evidence.gates.len(), 6);
    assert_eq!(register.evidence_packs.packs.len(), 10);
    assert_eq!(register.boundaries.statements.len(), 3);
    assert_eq!(
        register.decision.strict_check_command,
        "THESMIOS_SMOKE_URL=https://www.thesmios.com npm run check:readiness -- --strict"
    );
}

// --- Transitions ----------------------------------------------------------------

#[test]
fn configuring_everything_makes_strict_readiness_ready_and_self_serve_clear() {
    let register = thesmios();
    let evaluation = evaluate(&register, &everything_configured(&register));
    assert_eq!(evaluation.live_blockers, 0);
    assert_eq!(evaluation.advisory, Readiness::Ready);
    assert_eq!(evaluation.strict, Readiness::Ready);
    assert_eq!(
        status(&evaluation, "self-serve-paid-launch"),
        MotionStatus::Clear
    );
    // Customer evidence is per tenant: the public view still needs it.
    assert_eq!(
        status(&evaluation, "managed-private-beta"),
        MotionStatus::Conditional
    );
    assert_eq!(
        status(&evaluation, "broad-enterprise-expansion"),
        MotionStatus::Conditional
    );
    let reasons = &evaluation.motion("managed-private-beta").unwrap().reasons;
    assert!(reasons
        .iter()
        .all(|reason| matches!(reason, Reason::EvidenceGateOutstanding { .. })));
}

#[test]
fn one_missing_stripe_key_blocks_self_serve_with_that_reason() {
    let register = thesmios();
    let mut inputs = everything_configured(&register);
    inputs.dependencies.insert(
        "STRIPE_PRICE_MONITORING".to_owned(),
        DependencyState::Missing,
    );
    let evaluation = evaluate(&register, &inputs);
    assert_eq!(evaluation.live_blockers, 1);
    assert_eq!(evaluation.strict, Readiness::NotReady);
    assert_eq!(evaluation.advisory, Readiness::Degraded);
    let self_serve = evaluation.motion("self-serve-paid-launch").unwrap();
    assert_eq!(self_serve.status, MotionStatus::Blocked);
    assert!(self_serve.reasons.contains(&Reason::RequiredBlockerLive {
        blocker: "stripe-self-serve-billing".to_owned(),
        title: "Stripe self-serve billing".to_owned(),
        missing: vec!["STRIPE_PRICE_MONITORING".to_owned()],
        unproven: None,
        excluded: false,
    }));
    let text: Vec<String> = self_serve.reasons.iter().map(ToString::to_string).collect();
    assert!(text.contains(
        &"Required blocker live: Stripe self-serve billing (STRIPE_PRICE_MONITORING missing)"
            .to_owned()
    ));
    // Invoice-led paid beta may run while Stripe is blocked: conditional, not blocked.
    assert_eq!(
        status(&evaluation, "invoice-led-paid-beta"),
        MotionStatus::Conditional
    );
}

#[test]
fn configuring_a_dependency_and_passing_its_proof_clears_only_its_blocker() {
    let register = thesmios();
    let inputs = with_passing_proofs(
        inputs_with(&register, &["RESEND_API_KEY"]),
        &["support-status-notification"],
    );
    let evaluation = evaluate(&register, &inputs);
    assert_eq!(evaluation.live_blockers, 6);
    assert!(!evaluation.blocker("support-email").unwrap().live);
    assert!(
        evaluation
            .blocker("stripe-self-serve-billing")
            .unwrap()
            .live
    );
}

#[test]
fn a_configured_blocker_stays_live_until_its_proof_passes() {
    let register = thesmios();
    let names = register.dependency_names();
    let evaluation = evaluate(&register, &inputs_with(&register, &names));
    assert_eq!(evaluation.live_blockers, 7);
    let support = evaluation.blocker("support-email").unwrap();
    assert!(support.live && support.missing.is_empty() && !support.proof_passing);
    let self_serve = evaluation.motion("self-serve-paid-launch").unwrap();
    let text: Vec<String> = self_serve.reasons.iter().map(ToString::to_string).collect();
    assert!(
        text.contains(
            &"Required blocker live: Support email (Support and status notification proof has no passing run)"
                .to_owned()
        ),
        "{text:?}"
    );
}

#[test]
fn a_passing_proof_does_not_clear_a_blocker_with_a_missing_dependency() {
    let register = thesmios();
    let inputs = with_passing_proofs(
        inputs_with(&register, &[]),
        &["support-status-notification"],
    );
    let evaluation = evaluate(&register, &inputs);
    let support = evaluation.blocker("support-email").unwrap();
    assert!(support.live && support.proof_passing);
    assert_eq!(evaluation.live_blockers, 7);
}

#[test]
fn one_proof_shared_by_four_blockers_clears_none_while_their_keys_are_missing() {
    let register = thesmios();
    let inputs = with_passing_proofs(inputs_with(&register, &[]), &["scim-enterprise-sso"]);
    assert_eq!(evaluate(&register, &inputs).live_blockers, 7);
}

#[test]
fn the_history_records_what_changed_between_two_evaluations() {
    let register = thesmios();
    let before = evaluate(&register, &inputs_with(&register, &[])).summary();
    let after = evaluate(&register, &everything_configured(&register)).summary();
    let changes = changes_between(&before, &after);
    assert!(changes.contains(&ReadinessChange::AdvisoryChanged {
        from: Readiness::Degraded,
        to: Readiness::Ready
    }));
    assert!(changes.contains(&ReadinessChange::StrictChanged {
        from: Readiness::NotReady,
        to: Readiness::Ready
    }));
    let cleared = changes
        .iter()
        .filter(|change| matches!(change, ReadinessChange::BlockerCleared { .. }))
        .count();
    assert_eq!(cleared, 7);
    assert!(changes.contains(&ReadinessChange::MotionChanged {
        motion: "self-serve-paid-launch".to_owned(),
        from: Some(MotionStatus::Blocked),
        to: Some(MotionStatus::Clear),
    }));
    let back = changes_between(&after, &before);
    let went_live = back
        .iter()
        .filter(|change| matches!(change, ReadinessChange::BlockerWentLive { .. }))
        .count();
    assert_eq!(went_live, 7);
    assert!(changes_between(&before, &before).is_empty());
}

#[test]
fn the_readiness_settings_default_and_are_validated() {
    let register = thesmios();
    assert_eq!(register.readiness.url, None);
    assert_eq!(register.readiness.proof_freshness_days, 30);
    let text = altered("poll_interval_secs = 5", "poll_interval_secs = 0");
    assert_single_problem(
        &text,
        "poll_interval_secs = 0",
        "readiness.poll_interval_secs must be between 1 and 3600",
    );
    let text = altered(
        "timeout_ms = 2000",
        "timeout_ms = 2000\nurl = \"ftp://example.com\"",
    );
    assert_single_problem(&text, "ftp://", "must start with http:// or https://");
}

#[test]
fn the_proof_warning_margin_defaults_to_a_day_and_is_bounded() {
    assert_eq!(thesmios().readiness.proof_warning_hours, 24);
    let text = altered(
        "proof_freshness_days = 30",
        "proof_freshness_days = 30\nproof_warning_hours = 72",
    );
    let register = parse_register("custom.toml", &text).unwrap();
    assert_eq!(register.readiness.proof_warning_hours, 72);
    let text = altered(
        "proof_freshness_days = 30",
        "proof_freshness_days = 30\nproof_warning_hours = 100000",
    );
    assert_single_problem(
        &text,
        "100000",
        "readiness.proof_warning_hours must be between 0 and 87600",
    );
}

#[test]
fn a_blocker_stays_live_until_every_dependency_is_configured() {
    let register = thesmios();
    let evaluation = evaluate(
        &register,
        &inputs_with(&register, &["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]),
    );
    let stripe = evaluation.blocker("stripe-self-serve-billing").unwrap();
    assert!(stripe.live);
    assert_eq!(
        stripe.missing,
        ["STRIPE_PRICE_REPORT", "STRIPE_PRICE_MONITORING"]
    );
}

#[test]
fn failing_public_checks_make_advisory_not_ready_and_block_every_motion() {
    let register = thesmios();
    let mut inputs = everything_configured(&register);
    inputs.public_checks[0].passed = false;
    let evaluation = evaluate(&register, &inputs);
    assert_eq!(evaluation.advisory, Readiness::NotReady);
    assert_eq!(evaluation.strict, Readiness::NotReady);
    for motion in &evaluation.motions {
        assert_eq!(motion.status, MotionStatus::Blocked, "{}", motion.id);
        assert!(motion.reasons.contains(&Reason::PublicChecksFailing {
            checks: vec!["database reachable".to_owned()]
        }));
    }
}

#[test]
fn private_beta_blockers_cleared_leave_private_beta_conditional_only_on_evidence() {
    let register = thesmios();
    let inputs = with_passing_proofs(
        inputs_with(
            &register,
            &["data_sets", "data_set_records", "RESEND_API_KEY"],
        ),
        &["authenticated-access-rls", "support-status-notification"],
    );
    let evaluation = evaluate(&register, &inputs);
    let beta = evaluation.motion("managed-private-beta").unwrap();
    assert_eq!(beta.status, MotionStatus::Conditional);
    assert!(beta
        .reasons
        .iter()
        .all(|reason| matches!(reason, Reason::EvidenceGateOutstanding { .. })));
    // Enterprise blockers remain, so strict readiness still fails.
    assert_eq!(evaluation.strict, Readiness::NotReady);
    assert_eq!(
        status(&evaluation, "self-serve-paid-launch"),
        MotionStatus::Blocked
    );
}

#[test]
fn enterprise_blockers_do_not_hold_back_private_beta() {
    let register = thesmios();
    let evaluation = evaluate(&register, &inputs_with(&register, &[]));
    let beta = evaluation.motion("managed-private-beta").unwrap();
    let scoped: Vec<&str> = beta
        .reasons
        .iter()
        .filter_map(|reason| match reason {
            Reason::ScopedBlockerLive { blocker, .. } => Some(blocker.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(scoped, ["authenticated-smoke-fixtures", "support-email"]);
}

#[test]
fn a_tenant_with_all_evidence_and_exclusions_is_clear_for_private_beta() {
    let register = thesmios();
    let context = CustomerContext {
        satisfied_gates: register
            .customer_evidence
            .gates
            .iter()
            .map(|gate| gate.id.clone())
            .collect(),
        excluded_blockers: ["authenticated-smoke-fixtures", "support-email"]
            .map(str::to_owned)
            .into(),
    };
    let evaluation = evaluate_with_context(&register, &inputs_with(&register, &[]), &context);
    assert_eq!(
        status(&evaluation, "managed-private-beta"),
        MotionStatus::Clear
    );
    // An exclusion cannot lift a hard requirement.
    assert_eq!(
        status(&evaluation, "self-serve-paid-launch"),
        MotionStatus::Blocked
    );
}

#[test]
fn equal_inputs_have_equal_digests_and_any_change_alters_it() {
    let register = thesmios();
    let a = inputs_with(&register, &["RESEND_API_KEY"]);
    let b = inputs_with(&register, &["RESEND_API_KEY"]);
    let c = inputs_with(&register, &[]);
    assert_eq!(a.digest(), b.digest());
    assert_ne!(a.digest(), c.digest());
    assert_eq!(a.digest().len(), 64);
}

#[test]
fn readiness_levels_follow_the_brief() {
    use evaluation::{advisory_readiness, strict_readiness};
    assert_eq!(advisory_readiness(true, 0), Readiness::Ready);
    assert_eq!(advisory_readiness(true, 3), Readiness::Degraded);
    assert_eq!(advisory_readiness(false, 0), Readiness::NotReady);
    assert_eq!(strict_readiness(true, 0), Readiness::Ready);
    assert_eq!(strict_readiness(true, 1), Readiness::NotReady);
    assert_eq!(strict_readiness(false, 0), Readiness::NotReady);
}
