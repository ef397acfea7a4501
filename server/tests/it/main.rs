//! The server's integration tests: HTTP, database, command-line and fixture tests
//! against real PostgreSQL (each `#[sqlx::test]` gets its own database).
//!
//! One test binary on purpose: each binary links the whole server, so one binary
//! instead of ten keeps build time and disk use down.

#![expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

mod common;

mod admin;
mod api;
mod auth;
mod bad_input;
mod commands;
mod deployments;
mod dossier;
mod edge;
mod errors;
mod events;
mod health_checks;
mod history_pages;
mod launch_rooms;
mod least_privilege;
mod liveness;
mod log;
mod log_attacks;
mod mail;
mod metrics;
mod open_redirect;
mod pages;
mod proof_freshness;
mod proof_runs;
mod public_url;
mod readiness_lead;
mod readiness_snapshots;
mod remote_source;
mod reporter;
mod resilience;
mod room_actions;
mod rooms;
mod secrets;
mod security_headers;
mod serve_loop;
mod signing_read;
mod tenancy;
mod webhook_endpoints;
mod webhooks;
mod webhooks_lost;
