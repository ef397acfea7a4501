//! [`WebhookStore`] over PostgreSQL: the data behind `/admin/webhooks` and
//! `/admin/webhooks/{id}`, for operators only.

use http::request::Parts;

use app::domain::access::Viewer;
use app::live::StoreFuture;
use app::page_data::webhooks::{NewSecret, WebhookStore, WebhookView, WebhooksView};
use app::page_data::ClearanceError;

use super::manage::{self, Denial, DELIVERIES_SHOWN};
use super::store;
use crate::auth::ClientAddr;
use crate::state::AppState;
use crate::tenants;

/// [`WebhookStore`] over the application state (its pool, register and
/// webhook settings).
#[derive(Clone)]
pub struct PgWebhookStore {
    pub state: AppState,
}

impl PgWebhookStore {
    /// `Err` for anyone but an operator, the denial logged.
    async fn allowed(&self, parts: &Parts, viewer: &Viewer) -> Result<(), ClearanceError> {
        match manage::operator(viewer) {
            Ok(_) => Ok(()),
            Err(denial) => {
                manage::log_denial(
                    &self.state,
                    viewer,
                    parts.uri.path(),
                    &ClientAddr::of(parts),
                )
                .await;
                Err(match denial {
                    Denial::Public => ClearanceError::SignInRequired,
                    Denial::NotOperator => ClearanceError::Forbidden,
                })
            }
        }
    }

    /// The secret to show once, with its endpoint's URL.
    async fn new_secret(&self, parts: &Parts) -> Result<Option<NewSecret>, sqlx::Error> {
        let Some((endpoint_id, secret)) = manage::shown_secret(parts).await else {
            return Ok(None);
        };
        Ok(store::find(&self.state.pool, endpoint_id)
            .await?
            .map(|endpoint| NewSecret {
                endpoint_id,
                url: endpoint.url,
                secret,
            }))
    }

    async fn list(
        &self,
        parts: &Parts,
        viewer: &Viewer,
    ) -> Result<Result<WebhooksView, ClearanceError>, sqlx::Error> {
        if let Err(error) = self.allowed(parts, viewer).await {
            return Ok(Err(error));
        }
        let tenants = tenants::visible(&self.state.pool, viewer).await?;
        let endpoints = store::list(&self.state.pool)
            .await?
            .into_iter()
            .map(|endpoint| manage::row(endpoint, &tenants))
            .collect();
        Ok(Ok(WebhooksView {
            endpoints,
            choices: manage::choices(&self.state, &tenants),
            new_secret: self.new_secret(parts).await?,
            allow_private: self.state.webhooks.allow_private,
        }))
    }

    async fn one(
        &self,
        parts: &Parts,
        viewer: &Viewer,
        id: i64,
    ) -> Result<Result<WebhookView, ClearanceError>, sqlx::Error> {
        if let Err(error) = self.allowed(parts, viewer).await {
            return Ok(Err(error));
        }
        let Some(endpoint) = store::find(&self.state.pool, id).await? else {
            return Ok(Err(ClearanceError::NotFound));
        };
        let tenants = tenants::visible(&self.state.pool, viewer).await?;
        let deliveries = store::deliveries(&self.state.pool, id, DELIVERIES_SHOWN)
            .await?
            .into_iter()
            .map(manage::delivery_row)
            .collect();
        Ok(Ok(WebhookView {
            endpoint: manage::row(endpoint, &tenants),
            deliveries,
            choices: manage::choices(&self.state, &tenants),
            new_secret: self.new_secret(parts).await?,
        }))
    }
}

impl WebhookStore for PgWebhookStore {
    fn endpoints<'a>(
        &'a self,
        parts: &'a Parts,
        viewer: &'a Viewer,
    ) -> StoreFuture<'a, Result<WebhooksView, ClearanceError>> {
        Box::pin(async move {
            self.list(parts, viewer)
                .await
                .map_err(crate::refusal::unavailable(parts))
        })
    }

    fn endpoint<'a>(
        &'a self,
        parts: &'a Parts,
        viewer: &'a Viewer,
        id: i64,
    ) -> StoreFuture<'a, Result<WebhookView, ClearanceError>> {
        Box::pin(async move {
            self.one(parts, viewer, id)
                .await
                .map_err(crate::refusal::unavailable(parts))
        })
    }
}
