//! Administration: accounts, tenants and invitations. The rules live in `auth`,
//! `tenants` and the domain; [`store`] reads what `/admin` and `/invite/{token}`
//! show, [`handlers`] takes the page's form posts.

pub mod handlers;
pub mod store;

use axum::routing::post;
use axum::Router;

pub use store::PgAccessStore;

use crate::state::AppState;

/// The administration page's form posts (the page itself is a Leptos route).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", post(handlers::create_account))
        .route("/admin/accounts/disable", post(handlers::disable_account))
        .route("/admin/accounts/role", post(handlers::change_role))
        .route("/admin/tenants", post(handlers::create_tenant))
        .route("/admin/invitations", post(handlers::create_invitation))
        .route(
            "/admin/invitations/{id}/revoke",
            post(handlers::revoke_invitation),
        )
        // A refused post answers with a page that links back, not a bare status.
        .layer(axum::middleware::from_fn(crate::refusal::as_pages))
}
