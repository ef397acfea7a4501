//! The webhook pages' form posts: operators create, change, enable or disable,
//! rotate and delete endpoints and redeliver deliveries. Each works without
//! JavaScript (post, then redirect back with a message; a new secret goes to
//! the page that shows it once); every change and every denial goes to the
//! access log. Refused input changes nothing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use tower_sessions::Session;

use app::domain::access::{FieldError, Viewer};
use app::domain::webhook::EndpointForm;

use super::manage::{self, ROTATION_OVERLAP};
use super::store;
use crate::auth::audit::Action;
use crate::auth::ClientAddr;
use crate::refusal::{self, FormError};
use crate::state::AppState;

/// Back to `page` with a message (or the errors, each naming its field).
fn back(page: &str, key: &str, message: &str, anchor: &str) -> Response {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair(key, message)
        .finish();
    Redirect::to(&format!("{page}?{query}{anchor}")).into_response()
}

fn refused(page: &str, errors: &[FieldError]) -> Response {
    let message = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    back(page, "error", &message, "")
}

/// The operator making a change, or a 403 recorded in the access log.
async fn operator(
    state: &AppState,
    viewer: &Viewer,
    what: &str,
    address: &str,
) -> Result<(), Response> {
    match manage::operator(viewer) {
        Ok(_) => Ok(()),
        Err(_) => {
            let error = FormError::Forbidden("only operators manage webhooks".to_owned());
            Err(refusal::denied(&state.pool, viewer, what, address, error)
                .await
                .into_response())
        }
    }
}

/// The endpoint a path names, or a 404 (logged).
async fn endpoint(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    address: &str,
) -> Result<store::Endpoint, Response> {
    let found = match manage::parse_id(id) {
        Some(id) => store::find(&state.pool, id)
            .await
            .map_err(|error| FormError::from(error).into_response())?,
        None => None,
    };
    match found {
        Some(endpoint) => Ok(endpoint),
        None => {
            let error = FormError::NotFound("no such webhook endpoint".to_owned());
            Err(refusal::denied(
                &state.pool,
                viewer,
                &format!("webhook {id}"),
                address,
                error,
            )
            .await
            .into_response())
        }
    }
}

/// The posted form: repeated checkboxes are read in order.
fn form(body: &Bytes) -> EndpointForm {
    EndpointForm::from_pairs(form_urlencoded::parse(body).into_owned())
}

/// `POST /admin/webhooks`: then back to the list, where the secret shows once.
pub async fn create(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    session: Session,
    body: Bytes,
) -> Response {
    if let Err(response) = operator(&state, &viewer, "create webhook", &address).await {
        return response;
    }
    let values = match manage::check(&state, &viewer, &form(&body)).await {
        Ok(Ok(values)) => values,
        Ok(Err(errors)) => return refused("/admin/webhooks", &errors),
        Err(error) => return FormError::from(error).into_response(),
    };
    let actor = match &viewer {
        Viewer::Account(account) => account.email.as_str(),
        Viewer::Public => "anonymous",
    };
    let (endpoint, secret) = match store::create(&state.pool, &values, actor).await {
        Ok(created) => created,
        Err(error) => return FormError::from(error).into_response(),
    };
    manage::log(
        &state,
        &viewer,
        Action::WebhookCreated,
        &format!("{} ({})", endpoint.id, endpoint.url),
        &address,
    )
    .await;
    let cookie =
        manage::keep_for_display(&session, state.sessions.secure_cookie, endpoint.id, &secret)
            .await;
    let response = back(
        "/admin/webhooks",
        "done",
        &format!("Created webhook endpoint {}.", endpoint.url),
        "#new-secret",
    );
    with_cookie(response, cookie)
}

/// `POST /admin/webhooks/{id}`: the edit form.
pub async fn update(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(response) = operator(&state, &viewer, "change webhook", &address).await {
        return response;
    }
    let endpoint = match endpoint(&state, &viewer, &id, &address).await {
        Ok(endpoint) => endpoint,
        Err(response) => return response,
    };
    let page = format!("/admin/webhooks/{}", endpoint.id);
    let values = match manage::check(&state, &viewer, &form(&body)).await {
        Ok(Ok(values)) => values,
        Ok(Err(errors)) => return refused(&page, &errors),
        Err(error) => return FormError::from(error).into_response(),
    };
    save(
        &state,
        &viewer,
        &address,
        endpoint.id,
        &values,
        "Saved the endpoint.",
    )
    .await
}

