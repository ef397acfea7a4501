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
    Redirect::to(&refusal::back_to(page, key, message, anchor)).into_response()
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
        Some(id) => store::find(&state.pool, id).await.map_err(failed)?,
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

/// A handler's answer: a page or redirect, or the refusal that answers instead.
type Answer = Result<Response, Response>;

/// A failure's refusal page (a database error, say).
fn failed(error: impl Into<FormError>) -> Response {
    error.into().into_response()
}

fn no_endpoint() -> Response {
    failed(FormError::NotFound("no such webhook endpoint".to_owned()))
}

/// The posted endpoint form (repeated checkboxes read in order), checked;
/// refused values go back to `page`, each error naming its field.
async fn checked(
    state: &AppState,
    viewer: &Viewer,
    body: &Bytes,
    page: &str,
) -> Result<store::EndpointValues, Response> {
    let form = EndpointForm::from_pairs(form_urlencoded::parse(body).into_owned());
    manage::check(state, viewer, &form)
        .await
        .map_err(failed)?
        .map_err(|errors| refused(page, &errors))
}

/// `POST /admin/webhooks`: then back to the list, where the secret shows once.
pub async fn create(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    session: Session,
    body: Bytes,
) -> Answer {
    operator(&state, &viewer, "create webhook", &address).await?;
    let values = checked(&state, &viewer, &body, "/admin/webhooks").await?;
    let actor = match &viewer {
        Viewer::Account(account) => account.email.as_str(),
        Viewer::Public => "anonymous",
    };
    let (endpoint, secret) = store::create(&state.pool, &values, actor)
        .await
        .map_err(failed)?;
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
    Ok(with_cookie(response, cookie))
}

/// `POST /admin/webhooks/{id}`: the edit form.
pub async fn update(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    operator(&state, &viewer, "change webhook", &address).await?;
    let endpoint = endpoint(&state, &viewer, &id, &address).await?;
    let page = format!("/admin/webhooks/{}", endpoint.id);
    let values = checked(&state, &viewer, &body, &page).await?;
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
) -> Answer {
    operator(&state, &viewer, "change webhook", &address).await?;
    let endpoint = endpoint(&state, &viewer, &id, &address).await?;
    let enabled = match form_urlencoded::parse(&body)
        .find(|(key, _)| key == "enabled")
        .map(|(_, value)| value.into_owned())
        .as_deref()
    {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return Err(failed(FormError::BadRequest(
                "enabled: send true or false".to_owned(),
            )))
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
) -> Answer {
    let endpoint = store::update(&state.pool, id, values)
        .await
        .map_err(failed)?
        .ok_or_else(no_endpoint)?;
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
    Ok(back(&format!("/admin/webhooks/{id}"), "done", message, ""))
}

/// `POST /admin/webhooks/{id}/rotate`: the new secret shows once on the
/// endpoint's page; the old one signs beside it for 24 hours.
pub async fn rotate(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    session: Session,
    Path(id): Path<String>,
) -> Answer {
    operator(&state, &viewer, "rotate webhook secret", &address).await?;
    let endpoint = endpoint(&state, &viewer, &id, &address).await?;
    let secret = store::rotate(&state.pool, endpoint.id, ROTATION_OVERLAP)
        .await
        .map_err(failed)?
        .ok_or_else(no_endpoint)?;
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
    Ok(with_cookie(response, cookie))
}

/// `POST /admin/webhooks/{id}/delete`: with its deliveries.
pub async fn delete(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Answer {
    operator(&state, &viewer, "delete webhook", &address).await?;
    let endpoint = endpoint(&state, &viewer, &id, &address).await?;
    store::delete(&state.pool, endpoint.id)
        .await
        .map_err(failed)?;
    manage::log(
        &state,
        &viewer,
        Action::WebhookDeleted,
        &format!("{} ({})", endpoint.id, endpoint.url),
        &address,
    )
    .await;
    Ok(back(
        "/admin/webhooks",
        "done",
        &format!("Deleted webhook endpoint {}.", endpoint.url),
        "",
    ))
}

/// `POST /admin/webhooks/{id}/deliveries/{delivery}/redeliver`.
pub async fn redeliver(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path((id, delivery)): Path<(String, String)>,
) -> Answer {
    operator(&state, &viewer, "redeliver webhook", &address).await?;
    let endpoint = endpoint(&state, &viewer, &id, &address).await?;
    let queued = match manage::parse_id(&delivery) {
        Some(delivery) => store::redeliver(&state.pool, endpoint.id, delivery)
            .await
            .map_err(failed)?,
        None => false,
    };
    if !queued {
        return Err(failed(FormError::NotFound(
            "no such delivery for this endpoint".to_owned(),
        )));
    }
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
    Ok(back(
        &format!("/admin/webhooks/{}", endpoint.id),
        "done",
        message,
        "",
    ))
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
