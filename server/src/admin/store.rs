//! [`AccessStore`] over PostgreSQL: the data behind `/admin` and
//! `/invite/{token}`, for their viewer.

use chrono::Utc;
use http::request::Parts;
use sqlx::PgPool;
use tower_sessions::Session;

use app::domain::access::Viewer;
use app::live::StoreFuture;
use app::page_data::admin::{
    AccessEvent, AccessStore, AccountRow, AdminView, InvitationLink, InvitationPreview,
    InvitationRow,
};
use app::page_data::ClearanceError;

use crate::auth::accounts;
use crate::auth::audit::{self, Action};
use crate::auth::handlers::{refuse_token, throttle_token};
use crate::auth::refusals::RefusalLog;
use crate::auth::throttle::SignInThrottle;
use crate::auth::{invitations, ClientAddr};
use crate::tenants;

/// Session key of the SHA-256 of the invitation link shown once on the next
/// `/admin` render. The link itself (and so its token) is never stored on the
/// server: it travels in the [`NEW_LINK_COOKIE`] of the operator's browser, and
/// the session only vouches, once, for the cookie's value.
pub(super) const NEW_LINK: &str = "new_invitation_link_sha256";
/// The short-lived cookie carrying a new invitation link to `/admin`.
pub(super) const NEW_LINK_COOKIE: &str = "clearance_new_invitation";
/// How long the link cookie lives: long enough for the redirect to `/admin`.
const NEW_LINK_COOKIE_SECS: u32 = 300;

/// `Set-Cookie` for a new invitation link: `HttpOnly`, only sent to `/admin`,
/// `SameSite=Strict`, `Secure` when session cookies are.
pub(super) fn new_link_cookie(link: &str, secure: bool) -> Option<http::HeaderValue> {
    let value = percent_encoding::utf8_percent_encode(link, percent_encoding::NON_ALPHANUMERIC);
    let secure = if secure { "; Secure" } else { "" };
    http::HeaderValue::from_str(&format!(
        "{NEW_LINK_COOKIE}={value}; Path=/admin; Max-Age={NEW_LINK_COOKIE_SECS}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

/// The new invitation link this request carries, if the session vouches for it
/// (once: the digest is removed); the cookie is then expired.
async fn shown_link(parts: &Parts, session: &Session) -> Option<String> {
    let digest = session.remove::<String>(NEW_LINK).await.ok().flatten()?;
    let link = parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == NEW_LINK_COOKIE)
        .and_then(|(_, value)| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .ok()
                .map(|link| link.into_owned())
        })?;
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(
            http::header::SET_COOKIE,
            http::HeaderValue::from_static(
                "clearance_new_invitation=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict",
            ),
        );
    }
    (invitations::token_hash(&link) == digest).then_some(link)
}
/// How many access-log entries the page lists.
const EVENTS: i64 = 100;

/// [`AccessStore`] over PostgreSQL.
#[derive(Clone)]
pub struct PgAccessStore {
    pub pool: PgPool,
    pub throttle: SignInThrottle,
    pub refusals: RefusalLog,
}

async fn denied(pool: &PgPool, viewer: &Viewer, what: &str, address: &str) {
    audit::record_by(pool, viewer, Action::AccessDenied, what, address).await;
}

impl PgAccessStore {
    async fn admin(
        &self,
        parts: &Parts,
        viewer: &Viewer,
    ) -> Result<Result<AdminView, ClearanceError>, sqlx::Error> {
        if !viewer.reads_everything() {
            denied(&self.pool, viewer, "/admin", &ClientAddr::of(parts)).await;
            return Ok(Err(match viewer {
                Viewer::Public => ClearanceError::SignInRequired,
                Viewer::Account(_) => ClearanceError::Forbidden,
            }));
        }
        let tenants = tenants::visible(&self.pool, viewer).await?;
        let tenant_name = |id: Option<i64>| {
            id.and_then(|id| tenants.iter().find(|tenant| tenant.id == id))
                .map(|tenant| tenant.name.clone())
        };
        let accounts = accounts::list(&self.pool)
            .await?
            .into_iter()
            .map(|(account, disabled)| AccountRow {
                tenant_name: tenant_name(account.tenant_id),
                account,
                disabled,
            })
            .collect();
        let now = Utc::now();
        let invitations = invitations::list(&self.pool, viewer)
            .await?
            .into_iter()
            .map(|invitation| InvitationRow {
                state: invitation.state(now),
                invitation,
            })
            .collect();
        let events = audit::recent(&self.pool, EVENTS)
            .await?
            .into_iter()
            .map(|event| AccessEvent {
                at: event.at,
                actor: event.actor,
                action: event.action,
                subject: event.subject,
                remote_addr: event.remote_addr,
                count: u32::try_from(event.count).unwrap_or(1),
                last_at: event.last_at,
                several_addresses: event.several_addresses,
            })
            .collect();
        let new_link = match parts.extensions.get::<Session>() {
            Some(session) if viewer.is_operator() => shown_link(parts, session).await,
            _ => None,
        };
        Ok(Ok(AdminView {
            can_change: viewer.is_operator(),
            accounts,
            tenants,
            invitations,
            events,
            new_link,
        }))
    }
}

impl AccessStore for PgAccessStore {
    fn admin_view<'a>(
        &'a self,
        parts: &'a Parts,
        viewer: &'a Viewer,
    ) -> StoreFuture<'a, Result<AdminView, ClearanceError>> {
        Box::pin(async move {
            self.admin(parts, viewer)
                .await
                .map_err(crate::refusal::unavailable(parts))
        })
    }

    fn invitation<'a>(
        &'a self,
        parts: &'a Parts,
        token: &'a str,
    ) -> StoreFuture<'a, Result<InvitationLink, ClearanceError>> {
        Box::pin(async move {
            let address = ClientAddr::of(parts);
            if let Err(seconds) = throttle_token(&self.refusals, &self.throttle, &address).await {
                return Ok(Err(ClearanceError::Throttled(seconds)));
            }
            let opened = invitations::open(&self.pool, token)
                .await
                .map_err(crate::refusal::unavailable(parts))?;
            match opened {
                Ok(invitation) => Ok(Ok(InvitationLink::Pending(InvitationPreview {
                    tenant_name: invitation.tenant_name,
                    email: invitation.email,
                    expires_at: invitation.expires_at,
                }))),
                Err((reason, email)) => {
                    refuse_token(&self.pool, &address, reason, email.as_deref()).await;
                    Ok(Ok(InvitationLink::Unusable(reason.to_string())))
                }
            }
        })
    }
}
