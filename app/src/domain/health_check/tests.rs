//! Each format against fixtures that follow its published examples (Spring Boot's
//! actuator API guide, the Kubernetes API health endpoints page, the health+json
//! draft), plus the malformed answers a check must name clearly.

#![expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

use super::*;

const ACTUATOR_UP: &str = include_str!("fixtures/actuator_up.json");
const ACTUATOR_DOWN: &str = include_str!("fixtures/actuator_down.json");
const ACTUATOR_READINESS_GROUP: &str = include_str!("fixtures/actuator_readiness_group.json");
const READYZ_PASSED: &str = include_str!("fixtures/readyz_passed.txt");
const READYZ_FAILED: &str = include_str!("fixtures/readyz_failed.txt");
const READYZ_EXCLUDED: &str = include_str!("fixtures/readyz_excluded.txt");
const HEALTH_JSON_WARN: &str = include_str!("fixtures/health_json_warn.json");
const HEALTH_JSON_FAIL: &str = include_str!("fixtures/health_json_fail.json");

fn outcome(verdict: CheckVerdict, detail: &str) -> CheckOutcome {
    CheckOutcome {
        verdict,
        detail: Some(detail.to_owned()),
    }
}

#[test]
fn plain_http_passes_on_any_2xx_and_names_the_status_otherwise() {
    assert_eq!(
        judge(HealthCheckKind::Http, 200, b""),
        outcome(CheckVerdict::Pass, "HTTP 200")
    );
    assert_eq!(
        judge(HealthCheckKind::Http, 204, b"ignored"),
        outcome(CheckVerdict::Pass, "HTTP 204")
    );
    assert_eq!(
        judge(HealthCheckKind::Http, 503, b"secret body"),
        outcome(CheckVerdict::Fail, "answered HTTP 503")
    );
    assert_eq!(
        judge(HealthCheckKind::Http, 302, b""),
        outcome(
            CheckVerdict::Fail,
            "answered HTTP 302 (a redirect; redirects are not followed)"
        )
    );
}

#[test]
fn actuator_up_with_nested_components_and_groups_passes() {
    assert_eq!(
        judge(HealthCheckKind::Actuator, 200, ACTUATOR_UP.as_bytes()),
        outcome(CheckVerdict::Pass, "UP")
    );
}

#[test]
fn actuator_down_names_the_innermost_failing_components_and_never_their_details() {
    let judged = judge(HealthCheckKind::Actuator, 503, ACTUATOR_DOWN.as_bytes());
    assert_eq!(
        judged,
        outcome(
            CheckVerdict::Fail,
            "DOWN: broker/us2 DOWN, db OUT_OF_SERVICE"
        )
    );
    assert!(!format!("{judged:?}").contains("sentinel"));
}

