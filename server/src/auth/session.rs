//! Sessions: stored in PostgreSQL by tower-sessions, identified by an `HttpOnly`,
//! `SameSite=Lax` cookie (`Secure` and named `__Host-clearance_session` when
//! the public address is https, or when configured), ending after an idle period
//! and, whatever the activity, after an absolute lifetime.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tower_sessions::cookie::time;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use app::domain::access::Viewer;

use super::store::PgSessionStore;
use super::{accounts, tokens};
use crate::state::AppState;

/// The session cookie's name over plain http.
pub const COOKIE_NAME: &str = "clearance_session";
/// Its name when it is `Secure`: browsers accept a `__Host-` cookie only when it
/// is `Secure`, for `Path=/` and without `Domain`, so no other host (a sibling
/// subdomain, a plain-http page) can set or shadow it.
pub const SECURE_COOKIE_NAME: &str = "__Host-clearance_session";
const ACCOUNT_KEY: &str = "account";

/// Session lifetimes and cookie security, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct SessionSettings {
    pub idle: Duration,
    pub absolute: Duration,
    pub secure_cookie: bool,
}

impl SessionSettings {
    /// The cookie's name: `__Host-` prefixed when it is `Secure`.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookie {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        }
    }
}

/// Whether a cookie of `name` is the session cookie, under either name.
pub fn is_session_cookie(name: &str) -> bool {
    name == COOKIE_NAME || name == SECURE_COOKIE_NAME
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(8 * 3600),
            absolute: Duration::from_secs(7 * 24 * 3600),
            secure_cookie: false,
        }
    }
}

/// What a session remembers: who signed in, and when.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SignedIn {
    account_id: i64,
    at: DateTime<Utc>,
}

/// The session layer over the PostgreSQL store.
pub fn layer(pool: PgPool, settings: SessionSettings) -> SessionManagerLayer<PgSessionStore> {
    let idle = time::Duration::seconds(i64::try_from(settings.idle.as_secs()).unwrap_or(i64::MAX));
    SessionManagerLayer::new(PgSessionStore::new(pool))
        .with_name(settings.cookie_name())
        // `__Host-` requires exactly this path, and no `Domain` (never set here).
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure_cookie)
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Starts a signed-in session under a new id (no session fixation) holding
/// nothing from before: whatever an anonymous visitor, or whoever used this
/// browser last, put in the old session is gone.
pub async fn sign_in(
    session: &Session,
    account_id: i64,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.clear().await;
    session
        .insert(
            ACCOUNT_KEY,
            SignedIn {
                account_id,
                at: Utc::now(),
            },
        )
        .await
}

/// Ends the session: its row is deleted and the cookie cleared.
pub async fn sign_out(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.flush().await
}

/// Who the session belongs to: an enabled account within the absolute lifetime.
/// A session past it, or of a disabled account, is ended.
async fn viewer(session: &Session, pool: &PgPool, settings: SessionSettings) -> Viewer {
    let Ok(Some(signed_in)) = session.get::<SignedIn>(ACCOUNT_KEY).await else {
        return Viewer::Public;
    };
    let lifetime = chrono::Duration::from_std(settings.absolute).unwrap_or(chrono::Duration::MAX);
    if Utc::now() - signed_in.at > lifetime {
        let _ = session.flush().await;
        return Viewer::Public;
    }
    match accounts::find_enabled(pool, signed_in.account_id).await {
        Ok(Some(account)) => Viewer::Account(account),
        Ok(None) => {
            let _ = session.flush().await;
            Viewer::Public
        }
        Err(error) => {
            tracing::warn!(%error, "could not load a session's account; treating as public");
            Viewer::Public
        }
    }
}

/// Middleware: puts the request's [`Viewer`] in its extensions, where handlers,
/// server functions and pages read it.
pub async fn attach_viewer(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    // Any `Authorization` header stands instead of the session cookie, never
    // beside it: a bearer token (scheme in any case) names its account, and
    // anything else names no one.
    let authorization = request
        .headers()
        .contains_key(http::header::AUTHORIZATION)
        .then(|| {
            crate::api::bearer_token(request.headers())
                .ok()
                .flatten()
                .map(str::to_owned)
        });
    let viewer = match (authorization, request.extensions().get::<Session>()) {
        (Some(Some(token)), _) => match tokens::account(&state.pool, &token).await {
            Ok(Some(account)) => Viewer::Account(account),
            Ok(None) => Viewer::Public,
            // A client that presented a token gets told the truth: try later.
            Err(error) => return crate::api::ApiError::Database(error).into_response(),
        },
        (Some(None), _) => Viewer::Public,
        (None, Some(session)) => viewer(session, &state.pool, state.sessions).await,
        (None, None) => Viewer::Public,
    };
    request.extensions_mut().insert(viewer);
    next.run(request).await
}
