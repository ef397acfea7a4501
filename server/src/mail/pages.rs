//! [`NotificationStore`] over PostgreSQL: the data behind
//! `/account/notifications` and `/unsubscribe/{token}`.

use std::sync::Arc;

use sqlx::PgPool;

use app::domain::access::Viewer;
use app::domain::events::EventType;
use app::domain::Register;
use app::live::{StoreError, StoreFuture};
use app::page_data::notifications::{
    Choice, NotificationStore, NotificationsView, UnsubscribeLink,
};
use app::page_data::ClearanceError;

use super::store;

/// [`NotificationStore`] over PostgreSQL.
#[derive(Clone)]
pub struct PgNotificationStore {
    pub pool: PgPool,
    pub register: Arc<Register>,
    /// Whether an SMTP relay is configured.
    pub email_configured: bool,
}

fn unavailable(error: sqlx::Error) -> StoreError {
    tracing::error!(%error, "database error while reading the notification pages");
    StoreError("the database is unavailable".to_owned())
}

impl NotificationStore for PgNotificationStore {
    fn notifications<'a>(
        &'a self,
        viewer: &'a Viewer,
    ) -> StoreFuture<'a, Result<NotificationsView, ClearanceError>> {
        Box::pin(async move {
            let Viewer::Account(account) = viewer else {
                return Ok(Err(ClearanceError::SignInRequired));
            };
            let subscriptions = store::list(&self.pool, account.id)
                .await
                .map_err(unavailable)?;
            Ok(Ok(NotificationsView {
                email_configured: self.email_configured,
                email: account.email.clone(),
                subscriptions,
                event_types: EventType::ALL
                    .into_iter()
                    .map(|kind| Choice {
                        value: kind.as_str().to_owned(),
                        label: if kind.is_tenant_event() {
                            format!("{} (only tenants you may see)", kind.label())
                        } else {
                            kind.label().to_owned()
                        },
                    })
                    .collect(),
                motions: self
                    .register
                    .motions
                    .iter()
                    .map(|motion| Choice {
                        value: motion.id.clone(),
                        label: motion.name.clone(),
                    })
                    .collect(),
            }))
        })
    }

    fn unsubscribe_link<'a>(
        &'a self,
        token: &'a str,
    ) -> StoreFuture<'a, Result<UnsubscribeLink, ClearanceError>> {
        Box::pin(async move {
            let link = store::preview(&self.pool, token)
                .await
                .map_err(unavailable)?;
            if link == UnsubscribeLink::Unknown {
                if let Some(response) =
                    leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
                {
                    response.set_status(http::StatusCode::NOT_FOUND);
                }
            }
            Ok(Ok(link))
        })
    }
}
