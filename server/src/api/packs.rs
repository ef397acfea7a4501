//! `GET /api/product/<pack>`: the public-safe evidence packs the seed lists, each a
//! versioned JSON document built from the register and live readiness (proof runs
//! and readiness history included). They carry no tenant data and, like every
//! answer, dependency names only.

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;

use app::domain::evaluation::{Evaluation, MotionStatus, Readiness, Reason};
use app::domain::proof_run::ProofRun;
use app::domain::{decision_summary, DependencyState, Register};
use app::live_state::{HistoryEntry, LiveState};

use super::error::{ApiError, ErrorBody, Result};
use super::safe_json::SafeJson;
use crate::state::AppState;

/// The packs' format name and version.
pub const FORMAT: &str = "clearance.pack/1";

/// The public packs this server builds, by the last segment of their path; the
/// list lives in the domain so register files are checked against it.
pub use app::domain::packs::PRODUCT_PACKS;

/// A pack's name in the OpenAPI document: one of [`PRODUCT_PACKS`].
pub struct PackName;

impl utoipa::PartialSchema for PackName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .enum_values(Some(PRODUCT_PACKS))
            .into()
    }
}

impl utoipa::ToSchema for PackName {}

/// What every pack starts with.
#[derive(Debug, Serialize)]
pub struct Header {
    pub format: &'static str,
    pub pack: String,
    pub title: String,
    pub organisation: String,
    pub generated_at: DateTime<Utc>,
    /// The digest of the readiness inputs the pack was built from.
    pub readiness_digest: String,
    pub advisory: Readiness,
    pub strict: Readiness,
}

#[derive(Debug, Serialize)]
pub struct Pack {
    #[serde(flatten)]
    pub header: Header,
    #[serde(flatten)]
    pub body: Body,
}

