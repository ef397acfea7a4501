//! Clearance server: everything with I/O around the pure `app` crate.
//!
//! - [`config`]: command line and environment.
//! - [`register_source`]: which register file is loaded.
//! - [`db`]: the PostgreSQL pool and migrations.
//! - [`readiness`]: the monitor that reads, stores and publishes readiness.
//! - [`proofs`]: proof runs in the database.
//! - [`admin`]: the administration page's data and form posts.
//! - [`api`]: the JSON API and the live event stream.
//! - [`auth`]: accounts, sessions, sign-in throttling, cross-site protection, access log.
//! - [`commands`]: the command-line commands other than serving.
//! - [`fixtures`]: synthetic register files for load tests and benchmarks.
//! - [`tenancy`], [`tenants`]: tenant data under PostgreSQL row-level security.
//! - [`rooms`]: launch rooms: evidence, signed acceptance, their hash chains.
//! - [`input`]: request-body size limit and well-formed forms, for every route.
//! - [`page_cache`]: the public pages, rendered once per live state.
//! - [`routes`]: the HTTP application.

pub mod admin;
pub mod api;
pub mod auth;
pub mod commands;
pub mod config;
pub mod db;
pub mod fixtures;
pub mod input;
pub mod page_cache;
pub mod proofs;
pub mod readiness;
pub mod register_source;
pub mod rooms;
pub mod routes;
pub mod tenancy;
pub mod tenants;
