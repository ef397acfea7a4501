//! Bearer-token authentication for the API: reading `Authorization: Bearer`,
//! the deployment's CI token, and slowing clients that present wrong tokens.

use axum::http::{self, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::auth::throttle::SignInThrottle;

/// The configured API token. Compared in constant time; never logged.
#[derive(Clone)]
pub struct ApiToken(SecretString);

/// The shortest CI token accepted: 32 characters, at least 128 bits even for a
/// hexadecimal one.
pub const MIN_API_TOKEN_CHARS: usize = 32;

impl ApiToken {
    pub fn new(token: SecretString) -> Self {
        Self(token)
    }

    /// Whether `presented` is this token. Hashing both sides first makes the
    /// comparison's time independent of the token's length as well as its bytes.
    pub fn matches(&self, presented: &str) -> bool {
        let expected = Sha256::digest(self.0.expose_secret().as_bytes());
        let given = Sha256::digest(presented.as_bytes());
        bool::from(expected.ct_eq(&given))
    }
}

/// What the request's `Authorization` header says: `Ok(None)` without one,
/// `Ok(Some(token))` for `Bearer <token>` (the scheme in any case, RFC 9110
/// §11.1), and `Err` for any other scheme or a malformed value. A request that
/// sends the header is judged by it alone, never by its session cookie.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(ApiError::Unauthorized)?;
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
        Ok(Some(token))
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// The answer to a wrong bearer token from `address`: 401, or 429 with the wait
/// once the address has presented too many (see [`SignInThrottle::bearer_failure`]).
pub async fn refused_bearer(throttle: &SignInThrottle, address: &str) -> ApiError {
    match throttle.bearer_failure(address).await {
        Ok(()) => ApiError::Unauthorized,
        Err(wait) => ApiError::TooManyAttempts(wait.as_secs().max(1)),
    }
}