/// `POST /admin/webhooks/{id}/enabled` with `enabled=true|false`.
pub async fn set_enabled(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(response) = operator(&state, &viewer, "change webhook", &address).await {
        return response;
    }
    let endpoint = match endpoint(&state, &viewer, &id, &address).await {
        Ok(endpoint) => endpoint,
        Err(response) => return response,
    };
    let enabled = match form_urlencoded::parse(&body)
        .find(|(key, _)| key == "enabled")
        .map(|(_, value)| value.into_owned())
        .as_deref()
    {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return FormError::BadRequest("enabled: send true or false".to_owned()).into_response()
        }
    };
    let values = store::EndpointValues {
        enabled,
        ..manage::values_of(&endpoint)
    };
    let message = if enabled {
        "Enabled the endpoint. Redeliver what failed meanwhile from the list below."
    } else {
        "Disabled the endpoint: nothing is delivered to it until it is enabled."
    };
    save(&state, &viewer, &address, endpoint.id, &values, message).await
}

async fn save(
    state: &AppState,
    viewer: &Viewer,
    address: &str,
    id: i64,
    values: &store::EndpointValues,
    message: &str,
) -> Response {
    match store::update(&state.pool, id, values).await {
        Ok(Some(endpoint)) => {
            let state_word = if endpoint.enabled {
                "enabled"
            } else {
                "disabled"
            };
            manage::log(
                state,
                viewer,
                Action::WebhookChanged,
                &format!("{} ({}, {state_word})", endpoint.id, endpoint.url),
                address,
            )
            .await;
            back(&format!("/admin/webhooks/{id}"), "done", message, "")
        }
        Ok(None) => FormError::NotFound("no such webhook endpoint".to_owned()).into_response(),
        Err(error) => FormError::from(error).into_response(),
    }
}

/// `POST /admin/webhooks/{id}/rotate`: the new secret shows once on the
/// endpoint's page; the old one signs beside it for 24 hours.
pub async fn rotate(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = operator(&state, &viewer, "rotate webhook secret", &address).await {
        return response;
    }
    let endpoint = match endpoint(&state, &viewer, &id, &address).await {
        Ok(endpoint) => endpoint,
        Err(response) => return response,
    };
    let secret = match store::rotate(&state.pool, endpoint.id, ROTATION_OVERLAP).await {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            return FormError::NotFound("no such webhook endpoint".to_owned()).into_response()
        }
        Err(error) => return FormError::from(error).into_response(),
    };
    manage::log(
        &state,
        &viewer,
        Action::WebhookSecretRotated,
        &format!("{} ({})", endpoint.id, endpoint.url),
        &address,
    )
    .await;
    let cookie =
        manage::keep_for_display(&session, state.sessions.secure_cookie, endpoint.id, &secret)
            .await;
    let response = back(
        &format!("/admin/webhooks/{}", endpoint.id),
        "done",
        "Rotated the signing secret: the previous one keeps signing for 24 hours.",
        "#new-secret",
    );
    with_cookie(response, cookie)
}

/// `POST /admin/webhooks/{id}/delete`: with its deliveries.
pub async fn delete(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = operator(&state, &viewer, "delete webhook", &address).await {
        return response;
    }
    let endpoint = match endpoint(&state, &viewer, &id, &address).await {
        Ok(endpoint) => endpoint,
        Err(response) => return response,
    };
    match store::delete(&state.pool, endpoint.id).await {
        Ok(_) => {
            manage::log(
                &state,
                &viewer,
                Action::WebhookDeleted,
                &format!("{} ({})", endpoint.id, endpoint.url),
                &address,
            )
            .await;
            back(
                "/admin/webhooks",
                "done",
                &format!("Deleted webhook endpoint {}.", endpoint.url),
                "",
            )
        }
        Err(error) => FormError::from(error).into_response(),
    }
}

/// `POST /admin/webhooks/{id}/deliveries/{delivery}/redeliver`.
pub async fn redeliver(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path((id, delivery)): Path<(String, String)>,
) -> Response {
    if let Err(response) = operator(&state, &viewer, "redeliver webhook", &address).await {
        return response;
    }
    let endpoint = match endpoint(&state, &viewer, &id, &address).await {
        Ok(endpoint) => endpoint,
        Err(response) => return response,
    };
    let queued = match manage::parse_id(&delivery) {
        Some(delivery) => store::redeliver(&state.pool, endpoint.id, delivery).await,
        None => Ok(false),
    };
    match queued {
        Ok(true) => {
            manage::log(
                &state,
                &viewer,
                Action::WebhookRedelivered,
                &format!("{} ({}): delivery {delivery}", endpoint.id, endpoint.url),
                &address,
            )
            .await;
            let message = if endpoint.enabled {
                "Queued the delivery again: it is sent within seconds."
            } else {
                "Queued the delivery again; the endpoint is disabled, so it is sent once it is enabled."
            };
            back(
                &format!("/admin/webhooks/{}", endpoint.id),
                "done",
                message,
                "",
            )
        }
        Ok(false) => {
            FormError::NotFound("no such delivery for this endpoint".to_owned()).into_response()
        }
        Err(error) => FormError::from(error).into_response(),
    }
}

/// `response` carrying the one-time secret's cookie, when there is one.
fn with_cookie(mut response: Response, cookie: Option<http::HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response
            .headers_mut()
            .append(http::header::SET_COOKIE, cookie);
    }
    response
}
