//! Deployments that report their own readiness.
//!
//! - [`store`]: deployments, their reporter tokens (hashed) and latest reports.
//! - [`commands`]: `server deployment create | list | revoke`.
//! - [`reporter`]: `server report`, the reporter that runs inside a deployment.

pub mod commands;
pub mod reporter;
pub mod store;
