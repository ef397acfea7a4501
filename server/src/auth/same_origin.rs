//! Cross-site request protection: a state-changing request (anything but GET, HEAD
//! and OPTIONS) is refused when the browser says it comes from another site. API
//! clients that authenticate with a bearer token carry no ambient credentials, so
//! they pass.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, Method};

use crate::api::ApiError;

/// Whether the request's own headers show it was sent from another site.
pub fn is_cross_site(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none`: typed or bookmarked by the user; `same-origin`: this app.
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or_default();
            let host = host.to_str().unwrap_or_default();
            origin == "null"
                || origin
                    .split_once("://")
                    .is_none_or(|(_, authority)| authority != host)
        }
        (Some(_), None) => true,
        _ => false,
    }
}

/// Middleware: refuses cross-site state changes with 403.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("Bearer "));
    if !safe && !bearer && is_cross_site(&request) {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), "refused a cross-site request");
        return ApiError::Forbidden("cross-site requests may not change anything".to_owned())
            .into_response();
    }
    next.run(request).await
}
