//! The HTTP application: the JSON API, Leptos pages and server functions, and the
//! built front end.

use std::sync::Arc;

use axum::extract::FromRef;
use axum::routing::post;
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;

use app::admin::SharedAccessStore;
use app::live::LiveClearance;
use app::rooms::SharedRoomStore;
use app::{shell, App};

use crate::admin::{self, PgAccessStore};
use crate::api::{self, ApiToken};
use crate::auth::session::{self, SessionSettings};
use crate::auth::throttle::SignInThrottle;
use crate::auth::{handlers, same_origin};
use crate::input;
use crate::page_cache::{self, PageCache};
use crate::rooms::handlers as room_forms;
use crate::rooms::store::PgRoomStore;

/// Application state shared by every handler.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub clearance: LiveClearance,
    /// Wakes the readiness monitor after a local write.
    pub monitor_wake: Arc<Notify>,
    pub api_token: Option<ApiToken>,
    pub throttle: SignInThrottle,
    pub sessions: SessionSettings,
    /// The public pages, rendered once per live state.
    pub page_cache: PageCache,
    /// Cancelled when the server shuts down, so endless event streams end and
    /// the graceful shutdown can finish.
    pub shutdown: CancellationToken,
}

/// Builds the whole router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let clearance = state.clearance.clone();
        let access: SharedAccessStore = Arc::new(PgAccessStore {
            pool: state.pool.clone(),
            throttle: state.throttle.clone(),
        });
        let rooms: SharedRoomStore = Arc::new(PgRoomStore {
            pool: state.pool.clone(),
            clearance: state.clearance.clone(),
        });
        move || {
            provide_context(clearance.clone());
            provide_context(Arc::clone(&access));
            provide_context(Arc::clone(&rooms));
        }
    };
    let options = Arc::new(state.leptos_options.clone());
    let sessions = session::layer(state.pool.clone(), state.sessions);
    Router::new()
        .merge(api::router())
        .route("/auth/login", post(handlers::sign_in))
        .route("/auth/logout", post(handlers::sign_out))
        .route(
            "/auth/invitations/accept",
            post(handlers::accept_invitation),
        )
        .route("/admin/accounts", post(admin::create_account))
        .route("/admin/accounts/disable", post(admin::disable_account))
        .route("/admin/accounts/role", post(admin::change_role))
        .route("/admin/tenants", post(admin::create_tenant))
        .route("/admin/invitations", post(admin::create_invitation))
        .route(
            "/admin/invitations/{id}/revoke",
            post(admin::revoke_invitation),
        )
        .route("/rooms/{slug}/profile", post(room_forms::update_profile))
        .route("/rooms/{slug}/evidence", post(room_forms::change))
        .route("/rooms/{slug}/draft", post(room_forms::review))
        .route("/rooms/{slug}/acceptance", post(room_forms::sign))
        .route("/rooms/{slug}/revocation", post(room_forms::revoke))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = Arc::clone(&options);
            move || shell((*options).clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::attach_viewer,
        ))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            page_cache::serve_cached,
        ))
        .layer(middleware::from_fn(same_origin::refuse_cross_site))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(input::check_body))
        .with_state(state)
}
