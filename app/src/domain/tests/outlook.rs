//! The motion view's requirements and the steps that would change a status.

use super::super::outlook::{motion_outlook, Action};
use super::*;

fn outlook_of(
    register: &Register,
    inputs: &ReadinessInputs,
    motion: &str,
) -> super::super::outlook::MotionOutlook {
    let evaluation = evaluate(register, inputs);
    let motion = register.motions.iter().find(|m| m.id == motion).unwrap();
    motion_outlook(register, motion, inputs, &evaluation)
}

#[test]
fn private_beta_lists_each_requirement_met_or_unmet() {
    let register = thesmios();
    let outlook = outlook_of(
        &register,
        &inputs_with(&register, &[]),
        "managed-private-beta",
    );
    let requirements: Vec<(String, bool, bool)> = outlook
        .requirements
        .iter()
        .map(|r| (r.text.clone(), r.met, r.hard))
        .collect();
    assert_eq!(
        requirements[0],
        ("Public checks pass".to_owned(), true, true)
    );
    assert_eq!(
        requirements[1],
        (
            "Every private beta blocker proven or scoped into the order form (2 live)".to_owned(),
            false,
            false
        )
    );
    assert_eq!(
        outlook.requirements[1].blockers,
        ["authenticated-smoke-fixtures", "support-email"]
    );
    assert_eq!(requirements.len(), 2 + 4, "four evidence gates");
    assert!(requirements[2..].iter().all(|(_, met, hard)| !met && !hard));
}

#[test]
fn a_conditional_motion_becomes_clear_once_its_scope_and_evidence_are_settled() {
    let register = thesmios();
    let outlook = outlook_of(
        &register,
        &inputs_with(&register, &[]),
        "managed-private-beta",
    );
    assert_eq!(outlook.steps.len(), 1);
    let step = &outlook.steps[0];
    assert_eq!(step.to, MotionStatus::Clear);
    assert_eq!(
        step.actions[1].to_string(),
        "configure RESEND_API_KEY and pass the Support and status notification proof \
         (or scope Support email into the order form)"
    );
    assert!(matches!(
        step.actions.last(),
        Some(Action::AttachEvidence { .. })
    ));
}

#[test]
fn a_blocked_motion_names_what_makes_it_conditional_then_clear() {
    let register = thesmios();
    // Everything but Stripe: self-serve is blocked by the Stripe blocker alone.
    let names: Vec<&str> = register
        .dependency_names()
        .into_iter()
        .filter(|name| *name != "STRIPE_SECRET_KEY")
        .collect();
    let proofs: Vec<&str> = register
        .proofs
        .iter()
        .map(|p| p.id.as_str())
        .filter(|id| *id != "stripe-self-serve-billing")
        .collect();
    let inputs = with_passing_proofs(inputs_with(&register, &names), &proofs);
    let outlook = outlook_of(&register, &inputs, "self-serve-paid-launch");
    assert_eq!(outlook.steps.len(), 1);
    assert_eq!(
        outlook.steps[0].to_string(),
        "configure STRIPE_SECRET_KEY and pass the Stripe self-serve billing proof → clear"
    );

    // Invoice-led paid beta with the same inputs: Stripe is scoped (paid launch),
    // so only scoping and evidence remain.
    let paid_beta = outlook_of(&register, &inputs, "invoice-led-paid-beta");
    assert_eq!(paid_beta.steps.len(), 1);
    assert_eq!(paid_beta.steps[0].to, MotionStatus::Clear);

    // Failing public checks block; fixing them is the first step.
    let mut failing = inputs.clone();
    failing.public_checks[0].passed = false;
    let blocked = outlook_of(&register, &failing, "invoice-led-paid-beta");
    assert_eq!(blocked.steps.len(), 2);
    assert_eq!(
        blocked.steps[0].to_string(),
        "make the public checks pass (database reachable) → conditional"
    );
    assert_eq!(blocked.steps[1].to, MotionStatus::Clear);
}

#[test]
fn a_clear_motion_has_no_steps() {
    let register = thesmios();
    let outlook = outlook_of(
        &register,
        &everything_configured(&register),
        "self-serve-paid-launch",
    );
    assert!(outlook.steps.is_empty());
    assert!(outlook.requirements.iter().all(|r| r.met));
}
