//! The Leptos pages and their server functions, with what they read from the
//! server provided as context, and the built front end under `/pkg/`.

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;

use app::page_data::admin::SharedAccessStore;
use app::page_data::rooms::SharedRoomStore;
use app::{shell, App};

use crate::admin::PgAccessStore;
use crate::rooms::store::PgRoomStore;
use crate::state::AppState;

/// Every page, the front end's files, and the not-found page for anything else.
pub fn router(state: &AppState) -> Router<AppState> {
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
    Router::new()
        .route_service(
            &leptos_axum::site_pkg_dir_service_route_path(&options),
            front_end,
        )
        .leptos_routes_with_context(state, generate_route_list(App), context.clone(), {
            let options = Arc::clone(&options);
            move || shell((*options).clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
}
