//! The HTTP application: the JSON API, Leptos pages and server functions, and the
//! built front end.

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::{header, HeaderValue};
use axum::routing::post;
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

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
use crate::rooms::RoomDb;

/// Application state shared by every handler.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    /// Where launch rooms are written (the same database as `pool`).
    pub rooms: RoomDb,
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
    // The built front end keeps its file names from one build to the next, while
    // the islands' names in the page change with the code. Left to a browser's
    // heuristics (it has only `Last-Modified`), an old `clearance.wasm` could be
    // used for hours after a deployment and the new page's islands would not
    // hydrate. So the browser asks again on every load, and `ServeDir` (which,
    // unlike Leptos's file handler, reads the request's validators) answers 304
    // while the file is unchanged.
    let front_end = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .service(leptos_axum::site_pkg_dir_service(&options));
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
        .route_service(
            &leptos_axum::site_pkg_dir_service_route_path(&options),
            front_end,
        )
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
