//! The register: what a company declares about its launch clearance.
//!
//! These types are the validated, in-memory form of a register file. They carry no
//! behaviour beyond look-ups; the evaluation lives in [`super::evaluation`].

use serde::{Deserialize, Serialize};

use super::health_check::HealthCheck;

/// The register file schema version this build understands.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole launch clearance register, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    pub schema_version: u32,
    pub organisation: String,
    pub page: PageText,
    pub decision: Decision,
    pub scopes: Vec<Scope>,
    pub proofs: Vec<ProofPath>,
    pub blockers: Vec<Blocker>,
    pub motions: Vec<LaunchMotion>,
    pub customer_evidence: CustomerEvidence,
    pub evidence_packs: EvidencePacks,
    pub boundaries: Boundaries,
    pub readiness: ReadinessSettings,
    /// The kind of each dependency declared other than a setting (`[[dependencies]]`);
    /// a name absent from the map is a setting.
    #[serde(default)]
    pub dependency_kinds: std::collections::BTreeMap<String, DependencyKind>,
}

/// What a dependency name stands for, and so how a reporter checks it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DependencyKind {
    /// A setting (environment variable) that must be present and non-empty.
    #[default]
    Setting,
    /// A database table that must hold at least one row.
    Table,
}

impl DependencyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Setting => "setting",
            Self::Table => "table",
        }
    }
}

/// Where readiness comes from and how fresh it must be. Every field has a default,
/// and the server's command line can override the source settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessSettings {
    /// A remote deployment's readiness URL; without one the server reads its own
    /// environment.
    pub url: Option<String>,
    pub poll_interval_secs: u64,
    pub timeout_ms: u64,
    /// How long a remote source may go unanswered before its public checks count
    /// as failed.
    pub stale_after_secs: u64,
    /// A proof counts as passing while its latest run passed within this many days.
    pub proof_freshness_days: u32,
    /// Health endpoints read as public checks (`[[readiness.checks]]`).
    #[serde(default)]
    pub checks: Vec<HealthCheck>,
    /// A passing proof warns ("expires in …") this many hours before its
    /// freshness window ends.
    pub proof_warning_hours: u32,
    /// The deployment whose reports (`server report`) are the readiness source.
    #[serde(default)]
    pub deployment: Option<String>,
}

impl Default for ReadinessSettings {
    fn default() -> Self {
        Self {
            url: None,
            poll_interval_secs: 5,
            timeout_ms: 2_000,
            stale_after_secs: 30,
            proof_freshness_days: 30,
            checks: Vec::new(),
            proof_warning_hours: 24,
            deployment: None,
        }
    }
}

/// The page's title block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageText {
    pub title: String,
    pub headline: String,
    pub introduction: String,
}

/// The decision the register supports, and the command that checks it strictly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub statement: String,
    pub strict_check_command: String,
}

/// A launch scope a blocker belongs to, such as `private beta`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub id: String,
    pub label: String,
}

/// A named proof and the command that produces it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofPath {
    pub id: String,
    pub name: String,
    pub command: String,
}

/// Something that stands between the deployment and a launch claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    pub id: String,
    pub title: String,
    pub required_for: String,
    /// Id of a [`Scope`].
    pub scope: String,
    /// Configuration names; only their presence is ever read.
    pub dependencies: Vec<String>,
    /// Id of a [`ProofPath`].
    pub proof: String,
    pub if_missing: String,
}

/// A way of selling the product, with a computed status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchMotion {
    pub id: String,
    pub name: String,
    /// The name used in the one-line decision summary ("Enterprise expansion").
    pub short_name: String,
    pub summary: String,
    pub rule: String,
    pub requires: MotionRequirements,
}

/// What a launch motion needs, as the evaluation reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MotionRequirements {
    /// Hard: the deployment's public checks must pass.
    pub public_checks: bool,
    /// Hard: strict readiness must be `ready` (no live blocker at all).
    pub strict_readiness: bool,
    /// Hard: these blockers (ids) must be cleared.
    pub cleared_blockers: Vec<String>,
    /// Soft: live blockers in these scopes (ids) keep the motion conditional until
    /// they are proven or scoped into the order form.
    pub conditional_scopes: Vec<String>,
    /// Soft: customer evidence gates (ids) each tenant must satisfy.
    pub evidence_gates: Vec<String>,
}

