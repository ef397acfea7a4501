//! Clearance server: everything with I/O around the pure `app` crate.
//!
//! - [`config`]: command line and environment.
//! - [`register_source`]: which register file is loaded.
//! - [`db`]: the PostgreSQL pool and migrations.
//! - [`readiness`]: the monitor that reads, stores and publishes readiness.
//! - [`routes`]: the HTTP application.

pub mod config;
pub mod db;
pub mod readiness;
pub mod register_source;
pub mod routes;
