//! The register file format, for writing: one `Serialize` struct per table of a
//! register file (`registers/*.toml`), serialized by the `toml` crate.
//!
//! They mirror the file, not the in-memory [`Register`]: field order is the
//! file's, optional keys are left out when they hold their default (as a person
//! writing the file would), and an evidence gate satisfied by the launch acceptance
//! says so with `satisfied_by = "acceptance"`. The parser in
//! `app::domain::register_file` is the reference; the tests check that every
//! generated file parses back into the register it was built from.

use app::domain::register::{
    Boundaries, CustomerEvidence, Decision, EvidenceGate, EvidencePack, EvidencePacks,
    LaunchMotion, MotionRequirements, PageText, ProofPath, ReadinessSettings, Register, Scope,
};
use serde::Serialize;

/// A whole register file. Keys with plain values come before the tables, as
/// TOML requires; tables and arrays of tables in the order the default register
/// file uses.
#[derive(Serialize)]
pub struct RegisterFile {
    pub schema_version: u32,
    pub organisation: String,
    pub page: PageTable,
    pub decision: DecisionTable,
    pub scopes: Vec<ScopeTable>,
    pub proofs: Vec<ProofTable>,
    /// Written as `blockers = []` when empty: the key is required.
    pub blockers: Vec<BlockerTable>,
    pub motions: Vec<MotionTable>,
    pub customer_evidence: CustomerEvidenceTable,
    pub evidence_packs: EvidencePacksTable,
    pub boundaries: BoundariesTable,
    pub readiness: ReadinessTable,
    /// `[[dependencies]]`: the kinds other than a setting; left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<DependencyTable>,
}

/// `[[dependencies]]`
#[derive(Serialize)]
pub struct DependencyTable {
    pub name: String,
    pub kind: &'static str,
}

/// `[page]`
#[derive(Serialize)]
pub struct PageTable {
    pub title: String,
    pub headline: String,
    pub introduction: String,
}

/// `[decision]`
#[derive(Serialize)]
pub struct DecisionTable {
    pub statement: String,
    pub strict_check_command: String,
}

/// `[[scopes]]`
#[derive(Serialize)]
pub struct ScopeTable {
    pub id: String,
    pub label: String,
}

/// `[[proofs]]`
#[derive(Serialize)]
pub struct ProofTable {
    pub id: String,
    pub name: String,
    pub command: String,
}

/// `[[blockers]]`
#[derive(Serialize)]
pub struct BlockerTable {
    pub id: String,
    pub title: String,
    pub required_for: String,
    /// Id of a scope.
    pub scope: String,
    pub dependencies: Vec<String>,
    /// Id of a proof.
    pub proof: String,
    pub if_missing: String,
}

/// `[[motions]]`; `short_name` only when it differs from `name` (the parser's
/// default).
#[derive(Serialize)]
pub struct MotionTable {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    pub summary: String,
    pub rule: String,
    pub requires: RequirementsTable,
}

/// `[motions.requires]`: every key but `public_checks` is left out when empty or
/// false.
#[derive(Serialize)]
pub struct RequirementsTable {
    pub public_checks: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub strict_readiness: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cleared_blockers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditional_scopes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence_gates: Vec<String>,
}

/// `[customer_evidence]`
#[derive(Serialize)]
pub struct CustomerEvidenceTable {
    pub lead: String,
    pub body: String,
    pub gates: Vec<GateTable>,
}

/// `[[customer_evidence.gates]]`
#[derive(Serialize)]
pub struct GateTable {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub items: Vec<String>,
    pub if_missing: String,
    /// `"acceptance"` or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfied_by: Option<&'static str>,
}

/// `[evidence_packs]`
#[derive(Serialize)]
pub struct EvidencePacksTable {
    pub lead: String,
    pub body: String,
    pub packs: Vec<PackTable>,
}

/// `[[evidence_packs.packs]]`
#[derive(Serialize)]
pub struct PackTable {
    pub path: String,
    pub title: String,
}

/// `[boundaries]`
#[derive(Serialize)]
pub struct BoundariesTable {
    pub lead: String,
    pub statements: Vec<String>,
}

/// `[readiness]`; `url` only when there is one.
#[derive(Serialize)]
pub struct ReadinessTable {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub poll_interval_secs: u64,
    pub timeout_ms: u64,
    pub stale_after_secs: u64,
    pub proof_freshness_days: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
}

// `skip_serializing_if` passes a reference.
fn is_false(value: &bool) -> bool {
    !value
}

// The parts a register file shares with the in-memory register, as the file
// writes them.

impl From<&PageText> for PageTable {
    fn from(page: &PageText) -> Self {
        Self {
            title: page.title.clone(),
            headline: page.headline.clone(),
            introduction: page.introduction.clone(),
        }
    }
}

