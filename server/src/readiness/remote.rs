//! A remote deployment as a readiness source: its `GET /api/readiness` document.

use std::time::Duration;

use app::domain::document::{ObservedReadiness, READINESS_FORMAT};

/// Why a reading of the remote deployment failed. Messages are public-safe: they
/// name the failure, never a response body.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("no answer within {0} ms")]
    Timeout(u128),
    #[error("could not connect")]
    Connect,
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("answered something that is not a readiness document")]
    Malformed,
    #[error("the answer broke off")]
    Interrupted,
    #[error("answered more than {} KiB", MAX_DOCUMENT_BYTES / 1024)]
    TooLarge,
    #[error("answered readiness format {0:?}, expected {READINESS_FORMAT:?}")]
    Format(String),
}

/// The largest readiness document read: a bigger answer is refused, not buffered.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Polls one URL.
#[derive(Clone, Debug)]
pub struct RemoteSource {
    url: String,
    timeout: Duration,
    client: reqwest::Client,
}

impl RemoteSource {
    pub fn new(url: String, timeout: Duration) -> Self {
        Self {
            url,
            timeout,
            client: reqwest::Client::new(),
        }
    }

    /// A label for the source that never carries credentials or a query string.
    pub fn label(&self) -> String {
        match reqwest::Url::parse(&self.url) {
            Ok(url) => {
                format!(
                    "{}://{}{}",
                    url.scheme(),
                    url.host_str().unwrap_or(""),
                    url.port()
                        .map(|port| format!(":{port}"))
                        .unwrap_or_default()
                ) + url.path()
            }
            Err(_) => "remote deployment".to_owned(),
        }
    }

    pub async fn read(&self) -> Result<ObservedReadiness, RemoteError> {
        let response = self
            .client
            .get(&self.url)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|error| self.classify(&error))?;
        // Strict-mode deployments answer 503 with a full document: still a reading.
        let status = response.status();
        if !(status.is_success() || status == reqwest::StatusCode::SERVICE_UNAVAILABLE) {
            return Err(RemoteError::Status(status.as_u16()));
        }
        let body = self.read_body(response).await?;
        let document: ObservedReadiness =
            serde_json::from_slice(&body).map_err(|_| RemoteError::Malformed)?;
        if document.format != READINESS_FORMAT {
            return Err(RemoteError::Format(document.format));
        }
        Ok(document)
    }

    /// The whole body, within [`MAX_DOCUMENT_BYTES`] and the request's timeout
    /// (which covers a deployment that trickles its answer).
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, RemoteError> {
        if response
            .content_length()
            .is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(RemoteError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response
                .chunk()
                .await
                .map_err(|error| match self.classify(&error) {
                    RemoteError::Connect => RemoteError::Interrupted,
                    timeout => timeout,
                })?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(RemoteError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn classify(&self, error: &reqwest::Error) -> RemoteError {
        if error.is_timeout() {
            RemoteError::Timeout(self.timeout.as_millis())
        } else {
            RemoteError::Connect
        }
    }
}
