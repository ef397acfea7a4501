//! The pure domain: the register model and everything computed from it. No I/O,
//! no framework; compiled into both the server and the browser, tested without a
//! database (`tests/`).
//!
//! - The register: [`register`] (the model), `register_file` (server only: its
//!   TOML file, read and checked), [`packs`] (the evidence packs it may list).
//! - Readiness: [`evaluation`] (inputs → live blockers → readiness → motion
//!   statuses), [`document`] (the readiness document a deployment serves),
//!   [`proof_run`] (reported proof runs and their rules), [`health_check`] (health
//!   endpoints read as public checks: Actuator, Kubernetes, health+json).
//!   [`proof_run`] (reported proof runs and their rules), [`freshness`] (proofs
//!   about to lapse, sources gone quiet, and the events they make).
//! - Reading it: [`triage`] (the blocker filter and the index it runs over),
//!   [`outlook`] (what would move a motion's status), [`badge`] (status badges).
//! - Launch rooms: [`launch_room`] (room status, readiness changes, the forms and
//!   their checks), [`ledger`] (the hash-chained records), [`chain_page`] (pages
//!   of a chain), [`dossier`] (the launch dossier's manifest).
//! - Notifications: [`events`] (the event catalogue and each event's payload),
//!   [`webhook`] (webhook endpoints as operators describe them, and their checks).
//! - People: [`access`] (roles, viewers, account rules), [`tenant`] (tenants and
//!   invitations), [`local_path`] (where signing in may send a visitor back to).

pub mod access;
pub mod badge;
pub mod chain_page;
pub mod deployment;
pub mod document;
pub mod dossier;
pub mod evaluation;
pub mod events;
pub mod freshness;
pub mod health_check;
pub mod launch_room;
pub mod ledger;
pub mod local_path;
pub mod outlook;
pub mod packs;
pub mod proof_run;
pub mod register;
#[cfg(feature = "ssr")]
pub mod register_file;
pub mod tenant;
pub mod triage;
pub mod webhook;

#[cfg(test)]
mod tests;

pub use evaluation::{
    changes_between, decision_summary, evaluate, evaluate_with_context, BlockerEvaluation,
    CustomerContext, DependencyState, Evaluation, EvaluationSummary, MotionEvaluation,
    MotionStatus, PublicCheck, Readiness, ReadinessChange, ReadinessInputs, Reason,
};
pub use register::Register;
