//! The pure domain: the register model and its evaluation. No I/O, no framework;
//! compiled into both the server and the browser, tested without a database.

pub mod access;
pub mod badge;
pub mod chain_page;
pub mod document;
pub mod dossier;
pub mod evaluation;
pub mod launch_room;
pub mod ledger;
pub mod outlook;
pub mod packs;
pub mod proof_run;
pub mod register;
#[cfg(feature = "ssr")]
pub mod register_file;
pub mod tenant;
pub mod triage;

#[cfg(test)]
mod tests;

pub use evaluation::{
    changes_between, decision_summary, evaluate, evaluate_with_context, BlockerEvaluation,
    CustomerContext, DependencyState, Evaluation, EvaluationSummary, MotionEvaluation,
    MotionStatus, PublicCheck, Readiness, ReadinessChange, ReadinessInputs, Reason,
};
pub use register::Register;
