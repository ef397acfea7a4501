//! Accounts, sessions and the access rules around every request.
//!
//! - [`accounts`]: accounts in PostgreSQL, Argon2id password hashes.
//! - [`invitations`]: single-use links that bring buyer sponsors in.
//! - [`audit`]: the append-only log of access events.
//! - [`session`]: the session layer (idle and absolute expiry) and
//!   the middleware that tells every handler and page who is asking.
//! - [`store`]: where tower-sessions keeps sessions: PostgreSQL.
//! - [`throttle`]: slowing and refusing repeated failed sign-ins;
//!   [`refusals`]: its refusals, counted in bursts for the access log.
//! - [`same_origin`]: refusing state-changing requests from other sites.
//! - [`tokens`]: per-account bearer tokens for the JSON API.
//! - [`handlers`]: sign-in and sign-out.

pub mod accounts;
pub mod audit;
pub mod handlers;
pub mod invitations;
pub mod refusals;
pub mod same_origin;
pub mod session;
pub mod store;
pub mod throttle;
pub mod tokens;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use http::request::Parts;

/// The client's address: as [`crate::client_addr::attach`] resolved it (the
/// socket peer, or the right-most untrusted hop a trusted proxy reported), or
/// `unknown` when the server runs without connection info (tests that set none).
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    /// The address of the request `parts` belong to.
    pub fn of(parts: &Parts) -> String {
        if let Some(resolved) = parts.extensions.get::<Self>() {
            return resolved.0.clone();
        }
        // Outside the router's layers nothing was resolved: the socket peer.
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(Self::of(parts)))
    }
}

/// Sign-in, sign-out and accepting an invitation (the pages themselves are
/// Leptos routes).
pub fn router() -> axum::Router<crate::state::AppState> {
    use axum::routing::post;
    axum::Router::new()
        .route("/auth/login", post(handlers::sign_in))
        .route("/auth/logout", post(handlers::sign_out))
        .route(
            "/auth/invitations/accept",
            post(handlers::accept_invitation),
        )
}
