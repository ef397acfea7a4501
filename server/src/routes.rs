//! The HTTP application: the JSON API, Leptos pages and server functions, and the
//! built front end.

use std::sync::Arc;

use axum::extract::FromRef;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;

use app::live::LiveClearance;
use app::{shell, App};

use crate::api::{self, ApiToken};

/// Application state shared by every handler.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub clearance: LiveClearance,
    /// Wakes the readiness monitor after a local write.
    pub monitor_wake: Arc<Notify>,
    pub api_token: Option<ApiToken>,
    /// Cancelled when the server shuts down, so endless event streams end and
    /// the graceful shutdown can finish.
    pub shutdown: CancellationToken,
}

/// Builds the whole router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let clearance = state.clearance.clone();
        let pool = state.pool.clone();
        move || {
            provide_context(clearance.clone());
            provide_context(pool.clone());
        }
    };
    let options = Arc::new(state.leptos_options.clone());
    Router::new()
        .merge(api::router())
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = Arc::clone(&options);
            move || shell((*options).clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(CompressionLayer::new())
        .with_state(state)
}
