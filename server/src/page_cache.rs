//! The public pages from memory. What the public sees on the register, motion
//! and blocker pages depends only on the register and the live state, so each
//! page is rendered once per live state and served from memory until the state
//! changes. Requests with a session cookie or a bearer token are always rendered.
//! Responses say `x-clearance-cache: hit` or `miss`.
//!
//! Not an amplifier: a page is kept under its path and the filter parameters
//! it is rendered from, each cut to its length limit as the filter cuts it
//! ([`cache_key`]); other parameters are left out, and a query with more than
//! [`MAX_KEY_PARAMS`] filter parameters is rendered but not kept. At most
//! `capacity` pages are kept per live state; when full, further pages are
//! rendered but not kept until the state changes, so a flood of new keys
//! neither grows memory nor evicts the pages already kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::domain::triage::{clip_value, QUERY_NAMES};
use app::live_state::LiveState;

use crate::auth::session::is_session_cookie;
use crate::state::AppState;

/// The header that says whether a page came from memory.
pub const CACHE_HEADER: &str = "x-clearance-cache";

/// Pages rendered for the current live state, up to a number of entries.
#[derive(Clone)]
pub struct PageCache {
    capacity: usize,
    pages: Arc<Mutex<Pages>>,
}

#[derive(Default)]
struct Pages {
    /// The live state the pages were rendered from.
    state: Option<Arc<LiveState>>,
    by_uri: HashMap<String, Page>,
}

impl Pages {
    /// Whether the kept pages were rendered from `live`.
    fn rendered_from(&self, live: &Arc<LiveState>) -> bool {
        self.state
            .as_ref()
            .is_some_and(|state| Arc::ptr_eq(state, live))
    }
}

#[derive(Clone)]
struct Page {
    headers: HeaderMap,
    body: Bytes,
}

/// Most filter parameters a kept page's query may carry (each of the six at
/// most twice); more, and the page is rendered but not kept.
pub const MAX_KEY_PARAMS: usize = 12;

/// The key a public page is kept under: its path and, in their order, the
/// filter parameters of `query`, each cut to its limit as the filter reads it
/// ([`clip_value`]). Parameters the pages do not read are left out: they do not
/// change the page. `None` when the query carries too many filter parameters.
pub fn cache_key(path: &str, query: &str) -> Option<String> {
    let mut key = form_urlencoded::Serializer::new(String::new());
    let mut kept = 0;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if !QUERY_NAMES.contains(&name.as_ref()) {
            continue;
        }
        kept += 1;
        if kept > MAX_KEY_PARAMS {
            return None;
        }
        key.append_pair(&name, &clip_value(&name, &value));
    }
    Some(format!("{path}?{}", key.finish()))
}

/// Pages kept when no other number is configured.
pub const DEFAULT_ENTRIES: usize = 256;

impl Default for PageCache {
    fn default() -> Self {
        Self::new(DEFAULT_ENTRIES)
    }
}

impl PageCache {
    /// A cache of at most `capacity` pages; 0 turns it off.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            pages: Arc::default(),
        }
    }

    /// The key of a request the public may be served from memory, if it is one.
    fn key(&self, request: &Request) -> Option<String> {
        if self.capacity == 0 || request.method() != Method::GET {
            return None;
        }
        let path = request.uri().path();
        let public_page = path == "/"
            || ["/motions/", "/blockers/"].iter().any(|prefix| {
                path.strip_prefix(prefix)
                    .is_some_and(|id| !id.contains('/'))
            });
        let signed_in = request.headers().contains_key(header::AUTHORIZATION)
            || request
                .headers()
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .any(|cookies| {
                    cookies
                        .split(';')
                        .filter_map(|cookie| cookie.split_once('='))
                        .any(|(name, _)| is_session_cookie(name.trim()))
                });
        if !public_page || signed_in {
            return None;
        }
        cache_key(path, request.uri().query().unwrap_or(""))
    }

    fn pages(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.pages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &str, live: &Arc<LiveState>) -> Option<Page> {
        let pages = self.pages();
        pages
            .rendered_from(live)
            .then(|| pages.by_uri.get(key).cloned())
            .flatten()
    }

    fn put(&self, key: String, live: Arc<LiveState>, page: Page) {
        let mut pages = self.pages();
        if !pages.rendered_from(&live) {
            pages.by_uri.clear();
            pages.state = Some(live);
        }
        if pages.by_uri.len() < self.capacity {
            pages.by_uri.insert(key, page);
        }
    }

    /// Pages kept now.
    pub fn len(&self) -> usize {
        self.pages().by_uri.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Page {
    fn response(&self, hit: bool) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.headers_mut() = self.headers.clone();
        response.headers_mut().insert(
            CACHE_HEADER,
            HeaderValue::from_static(if hit { "hit" } else { "miss" }),
        );
        response
    }
}

/// Middleware: serves a public page from memory, or renders and keeps it.
pub async fn serve_cached(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cache = &state.page_cache;
    let Some(key) = cache.key(&request) else {
        return next.run(request).await;
    };
    // Taken before rendering: a page is never kept under a state older than the
    // one it was rendered from.
    let live = state.clearance.current();
    if let Some(page) = cache.get(&key, &live) {
        return page.response(true);
    }
    let response = next.run(request).await;
    let keep = response.status() == StatusCode::OK
        && !response.headers().contains_key(header::SET_COOKIE)
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/html"));
    if !keep {
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => {
            let page = Page {
                headers: parts.headers,
                body,
            };
            cache.put(key, live, page.clone());
            page.response(false)
        }
        Err(error) => {
            tracing::error!(%error, "a page could not be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
