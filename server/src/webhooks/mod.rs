//! Webhooks: endpoints operators manage ([`store`]), where they may point
//! ([`destination`]), Standard Webhooks signatures ([`signing`]), and the
//! delivery worker ([`deliver`]) with its settings ([`settings`]).
//!
//! Operators manage endpoints on `/admin/webhooks` (the pages' data:
//! [`pages`]; their form posts: [`handlers`]) and over JSON ([`api`]), with
//! the same rules ([`manage`]).

pub mod api;
pub mod deliver;
pub mod destination;
pub mod handlers;
pub mod manage;
pub mod pages;
pub mod settings;
pub mod signing;
pub mod store;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use settings::{WebhookArgs, WebhookSettings};

use crate::input::BODY_LIMIT;
use crate::state::AppState;

/// The webhook pages' form posts (the pages themselves are Leptos routes) and
/// the JSON API.
pub fn router() -> Router<AppState> {
    let forms = Router::new()
        .route("/admin/webhooks", post(handlers::create))
        .route("/admin/webhooks/{id}", post(handlers::update))
        .route("/admin/webhooks/{id}/enabled", post(handlers::set_enabled))
        .route("/admin/webhooks/{id}/rotate", post(handlers::rotate))
        .route("/admin/webhooks/{id}/delete", post(handlers::delete))
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(handlers::redeliver),
        )
        // A refused post answers with a page that links back, not a bare status.
        .layer(axum::middleware::from_fn(crate::refusal::as_pages));
    let json = Router::new()
        .route("/api/webhooks", get(api::list).post(api::create))
        .route(
            "/api/webhooks/{id}",
            get(api::get).put(api::put).delete(api::delete),
        )
        .route("/api/webhooks/{id}/rotate", post(api::rotate))
        .route("/api/webhooks/{id}/deliveries", get(api::deliveries))
        .route(
            "/api/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(api::redeliver),
        )
        .route("/api/event-types", get(api::event_types))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    forms.merge(json)
}