impl From<&Decision> for DecisionTable {
    fn from(decision: &Decision) -> Self {
        Self {
            statement: decision.statement.clone(),
            strict_check_command: decision.strict_check_command.clone(),
        }
    }
}

impl From<&Scope> for ScopeTable {
    fn from(scope: &Scope) -> Self {
        Self {
            id: scope.id.clone(),
            label: scope.label.clone(),
        }
    }
}

impl From<&ProofPath> for ProofTable {
    fn from(proof: &ProofPath) -> Self {
        Self {
            id: proof.id.clone(),
            name: proof.name.clone(),
            command: proof.command.clone(),
        }
    }
}

impl MotionTable {
    /// `motion` as the file writes it, with `requires` in place of its own
    /// requirements.
    pub fn new(motion: &LaunchMotion, requires: RequirementsTable) -> Self {
        Self {
            id: motion.id.clone(),
            name: motion.name.clone(),
            short_name: (motion.short_name != motion.name).then(|| motion.short_name.clone()),
            summary: motion.summary.clone(),
            rule: motion.rule.clone(),
            requires,
        }
    }
}

impl From<&MotionRequirements> for RequirementsTable {
    fn from(requires: &MotionRequirements) -> Self {
        Self {
            public_checks: requires.public_checks,
            strict_readiness: requires.strict_readiness,
            cleared_blockers: requires.cleared_blockers.clone(),
            conditional_scopes: requires.conditional_scopes.clone(),
            evidence_gates: requires.evidence_gates.clone(),
        }
    }
}

impl From<&CustomerEvidence> for CustomerEvidenceTable {
    fn from(evidence: &CustomerEvidence) -> Self {
        Self {
            lead: evidence.lead.clone(),
            body: evidence.body.clone(),
            gates: evidence.gates.iter().map(GateTable::from).collect(),
        }
    }
}

impl From<&EvidenceGate> for GateTable {
    fn from(gate: &EvidenceGate) -> Self {
        Self {
            id: gate.id.clone(),
            name: gate.name.clone(),
            owner: gate.owner.clone(),
            items: gate.items.clone(),
            if_missing: gate.if_missing.clone(),
            satisfied_by: gate.satisfied_by_acceptance.then_some("acceptance"),
        }
    }
}

impl From<&EvidencePacks> for EvidencePacksTable {
    fn from(packs: &EvidencePacks) -> Self {
        Self {
            lead: packs.lead.clone(),
            body: packs.body.clone(),
            packs: packs.packs.iter().map(PackTable::from).collect(),
        }
    }
}

impl From<&EvidencePack> for PackTable {
    fn from(pack: &EvidencePack) -> Self {
        Self {
            path: pack.path.clone(),
            title: pack.title.clone(),
        }
    }
}

impl From<&Boundaries> for BoundariesTable {
    fn from(boundaries: &Boundaries) -> Self {
        Self {
            lead: boundaries.lead.clone(),
            statements: boundaries.statements.clone(),
        }
    }
}

impl From<&ReadinessSettings> for ReadinessTable {
    fn from(readiness: &ReadinessSettings) -> Self {
        Self {
            url: readiness.url.clone(),
            poll_interval_secs: readiness.poll_interval_secs,
            timeout_ms: readiness.timeout_ms,
            stale_after_secs: readiness.stale_after_secs,
            proof_freshness_days: readiness.proof_freshness_days,
            deployment: readiness.deployment.clone(),
        }
    }
}

impl From<&Register> for RegisterFile {
    /// The whole register as a file; the generator replaces its scopes, proofs,
    /// blockers and motions' cleared blockers.
    fn from(register: &Register) -> Self {
        Self {
            schema_version: register.schema_version,
            organisation: register.organisation.clone(),
            page: (&register.page).into(),
            decision: (&register.decision).into(),
            scopes: register.scopes.iter().map(ScopeTable::from).collect(),
            proofs: register.proofs.iter().map(ProofTable::from).collect(),
            blockers: register
                .blockers
                .iter()
                .map(|blocker| BlockerTable {
                    id: blocker.id.clone(),
                    title: blocker.title.clone(),
                    required_for: blocker.required_for.clone(),
                    scope: blocker.scope.clone(),
                    dependencies: blocker.dependencies.clone(),
                    proof: blocker.proof.clone(),
                    if_missing: blocker.if_missing.clone(),
                })
                .collect(),
            motions: register
                .motions
                .iter()
                .map(|motion| MotionTable::new(motion, (&motion.requires).into()))
                .collect(),
            customer_evidence: (&register.customer_evidence).into(),
            evidence_packs: (&register.evidence_packs).into(),
            boundaries: (&register.boundaries).into(),
            readiness: (&register.readiness).into(),
            dependencies: register
                .dependency_kinds
                .iter()
                .map(|(name, kind)| DependencyTable {
                    name: name.clone(),
                    kind: kind.as_str(),
                })
                .collect(),
        }
    }
}
