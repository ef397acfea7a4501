//! Deployments that report their own readiness (`server report`): what the
//! server tells a reporter to check, what a report may say, and the rules it must
//! meet. Names and verdicts only: no field can carry a value.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::FieldError;
use super::evaluation::{DependencyState, PublicCheck};
use super::register::{DependencyKind, Register};

/// The largest report body accepted, in bytes.
pub const REPORT_LIMIT_BYTES: usize = 16 * 1024;
/// The most HTTP checks one report may carry.
pub const MAX_CHECKS: usize = 32;
/// The longest check name, in characters.
pub const CHECK_NAME_LIMIT: usize = 64;
/// The longest check URL, in characters.
pub const CHECK_URL_LIMIT: usize = 2_048;
/// The longest latency a check may report (one hour), in milliseconds.
pub const LATENCY_LIMIT_MS: u64 = 3_600_000;
/// The name of the public check that says whether the deployment still reports.
pub const REPORTING_CHECK: &str = "deployment reporting";

/// A deployment name: lowercase letters, digits and `-`, at most 63, starting
/// with a letter or digit.
pub fn is_valid_deployment_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first.is_ascii_digit())
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A table name a reporter may count rows of: an SQL identifier of letters,
/// digits and `_` (not starting with a digit, at most 63), optionally qualified
/// by a schema the same way (`schema.table`).
pub fn is_valid_table_name(name: &str) -> bool {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && part.len() <= 63
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    (1..=2).contains(&parts.len()) && parts.iter().all(|part| identifier(part))
}

/// One dependency the register declares, as a reporter must check it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeclaredDependency {
    pub name: String,
    pub kind: DependencyKind,
}

/// `GET /api/deployments/{name}/declared`: what the reporter checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Declared {
    pub deployment: String,
    pub dependencies: Vec<DeclaredDependency>,
}

/// Every dependency the register declares, with its kind.
pub fn declared(register: &Register, deployment: &str) -> Declared {
    Declared {
        deployment: deployment.to_owned(),
        dependencies: register
            .dependency_names()
            .into_iter()
            .map(|name| DeclaredDependency {
                name: name.to_owned(),
                kind: register.dependency_kind(name),
            })
            .collect(),
    }
}

/// What a reporter found for one dependency: a setting is `configured` or
/// `missing`; a table `has_rows`, is `empty`, or was `unreachable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportedState {
    Configured,
    Missing,
    HasRows,
    Empty,
    Unreachable,
}

impl ReportedState {
    pub fn kind(self) -> DependencyKind {
        match self {
            Self::Configured | Self::Missing => DependencyKind::Setting,
            Self::HasRows | Self::Empty | Self::Unreachable => DependencyKind::Table,
        }
    }

    /// How the evaluation counts it: only `configured` and `has_rows` are present.
    pub fn state(self) -> DependencyState {
        match self {
            Self::Configured | Self::HasRows => DependencyState::Configured,
            Self::Missing | Self::Empty | Self::Unreachable => DependencyState::Missing,
        }
    }
}

/// One HTTP check run from inside the deployment: never a response body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckVerdict {
    /// 1 to 64 characters, no control characters; unique within a report.
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 64))]
    pub name: String,
    /// `http://` or `https://`, without credentials, query or fragment.
    #[cfg_attr(feature = "ssr", schema(max_length = 2048))]
    pub url: String,
    pub passed: bool,
    /// The HTTP status code; absent when nothing answered.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 100, maximum = 599))]
    pub status: Option<u16>,
    #[cfg_attr(feature = "ssr", schema(maximum = 3_600_000))]
    pub latency_ms: u64,
}

/// `POST /api/deployments/{name}/reports`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Declared dependency name → what the reporter found. A declared name left
    /// out counts as missing.
    pub dependencies: BTreeMap<String, ReportedState>,
    #[serde(default)]
    pub checks: Vec<CheckVerdict>,
}

/// Every rule a report breaks, each naming its field; empty when it is valid.
pub fn validate(register: &Register, report: &Report) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let declared = register.dependency_names();
    for (name, state) in &report.dependencies {
        let field = format!("dependencies.{}", printable_name(name));
        if !declared.contains(&name.as_str()) {
            errors.push(FieldError::new(
                &field,
                "the register declares no dependency of that name",
            ));
        } else if state.kind() != register.dependency_kind(name) {
            errors.push(FieldError::new(
                &field,
                format!(
                    "is a {}: its state must be {}",
                    register.dependency_kind(name).as_str(),
                    match register.dependency_kind(name) {
                        DependencyKind::Setting => "configured or missing",
                        DependencyKind::Table => "has_rows, empty or unreachable",
                    }
                ),
            ));
        }
    }
    if report.checks.len() > MAX_CHECKS {
        errors.push(FieldError::new(
            "checks",
            format!("at most {MAX_CHECKS} checks per report"),
        ));
    }
    let mut names = std::collections::HashSet::new();
    for (index, check) in report.checks.iter().enumerate() {
        let field = |part: &str| format!("checks[{index}].{part}");
        let length = check.name.chars().count();
        if length == 0 || length > CHECK_NAME_LIMIT || check.name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                &field("name"),
                format!("must be 1 to {CHECK_NAME_LIMIT} characters, none a control character"),
            ));
        } else if check.name == REPORTING_CHECK || !names.insert(check.name.as_str()) {
            errors.push(FieldError::new(&field("name"), "must be unique"));
        }
        if let Err(message) = check_url(&check.url) {
            errors.push(FieldError::new(&field("url"), message));
        }
        if check
            .status
            .is_some_and(|status| !(100..=599).contains(&status))
        {
            errors.push(FieldError::new(
                &field("status"),
                "must be an HTTP status code (100 to 599)",
            ));
        }
        if check.latency_ms > LATENCY_LIMIT_MS {
            errors.push(FieldError::new(
                &field("latency_ms"),
                format!("must be at most {LATENCY_LIMIT_MS}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// An unknown name is echoed in an error only in a printable, short form.
fn printable_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// A check URL is public: http or https, no credentials, no query, no fragment,
/// no whitespace or control characters.
fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("must start with http:// or https://")?;
    if url.chars().count() > CHECK_URL_LIMIT {
        return Err(format!("must be at most {CHECK_URL_LIMIT} characters"));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain spaces or control characters".to_owned());
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err("must name a host".to_owned());
    }
    if authority.contains('@') {
        return Err("must not carry credentials".to_owned());
    }
    if url.contains('?') || url.contains('#') {
        return Err("must not carry a query or fragment".to_owned());
    }
    Ok(())
}

/// A stored report and when it arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedReport {
    pub report: Report,
    pub received_at: DateTime<Utc>,
}

/// The public check a report's HTTP check becomes.
pub fn public_check(check: &CheckVerdict) -> PublicCheck {
    let detail = (!check.passed).then(|| match check.status {
        Some(status) => format!("answered HTTP {status}"),
        None => "no answer".to_owned(),
    });
    PublicCheck {
        name: check.name.clone(),
        passed: check.passed,
        detail,
    }
}
