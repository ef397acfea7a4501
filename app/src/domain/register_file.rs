//! Reading a register file (TOML) into a validated [`Register`].
//!
//! Pure: text in, register or problems out. Every problem names the file, the line
//! and column, and what is wrong, so a bad file can be fixed without guessing.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde_spanned::Spanned;

use super::packs;
use super::register::{
    Blocker, Boundaries, CustomerEvidence, Decision, EvidenceGate, EvidencePack, EvidencePacks,
    LaunchMotion, MotionRequirements, PageText, ProofPath, ReadinessSettings, Register, Scope,
    SCHEMA_VERSION,
};

/// The Thesmios register, compiled in as the default.
pub const DEFAULT_REGISTER: &str = include_str!("../../../registers/thesmios.toml");
/// The name the default register is reported under in errors and on the page.
pub const DEFAULT_REGISTER_NAME: &str = "registers/thesmios.toml (embedded)";

/// One thing wrong with a register file, at a position in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Why a register file was refused: every problem found, in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct RegisterFileError {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for RegisterFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid register file {} ({} problem{}):",
            self.file,
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(
                f,
                "\n  {}:{}:{}: {}",
                self.file, problem.line, problem.column, problem.message
            )?;
        }
        Ok(())
    }
}

/// Parses and validates register text. `file` names it in errors.
pub fn parse_register(file: &str, text: &str) -> Result<Register, RegisterFileError> {
    let mut checker = Checker {
        text,
        problems: Vec::new(),
    };
    let raw: RawRegister = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            let span = error.span().unwrap_or(0..0);
            checker.problem(&span, error.message().to_owned());
            return Err(checker.into_error(file));
        }
    };
    let register = checker.check(raw);
    if checker.problems.is_empty() {
        Ok(register)
    } else {
        Err(checker.into_error(file))
    }
}

type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    schema_version: Spanned<u32>,
    organisation: Text,
    page: RawPage,
    decision: RawDecision,
    scopes: Vec<RawScope>,
    proofs: Vec<RawProof>,
    blockers: Vec<RawBlocker>,
    motions: Spanned<Vec<RawMotion>>,
    customer_evidence: RawCustomerEvidence,
    evidence_packs: RawEvidencePacks,
    boundaries: RawBoundaries,
    #[serde(default)]
    readiness: RawReadiness,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReadiness {
    url: Option<Text>,
    poll_interval_secs: Option<Spanned<u64>>,
    timeout_ms: Option<Spanned<u64>>,
    stale_after_secs: Option<Spanned<u64>>,
    proof_freshness_days: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    title: Text,
    headline: Text,
    introduction: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecision {
    statement: Text,
    strict_check_command: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    id: Text,
    label: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProof {
    id: Text,
    name: Text,
    command: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlocker {
    id: Text,
    title: Text,
    required_for: Text,
    scope: Text,
    dependencies: Spanned<Vec<Text>>,
    proof: Text,
    if_missing: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMotion {
    id: Text,
    name: Text,
    short_name: Option<Text>,
    summary: Text,
    rule: Text,
    #[serde(default)]
    requires: RawRequirements,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirements {
    #[serde(default)]
    public_checks: bool,
    #[serde(default)]
    strict_readiness: bool,
    #[serde(default)]
    cleared_blockers: Vec<Text>,
    #[serde(default)]
    conditional_scopes: Vec<Text>,
    #[serde(default)]
    evidence_gates: Vec<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustomerEvidence {
    lead: Text,
    body: Text,
    gates: Vec<RawGate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    id: Text,
    name: Text,
    owner: Text,
    items: Spanned<Vec<Text>>,
    if_missing: Text,
    #[serde(default)]
    satisfied_by: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvidencePacks {
    lead: Text,
    body: Text,
    packs: Vec<RawPack>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    path: Text,
    title: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoundaries {
    lead: Text,
    statements: Vec<Text>,
}

struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, span: &Range<usize>, message: String) {
        let (line, column) = line_and_column(self.text, span.start);
        self.problems.push(Problem {
            line,
            column,
            message,
        });
    }

    fn into_error(mut self, file: &str) -> RegisterFileError {
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

    fn check(&mut self, raw: RawRegister) -> Register {
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

        let readiness = self.check_readiness(raw.readiness);

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
        ReadinessSettings {
            url,
            poll_interval_secs,
            timeout_ms,
            stale_after_secs,
            proof_freshness_days: u32::try_from(proof_freshness_days)
                .unwrap_or(defaults.proof_freshness_days),
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
