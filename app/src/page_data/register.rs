//! What the register's pages fetch (`/`, `/motions/{id}`, `/blockers/{id}`),
//! already evaluated, and the server functions that answer.
//!
//! The register can hold thousands of blockers, so no page holds it whole: the
//! server evaluates the live state once per change (see
//! `live::LiveClearance::evaluated`), and each page renders only what it shows —
//! the overview figures, one page of filtered rows, one motion or one blocker.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::outlook::MotionOutlook;
use crate::domain::proof_run::ProofRun;
use crate::domain::register::{Blocker, EvidenceGate, LaunchMotion, ProofPath};
use crate::domain::triage::{BlockerFilter, Facets};
use crate::domain::{BlockerEvaluation, DependencyState, MotionStatus, Readiness, Reason};
use crate::live_state::BlockerHistory;
use crate::page_data::ClearanceError;

/// How many reasons, blockers or actions a list shows before "and N more".
pub const LIST_LIMIT: usize = 25;

/// A list cut at [`LIST_LIMIT`], with how many were left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capped<T> {
    pub items: Vec<T>,
    pub more: usize,
}

impl<T> Capped<T> {
    pub fn new(all: impl IntoIterator<Item = T>, limit: usize) -> Self {
        let mut items = Vec::new();
        let mut more = 0;
        for item in all {
            if items.len() < limit {
                items.push(item);
            } else {
                more += 1;
            }
        }
        Self { items, more }
    }
}

/// A motion's status with its first reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MotionSummary {
    pub id: String,
    pub status: MotionStatus,
    pub reasons: Capped<Reason>,
}

/// The register page's figures, decision summary and motion statuses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub advisory: Readiness,
    pub strict: Readiness,
    pub live_blockers: usize,
    pub evidence_gates: usize,
    pub decision_summary: String,
    /// In register order.
    pub motions: Vec<MotionSummary>,
}

/// One row of the blocker table, with everything it shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerRow {
    pub blocker: Blocker,
    pub scope: String,
    pub state: BlockerEvaluation,
    pub proof: Option<ProofPath>,
    pub dependencies: Vec<(String, DependencyState)>,
    pub last_run: Option<ProofRun>,
}

/// One page of the filtered blocker table, with the facets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageView {
    /// The filter as applied (unknown values dropped, page clamped).
    pub filter: BlockerFilter,
    /// Its canonical query string.
    pub query: String,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    /// 1-based positions of the first and last row shown.
    pub shown: Option<(usize, usize)>,
    pub facets: Facets,
    /// What in the query string was ignored, as sentences.
    pub problems: Vec<String>,
    pub rows: Vec<BlockerRow>,
    /// Hrefs of the previous and next pages.
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// The motion view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MotionView {
    pub motion: LaunchMotion,
    pub status: MotionSummary,
    pub outlook: MotionOutlook,
    /// Live blockers holding the motion back: (id, title).
    pub in_the_way: Capped<(String, String)>,
    pub gates: Vec<EvidenceGate>,
}

/// The blocker drill-down.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerView {
    pub row: BlockerRow,
    /// Motions this blocker can hold back: (id, name).
    pub motions: Vec<(String, String)>,
    pub history: Option<BlockerHistory>,
    /// "expires in …" while the proof's pass is within the warning margin of
    /// its freshness window; "expired … ago; no passing run since …" after.
    #[serde(default)]
    pub proof_warning: Option<String>,
}

#[cfg(feature = "ssr")]
mod build {
    //! Building the views from the register and one evaluated live state.

    use super::*;
    use crate::domain::outlook::motion_outlook;
    use crate::domain::triage::{holds_back, Triage};
    use crate::domain::{decision_summary, Evaluation, Register};
    use crate::live_state::LiveState;

    pub fn overview(register: &Register, evaluation: &Evaluation) -> Overview {
        Overview {
            advisory: evaluation.advisory,
            strict: evaluation.strict,
            live_blockers: evaluation.live_blockers,
            evidence_gates: evaluation.evidence_gates,
            decision_summary: decision_summary(register, evaluation),
            motions: evaluation
                .motions
                .iter()
                .map(|motion| MotionSummary {
                    id: motion.id.clone(),
                    status: motion.status,
                    reasons: Capped::new(motion.reasons.iter().cloned(), 8),
                })
                .collect(),
        }
    }

    pub fn row(
        register: &Register,
        evaluation: &Evaluation,
        live: &LiveState,
        index: usize,
    ) -> Option<BlockerRow> {
        let blocker = register.blockers.get(index)?;
        let state = evaluation.blockers.get(index)?;
        let inputs = &live.readiness.inputs;
        Some(BlockerRow {
            scope: register
                .scope(&blocker.scope)
                .map_or_else(|| blocker.scope.clone(), |scope| scope.label.clone()),
            state: state.clone(),
            proof: register.proof(&blocker.proof).cloned(),
            dependencies: blocker
                .dependencies
                .iter()
                .map(|name| (name.clone(), inputs.dependency(name)))
                .collect(),
            last_run: live.latest_runs.get(&blocker.proof).cloned(),
            blocker: blocker.clone(),
        })
    }

