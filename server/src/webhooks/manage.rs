//! What the JSON API ([`super::api`]), the page's form posts
//! ([`super::handlers`]) and the pages' data ([`super::pages`]) share: who may
//! manage endpoints, checking a form into stored values, the access log, and
//! carrying a new signing secret to the one page that shows it.

use chrono::Duration;
use http::request::Parts;
use tower_sessions::Session;

use app::domain::access::{AccountSummary, FieldError, Role, Viewer};
use app::domain::events::EventType;
use app::domain::tenant::Tenant;
use app::domain::webhook::{check_endpoint, EndpointForm};
use app::page_data::webhooks::{Choice, Choices, DeliveryRow, EndpointRow};

use super::destination::check_url;
use super::store::{Delivery, Endpoint, EndpointValues};
use crate::auth::audit::{self, Action};
use crate::auth::invitations::token_hash;
use crate::state::AppState;
use crate::tenants;

/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// How many deliveries an endpoint's page lists (and the API answers by default).
pub const DELIVERIES_SHOWN: i64 = 50;

/// Why a viewer may not manage endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// Nobody is signed in.
    Public,
    /// Signed in, but not an operator.
    NotOperator,
}

/// The operator managing endpoints, or why `viewer` may not.
pub fn operator(viewer: &Viewer) -> Result<&AccountSummary, Denial> {
    match viewer {
        Viewer::Account(account) if account.role == Role::Operator => Ok(account),
        Viewer::Account(_) => Err(Denial::NotOperator),
        Viewer::Public => Err(Denial::Public),
    }
}

/// An id from a path: anything but a positive number names no endpoint.
pub fn parse_id(id: &str) -> Option<i64> {
    id.parse().ok().filter(|id| *id > 0)
}

/// Checks `form` against the catalogue, the register, the tenants and the
/// destination rule: the values to store, or every fault by field.
pub async fn check(
    state: &AppState,
    viewer: &Viewer,
    form: &EndpointForm,
) -> Result<Result<EndpointValues, Vec<FieldError>>, sqlx::Error> {
    let tenants = tenants::visible(&state.pool, viewer).await?;
    let allow_private = state.webhooks.allow_private;
    let checked = check_endpoint(form, &state.clearance.register, &tenants, |url| {
        check_url(url, allow_private)
            .map(|url| url.to_string())
            .map_err(|error| error.to_string())
    });
    Ok(checked.map(|checked| EndpointValues {
        url: checked.url,
        description: checked.description,
        event_types: checked
            .event_types
            .iter()
            .map(|kind| kind.as_str().to_owned())
            .collect(),
        motions: checked.motions,
        tenant_ids: checked.tenant_ids,
        format: checked.format.as_str().to_owned(),
        enabled: checked.enabled,
    }))
}

/// An endpoint's settings as stored, to change one of them.
pub fn values_of(endpoint: &Endpoint) -> EndpointValues {
    EndpointValues {
        url: endpoint.url.clone(),
        description: endpoint.description.clone(),
        event_types: endpoint.event_types.clone(),
        motions: endpoint.motions.clone(),
        tenant_ids: endpoint.tenant_ids.clone(),
        format: endpoint.format.clone(),
        enabled: endpoint.enabled,
    }
}

/// Records an operator's change in the access log (never a secret).
pub async fn log(state: &AppState, viewer: &Viewer, action: Action, subject: &str, address: &str) {
    audit::record_by(&state.pool, viewer, action, subject, address).await;
}

/// Records a refused viewer in the access log.
pub async fn log_denial(state: &AppState, viewer: &Viewer, what: &str, address: &str) {
    audit::record_by(&state.pool, viewer, Action::AccessDenied, what, address).await;
}

/// An endpoint as the pages show it, its tenants by slug.
pub fn row(endpoint: Endpoint, tenants: &[Tenant]) -> EndpointRow {
    EndpointRow {
        id: endpoint.id,
        url: endpoint.url,
        description: endpoint.description,
        event_types: endpoint.event_types,
        motions: endpoint.motions,
        tenants: endpoint
            .tenant_ids
            .iter()
            .map(|id| {
                tenants
                    .iter()
                    .find(|tenant| tenant.id == *id)
                    .map_or_else(|| format!("#{id}"), |tenant| tenant.slug.clone())
            })
            .collect(),
        format: endpoint.format,
        enabled: endpoint.enabled,
        disabled_reason: endpoint.disabled_reason,
        failing_since: endpoint.failing_since,
        previous_secret_expires_at: endpoint.previous_secret_expires_at,
        created_by: endpoint.created_by,
        created_at: endpoint.created_at,
    }
}

