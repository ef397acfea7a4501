//! The register file's rules: every kind of mistake is refused with its line.

use super::super::register_file::{parse_register, RegisterFileError, DEFAULT_REGISTER};
use super::*;

pub(super) fn refused(text: &str) -> RegisterFileError {
    parse_register("bad.toml", text).unwrap_err()
}

/// The default register with one text replaced, so each rule is tested in
/// an otherwise valid file.
pub(super) fn altered(from: &str, to: &str) -> String {
    assert!(
        DEFAULT_REGISTER.contains(from),
        "fixture text not found: {from}"
    );
    DEFAULT_REGISTER.replacen(from, to, 1)
}

pub(super) fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

pub(super) fn assert_single_problem(text: &str, needle: &str, message: &str) {
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
pub(super) fn assert_has_problem(text: &str, needle: &str, message: &str) {
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
