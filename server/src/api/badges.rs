//! `GET /badge/<motion>.svg` and `GET /badge/strict.svg`: the live status as a
//! small SVG for wikis and READMEs, cacheable for a minute.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use app::domain::badge::{badge_svg, Tone};

use super::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// How long a badge may be cached, in seconds.
pub const MAX_AGE_SECS: u32 = 60;

/// The badge named by `file`: `strict.svg` for strict readiness, otherwise
/// `<motion id>.svg`. 404 for anything else.
#[utoipa::path(
    get,
    path = "/badge/{file}",
    tag = "badges",
    summary = "A status badge: `<motion id>.svg` or `strict.svg`; cacheable for 60 s",
    params(("file" = String, Path, description = "`<motion id>.svg` or `strict.svg`")),
    responses(
        (status = 200, description = "The badge", content_type = "image/svg+xml", body = String),
        (status = 404, description = "No such badge", body = ErrorBody)
    )
)]
pub async fn badge(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(name) = file.strip_suffix(".svg") else {
        return ApiError::NotFound(
            "badges are /badge/<motion>.svg or /badge/strict.svg".to_owned(),
        )
        .into_response();
    };
    let evaluated = state.clearance.evaluated();
    let register = &state.clearance.register;
    let svg = if name == "strict" {
        badge_svg("strict readiness", Tone::from(evaluated.evaluation.strict))
    } else {
        let found = register.motion(name).zip(evaluated.evaluation.motion(name));
        match found {
            Some((motion, state)) => badge_svg(&motion.name, Tone::from(state.status)),
            None => return ApiError::NotFound(format!("no launch motion {name}")).into_response(),
        }
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECS}"))
                    .unwrap_or(HeaderValue::from_static("no-cache")),
            ),
        ],
        svg,
    )
        .into_response()
}
