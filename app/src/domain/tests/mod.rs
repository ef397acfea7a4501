//! Unit tests of the register file rules and of every evaluation transition,
//! against the embedded Thesmios register.

#![cfg(feature = "ssr")]
#![expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

use std::collections::BTreeMap;

use super::register_file::{parse_register, RegisterFileError, DEFAULT_REGISTER};
use super::*;

mod launch_room;
mod outlook;
mod triage;

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

// --- Register file rules --------------------------------------------------------

fn refused(text: &str) -> RegisterFileError {
    parse_register("bad.toml", text).unwrap_err()
}

/// The default register with one text replaced, so each rule is tested in
/// an otherwise valid file.
fn altered(from: &str, to: &str) -> String {
    assert!(
        DEFAULT_REGISTER.contains(from),
        "fixture text not found: {from}"
    );
    DEFAULT_REGISTER.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

fn assert_single_problem(text: &str, needle: &str, message: &str) {
    let error = refused(text);
    assert_eq!(error.problems.len(), 1, "{error}");
    let problem = &error.problems[0];
    assert_eq!(problem.line, line_of(text, needle), "{error}");
    assert!(problem.message.contains(message), "{error}");
    let shown = error.to_string();
    assert!(
        shown.contains(&format!("bad.toml:{}:", problem.line)),
        "{shown}"
    );
}

/// Like [`assert_single_problem`], for edits that also break references elsewhere.
fn assert_has_problem(text: &str, needle: &str, message: &str) {
    let error = refused(text);
    let line = line_of(text, needle);
    assert!(
        error
            .problems
            .iter()
            .any(|problem| problem.line == line && problem.message.contains(message)),
        "expected line {line}: {message}\n{error}"
    );
}

#[test]
fn the_default_register_is_valid() {
    assert!(parse_register("thesmios.toml", DEFAULT_REGISTER).is_ok());
}

#[test]
fn an_unknown_blocker_id_in_a_motion_is_refused_with_its_line() {
    let text = altered(
        r#"cleared_blockers = ["stripe-self-serve-billing","#,
        r#"cleared_blockers = ["stripe-billing","#,
    );
    assert_single_problem(
        &text,
        "\"stripe-billing\"",
        "unknown blocker id \"stripe-billing\"",
    );
}

#[test]
fn a_duplicate_blocker_id_is_refused() {
    let text = altered(
        r#"id = "support-email""#,
        r#"id = "authenticated-smoke-fixtures""#,
    );
    let needle = "id = \"authenticated-smoke-fixtures\"\ntitle = \"Support email\"";
    assert_has_problem(&text, needle, "duplicate blocker id");
}

#[test]
fn an_empty_title_is_refused() {
    let text = altered(r#"title = "Support email""#, r#"title = "  ""#);
    assert_single_problem(&text, r#"title = "  ""#, "blocker title is empty");
}

#[test]
fn an_unknown_scope_is_refused() {
    let text = altered(
        r#"scope = "paid-launch""#,
        r#"scope = "general-availability""#,
    );
    assert_single_problem(&text, "general-availability", "unknown scope id");
}

#[test]
fn an_unknown_proof_is_refused() {
    let text = altered(
        r#"proof = "authenticated-access-rls""#,
        r#"proof = "rls-proof""#,
    );
    assert_single_problem(&text, "rls-proof", "unknown proof id");
}

#[test]
fn an_unknown_evidence_gate_in_a_motion_is_refused() {
    let text = altered(
        r#"evidence_gates = ["order-form-scope", "billing-route""#,
        r#"evidence_gates = ["order-form", "billing-route""#,
    );
    assert_single_problem(&text, "\"order-form\"", "unknown evidence gate id");
}

#[test]
fn a_blocker_without_dependencies_is_refused() {
    let text = altered(r#"dependencies = ["RESEND_API_KEY"]"#, "dependencies = []");
    assert_single_problem(&text, "dependencies = []", "at least one dependency");
}

#[test]
fn an_invalid_dependency_name_is_refused() {
    let text = altered(
        r#"dependencies = ["RESEND_API_KEY"]"#,
        r#"dependencies = ["RESEND API KEY"]"#,
    );
    assert_single_problem(&text, "RESEND API KEY", "dependency name");
}

#[test]
fn a_dependency_listed_twice_in_a_blocker_is_refused() {
    let text = altered(
        r#"dependencies = ["RESEND_API_KEY"]"#,
        r#"dependencies = ["RESEND_API_KEY", "RESEND_API_KEY"]"#,
    );
    let error = refused(&text);
    assert_eq!(error.problems.len(), 1, "{error}");
    assert!(error.problems[0].message.contains("listed twice"));
}

#[test]
fn a_malformed_id_is_refused() {
    let text = altered(r#"id = "support-email""#, r#"id = "Support Email""#);
    assert_has_problem(
        &text,
        "\"Support Email\"",
        "blocker id \"Support Email\" must be",
    );
}

#[test]
fn an_evidence_gate_without_items_is_refused() {
    let text = altered(
        r#"items = ["Named customer support owner", "Manual incident communication channel", "Status subscriber and broadcast dry-run evidence", "Support request notification lifecycle fixture output", "Controlled send proof when RESEND_API_KEY and sender reputation are configured"]"#,
        "items = []",
    );
    assert_single_problem(&text, "items = []", "at least one evidence item");
}

#[test]
fn an_evidence_pack_path_must_be_absolute_and_unique() {
    let text = altered(
        r#"path = "/api/product/production-proof""#,
        r#"path = "api/product/production-proof""#,
    );
    assert_single_problem(
        &text,
        "\"api/product/production-proof\"",
        "must start with '/'",
    );
    let text = altered(
        r#"path = "/api/product/production-proof""#,
        r#"path = "/api/product/managed-beta-readiness""#,
    );
    let error = refused(&text);
    assert!(error.problems[0]
        .message
        .contains("duplicate evidence pack path"));
}

#[test]
fn an_evidence_pack_path_the_server_cannot_serve_is_refused() {
    let text = altered(
        r#"path = "/api/product/production-proof""#,
        r#"path = "/api/product/production-proofs""#,
    );
    assert_single_problem(
        &text,
        "\"/api/product/production-proofs\"",
        "is not one this server serves: use one of /api/product/managed-beta-readiness",
    );
    let text = altered(
        r#"path = "/api/platform/launch-room""#,
        r#"path = "/api/platform/launch-acceptance""#,
    );
    assert_single_problem(
        &text,
        "\"/api/platform/launch-acceptance\"",
        "/api/platform/launch-dossier",
    );
}

#[test]
fn an_unsupported_schema_version_is_refused() {
    let text = altered("schema_version = 1", "schema_version = 2");
    assert_single_problem(&text, "schema_version = 2", "unsupported schema_version 2");
}

#[test]
fn an_unknown_field_is_refused_with_its_line() {
    let text = altered(
        r#"title = "Support email""#,
        "title = \"Support email\"\ncolour = \"red\"",
    );
    let error = refused(&text);
    assert_eq!(error.problems[0].line, line_of(&text, "colour"), "{error}");
    assert!(
        error.problems[0].message.contains("unknown field `colour`"),
        "{error}"
    );
}

#[test]
fn a_missing_field_is_refused() {
    let text = altered(
        "if_missing = \"Do not enable self-serve checkout; keep paid beta invoice-only or order-form contracted.\"\n",
        "",
    );
    let error = refused(&text);
    assert!(
        error.problems[0]
            .message
            .contains("missing field `if_missing`"),
        "{error}"
    );
}

#[test]
fn a_toml_syntax_error_names_the_line() {
    let text = altered(r#"title = "Support email""#, r#"title = "Support email"#);
    let error = refused(&text);
    assert_eq!(error.problems.len(), 1);
    assert_eq!(
        error.problems[0].line,
        line_of(&text, "title = \"Support email")
    );
}

#[test]
fn a_register_without_motions_is_refused() {
    let start = DEFAULT_REGISTER.find("[[motions]]").unwrap();
    let end = DEFAULT_REGISTER.find("[customer_evidence]").unwrap();
    let text = format!("{}{}", &DEFAULT_REGISTER[..start], &DEFAULT_REGISTER[end..]).replacen(
        "organisation = ",
        "motions = []\norganisation = ",
        1,
    );
    let error = refused(&text);
    assert!(
        error
            .problems
            .iter()
            .any(|p| p.message.contains("at least one launch motion")),
        "{error}"
    );
}

#[test]
fn every_problem_in_a_file_is_reported_in_line_order() {
    let text = altered(r#"title = "Support email""#, r#"title = """#);
    let text = text.replacen(r#"scope = "enterprise""#, r#"scope = "everywhere""#, 1);
    let error = refused(&text);
    assert_eq!(error.problems.len(), 2, "{error}");
    assert!(error.problems[0].line < error.problems[1].line);
}

#[test]
fn dependency_names_are_sorted_and_unique() {
    let register = thesmios();
    let names = register.dependency_names();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);
}

#[test]
fn commands_split_at_their_placeholders_only() {
    use super::register::CommandPart;
    use super::register::CommandPart::{Placeholder, Text};
    assert_eq!(
        CommandPart::split("A=<secret> B=<test-email> run < in.txt > out"),
        [
            Text("A=".to_owned()),
            Placeholder("<secret>".to_owned()),
            Text(" B=".to_owned()),
            Placeholder("<test-email>".to_owned()),
            Text(" run < in.txt > out".to_owned()),
        ]
    );
    assert_eq!(CommandPart::split("<a>"), [Placeholder("<a>".to_owned())]);
    assert_eq!(
        CommandPart::split("x <> y <"),
        [Text("x <> y <".to_owned())]
    );
    assert!(CommandPart::split("").is_empty());
}

#[test]
fn badges_name_the_motion_and_status_and_escape_their_text() {
    use super::badge::{badge_svg, Tone};
    let svg = badge_svg(
        "Managed private beta",
        Tone::from(MotionStatus::Conditional),
    );
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains("<title>Managed private beta: conditional</title>"));
    assert!(svg.contains("#9a6700"));
    let hostile = badge_svg(
        "<script>alert(1)</script> & \"co\"",
        Tone::from(Readiness::NotReady),
    );
    assert!(!hostile.contains("<script>"));
    assert!(hostile.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;"));
    assert!(hostile.contains("not_ready"));
}

#[test]
fn a_dossier_verifies_against_its_manifest_and_every_change_is_caught() {
    use super::dossier::{manifest, verify, PartCheck, FORMAT};
    let parts: BTreeMap<String, serde_json::Value> = [
        (
            "register".to_owned(),
            serde_json::json!({"b": 1, "a": [1, 2]}),
        ),
        (
            "launch_room".to_owned(),
            serde_json::json!({"state": "accepted"}),
        ),
    ]
    .into_iter()
    .collect();
    let document =
        serde_json::json!({ "format": FORMAT, "parts": parts, "manifest": manifest(&parts) });
    // Through text and back, as a download would travel.
    let reread: serde_json::Value =
        serde_json::from_str(&serde_json::to_string_pretty(&document).unwrap()).unwrap();
    assert!(verify(&reread).unwrap().iter().all(PartCheck::is_intact));

    let mut altered = reread.clone();
    altered["parts"]["launch_room"]["state"] = serde_json::json!("stale");
    altered["parts"]["extra"] = serde_json::json!(1);
    altered["parts"].as_object_mut().unwrap().remove("register");
    let checks = verify(&altered).unwrap();
    assert!(checks.contains(&PartCheck::Altered {
        part: "launch_room".to_owned()
    }));
    assert!(checks.contains(&PartCheck::Missing {
        part: "register".to_owned()
    }));
    assert!(checks.contains(&PartCheck::Unlisted {
        part: "extra".to_owned()
    }));
    assert!(verify(&serde_json::json!({"format": "other"})).is_err());
}
