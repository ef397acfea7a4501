//! Bearer-token authentication for API writes.

use axum::http::{self, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;

/// The configured API token. Compared in constant time; never logged.
#[derive(Clone)]
pub struct ApiToken(SecretString);

impl ApiToken {
    pub fn new(token: SecretString) -> Self {
        Self(token)
    }

    /// Checks `Authorization: Bearer <token>`. Hashing both sides first makes the
    /// comparison's time independent of the token's length as well as its bytes.
    pub fn verify(configured: Option<&Self>, headers: &HeaderMap) -> Result<(), ApiError> {
        let configured = configured.ok_or(ApiError::TokenNotConfigured)?;
        let presented = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        let expected = Sha256::digest(configured.0.expose_secret().as_bytes());
        let given = Sha256::digest(presented.trim().as_bytes());
        if bool::from(expected.ct_eq(&given)) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}