    pub fn triage(
        register: &Register,
        evaluation: &Evaluation,
        triage: &Triage,
        live: &LiveState,
        query: &str,
    ) -> TriageView {
        let (filter, mut problems) = BlockerFilter::from_query_string(query);
        let mut result = triage.apply(&filter);
        problems.append(&mut result.problems);
        TriageView {
            query: result.filter.to_query(),
            total: result.matches.len(),
            page: result.page,
            pages: result.pages,
            shown: result.shown_range(),
            rows: result
                .page_rows()
                .iter()
                .filter_map(|&index| row(register, evaluation, live, index))
                .collect(),
            previous: (result.page > 1).then(|| result.page_href(result.page - 1)),
            next: (result.page < result.pages).then(|| result.page_href(result.page + 1)),
            problems: problems.iter().map(ToString::to_string).collect(),
            facets: result.facets,
            filter: result.filter,
        }
    }

    pub fn motion(
        register: &Register,
        evaluation: &Evaluation,
        live: &LiveState,
        id: &str,
    ) -> Option<MotionView> {
        let motion = register.motions.iter().find(|motion| motion.id == id)?;
        let state = evaluation.motion(id)?;
        let mut outlook = motion_outlook(register, motion, &live.readiness.inputs, evaluation);
        for step in &mut outlook.steps {
            step.actions.truncate(LIST_LIMIT);
        }
        Some(MotionView {
            status: MotionSummary {
                id: motion.id.clone(),
                status: state.status,
                reasons: Capped::new(state.reasons.iter().cloned(), LIST_LIMIT),
            },
            outlook,
            in_the_way: Capped::new(
                register
                    .blockers
                    .iter()
                    .zip(&evaluation.blockers)
                    .filter(|(blocker, state)| state.live && holds_back(motion, blocker))
                    .map(|(blocker, _)| (blocker.id.clone(), blocker.title.clone())),
                LIST_LIMIT,
            ),
            gates: motion
                .requires
                .evidence_gates
                .iter()
                .filter_map(|gate| register.gate(gate).cloned())
                .collect(),
            motion: motion.clone(),
        })
    }

    pub fn blocker(
        register: &Register,
        evaluation: &Evaluation,
        live: &LiveState,
        id: &str,
    ) -> Option<BlockerView> {
        let index = register
            .blockers
            .iter()
            .position(|blocker| blocker.id == id)?;
        let row = row(register, evaluation, live, index)?;
        Some(BlockerView {
            motions: register
                .motions
                .iter()
                .filter(|motion| holds_back(motion, &row.blocker))
                .map(|motion| (motion.id.clone(), motion.name.clone()))
                .collect(),
            row,
            history: None,
            proof_warning: None,
        })
    }
}

#[cfg(feature = "ssr")]
fn live_clearance() -> Result<crate::live::LiveClearance, ClearanceError> {
    use_context::<crate::live::LiveClearance>().ok_or(ClearanceError::Unavailable)
}

/// The register page's figures and motion statuses.
#[server(endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, ClearanceError> {
    let live = live_clearance()?;
    let evaluated = live.evaluated();
    Ok(build::overview(&live.register, &evaluated.evaluation))
}

/// One page of the blocker table for a query string (`scope=…&q=…`).
#[server(endpoint = "triage")]
pub async fn get_triage(query: String) -> Result<TriageView, ClearanceError> {
    let live = live_clearance()?;
    let evaluated = live.evaluated();
    Ok(build::triage(
        &live.register,
        &evaluated.evaluation,
        &evaluated.triage,
        &evaluated.live,
        &query,
    ))
}

/// One launch motion's view.
#[server(endpoint = "motion")]
pub async fn get_motion(id: String) -> Result<MotionView, ClearanceError> {
    let live = live_clearance()?;
    let evaluated = live.evaluated();
    build::motion(&live.register, &evaluated.evaluation, &evaluated.live, &id)
        .ok_or(ClearanceError::NotFound)
}

/// One blocker's drill-down, with its proof's recent runs and dependency history
/// (left out, with the rest still shown, when the database cannot be reached).
#[server(endpoint = "blocker")]
pub async fn get_blocker(id: String) -> Result<BlockerView, ClearanceError> {
    let live = live_clearance()?;
    let evaluated = live.evaluated();
    let mut view = build::blocker(&live.register, &evaluated.evaluation, &evaluated.live, &id)
        .ok_or(ClearanceError::NotFound)?;
    view.proof_warning = evaluated
        .live
        .proof_freshness
        .get(&view.row.blocker.proof)
        .and_then(|freshness| freshness.warning.clone());
    view.history = live
        .store
        .blocker_history(&evaluated.live.readiness, &view.row.blocker)
        .await
        .ok();
    Ok(view)
}
