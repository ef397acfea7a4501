//! Dependency kinds in the register, and the rules a deployment's report meets.

use super::super::deployment::{declared, validate, CheckVerdict, Report, ReportedState};
use super::super::register::DependencyKind;
use super::register_file::{altered, assert_single_problem, refused};
use super::*;

fn register() -> Register {
    parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap()
}

#[test]
fn the_default_register_declares_its_fixture_records_as_tables() {
    let register = register();
    assert_eq!(register.dependency_kind("data_sets"), DependencyKind::Table);
    assert_eq!(
        register.dependency_kind("data_set_records"),
        DependencyKind::Table
    );
    assert_eq!(
        register.dependency_kind("RESEND_API_KEY"),
        DependencyKind::Setting
    );
    let declared = declared(&register, "production");
    assert_eq!(
        declared.dependencies.len(),
        register.dependency_names().len()
    );
}

#[test]
fn a_register_without_kinds_or_a_deployment_still_parses() {
    let start = DEFAULT_REGISTER
        .find("# Dependencies that are not settings")
        .unwrap();
    let plain = &DEFAULT_REGISTER[..start];
    let register = parse_register("plain.toml", plain).unwrap();
    assert!(register.dependency_kinds.is_empty());
    assert_eq!(register.readiness.deployment, None);
}

#[test]
fn a_kind_for_an_unknown_name_or_of_an_unknown_kind_is_refused_with_its_line() {
    let text = altered(
        "name = \"data_sets\"\nkind = \"table\"",
        "name = \"nothing\"\nkind = \"table\"",
    );
    assert_single_problem(
        &text,
        "name = \"nothing\"",
        "not a dependency of any blocker",
    );
    let text = altered(
        "name = \"data_sets\"\nkind = \"table\"",
        "name = \"data_sets\"\nkind = \"queue\"",
    );
    assert_single_problem(
        &text,
        "kind = \"queue\"",
        "must be \"setting\" or \"table\"",
    );
    let text = altered(
        "name = \"data_set_records\"\nkind = \"table\"",
        "name = \"data_sets\"\nkind = \"table\"",
    );
    let error = refused(&text);
    assert!(error.to_string().contains("declared twice"), "{error}");
}

#[test]
fn a_deployment_source_is_named_well_and_never_beside_a_url() {
    let text = altered(
        "stale_after_secs = 30",
        "stale_after_secs = 30\ndeployment = \"production\"",
    );
    assert_eq!(
        parse_register("t.toml", &text)
            .unwrap()
            .readiness
            .deployment
            .as_deref(),
        Some("production")
    );
    let text = altered(
        "stale_after_secs = 30",
        "stale_after_secs = 30\ndeployment = \"Prod DB\"",
    );
    assert_single_problem(&text, "deployment = \"Prod DB\"", "lowercase letters");
    let text = altered(
        "stale_after_secs = 30",
        "stale_after_secs = 30\ndeployment = \"production\"\nurl = \"https://example.com/api/readiness\"",
    );
    assert_single_problem(&text, "deployment = \"production\"", "keep one");
}

fn check(name: &str, url: &str) -> CheckVerdict {
    CheckVerdict {
        name: name.to_owned(),
        url: url.to_owned(),
        passed: true,
        status: Some(200),
        latency_ms: 3,
    }
}

#[test]
fn a_report_names_only_declared_dependencies_with_states_of_their_kind() {
    let register = register();
    let mut report = Report::default();
    report
        .dependencies
        .insert("RESEND_API_KEY".to_owned(), ReportedState::Configured);
    report
        .dependencies
        .insert("data_sets".to_owned(), ReportedState::Empty);
    report
        .checks
        .push(check("api", "https://api.example/health"));
    assert_eq!(validate(&register, &report), Ok(()));

    let mut bad = report.clone();
    bad.dependencies
        .insert("OTHER".to_owned(), ReportedState::Configured);
    bad.dependencies
        .insert("data_set_records".to_owned(), ReportedState::Missing);
    bad.checks
        .push(check("api", "https://user:pw@api.example/"));
    bad.checks.push(check("", "ftp://api.example/"));
    bad.checks.push(check("q", "https://api.example/?token=x"));
    let errors = validate(&register, &bad).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "dependencies.OTHER",
            "dependencies.data_set_records",
            "checks[1].name",
            "checks[1].url",
            "checks[2].name",
            "checks[2].url",
            "checks[3].url"
        ]
    );
}
