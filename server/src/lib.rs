//! Clearance server: everything with I/O around the pure `app` crate.
//!
//! - [`config`]: command line and environment.
//! - [`register_source`]: which register file is loaded.
//! - [`db`]: the PostgreSQL pool, migrations, and the check that the server
//!   serves as a role that cannot rewrite the ledgers.
//! - [`readiness`]: the monitor that reads, stores and publishes readiness.
//! - [`proofs`]: proof runs in the database; [`proof_runner`]: `proof run`;
//!   [`junit`]: JUnit XML reports for `proof record --junit`.
//! - [`proofs`]: proof runs in the database.
//! - [`deployments`]: deployments that report their readiness, their reporter
//!   tokens, and the reporter itself (`server report`).
//! - [`state`]: the application state; [`startup`]: the state and the router,
//!   built for `main` and the tests alike; [`layers`]: request tracing.
//! - [`pages`]: the Leptos pages and the front end's files.
//! - [`admin`]: the administration page's data and form posts.
//! - [`api`]: the JSON API and the live event stream.
//! - [`auth`]: accounts, sessions, sign-in throttling, cross-site protection, access log.
//! - [`commands`]: the command-line commands other than serving.
//! - [`tenancy`], [`tenants`]: tenant data under PostgreSQL row-level security.
//! - [`events`]: the outbox of catalogue events and the notification worker;
//!   [`webhooks`]: endpoints, Standard Webhooks signatures, delivery.
//! - [`rooms`]: launch rooms: evidence, signed acceptance, their hash chains.
//! - [`refusal`]: how refused form posts and database failures are answered.
//! - [`input`]: request-body size limit and well-formed forms, for every route.
//! - [`page_cache`]: the public pages, rendered once per live state.
//! - [`client_addr`]: the client's address behind trusted proxies;
//!   [`listener`]: the serve loop with its timeouts and connection cap;
//!   [`edge`]: the settings of both.
//! - [`metrics`]: `/metrics` for Prometheus, and the HTTP request metrics.
//! - [`log`]: the transparency log: a Merkle tree of every ledger record,
//!   signed checkpoints, proofs and receipts.

pub mod admin;
pub mod api;
pub mod auth;
pub mod client_addr;
pub mod commands;
pub mod config;
pub mod db;
pub mod deployments;
pub mod edge;
pub mod events;
pub mod health;
pub mod input;
pub mod junit;
pub mod layers;
pub mod listener;
pub mod log;
pub mod mail;
pub mod metrics;
pub mod page_cache;
pub mod pages;
pub mod proof_runner;
pub mod proofs;
pub mod public_url;
pub mod readiness;
pub mod refusal;
pub mod register_source;
pub mod rooms;
pub mod security_headers;
pub mod startup;
pub mod state;
pub mod tenancy;
pub mod tenants;
pub mod webhooks;
