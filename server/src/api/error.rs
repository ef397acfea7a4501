//! The JSON API's errors: one enum, a safe message and a status for each.

use std::collections::BTreeMap;

use axum::http::{self, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::RefOr;

use app::domain::access::FieldError;
use app::domain::proof_run::ProofRunError;

use super::safe_json::SafeJson;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Every error's body: a safe message, and the request field(s) it is about.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
    /// The first field at fault, when the error is about one.
    pub field: Option<String>,
    /// Every field at fault, for a form-like request.
    pub fields: Vec<FieldError>,
}

/// What an endpoint for a signed-in account (a session or the account's bearer
/// token) may answer besides its own answers, for its OpenAPI description.
#[derive(utoipa::IntoResponses)]
pub enum SignedInErrors {
    /// No session and no bearer token, an unknown token, or an `Authorization` other than `Bearer`
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Too many wrong bearer tokens from this address
    #[response(
        status = 429,
        headers(("Retry-After" = u64, description = "Seconds to wait"))
    )]
    TooManyAttempts(ErrorBody),
    /// The database cannot be reached
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// Not an operator (logged)
#[derive(utoipa::IntoResponses)]
#[response(status = 403)]
pub struct NotAnOperator(pub ErrorBody);

/// [`SignedInErrors`] and [`NotAnOperator`]: what an endpoint only operators may
/// use answers besides its own answers.
pub struct OperatorErrors;

impl utoipa::IntoResponses for OperatorErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        let mut responses = SignedInErrors::responses();
        responses.extend(NotAnOperator::responses());
        responses
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("too many wrong bearer tokens from this address; try again in {0} seconds")]
    TooManyAttempts(u64),
    #[error("sign in or present a bearer token")]
    SignInRequired,
    #[error("the API is disabled: CLEARANCE_API_TOKEN is not configured")]
    TokenNotConfigured,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    ProofRun(#[from] ProofRunError),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The transparency log could not answer; the cause is logged.
    #[error("the transparency log is unavailable")]
    Log(String),
}

impl From<crate::rooms::RoomError> for ApiError {
    fn from(error: crate::rooms::RoomError) -> Self {
        use crate::rooms::RoomError;
        match error {
            RoomError::NotFound => Self::NotFound("no such tenant".to_owned()),
            RoomError::Forbidden(message) => Self::Forbidden(message.to_owned()),
            RoomError::Invalid(errors) => Self::Invalid(errors),
            RoomError::Database(error) => Self::Database(error),
        }
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::SignInRequired => StatusCode::UNAUTHORIZED,
            Self::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::TokenNotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::ProofRun(ProofRunError::UnknownProof(_)) => {
                StatusCode::NOT_FOUND
            }
            Self::MalformedJson(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::ProofRun(_) | Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Database(_) | Self::Log(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Database(error) = &self {
            // The cause goes to the log only; the client gets a safe message.
            tracing::error!(%error, "database error in API request");
        } else if let Self::Log(error) = &self {
            tracing::error!(%error, "transparency log error in API request");
        } else {
            tracing::info!(status = status.as_u16(), error = %self, "API request refused");
        }
        let field = match &self {
            Self::ProofRun(error) => Some(error.field().to_owned()),
            Self::Invalid(errors) => errors.first().map(|error| error.field.clone()),
            _ => None,
        };
        let fields = match &self {
            Self::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        };
        let mut response = (
            status,
            // Errors may echo what was sent: never as markup.
            SafeJson(ErrorBody {
                error: self.to_string(),
                field,
                fields,
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        match self {
            Self::Unauthorized => {
                headers.insert(
                    http::header::WWW_AUTHENTICATE,
                    http::HeaderValue::from_static("Bearer"),
                );
            }
            Self::TooManyAttempts(seconds) => {
                headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
            }
            _ => {}
        }
        response
    }
}
