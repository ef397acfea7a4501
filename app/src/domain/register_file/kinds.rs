//! The register's reporting declarations: each dependency's kind (`[[dependencies]]`)
//! and the deployment whose reports are the readiness source
//! (`[readiness] deployment`).

use std::collections::{BTreeMap, HashSet};

use super::checker::Checker;
use super::raw::{RawDependency, Text};
use crate::domain::deployment::{is_valid_deployment_name, is_valid_table_name};
use crate::domain::register::{Blocker, DependencyKind};

impl Checker<'_> {
    /// Each declared kind names a dependency some blocker uses, once; a table's
    /// name is a plain (optionally schema-qualified) SQL identifier. Only kinds
    /// other than the default are kept.
    pub(super) fn check_dependency_kinds(
        &mut self,
        raw: Vec<RawDependency>,
        blockers: &[Blocker],
    ) -> BTreeMap<String, DependencyKind> {
        let used: HashSet<&str> = blockers
            .iter()
            .flat_map(|blocker| blocker.dependencies.iter().map(String::as_str))
            .collect();
        let mut seen = HashSet::new();
        let mut kinds = BTreeMap::new();
        for dependency in raw {
            let span = dependency.name.span();
            let name = dependency.name.into_inner();
            if !used.contains(name.as_str()) {
                self.problem(
                    &span,
                    format!("dependencies: {name:?} is not a dependency of any blocker"),
                );
            } else if !seen.insert(name.clone()) {
                self.problem(&span, format!("dependencies: {name:?} is declared twice"));
            }
            let kind = match dependency.kind {
                None => DependencyKind::Setting,
                Some(kind) => match kind.get_ref().as_str() {
                    "setting" => DependencyKind::Setting,
                    "table" => DependencyKind::Table,
                    other => {
                        self.problem(
                            &kind.span(),
                            format!(
                                "dependencies: kind {other:?} must be \"setting\" or \"table\""
                            ),
                        );
                        DependencyKind::Setting
                    }
                },
            };
            if kind == DependencyKind::Table && !is_valid_table_name(&name) {
                self.problem(
                    &span,
                    format!(
                        "dependencies: table {name:?} must be a plain SQL identifier \
                         (letters, digits, '_'; optionally schema.table)"
                    ),
                );
            }
            if kind != DependencyKind::Setting {
                kinds.insert(name, kind);
            }
        }
        kinds
    }

    /// A deployment name, and never beside `readiness.url` (one source at a time).
    pub(super) fn check_deployment_name(
        &mut self,
        raw: Option<Text>,
        url_given: bool,
    ) -> Option<String> {
        raw.map(|name| {
            let span = name.span();
            let name = name.into_inner();
            if url_given {
                self.problem(
                    &span,
                    "readiness.deployment and readiness.url name two sources: keep one".to_owned(),
                );
            } else if !is_valid_deployment_name(&name) {
                self.problem(
                    &span,
                    format!(
                        "readiness.deployment {name:?} must be lowercase letters, digits and '-' \
                         (at most 63), starting with a letter or digit"
                    ),
                );
            }
            name
        })
    }
}
