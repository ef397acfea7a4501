//! A register file's shape as TOML deserializes it: every field the format has
//! (unknown ones refused), each value with its span in the file so that the
//! checker can say where a problem is. No rules beyond the shape.

use serde::Deserialize;
use serde_spanned::Spanned;

pub(super) type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRegister {
    pub(super) schema_version: Spanned<u32>,
    pub(super) organisation: Text,
    pub(super) page: RawPage,
    pub(super) decision: RawDecision,
    pub(super) scopes: Vec<RawScope>,
    pub(super) proofs: Vec<RawProof>,
    pub(super) blockers: Vec<RawBlocker>,
    pub(super) motions: Spanned<Vec<RawMotion>>,
    pub(super) customer_evidence: RawCustomerEvidence,
    pub(super) evidence_packs: RawEvidencePacks,
    pub(super) boundaries: RawBoundaries,
    #[serde(default)]
    pub(super) readiness: RawReadiness,
    /// Dependencies whose kind is not the default (a setting).
    #[serde(default)]
    pub(super) dependencies: Vec<RawDependency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDependency {
    pub(super) name: Text,
    #[serde(default)]
    pub(super) kind: Option<Text>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReadiness {
    pub(super) url: Option<Text>,
    pub(super) poll_interval_secs: Option<Spanned<u64>>,
    pub(super) timeout_ms: Option<Spanned<u64>>,
    pub(super) stale_after_secs: Option<Spanned<u64>>,
    pub(super) proof_freshness_days: Option<Spanned<u32>>,
    pub(super) proof_warning_hours: Option<Spanned<u32>>,
    pub(super) deployment: Option<Text>,
    #[serde(default)]
    pub(super) checks: Vec<RawCheck>,
}

/// `[[readiness.checks]]`: a health endpoint read as a public check.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    pub(super) name: Text,
    pub(super) url: Text,
    #[serde(default)]
    pub(super) kind: Option<Text>,
    #[serde(default)]
    pub(super) timeout_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPage {
    pub(super) title: Text,
    pub(super) headline: Text,
    pub(super) introduction: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDecision {
    pub(super) statement: Text,
    pub(super) strict_check_command: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScope {
    pub(super) id: Text,
    pub(super) label: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProof {
    pub(super) id: Text,
    pub(super) name: Text,
    pub(super) command: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBlocker {
    pub(super) id: Text,
    pub(super) title: Text,
    pub(super) required_for: Text,
    pub(super) scope: Text,
    pub(super) dependencies: Spanned<Vec<Text>>,
    pub(super) proof: Text,
    pub(super) if_missing: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMotion {
    pub(super) id: Text,
    pub(super) name: Text,
    pub(super) short_name: Option<Text>,
    pub(super) summary: Text,
    pub(super) rule: Text,
    #[serde(default)]
    pub(super) requires: RawRequirements,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequirements {
    #[serde(default)]
    pub(super) public_checks: bool,
    #[serde(default)]
    pub(super) strict_readiness: bool,
    #[serde(default)]
    pub(super) cleared_blockers: Vec<Text>,
    #[serde(default)]
    pub(super) conditional_scopes: Vec<Text>,
    #[serde(default)]
    pub(super) evidence_gates: Vec<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCustomerEvidence {
    pub(super) lead: Text,
    pub(super) body: Text,
    pub(super) gates: Vec<RawGate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGate {
    pub(super) id: Text,
    pub(super) name: Text,
    pub(super) owner: Text,
    pub(super) items: Spanned<Vec<Text>>,
    pub(super) if_missing: Text,
    #[serde(default)]
    pub(super) satisfied_by: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvidencePacks {
    pub(super) lead: Text,
    pub(super) body: Text,
    pub(super) packs: Vec<RawPack>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPack {
    pub(super) path: Text,
    pub(super) title: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBoundaries {
    pub(super) lead: Text,
    pub(super) statements: Vec<Text>,
}
