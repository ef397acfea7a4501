//! JSON answers whose text can never be read as markup: `<`, `>` and `&` inside
//! strings are written as `\u003c`, `\u003e` and `\u0026` (the same JSON value,
//! so any parser reads it back unchanged), and `nosniff` forbids guessing
//! another type. Used for every document that carries user-entered text.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub struct SafeJson<T>(pub T);

/// Escapes the markup characters of serialized JSON. Outside strings JSON has no
/// `<`, `>` or `&`, so every occurrence is inside a string.
pub fn escape_markup(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    for &byte in json {
        match byte {
            b'<' => out.extend_from_slice(br"\u003c"),
            b'>' => out.extend_from_slice(br"\u003e"),
            b'&' => out.extend_from_slice(br"\u0026"),
            byte => out.push(byte),
        }
    }
    out
}

/// [`escape_markup`] for text already in JSON form.
pub fn escape_markup_text(json: &str) -> String {
    json.replace('<', r"\u003c")
        .replace('>', r"\u003e")
        .replace('&', r"\u0026")
}

impl<T: Serialize> IntoResponse for SafeJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (
                        header::X_CONTENT_TYPE_OPTIONS,
                        HeaderValue::from_static("nosniff"),
                    ),
                ],
                escape_markup(&bytes),
            )
                .into_response(),
            Err(error) => {
                tracing::error!(%error, "a response could not be serialized");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}
