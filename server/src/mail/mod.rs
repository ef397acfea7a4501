//! E-mail: invitations mailed to the invited address, a buyer sponsor told
//! when their tenant's acceptance goes stale, and any account's subscriptions
//! to the events it may see (docs/email.md).
//!
//! - [`settings`]: the SMTP relay (`CLEARANCE_SMTP_URL`, a secret) and sender.
//! - [`store`]: subscriptions, and the queue mail is written to in the
//!   transaction of its cause (an invitation, an event's fan-out).
//! - [`render`]: each mail's subject and its plain-text and HTML bodies.
//! - [`send`]: the worker step that sends due mail with retries.
//! - [`handlers`] and [`pages`]: `/account/notifications` and
//!   `/unsubscribe/{token}`.

pub mod handlers;
pub mod pages;
pub mod render;
pub mod send;
pub mod settings;
pub mod store;

use axum::routing::post;
use axum::Router;

pub use settings::{MailArgs, MailSettings};

use crate::state::AppState;

/// The notification pages' form posts (the pages are Leptos routes).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/notifications", post(handlers::subscribe))
        .route("/account/notifications/{id}/delete", post(handlers::remove))
        .route("/unsubscribe/{token}", post(handlers::unsubscribe))
        .layer(axum::middleware::from_fn(crate::refusal::as_pages))
}
