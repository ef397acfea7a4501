//! The rules a register file must meet beyond its shape: ids well formed and
//! unique, every reference known, no empty text, servable evidence-pack paths,
//! sane readiness settings. Checked over the raw file into a [`Register`], every
//! problem collected with its line and column.

use std::collections::HashSet;
use std::ops::Range;

use serde_spanned::Spanned;

use super::raw::{RawBlocker, RawGate, RawMotion, RawReadiness, RawRegister, Text};
use super::{Problem, RegisterFileError};
use crate::domain::packs;
use crate::domain::register::{
    Blocker, Boundaries, CustomerEvidence, Decision, EvidenceGate, EvidencePack, EvidencePacks,
    LaunchMotion, MotionRequirements, PageText, ProofPath, ReadinessSettings, Register, Scope,
    SCHEMA_VERSION,
};

pub(super) struct Checker<'a> {
    pub(super) text: &'a str,
    pub(super) problems: Vec<Problem>,
}

impl Checker<'_> {
    pub(super) fn problem(&mut self, span: &Range<usize>, message: String) {
        let (line, column) = line_and_column(self.text, span.start);
        self.problems.push(Problem {
            line,
            column,
            message,
        });
    }

    pub(super) fn into_error(mut self, file: &str) -> RegisterFileError {
        self.problems
            .sort_by_key(|problem| (problem.line, problem.column));
        RegisterFileError {
            file: file.to_owned(),
            problems: self.problems,
        }
    }

    /// Non-empty text, trimmed of nothing: the register's words are kept verbatim.
    fn text(&mut self, value: Text, field: &str) -> String {
        if value.get_ref().trim().is_empty() {
            self.problem(&value.span(), format!("{field} is empty"));
        }
        value.into_inner()
    }

    fn id(&mut self, value: Text, kind: &str, seen: &mut HashSet<String>) -> String {
        let span = value.span();
        let id = value.into_inner();
        if !is_valid_id(&id) {
            self.problem(
                &span,
                format!("{kind} id {id:?} must be lowercase letters, digits and '-', starting with a letter or digit"),
            );
        } else if !seen.insert(id.clone()) {
            self.problem(&span, format!("duplicate {kind} id {id:?}"));
        }
        id
    }

    fn reference(&mut self, value: Text, kind: &str, known: &HashSet<String>) -> String {
        let span = value.span();
        let id = value.into_inner();
        if !known.contains(&id) {
            self.problem(&span, format!("unknown {kind} id {id:?}"));
        }
        id
    }

    pub(super) fn check(&mut self, raw: RawRegister) -> Register {
        if *raw.schema_version.get_ref() != SCHEMA_VERSION {
            self.problem(
                &raw.schema_version.span(),
                format!(
                    "unsupported schema_version {}; this build reads schema_version {SCHEMA_VERSION}",
                    raw.schema_version.get_ref()
                ),
            );
        }
        let organisation = self.text(raw.organisation, "organisation");
        let page = PageText {
            title: self.text(raw.page.title, "page.title"),
            headline: self.text(raw.page.headline, "page.headline"),
            introduction: self.text(raw.page.introduction, "page.introduction"),
        };
        let decision = Decision {
            statement: self.text(raw.decision.statement, "decision.statement"),
            strict_check_command: self.text(
                raw.decision.strict_check_command,
                "decision.strict_check_command",
            ),
        };

        let mut scope_ids = HashSet::new();
        let scopes: Vec<Scope> = raw
            .scopes
            .into_iter()
            .map(|scope| Scope {
                id: self.id(scope.id, "scope", &mut scope_ids),
                label: self.text(scope.label, "scope label"),
            })
            .collect();

        let mut proof_ids = HashSet::new();
        let proofs: Vec<ProofPath> = raw
            .proofs
            .into_iter()
            .map(|proof| ProofPath {
                id: self.id(proof.id, "proof", &mut proof_ids),
                name: self.text(proof.name, "proof name"),
                command: self.text(proof.command, "proof command"),
            })
            .collect();

        let mut blocker_ids = HashSet::new();
        let blockers: Vec<Blocker> = raw
            .blockers
            .into_iter()
            .map(|blocker| self.check_blocker(blocker, &mut blocker_ids, &scope_ids, &proof_ids))
            .collect();

        let mut gate_ids = HashSet::new();
        let gates: Vec<EvidenceGate> = raw
            .customer_evidence
            .gates
            .into_iter()
            .map(|gate| self.check_gate(gate, &mut gate_ids))
            .collect();
        let customer_evidence = CustomerEvidence {
            lead: self.text(raw.customer_evidence.lead, "customer_evidence.lead"),
            body: self.text(raw.customer_evidence.body, "customer_evidence.body"),
            gates,
        };

        if raw.motions.get_ref().is_empty() {
            self.problem(
                &raw.motions.span(),
                "a register needs at least one launch motion".to_owned(),
            );
        }
        let mut motion_ids = HashSet::new();
        let motions: Vec<LaunchMotion> = raw
            .motions
            .into_inner()
            .into_iter()
            .map(|motion| {
                self.check_motion(motion, &mut motion_ids, &blocker_ids, &scope_ids, &gate_ids)
            })
            .collect();

        let mut pack_paths = HashSet::new();
        let packs: Vec<EvidencePack> = raw
            .evidence_packs
            .packs
            .into_iter()
            .map(|pack| {
                let span = pack.path.span();
                let path = self.text(pack.path, "evidence pack path");
                if !path.starts_with('/') {
                    self.problem(
                        &span,
                        format!("evidence pack path {path:?} must start with '/'"),
                    );
                } else if !packs::is_servable(&path) {
                    self.problem(
                        &span,
                        format!(
                            "evidence pack path {path:?} is not one this server serves: use one of {}",
                            packs::servable_paths().join(", ")
                        ),
                    );
                } else if !pack_paths.insert(path.clone()) {
                    self.problem(&span, format!("duplicate evidence pack path {path:?}"));
                }
                EvidencePack {
                    path,
                    title: self.text(pack.title, "evidence pack title"),
                }
            })
            .collect();
        let evidence_packs = EvidencePacks {
            lead: self.text(raw.evidence_packs.lead, "evidence_packs.lead"),
            body: self.text(raw.evidence_packs.body, "evidence_packs.body"),
            packs,
        };

        let boundaries = Boundaries {
            lead: self.text(raw.boundaries.lead, "boundaries.lead"),
            statements: raw
                .boundaries
                .statements
                .into_iter()
                .map(|statement| self.text(statement, "boundary statement"))
                .collect(),
        };

        let deployment = self.check_deployment_name(
            raw.readiness.deployment.clone(),
            raw.readiness.url.is_some(),
        );
        let mut readiness = self.check_readiness(raw.readiness);
        readiness.deployment = deployment;
        let dependency_kinds = self.check_dependency_kinds(raw.dependencies, &blockers);

        Register {
            schema_version: raw.schema_version.into_inner(),
            organisation,
            page,
            decision,
            scopes,
            proofs,
            blockers,
            motions,
            customer_evidence,
            evidence_packs,
            boundaries,
            readiness,
            dependency_kinds,
        }
    }

    fn check_readiness(&mut self, raw: RawReadiness) -> ReadinessSettings {
        let defaults = ReadinessSettings::default();
        let url = raw.url.map(|url| {
            let span = url.span();
            let url = url.into_inner();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                self.problem(
                    &span,
                    format!("readiness.url {url:?} must start with http:// or https://"),
                );
            }
            url
        });
        let mut bounded = |value: Option<Spanned<u64>>,
                           field: &str,
                           range: std::ops::RangeInclusive<u64>,
                           default: u64| {
            value.map_or(default, |value| {
                if !range.contains(value.get_ref()) {
                    self.problem(
                        &value.span(),
                        format!(
                            "readiness.{field} must be between {} and {}",
                            range.start(),
                            range.end()
                        ),
                    );
                }
                value.into_inner()
            })
        };
        let poll_interval_secs = bounded(
            raw.poll_interval_secs,
            "poll_interval_secs",
            1..=3_600,
            defaults.poll_interval_secs,
        );
        let timeout_ms = bounded(
            raw.timeout_ms,
            "timeout_ms",
            100..=60_000,
            defaults.timeout_ms,
        );
        let stale_after_secs = bounded(
            raw.stale_after_secs,
            "stale_after_secs",
            1..=86_400,
            defaults.stale_after_secs,
        );
        let proof_freshness_days = bounded(
            raw.proof_freshness_days
                .map(|days| Spanned::new(days.span(), u64::from(days.into_inner()))),
            "proof_freshness_days",
            1..=3_650,
            u64::from(defaults.proof_freshness_days),
        );
        let proof_warning_hours = bounded(
            raw.proof_warning_hours
                .map(|hours| Spanned::new(hours.span(), u64::from(hours.into_inner()))),
            "proof_warning_hours",
            0..=87_600,
            u64::from(defaults.proof_warning_hours),
        );
        let checks = self.check_health_checks(raw.checks, timeout_ms);
        ReadinessSettings {
            url,
            poll_interval_secs,
            timeout_ms,
            stale_after_secs,
            proof_freshness_days: u32::try_from(proof_freshness_days)
                .unwrap_or(defaults.proof_freshness_days),
            checks,
            proof_warning_hours: u32::try_from(proof_warning_hours)
                .unwrap_or(defaults.proof_warning_hours),
            ..defaults
        }
    }

    fn check_blocker(
        &mut self,
        raw: RawBlocker,
        ids: &mut HashSet<String>,
        scopes: &HashSet<String>,
        proofs: &HashSet<String>,
    ) -> Blocker {
        let dependencies_span = raw.dependencies.span();
        if raw.dependencies.get_ref().is_empty() {
            self.problem(
                &dependencies_span,
                "a blocker needs at least one dependency name".to_owned(),
            );
        }
        let mut seen = HashSet::new();
        let dependencies = raw
            .dependencies
            .into_inner()
            .into_iter()
            .map(|name| {
                let span = name.span();
                let name = name.into_inner();
                if !is_valid_dependency_name(&name) {
                    self.problem(
                        &span,
                        format!("dependency name {name:?} must be letters, digits and '_', not starting with a digit"),
                    );
                } else if !seen.insert(name.clone()) {
                    self.problem(&span, format!("dependency {name:?} is listed twice"));
                }
                name
            })
            .collect();
        Blocker {
            id: self.id(raw.id, "blocker", ids),
            title: self.text(raw.title, "blocker title"),
            required_for: self.text(raw.required_for, "blocker required_for"),
            scope: self.reference(raw.scope, "scope", scopes),
            dependencies,
            proof: self.reference(raw.proof, "proof", proofs),
            if_missing: self.text(raw.if_missing, "blocker if_missing"),
        }
    }

    fn check_gate(&mut self, raw: RawGate, ids: &mut HashSet<String>) -> EvidenceGate {
        if raw.items.get_ref().is_empty() {
            self.problem(
                &raw.items.span(),
                "an evidence gate needs at least one evidence item".to_owned(),
            );
        }
        EvidenceGate {
            id: self.id(raw.id, "evidence gate", ids),
            name: self.text(raw.name, "evidence gate name"),
            owner: self.text(raw.owner, "evidence gate owner"),
            items: raw
                .items
                .into_inner()
                .into_iter()
                .map(|item| self.text(item, "evidence item"))
                .collect(),
            if_missing: self.text(raw.if_missing, "evidence gate if_missing"),
            satisfied_by_acceptance: raw.satisfied_by.is_some_and(|by| {
                let accepted = by.get_ref() == "acceptance";
                if !accepted {
                    self.problem(
                        &by.span(),
                        "satisfied_by accepts only \"acceptance\" (the signed launch acceptance)"
                            .to_owned(),
                    );
                }
                accepted
            }),
        }
    }

    fn check_motion(
        &mut self,
        raw: RawMotion,
        ids: &mut HashSet<String>,
        blockers: &HashSet<String>,
        scopes: &HashSet<String>,
        gates: &HashSet<String>,
    ) -> LaunchMotion {
        let name = self.text(raw.name, "motion name");
        let short_name = match raw.short_name {
            Some(short_name) => self.text(short_name, "motion short_name"),
            None => name.clone(),
        };
        let requires = MotionRequirements {
            public_checks: raw.requires.public_checks,
            strict_readiness: raw.requires.strict_readiness,
            cleared_blockers: raw
                .requires
                .cleared_blockers
                .into_iter()
                .map(|id| self.reference(id, "blocker", blockers))
                .collect(),
            conditional_scopes: raw
                .requires
                .conditional_scopes
                .into_iter()
                .map(|id| self.reference(id, "scope", scopes))
                .collect(),
            evidence_gates: raw
                .requires
                .evidence_gates
                .into_iter()
                .map(|id| self.reference(id, "evidence gate", gates))
                .collect(),
        };
        LaunchMotion {
            id: self.id(raw.id, "motion", ids),
            name,
            short_name,
            summary: self.text(raw.summary, "motion summary"),
            rule: self.text(raw.rule, "motion rule"),
            requires,
        }
    }
}

fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_valid_dependency_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    (line, before[line_start..].chars().count() + 1)
}
