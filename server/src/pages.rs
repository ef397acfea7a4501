//! The Leptos pages and their server functions, with what they read from the
//! server provided as context, and the built front end under `/pkg/`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use futures::StreamExt;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;

use app::page_data::admin::SharedAccessStore;
use app::page_data::notifications::SharedNotificationStore;
use app::page_data::rooms::SharedRoomStore;
use app::page_data::webhooks::SharedWebhookStore;
use app::{shell, App};

use crate::admin::PgAccessStore;
use crate::mail::pages::PgNotificationStore;
use crate::rooms::store::PgRoomStore;
use crate::security_headers::NoncePlaceholder;
use crate::state::AppState;
use crate::webhooks::pages::PgWebhookStore;

/// Every page, the front end's files, and the not-found page for anything else.
/// Pages render with `placeholder` as their CSP nonce (see
/// [`crate::security_headers`]).
pub fn router(state: &AppState, placeholder: &NoncePlaceholder) -> Router<AppState> {
    let context = {
        let nonce = placeholder.nonce();
        let clearance = state.clearance.clone();
        let access: SharedAccessStore = Arc::new(PgAccessStore {
            pool: state.pool.clone(),
            throttle: state.throttle.clone(),
            refusals: state.refusals.clone(),
        });
        let rooms: SharedRoomStore = Arc::new(PgRoomStore {
            pool: state.pool.clone(),
            clearance: state.clearance.clone(),
        });
        let notifications: SharedNotificationStore = Arc::new(PgNotificationStore {
            pool: state.pool.clone(),
            register: Arc::clone(&state.clearance.register),
            email_configured: state.mail.is_some(),
        });
        let webhooks: SharedWebhookStore = Arc::new(PgWebhookStore {
            state: state.clone(),
        });
        move || {
            // Replaces the nonce Leptos generated: the page may be kept and
            // served again, and the one sent is put in on the way out.
            provide_context(nonce.clone());
            provide_context(clearance.clone());
            provide_context(Arc::clone(&access));
            provide_context(Arc::clone(&rooms));
            provide_context(Arc::clone(&notifications));
            provide_context(Arc::clone(&webhooks));
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
        // A refused plain form post to a server function answers with a page.
        .layer(axum::middleware::from_fn(crate::refusal::as_pages))
        .layer(axum::middleware::map_response(scripts_inside_body))
}

/// How the rendered app ends: the shell's closing tags.
const CLOSING_TAGS: &[u8] = b"</body></html>";

/// Leptos streams the data its islands read when they hydrate
/// (`__RESOLVED_RESOURCES`, `__SERIALIZED_ERRORS`, …) as inline `<script>`s
/// after the rendered app, that is after `</html>`: invalid HTML, which browsers
/// repair by moving the scripts into the body (and at which the Nu HTML checker
/// gives up). This moves the shell's closing tags after the last chunk instead,
/// so the scripts end the body, where the browser puts them anyway. Bytes are
/// only moved, so a `Content-Length` stays right.
async fn scripts_inside_body(response: Response) -> Response {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !html {
        return response;
    }
    let (parts, body) = response.into_parts();
    // State: the rest of the body, whether the closing tags are held back, done.
    let start = (body.into_data_stream(), false, false);
    let moved = futures::stream::unfold(start, |(mut body, held, done)| async move {
        if done {
            return None;
        }
        match body.next().await {
            Some(Ok(chunk)) if !held => match without_closing_tags(&chunk) {
                Some(chunk) => Some((Ok(chunk), (body, true, false))),
                None => Some((Ok(chunk), (body, false, false))),
            },
            Some(chunk) => Some((chunk, (body, held, false))),
            None => held.then(|| (Ok(Bytes::from_static(CLOSING_TAGS)), (body, false, true))),
        }
    });
    // Fused: a body may be polled again after its end (compression does).
    Response::from_parts(parts, Body::from_stream(moved.fuse()))
}

/// `chunk` without its last `</body></html>`, if it has any. The app is rendered
/// into one chunk that ends with them (followed in the same chunk by the first
/// scripts when those were ready at once). Page text cannot hold them unescaped,
/// and the scripts escape every `<`.
fn without_closing_tags(chunk: &Bytes) -> Option<Bytes> {
    let at = chunk
        .windows(CLOSING_TAGS.len())
        .rposition(|window| window == CLOSING_TAGS)?;
    let mut moved = Vec::with_capacity(chunk.len() - CLOSING_TAGS.len());
    moved.extend_from_slice(&chunk[..at]);
    moved.extend_from_slice(&chunk[at + CLOSING_TAGS.len()..]);
    Some(Bytes::from(moved))
}
