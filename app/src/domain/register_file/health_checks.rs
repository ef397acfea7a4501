//! The rules of `[[readiness.checks]]`: a unique, short name; an http(s) URL
//! without credentials (it is shown to the public); a known kind; a sane timeout.

use std::collections::HashSet;

use serde_spanned::Spanned;

use super::checker::Checker;
use super::raw::RawCheck;
use crate::domain::health_check::{HealthCheck, HealthCheckKind};

/// The public checks the server adds itself; a declared check may not take
/// their names.
const BUILT_IN_CHECKS: [&str; 2] = ["database reachable", "deployment reachable"];
const MAX_NAME_CHARS: usize = 64;

impl Checker<'_> {
    pub(super) fn check_health_checks(
        &mut self,
        raw: Vec<RawCheck>,
        default_timeout_ms: u64,
    ) -> Vec<HealthCheck> {
        let mut names = HashSet::new();
        raw.into_iter()
            .map(|check| self.check_health_check(check, &mut names, default_timeout_ms))
            .collect()
    }

    fn check_health_check(
        &mut self,
        raw: RawCheck,
        names: &mut HashSet<String>,
        default_timeout_ms: u64,
    ) -> HealthCheck {
        let name_span = raw.name.span();
        let name = raw.name.into_inner();
        if name.trim().is_empty() {
            self.problem(&name_span, "readiness check name is empty".to_owned());
        } else if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            self.problem(
                &name_span,
                format!("readiness check name {name:?} must be at most {MAX_NAME_CHARS} printable characters"),
            );
        } else if BUILT_IN_CHECKS.contains(&name.as_str()) {
            self.problem(
                &name_span,
                format!("readiness check name {name:?} is the name of a built-in check"),
            );
        } else if !names.insert(name.clone()) {
            self.problem(
                &name_span,
                format!("duplicate readiness check name {name:?}"),
            );
        }

        let url_span = raw.url.span();
        let url = raw.url.into_inner();
        if let Err(why) = check_url(&url) {
            self.problem(&url_span, format!("readiness check {name:?}: url {why}"));
        }

        let kind = match raw.kind {
            None => HealthCheckKind::Http,
            Some(kind) => {
                let span = kind.span();
                let kind = kind.into_inner();
                HealthCheckKind::parse(&kind).unwrap_or_else(|| {
                    let known: Vec<&str> = HealthCheckKind::ALL
                        .iter()
                        .map(|kind| kind.as_str())
                        .collect();
                    self.problem(
                        &span,
                        format!(
                            "readiness check {name:?}: unknown kind {kind:?}; expected one of {}",
                            known.join(", ")
                        ),
                    );
                    HealthCheckKind::Http
                })
            }
        };

        let timeout_ms =
            raw.timeout_ms
                .map_or(default_timeout_ms, |timeout: Spanned<u64>| {
                    if !(100..=60_000).contains(timeout.get_ref()) {
                        self.problem(
                    &timeout.span(),
                    format!("readiness check {name:?}: timeout_ms must be between 100 and 60000"),
                );
                    }
                    timeout.into_inner()
                });

        HealthCheck {
            name,
            url,
            kind,
            timeout_ms,
        }
    }
}

/// Why `url` cannot be a check's URL, if it cannot.
fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|error| format!("{url:?} is not a URL ({error})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} must start with http:// or https://"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Not echoed: the point is that it may hold a credential.
        return Err(
            "must not carry credentials (user:password@): it is shown to the public".to_owned(),
        );
    }
    Ok(())
}