#[derive(Debug, Serialize)]
pub struct MotionEntry {
    pub id: String,
    pub name: String,
    pub rule: String,
    pub status: MotionStatus,
    pub reasons: Vec<String>,
    pub evidence_gates: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ProofEntry {
    pub id: String,
    pub name: String,
    pub command: String,
    pub passing: bool,
    pub latest_run: Option<ProofRun>,
    pub blockers: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BlockerEntry {
    pub id: String,
    pub title: String,
    pub scope: String,
    pub live: bool,
    pub dependencies: Vec<(String, DependencyState)>,
    pub proof: String,
    pub proof_command: String,
    pub if_missing: String,
}

#[derive(Debug, Serialize)]
pub struct GateEntry {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub items: Vec<String>,
    pub if_missing: String,
    pub required_by: Vec<String>,
}

/// Each pack's own content.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Body {
    Motions {
        motions: Vec<MotionEntry>,
    },
    Proofs {
        proof_freshness_days: u32,
        proofs: Vec<ProofEntry>,
    },
    Launch {
        decision: String,
        decision_summary: String,
        motions: Vec<MotionEntry>,
        live_blockers: Vec<BlockerEntry>,
    },
    Gates {
        lead: String,
        body: String,
        gates: Vec<GateEntry>,
    },
    Operations {
        source: String,
        observed_at: DateTime<Utc>,
        first_seen_at: DateTime<Utc>,
        stale_since: Option<DateTime<Utc>>,
        public_checks: Vec<(String, bool)>,
        /// Newest first.
        recent_changes: Vec<HistoryEntry>,
    },
    Procurement {
        decision: String,
        boundaries: Vec<String>,
        gates: Vec<GateEntry>,
        packs: Vec<(String, String)>,
    },
    Security {
        boundaries: Vec<String>,
        dependencies: Vec<(String, DependencyState)>,
        controls: Vec<&'static str>,
    },
    Provisioning {
        blockers: Vec<BlockerEntry>,
    },
}

/// What the security-assurance pack states about this build, each backed by tests.
const CONTROLS: [&str; 6] = [
    "Dependency values are never read beyond presence, stored, logged or returned; only names appear.",
    "Tenant data is isolated in code and by PostgreSQL row-level security (FORCE ROW LEVEL SECURITY).",
    "Passwords are stored as Argon2id hashes; invitation links and API tokens only as SHA-256.",
    "Launch acceptance and evidence records are append-only hash chains, verified by `server audit verify`.",
    "State-changing requests from other sites are refused; API clients use bearer tokens.",
    "Every sign-in, access change and refused access is kept in an append-only access log.",
];

fn motions(
    register: &Register,
    evaluation: &Evaluation,
    strict_only: Option<bool>,
) -> Vec<MotionEntry> {
    register
        .motions
        .iter()
        .zip(&evaluation.motions)
        .filter(|(motion, _)| {
            strict_only.is_none_or(|strict| motion.requires.strict_readiness == strict)
        })
        .map(|(motion, state)| MotionEntry {
            id: motion.id.clone(),
            name: motion.name.clone(),
            rule: motion.rule.clone(),
            status: state.status,
            reasons: state.reasons.iter().map(Reason::to_string).collect(),
            evidence_gates: motion.requires.evidence_gates.clone(),
        })
        .collect()
}

fn blockers(
    register: &Register,
    evaluation: &Evaluation,
    live: &LiveState,
    only_live: bool,
) -> Vec<BlockerEntry> {
    register
        .blockers
        .iter()
        .zip(&evaluation.blockers)
        .filter(|(_, state)| !only_live || state.live)
        .map(|(blocker, state)| BlockerEntry {
            id: blocker.id.clone(),
            title: blocker.title.clone(),
            scope: register
                .scope(&blocker.scope)
                .map_or_else(|| blocker.scope.clone(), |scope| scope.label.clone()),
            live: state.live,
            dependencies: blocker
                .dependencies
                .iter()
                .map(|name| (name.clone(), live.readiness.inputs.dependency(name)))
                .collect(),
            proof: blocker.proof.clone(),
            proof_command: register
                .proof(&blocker.proof)
                .map(|proof| proof.command.clone())
                .unwrap_or_default(),
            if_missing: blocker.if_missing.clone(),
        })
        .collect()
}

fn gates(register: &Register) -> Vec<GateEntry> {
    register
        .customer_evidence
        .gates
        .iter()
        .map(|gate| GateEntry {
            id: gate.id.clone(),
            name: gate.name.clone(),
            owner: gate.owner.clone(),
            items: gate.items.clone(),
            if_missing: gate.if_missing.clone(),
            required_by: register
                .motions
                .iter()
                .filter(|motion| motion.requires.evidence_gates.contains(&gate.id))
                .map(|motion| motion.id.clone())
                .collect(),
        })
        .collect()
}

/// Builds pack `name`, or `None` for a name this server does not build.
pub fn build(
    register: &Register,
    live: &LiveState,
    evaluation: &Evaluation,
    name: &str,
) -> Option<Pack> {
    let body = match name {
        "managed-beta-readiness" => Body::Motions {
            motions: motions(register, evaluation, Some(false)),
        },
        "production-proof" => Body::Proofs {
            proof_freshness_days: register.readiness.proof_freshness_days,
            proofs: register
                .proofs
                .iter()
                .map(|proof| ProofEntry {
                    id: proof.id.clone(),
                    name: proof.name.clone(),
                    command: proof.command.clone(),
                    passing: live.readiness.inputs.proof_passing(&proof.id),
                    latest_run: live.latest_runs.get(&proof.id).cloned(),
                    blockers: register
                        .blockers
                        .iter()
                        .filter(|blocker| blocker.proof == proof.id)
                        .map(|blocker| blocker.id.clone())
                        .collect(),
                })
                .collect(),
        },
        "launch-evidence" => Body::Launch {
            decision: register.decision.statement.clone(),
            decision_summary: decision_summary(register, evaluation),
            motions: motions(register, evaluation, None),
            live_blockers: blockers(register, evaluation, live, true),
        },
        "customer-launch-room" => Body::Gates {
            lead: register.customer_evidence.lead.clone(),
            body: register.customer_evidence.body.clone(),
            gates: gates(register),
        },
        "operations-evidence" => Body::Operations {
            source: live.readiness.source.clone(),
            observed_at: live.readiness.observed_at,
            first_seen_at: live.readiness.first_seen_at,
            stale_since: live.readiness.stale.as_ref().map(|stale| stale.since),
            public_checks: live
                .readiness
                .inputs
                .public_checks
                .iter()
                .map(|check| (check.name.clone(), check.passed))
                .collect(),
            recent_changes: live.changes.iter().take(50).cloned().collect(),
        },
        "procurement-evidence" => Body::Procurement {
            decision: register.decision.statement.clone(),
            boundaries: register.boundaries.statements.clone(),
            gates: gates(register),
            packs: register
                .evidence_packs
                .packs
                .iter()
                .map(|pack| (pack.path.clone(), pack.title.clone()))
                .collect(),
        },
        "security-assurance" => Body::Security {
            boundaries: register.boundaries.statements.clone(),
            dependencies: register
                .dependency_names()
                .into_iter()
                .map(|name| (name.to_owned(), live.readiness.inputs.dependency(name)))
                .collect(),
            controls: CONTROLS.to_vec(),
        },
        "provisioning-guides" => Body::Provisioning {
            blockers: blockers(register, evaluation, live, false),
        },
        _ => return None,
    };
    let title = register
        .evidence_packs
        .packs
        .iter()
        .find(|pack| pack.path == format!("/api/product/{name}"))
        .map_or_else(|| name.replace('-', " "), |pack| pack.title.clone());
    Some(Pack {
        header: Header {
            format: FORMAT,
            pack: name.to_owned(),
            title,
            organisation: register.organisation.clone(),
            generated_at: Utc::now(),
            readiness_digest: live.readiness.digest.clone(),
            advisory: evaluation.advisory,
            strict: evaluation.strict,
        },
        body,
    })
}

/// `GET /api/product/{pack}`.
#[utoipa::path(
    get,
    path = "/api/product/{pack}",
    tag = "packs",
    summary = "A public-safe evidence pack (format clearance.pack/1)",
    params(("pack" = PackName, Path, description = "Which pack")),
    responses(
        (status = 200, description = "The pack", body = Object),
        (status = 404, description = "No such pack", body = ErrorBody)
    )
)]
pub async fn product(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<SafeJson<Pack>> {
    let evaluated = state.clearance.evaluated();
    build(
        &state.clearance.register,
        &evaluated.live,
        &evaluated.evaluation,
        &name,
    )
    .map(SafeJson)
    .ok_or_else(|| ApiError::NotFound(format!("no evidence pack {name}")))
}
