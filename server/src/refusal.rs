//! How a refused browser request is answered, in one place: a form post that may
//! not be done (403, 404, 400) or cannot be done now (503) gets an HTML page that
//! says what happened and links back to where the form was; a database failure
//! behind a page or a form is logged once, with its cause, where it becomes a safe
//! message; a denial is recorded in the access log. A form post that was done,
//! or refused over its entries, goes back to its page with a message
//! ([`back_to`]).
//!
//! The JSON API answers with [`crate::api::ApiError`] instead.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use http::request::Parts;
use sqlx::PgPool;
use tower_http::request_id::RequestId;

use app::domain::access::Viewer;
use app::live::StoreError;

use crate::auth::audit::{self, Action};
use crate::rooms::RoomError;
use crate::tenants::TenantError;

/// Where a form post sends the browser back to: `page` with the message its
/// page shows (`key` is `done`, or `error` for one naming a field), then
/// `anchor` (`#id`, or empty).
pub fn back_to(page: &str, key: &str, message: &str, anchor: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair(key, message)
        .finish();
    format!("{page}?{query}{anchor}")
}

/// Why a form post was not done.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the database is unavailable: try again in a moment")]
    Database(#[from] sqlx::Error),
}

impl From<RoomError> for FormError {
    fn from(error: RoomError) -> Self {
        match error {
            RoomError::NotFound => Self::NotFound(error.to_string()),
            RoomError::Forbidden(message) => Self::Forbidden(message.to_owned()),
            RoomError::Invalid(_) => Self::BadRequest(error.to_string()),
            RoomError::Database(error) => Self::Database(error),
        }
    }
}

impl From<TenantError> for FormError {
    fn from(error: TenantError) -> Self {
        match error {
            TenantError::Forbidden => Self::Forbidden(error.to_string()),
            TenantError::NotFound => Self::NotFound("no such tenant".to_owned()),
            TenantError::Database(error) => Self::Database(error),
            other => Self::BadRequest(other.to_string()),
        }
    }
}

/// What [`as_pages`] turns into a page: the safe message.
#[derive(Clone, Debug)]
struct Refusal(String);

/// The header a server function's refused plain form post carries to
/// [`as_pages`] (which removes it): where the form was, and the safe message,
/// form-encoded. A server function sets headers, not response extensions.
const REFUSAL_HEADER: &str = "x-clearance-refusal";

/// Marks a server function's answer to a plain form post for [`as_pages`]: a
/// page saying `message`, linking back to `back`.
pub fn mark_for_page(response: &leptos_axum::ResponseOptions, back: &str, message: &str) {
    let value = form_urlencoded::Serializer::new(String::new())
        .append_pair("back", back)
        .append_pair("message", message)
        .finish();
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.insert_header(header::HeaderName::from_static(REFUSAL_HEADER), value);
    }
}

impl IntoResponse for FormError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        match &self {
            Self::Database(error) => tracing::error!(%error, "database error in a form post"),
            other => tracing::info!(status = status.as_u16(), error = %other, "form post refused"),
        }
        let message = self.to_string();
        let mut response = (status, message.clone()).into_response();
        response.extensions_mut().insert(Refusal(message));
        response
    }
}

/// Records a denial in the access log and passes the error on: the one way every
/// form handler refuses a viewer.
pub async fn denied(
    pool: &PgPool,
    viewer: &Viewer,
    subject: &str,
    address: &str,
    error: impl Into<FormError>,
) -> FormError {
    let error = error.into();
    if matches!(error, FormError::Forbidden(_) | FormError::NotFound(_)) {
        audit::record_by(pool, viewer, Action::AccessDenied, subject, address).await;
    }
    error
}

/// A database failure behind the data of the page `parts` asked for: its cause
/// logged here, once, naming the request (pages render outside the request's
/// span, so its method, path and id are given again); the page says only that
/// the database is unavailable.
pub fn unavailable(parts: &Parts) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |error| {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("");
        tracing::error!(
            method = %parts.method,
            path = %parts.uri.path(),
            request_id,
            %error,
            "database error while reading a page's data"
        );
        StoreError("the database is unavailable".to_owned())
    }
}

/// Middleware for the form routes: a [`FormError`] answer, or a server
/// function's answer marked by [`mark_for_page`], becomes an HTML page with a
/// link back to the page the form was on.
pub async fn as_pages(request: Request, next: Next) -> Response {
    let (mut back, mut label) = way_back(request.uri().path());
    let mut response = next.run(request).await;
    let message = if let Some(Refusal(message)) = response.extensions().get::<Refusal>() {
        message.clone()
    } else if let Some(marked) = response.headers_mut().remove(REFUSAL_HEADER) {
        let mut message = String::new();
        for (key, value) in form_urlencoded::parse(marked.as_bytes()) {
            match &*key {
                "back" => (back, label) = way_back(&value),
                "message" => message = value.into_owned(),
                _ => {}
            }
        }
        message
    } else {
        return response;
    };
    let status = response.status();
    let title = match status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::SERVICE_UNAVAILABLE => "Temporarily unavailable",
        _ => "Not done",
    };
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"description\" content=\"{title}\">\
         <title>{title} · Clearance</title>\
         <link rel=\"stylesheet\" href=\"/pkg/clearance.css\"></head>\
         <body><main class=\"refusal\"><h1>{title}</h1><p>{message}</p>\
         <p><a href=\"{back}\">{label}</a></p></main></body></html>\n",
        message = escape(&message),
        back = escape(&back),
    );
    let mut page = (status, Html(page)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        page.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    page
}

/// Where a form posted to `path` came from, and how the link back reads.
fn way_back(path: &str) -> (String, &'static str) {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some("rooms"), Some(slug)) if !slug.is_empty() => {
            (format!("/rooms/{slug}"), "Back to the launch room")
        }
        (Some("admin"), Some("webhooks")) => ("/admin/webhooks".to_owned(), "Back to webhooks"),
        (Some("admin"), _) => ("/admin".to_owned(), "Back to administration"),
        _ => ("/".to_owned(), "Back to the register"),
    }
}

/// `text` as HTML text or attribute value.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_leads_back_to_its_own_page() {
        assert_eq!(way_back("/rooms/acme/evidence").0, "/rooms/acme");
        assert_eq!(way_back("/admin/accounts/role").0, "/admin");
        assert_eq!(way_back("/admin/webhooks/3/rotate").0, "/admin/webhooks");
        assert_eq!(way_back("/auth/login").0, "/");
    }

    #[test]
    fn messages_are_escaped() {
        assert_eq!(
            escape("<b a=\"x\">&'"),
            "&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