#[test]
fn an_actuator_group_out_of_service_fails_and_unknown_warns() {
    assert_eq!(
        judge(
            HealthCheckKind::Actuator,
            503,
            ACTUATOR_READINESS_GROUP.as_bytes()
        ),
        outcome(
            CheckVerdict::Fail,
            "OUT_OF_SERVICE: readinessState OUT_OF_SERVICE"
        )
    );
    assert_eq!(
        judge(HealthCheckKind::Actuator, 200, br#"{"status":"UNKNOWN"}"#),
        outcome(CheckVerdict::Warn, "UNKNOWN")
    );
    assert_eq!(
        judge(HealthCheckKind::Actuator, 200, br#"{"status":"FATAL"}"#),
        outcome(CheckVerdict::Fail, "FATAL")
    );
}

#[test]
fn kubernetes_readyz_passes_counting_its_checks() {
    assert_eq!(
        judge(HealthCheckKind::Kubernetes, 200, READYZ_PASSED.as_bytes()),
        outcome(CheckVerdict::Pass, "18 checks ok")
    );
    assert_eq!(
        judge(HealthCheckKind::Kubernetes, 200, READYZ_EXCLUDED.as_bytes()),
        outcome(CheckVerdict::Pass, "5 checks ok")
    );
    assert_eq!(
        judge(HealthCheckKind::Kubernetes, 200, b"ok"),
        outcome(
            CheckVerdict::Pass,
            "ok (add ?verbose to the URL to name each check)"
        )
    );
}

#[test]
fn kubernetes_readyz_failed_names_the_failing_checks_without_their_reasons() {
    let judged = judge(HealthCheckKind::Kubernetes, 500, READYZ_FAILED.as_bytes());
    assert_eq!(
        judged,
        outcome(
            CheckVerdict::Fail,
            "failed: etcd, poststarthook/rbac/bootstrap-roles"
        )
    );
    assert!(!format!("{judged:?}").contains("withheld"));
}

#[test]
fn health_json_warn_passes_with_the_warning_checks_named() {
    let judged = judge(
        HealthCheckKind::HealthJson,
        200,
        HEALTH_JSON_WARN.as_bytes(),
    );
    assert_eq!(
        judged,
        outcome(
            CheckVerdict::Warn,
            "warn: cassandra:connections warn, cpu:utilization warn, memory:utilization warn"
        )
    );
    assert!(judged.verdict.passes());
}

#[test]
fn health_json_fail_names_the_failing_check_and_never_its_output() {
    let judged = judge(
        HealthCheckKind::HealthJson,
        503,
        HEALTH_JSON_FAIL.as_bytes(),
    );
    assert_eq!(
        judged,
        outcome(CheckVerdict::Fail, "fail: cassandra:connections fail")
    );
    assert!(!format!("{judged:?}").contains("sentinel"));
    // The draft's aliases.
    assert_eq!(
        judge(HealthCheckKind::HealthJson, 200, br#"{"status":"ok"}"#).verdict,
        CheckVerdict::Pass
    );
    assert_eq!(
        judge(HealthCheckKind::HealthJson, 200, br#"{"status":"down"}"#).verdict,
        CheckVerdict::Fail
    );
}

#[test]
fn malformed_answers_fail_with_a_clear_reason_and_no_body() {
    let html = b"<html><body>Welcome, admin password=hunter2</body></html>";
    let cases: [(HealthCheckKind, u16, &[u8], &str); 13] = [
        (
            HealthCheckKind::Actuator,
            200,
            html,
            "answered garbage: not JSON",
        ),
        (
            HealthCheckKind::Actuator,
            200,
            b"[1,2]",
            "answered garbage: not a JSON object",
        ),
        (
            HealthCheckKind::Actuator,
            200,
            br#"{"state":"UP"}"#,
            "answered garbage: no \"status\" text",
        ),
        (
            HealthCheckKind::Actuator,
            200,
            br#"{"status":"UP","components":{"db":"UP"}}"#,
            "answered garbage: component \"db\" is not an object",
        ),
        (
            HealthCheckKind::Actuator,
            200,
            br#"{"status":"UP","components":{"db":{"components":{}}}}"#,
            "answered garbage: component \"db\" has no status",
        ),
        // Not in the format and not 2xx: the status code says more.
        (HealthCheckKind::Actuator, 404, html, "answered HTTP 404"),
        (
            HealthCheckKind::Kubernetes,
            200,
            html,
            "answered garbage: no final \"check passed\" or \"check failed\" line",
        ),
        (
            HealthCheckKind::Kubernetes,
            200,
            b"",
            "answered garbage: an empty answer",
        ),
        (
            HealthCheckKind::Kubernetes,
            200,
            b"[+]ping ok\nhello\nreadyz check passed",
            "answered garbage: line 2 is not a check line",
        ),
        (
            HealthCheckKind::Kubernetes,
            200,
            b"\xff\xfe",
            "answered garbage: not UTF-8 text",
        ),
        (
            HealthCheckKind::HealthJson,
            200,
            html,
            "answered garbage: not JSON",
        ),
        (
            HealthCheckKind::HealthJson,
            200,
            br#"{"status":"great"}"#,
            "answered garbage: status \"great\" is not pass, warn or fail",
        ),
        (
            HealthCheckKind::HealthJson,
            200,
            br#"{"status":"pass","checks":{"db":5}}"#,
            "answered garbage: check \"db\" is not an array",
        ),
    ];
    for (kind, status, body, expected) in cases {
        let judged = judge(kind, status, body);
        assert_eq!(judged, outcome(CheckVerdict::Fail, expected), "{kind}");
        assert!(!format!("{judged:?}").contains("hunter2"));
    }
}

#[test]
fn many_failing_components_are_counted_past_the_first_five_and_long_names_cut() {
    let components: Vec<String> = (0..8)
        .map(|index| format!("\"c{index}\":{{\"status\":\"DOWN\"}}"))
        .collect();
    let body = format!(
        r#"{{"status":"DOWN","components":{{{}}}}}"#,
        components.join(",")
    );
    assert_eq!(
        judge(HealthCheckKind::Actuator, 503, body.as_bytes())
            .detail
            .unwrap(),
        "DOWN: c0 DOWN, c1 DOWN, c2 DOWN, c3 DOWN, c4 DOWN and 3 more"
    );
    let long = "x".repeat(200);
    let body = format!(r#"{{"status":"DOWN","components":{{"{long}":{{"status":"DOWN"}}}}}}"#);
    let detail = judge(HealthCheckKind::Actuator, 503, body.as_bytes())
        .detail
        .unwrap();
    assert!(detail.len() < 100, "{detail}");
}

#[test]
fn a_result_keeps_its_since_while_the_outcome_holds_and_counts_pending_as_failing() {
    let check = HealthCheck {
        name: "payments".to_owned(),
        url: "http://127.0.0.1:9/health".to_owned(),
        kind: HealthCheckKind::Http,
        timeout_ms: 500,
    };
    let pending = HealthCheckResult::pending(&check);
    assert!(!pending.public_check().passed);
    assert_eq!(
        pending.public_check().detail.as_deref(),
        Some("not checked yet")
    );

    let t0 = DateTime::<Utc>::from_timestamp(1_000, 0).unwrap();
    let t1 = DateTime::<Utc>::from_timestamp(2_000, 0).unwrap();
    let first = pending.observed(CheckOutcome::pass("HTTP 200"), t0);
    let again = first.observed(CheckOutcome::pass("HTTP 200"), t1);
    assert_eq!((again.since, again.last_seen), (Some(t0), Some(t1)));
    assert_eq!(again.public_check().detail.as_deref(), Some("HTTP 200"));
    let warned = again.observed(CheckOutcome::warn("UNKNOWN"), t1);
    assert_eq!(warned.since, Some(t1));
    assert!(warned.public_check().passed);
    assert_eq!(
        warned.public_check().detail.as_deref(),
        Some("warning: UNKNOWN")
    );
}
