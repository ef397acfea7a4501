//! Security headers on every response, pages and API alike, and a fresh
//! Content Security Policy nonce for every page.
//!
//! The policy allows only the app's own scripts: files from this origin, the
//! WASM (`'wasm-unsafe-eval'`), and the inline scripts that carry the response's
//! nonce (the island loader's, and those Leptos streams at the end of the body).
//! Nothing is framed (`frame-ancestors 'none'`), no `<base>` (`base-uri 'none'`),
//! no plugins, and forms post only here.
//!
//! Pages are rendered with a [`NoncePlaceholder`] as their nonce, so that the
//! page cache can keep them; on the way out, each HTML response gets a nonce of
//! its own, put in place of the placeholder in the body and in its policy. The
//! placeholder is random per process and never leaves it, so a page's text
//! cannot name it; only the exact attribute ` nonce="<placeholder>"` is
//! replaced, with a value of the same length (a `Content-Length` stays right).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use leptos::nonce::Nonce;

/// What the policy allows, but for the nonce.
const POLICY: &str = "default-src 'self'; style-src 'self'; img-src 'self'; \
    font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Browsers remember to use https only for a year, subdomains included.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The Content Security Policy, with `nonce` allowed for inline scripts.
pub fn policy(nonce: Option<&str>) -> String {
    match nonce {
        Some(nonce) => {
            format!("{POLICY}; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'")
        }
        None => format!("{POLICY}; script-src 'self' 'wasm-unsafe-eval'"),
    }
}

/// The nonce pages are rendered with, replaced by a fresh one per response.
/// Random per process; no `Debug`, since knowing it would let injected markup
/// through.
#[derive(Clone)]
pub struct NoncePlaceholder(Arc<str>);

impl Default for NoncePlaceholder {
    fn default() -> Self {
        Self(Arc::clone(Nonce::new().as_inner()))
    }
}

impl NoncePlaceholder {
    /// The nonce to provide to the pages while they render.
    pub fn nonce(&self) -> Nonce {
        Nonce::from_value(Arc::clone(&self.0))
    }
}

fn nonce_attribute(nonce: &str) -> Vec<u8> {
    format!(" nonce=\"{nonce}\"").into_bytes()
}

/// What every response carries, whatever answered it.
#[derive(Clone, Copy)]
pub struct SecurityHeaders {
    /// Whether to send `Strict-Transport-Security` (the public address is https).
    pub hsts: bool,
}

/// Middleware, outermost: the headers every response carries.
pub async fn on_every_response(
    State(settings): State<SecurityHeaders>,
    request: Request,
    next: Next,
) -> Response {
    // The invitation page's address carries its token: no page it links to
    // or loads may learn it.
    let path = request.uri().path();
    let carries_token = path.starts_with("/invite/") || path.starts_with("/auth/invitations/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(if carries_token {
            "no-referrer"
        } else {
            "strict-origin-when-cross-origin"
        }),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(policy) = HeaderValue::from_str(&policy(None)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    if settings.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"))
}

/// Middleware, outside the page cache and inside compression: gives each HTML
/// response a nonce of its own, in its body and in its policy.
pub async fn fresh_nonce(
    State(placeholder): State<NoncePlaceholder>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if !is_html(response.headers()) {
        return response;
    }
    let nonce = Nonce::new();
    let (mut parts, body) = response.into_parts();
    match HeaderValue::from_str(&policy(Some(&nonce))) {
        Ok(policy) => parts
            .headers
            .insert(header::CONTENT_SECURITY_POLICY, policy),
        // A nonce is base64url: always a valid header value.
        Err(_) => return Response::from_parts(parts, body),
    };
    let from = nonce_attribute(&placeholder.0);
    let to = nonce_attribute(&nonce);
    if from.len() != to.len() {
        parts.headers.remove(header::CONTENT_LENGTH);
    }
    // State: the rest of the body, the bytes held back (a possible start of the
    // placeholder), whether the body has ended.
    let start = (body.into_data_stream(), Vec::new(), false);
    let replaced = futures::stream::unfold(start, move |(mut body, held, ended)| {
        let (from, to) = (from.clone(), to.clone());
        async move {
            if ended {
                return None;
            }
            match body.next().await {
                Some(Ok(chunk)) => {
                    let mut data = held;
                    data.extend_from_slice(&chunk);
                    let (out, held) = substitute(&data, &from, &to);
                    Some((Ok(Bytes::from(out)), (body, held, false)))
                }
                Some(Err(error)) => Some((Err(error), (body, Vec::new(), true))),
                None => Some((Ok(Bytes::from(held)), (body, Vec::new(), true))),
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(replaced.fuse()))
}

/// `data` with every `from` replaced by `to`, and apart from it the end of
/// `data` that may be the start of a `from` split across chunks.
fn substitute(data: &[u8], from: &[u8], to: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    let finder = memchr::memmem::Finder::new(from);
    while let Some(at) = finder.find(rest) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    let held = (1..from.len().min(rest.len() + 1))
        .rev()
        .find(|&n| from.starts_with(&rest[rest.len() - n..]))
        .unwrap_or(0);
    out.extend_from_slice(&rest[..rest.len() - held]);
    (out, rest[rest.len() - held..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_replaced_however_the_body_is_cut() {
        let from = b" nonce=\"PLACEHOLDER\"";
        let to = b" nonce=\"FRESHNONCE1\"";
        let page = b"<script nonce=\"PLACEHOLDER\">a</script><p>nonce=PLACEHOLDER</p><script nonce=\"PLACEHOLDER\">b</script>";
        let expected = b"<script nonce=\"FRESHNONCE1\">a</script><p>nonce=PLACEHOLDER</p><script nonce=\"FRESHNONCE1\">b</script>";
        for cut in 0..page.len() {
            for second in cut..page.len() {
                let mut out = Vec::new();
                let mut held = Vec::new();
                for chunk in [&page[..cut], &page[cut..second], &page[second..]] {
                    let mut data = std::mem::take(&mut held);
                    data.extend_from_slice(chunk);
                    let (done, rest) = substitute(&data, from, to);
                    out.extend(done);
                    held = rest;
                }
                out.extend(held);
                assert_eq!(out, expected, "cut at {cut} and {second}");
            }
        }
    }

    #[test]
    fn the_policy_names_the_nonce_and_forbids_the_rest() {
        let policy = policy(Some("abc"));
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        for directive in [
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ] {
            assert!(policy.contains(directive), "{directive}");
        }
        assert!(!policy.contains("unsafe-inline"));
    }
}
