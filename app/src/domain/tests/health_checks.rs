//! `[[readiness.checks]]` in the register file, and what a check's verdict does
//! to readiness and the motions.

use super::register_file::{assert_single_problem, refused};
use super::*;
use crate::domain::health_check::{CheckOutcome, HealthCheckKind, HealthCheckResult};

/// The default register with `checks` appended to its `[readiness]` table (the
/// file's last table).
fn with_checks(checks: &str) -> String {
    format!("{DEFAULT_REGISTER}\n{checks}")
}

const TWO_CHECKS: &str = r#"
[[readiness.checks]]
name = "payments"
url = "https://payments.example/actuator/health"
kind = "actuator"
timeout_ms = 800

[[readiness.checks]]
name = "edge"
url = "https://edge.example/healthz"
"#;

#[test]
fn declared_checks_are_read_with_their_kind_and_the_default_timeout() {
    let register = parse_register("checks.toml", &with_checks(TWO_CHECKS)).unwrap();
    let checks = &register.readiness.checks;
    assert_eq!(checks.len(), 2);
    assert_eq!(
        (
            checks[0].name.as_str(),
            checks[0].kind,
            checks[0].timeout_ms
        ),
        ("payments", HealthCheckKind::Actuator, 800)
    );
    // No kind: plain HTTP; no timeout: [readiness] timeout_ms.
    assert_eq!(
        (checks[1].kind, checks[1].timeout_ms),
        (HealthCheckKind::Http, register.readiness.timeout_ms)
    );
    // A register without checks still parses, with none.
    assert!(thesmios().readiness.checks.is_empty());
}

#[test]
fn a_bad_check_is_refused_naming_its_line() {
    let cases = [
        (
            "kind = \"actuator\"",
            "kind = \"prometheus\"",
            "unknown kind \"prometheus\"; expected one of http, actuator, kubernetes, health_json",
        ),
        (
            "url = \"https://payments.example/actuator/health\"",
            "url = \"ftp://payments.example/health\"",
            "must start with http:// or https://",
        ),
        (
            "url = \"https://payments.example/actuator/health\"",
            "url = \"not a url\"",
            "is not a URL",
        ),
        (
            "timeout_ms = 800",
            "timeout_ms = 5",
            "timeout_ms must be between 100 and 60000",
        ),
        (
            "name = \"payments\"",
            "name = \"database reachable\"",
            "is the name of a built-in check",
        ),
    ];
    for (from, to, message) in cases {
        let text = with_checks(&TWO_CHECKS.replacen(from, to, 1));
        assert_single_problem(&text, to, message);
    }
}

#[test]
fn a_duplicate_check_name_is_refused_at_the_second() {
    let text = with_checks(&TWO_CHECKS.replacen("name = \"edge\"", "name = \"payments\" ", 1));
    assert_single_problem(
        &text,
        "name = \"payments\" ",
        "duplicate readiness check name \"payments\"",
    );
}

#[test]
fn a_check_url_with_credentials_is_refused_without_echoing_them() {
    let text = with_checks(&TWO_CHECKS.replacen(
        "https://edge.example/healthz",
        "https://ops:hunter2@edge.example/healthz",
        1,
    ));
    assert_single_problem(&text, "hunter2", "must not carry credentials");
    assert!(!refused(&text).to_string().contains("hunter2"));
}

#[test]
fn an_unknown_key_in_a_check_is_refused() {
    let text = with_checks(&TWO_CHECKS.replacen("timeout_ms = 800", "timeout = 800", 1));
    assert_single_problem(&text, "timeout = 800", "unknown field `timeout`");
}

/// The public checks with one declared check in `outcome`.
fn inputs_with_check(register: &Register, outcome: CheckOutcome) -> ReadinessInputs {
    let check = &register.readiness.checks[0];
    let result = HealthCheckResult::pending(check).observed(outcome, chrono::Utc::now());
    let mut inputs = inputs_with(register, &register.dependency_names());
    inputs.public_checks.push(result.public_check());
    inputs
}

#[test]
fn a_failing_check_makes_readiness_not_ready_and_blocks_motions_that_need_public_checks() {
    let register = parse_register("checks.toml", &with_checks(TWO_CHECKS)).unwrap();
    let failing = inputs_with_check(&register, CheckOutcome::fail("DOWN: db DOWN"));
    let evaluation = evaluate(&register, &failing);
    assert_eq!(evaluation.advisory, Readiness::NotReady);
    let needs_checks = register
        .motions
        .iter()
        .find(|motion| motion.requires.public_checks)
        .unwrap();
    let motion = evaluation.motion(&needs_checks.id).unwrap();
    assert_eq!(motion.status, MotionStatus::Blocked);
    assert!(motion.reasons.contains(&Reason::PublicChecksFailing {
        checks: vec!["payments".to_owned()]
    }));

    // A warning passes: the same motion is not blocked by checks.
    let warned = inputs_with_check(&register, CheckOutcome::warn("UNKNOWN"));
    let evaluation = evaluate(&register, &warned);
    assert_ne!(evaluation.advisory, Readiness::NotReady);
    assert!(!evaluation
        .motion(&needs_checks.id)
        .unwrap()
        .reasons
        .iter()
        .any(|reason| matches!(reason, Reason::PublicChecksFailing { .. })));
}
