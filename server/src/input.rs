//! What every request body must be before a handler sees it: within the size
//! limit (declared or streamed), and, for forms, valid UTF-8 once decoded.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode;

/// Largest accepted request body, for every route: a proof run's excerpt is at
/// most 2,000 characters and a form a few fields, so 64 KiB is generous. Larger
/// bodies get 413, whether `Content-Length` declares them or they are streamed.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Why a request body was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the request body is larger than {} KiB", BODY_LIMIT / 1024)]
    TooLarge,
    #[error("the request body could not be read")]
    Unreadable,
    #[error("the form is not valid UTF-8")]
    NotUtf8,
}

impl IntoResponse for FormError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unreadable | Self::NotUtf8 => StatusCode::BAD_REQUEST,
        };
        (status, self.to_string()).into_response()
    }
}

/// Every request body passes here first: one declared larger than
/// [`BODY_LIMIT`] is refused at once; any other is limited while it is read, so
/// a streamed body that grows too large fails its handler's extractor with 413.
/// A form (`application/x-www-form-urlencoded`) is read here in full and refused
/// unless its bytes and decoded fields are UTF-8: form decoders replace bad
/// bytes silently, so a mangled value could otherwise be stored.
pub async fn check_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return refuse(request.uri().path(), FormError::TooLarge);
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let (parts, body) = request.into_parts();
    let body = if is_form {
        match read_form(body).await {
            Ok(bytes) => Body::from(bytes),
            Err(error) => return refuse(parts.uri.path(), error),
        }
    } else {
        Body::new(http_body_util::Limited::new(body, BODY_LIMIT))
    };
    next.run(Request::from_parts(parts, body)).await
}

fn refuse(path: &str, error: FormError) -> Response {
    tracing::info!(%path, %error, "request body refused");
    error.into_response()
}

async fn read_form(body: Body) -> Result<Bytes, FormError> {
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|error| {
            if exceeds_limit(&error) {
                FormError::TooLarge
            } else {
                FormError::Unreadable
            }
        })?;
    check_form(&bytes)?;
    Ok(bytes)
}

/// Whether reading a body failed because it passed the size limit.
pub fn exceeds_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Each `name=value` pair decodes (`+` as space, `%XX` as a byte) to UTF-8.
pub fn check_form(body: &[u8]) -> Result<(), FormError> {
    std::str::from_utf8(body).map_err(|_| FormError::NotUtf8)?;
    let decodes = |part: &[u8]| {
        let part: Vec<u8> = part
            .iter()
            .map(|&byte| if byte == b'+' { b' ' } else { byte })
            .collect();
        percent_decode(&part).decode_utf8().is_ok()
    };
    if body
        .split(|&byte| byte == b'&')
        .flat_map(|pair| pair.splitn(2, |&byte| byte == b'='))
        .all(decodes)
    {
        Ok(())
    } else {
        Err(FormError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_must_decode_to_utf8() {
        assert_eq!(check_form(b""), Ok(()));
        assert_eq!(check_form(b"name=Sam+O%27Brien&x=%E2%9C%93"), Ok(()));
        assert_eq!(check_form(b"name=%FF"), Err(FormError::NotUtf8));
        assert_eq!(check_form(b"%C3=1"), Err(FormError::NotUtf8));
        assert_eq!(check_form(b"name=\xff"), Err(FormError::NotUtf8));
        // An overlong encoding of '/' is not UTF-8 either.
        assert_eq!(check_form(b"path=%C0%AF"), Err(FormError::NotUtf8));
    }
}