/// A delivery as the page lists it: its next attempt only while pending.
pub fn delivery_row(delivery: Delivery) -> DeliveryRow {
    DeliveryRow {
        id: delivery.id,
        next_attempt_at: (delivery.status == "pending").then_some(delivery.next_attempt_at),
        event_id: delivery.event_id,
        event_type: delivery.event_type,
        status: delivery.status,
        attempts: delivery.attempts,
        last_attempt_at: delivery.last_attempt_at,
        response_code: delivery.response_code,
        last_error: delivery.last_error,
    }
}

/// What the endpoint form offers: every event type, motion and tenant.
pub fn choices(state: &AppState, tenants: &[Tenant]) -> Choices {
    Choices {
        event_types: EventType::ALL
            .into_iter()
            .map(|kind| Choice {
                value: kind.as_str().to_owned(),
                label: kind.label().to_owned(),
                tenant_event: kind.is_tenant_event(),
            })
            .collect(),
        motions: state
            .clearance
            .register
            .motions
            .iter()
            .map(|motion| Choice {
                value: motion.id.clone(),
                label: motion.name.clone(),
                tenant_event: false,
            })
            .collect(),
        tenants: tenants
            .iter()
            .map(|tenant| Choice {
                value: tenant.slug.clone(),
                label: tenant.name.clone(),
                tenant_event: false,
            })
            .collect(),
    }
}

/// Session key of the SHA-256 of the `{id}:{secret}` the next webhook page
/// shows once. The secret itself is never stored on the server: it travels in
/// the [`SECRET_COOKIE`] of the operator's browser, and the session only
/// vouches, once, for the cookie's value.
const SECRET_DIGEST: &str = "new_webhook_secret_sha256";
/// The short-lived cookie carrying a new secret to the webhook pages.
const SECRET_COOKIE: &str = "clearance_new_webhook_secret";
/// Long enough for the redirect to the page.
const SECRET_COOKIE_SECS: u32 = 300;

/// Keeps a new secret for its one display: its digest in the session, and the
/// `Set-Cookie` (`HttpOnly`, `SameSite=Strict`, only sent to `/admin/webhooks`)
/// that carries it there.
pub async fn keep_for_display(
    session: &Session,
    secure: bool,
    endpoint_id: i64,
    secret: &str,
) -> Option<http::HeaderValue> {
    let value = format!("{endpoint_id}:{secret}");
    if let Err(error) = session.insert(SECRET_DIGEST, token_hash(&value)).await {
        tracing::error!(%error, "could not keep the new webhook secret for display");
        return None;
    }
    let encoded = percent_encoding::utf8_percent_encode(&value, percent_encoding::NON_ALPHANUMERIC);
    let secure = if secure { "; Secure" } else { "" };
    http::HeaderValue::from_str(&format!(
        "{SECRET_COOKIE}={encoded}; Path=/admin/webhooks; Max-Age={SECRET_COOKIE_SECS}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

/// The new secret this page request carries, if the session vouches for it
/// (once: the digest is removed), with its endpoint's id; the cookie is then
/// expired.
pub async fn shown_secret(parts: &Parts) -> Option<(i64, String)> {
    let session = parts.extensions.get::<Session>()?;
    let digest = session
        .remove::<String>(SECRET_DIGEST)
        .await
        .ok()
        .flatten()?;
    let value = parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SECRET_COOKIE)
        .and_then(|(_, value)| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .ok()
                .map(|value| value.into_owned())
        })?;
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(
            http::header::SET_COOKIE,
            http::HeaderValue::from_static(
                "clearance_new_webhook_secret=; Path=/admin/webhooks; Max-Age=0; HttpOnly; SameSite=Strict",
            ),
        );
    }
    if token_hash(&value) != digest {
        return None;
    }
    let (id, secret) = value.split_once(':')?;
    Some((id.parse().ok()?, secret.to_owned()))
}