/// The customer evidence section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerEvidence {
    pub lead: String,
    pub body: String,
    pub gates: Vec<EvidenceGate>,
}

/// Evidence a customer must supply before a conditional launch is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceGate {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub items: Vec<String>,
    pub if_missing: String,
    /// Satisfied by the tenant's current signed launch acceptance rather than by
    /// attached evidence items (`satisfied_by = "acceptance"` in the file).
    #[serde(default)]
    pub satisfied_by_acceptance: bool,
}

/// The evidence packs section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidencePacks {
    pub lead: String,
    pub body: String,
    pub packs: Vec<EvidencePack>,
}

/// A JSON evidence document served at `path`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidencePack {
    pub path: String,
    pub title: String,
}

/// The public-safe statements the product holds itself to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Boundaries {
    pub lead: String,
    pub statements: Vec<String>,
}

/// The part of a register every page shows, without its blockers and proofs: small
/// whatever the register's size, so it can travel with every page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterOutline {
    pub organisation: String,
    pub page: PageText,
    pub decision: Decision,
    pub scopes: Vec<Scope>,
    pub motions: Vec<LaunchMotion>,
    pub customer_evidence: CustomerEvidence,
    pub evidence_packs: EvidencePacks,
    pub boundaries: Boundaries,
    pub blocker_count: usize,
}

impl Register {
    pub fn outline(&self) -> RegisterOutline {
        RegisterOutline {
            organisation: self.organisation.clone(),
            page: self.page.clone(),
            decision: self.decision.clone(),
            scopes: self.scopes.clone(),
            motions: self.motions.clone(),
            customer_evidence: self.customer_evidence.clone(),
            evidence_packs: self.evidence_packs.clone(),
            boundaries: self.boundaries.clone(),
            blocker_count: self.blockers.len(),
        }
    }

    pub fn scope(&self, id: &str) -> Option<&Scope> {
        self.scopes.iter().find(|scope| scope.id == id)
    }

    pub fn proof(&self, id: &str) -> Option<&ProofPath> {
        self.proofs.iter().find(|proof| proof.id == id)
    }

    pub fn blocker(&self, id: &str) -> Option<&Blocker> {
        self.blockers.iter().find(|blocker| blocker.id == id)
    }

    pub fn motion(&self, id: &str) -> Option<&LaunchMotion> {
        self.motions.iter().find(|motion| motion.id == id)
    }

    pub fn gate(&self, id: &str) -> Option<&EvidenceGate> {
        self.customer_evidence
            .gates
            .iter()
            .find(|gate| gate.id == id)
    }

    /// Every dependency name the register declares, sorted and without repeats.
    pub fn dependency_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .blockers
            .iter()
            .flat_map(|blocker| blocker.dependencies.iter().map(String::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The kind of a dependency name: a setting unless declared otherwise.
    pub fn dependency_kind(&self, name: &str) -> DependencyKind {
        self.dependency_kinds.get(name).copied().unwrap_or_default()
    }
}

/// A piece of a proof command: literal text, or a placeholder such as `<secret>`
/// that the operator replaces with a value of their own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandPart {
    Text(String),
    /// With its angle brackets, as written.
    Placeholder(String),
}

impl CommandPart {
    /// Splits a command at its placeholders: `<` and `>` around a name of letters,
    /// digits, `-` and `_`. Anything else (a shell redirect, say) stays text.
    pub fn split(command: &str) -> Vec<Self> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = command;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(after.len());
            if name_len > 0 && after[name_len..].starts_with('>') {
                text.push_str(&rest[..start]);
                if !text.is_empty() {
                    parts.push(Self::Text(std::mem::take(&mut text)));
                }
                parts.push(Self::Placeholder(
                    rest[start..start + name_len + 2].to_owned(),
                ));
                rest = &after[name_len + 1..];
            } else {
                text.push_str(&rest[..=start]);
                rest = after;
            }
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Self::Text(text));
        }
        parts
    }
}
