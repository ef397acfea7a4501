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

/// Session key of the invitation link shown once on the next `/admin` render.
pub(super) const NEW_LINK: &str = "new_invitation_link";
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
            Some(session) if viewer.is_operator() => {
                session.remove::<String>(NEW_LINK).await.ok().flatten()
            }
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
