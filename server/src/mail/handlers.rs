//! The notification pages' form posts: subscribe, remove a subscription, and
//! the unsubscribe link's confirmation, which is also the one-click POST mail
//! clients send (RFC 8058: no cookie, no Origin, body
//! `List-Unsubscribe=One-Click`), so it needs nothing but the token.

use axum::extract::{Path, RawForm, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;

use app::domain::access::Viewer;
use app::domain::events::EventType;
use app::page_data::notifications::UnsubscribeLink;

use super::store;
use crate::auth::ClientAddr;
use crate::refusal::{self, FormError};
use crate::state::AppState;

/// Back to the notifications page with a message.
fn back(message: &str, error: bool) -> Redirect {
    let key = if error { "error" } else { "done" };
    Redirect::to(&refusal::back_to(
        "/account/notifications",
        key,
        message,
        "",
    ))
}

/// The signed-in account, or a refusal recorded in the access log.
async fn account(
    state: &AppState,
    viewer: &Viewer,
    what: &str,
    address: &str,
) -> Result<i64, Response> {
    match viewer {
        Viewer::Account(account) => Ok(account.id),
        Viewer::Public => Err(refusal::denied(
            &state.pool,
            viewer,
            what,
            address,
            FormError::Forbidden("sign in to change your notifications".to_owned()),
        )
        .await
        .into_response()),
    }
}

/// `POST /account/notifications`: `event_type` and `motion`, each repeatable.
pub async fn subscribe(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    RawForm(body): RawForm,
) -> Response {
    let account_id = match account(&state, &viewer, "subscribe", &address).await {
        Ok(id) => id,
        Err(response) => return response,
    };
    let mut kinds = Vec::new();
    let mut motions = Vec::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "event_type" => match EventType::parse(&value) {
                Some(kind) => kinds.push(kind.as_str().to_owned()),
                None => return back("event_type: no such event type", true).into_response(),
            },
            "motion" => match state.clearance.register.motion(&value) {
                Some(motion) => motions.push(motion.id.clone()),
                None => return back("motion: no such launch motion", true).into_response(),
            },
            _ => {}
        }
    }
    kinds.sort();
    kinds.dedup();
    motions.sort();
    motions.dedup();
    match store::add(&state.pool, account_id, &kinds, &motions).await {
        Ok(_) => {
            let mut done = format!("Subscribed to {}.", store::describe(&kinds, &motions));
            if state.mail.is_none() {
                done.push_str(" E-mail is not configured on this server yet.");
            }
            back(&done, false).into_response()
        }
        Err(error) => FormError::from(error).into_response(),
    }
}

/// `POST /account/notifications/{id}/delete`: one of the account's own.
pub async fn remove(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
) -> Response {
    let account_id = match account(&state, &viewer, "remove subscription", &address).await {
        Ok(id) => id,
        Err(response) => return response,
    };
    match store::remove(&state.pool, account_id, id).await {
        Ok(true) => back("Removed the subscription.", false).into_response(),
        Ok(false) => {
            FormError::NotFound("no such subscription of yours".to_owned()).into_response()
        }
        Err(error) => FormError::from(error).into_response(),
    }
}

/// `POST /unsubscribe/{token}`: stops what the mail was sent for, then shows
/// the link's page (which now says so). An unknown token is a 404.
pub async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match store::unsubscribe(&state.pool, &token).await {
        Ok(UnsubscribeLink::Unknown) => FormError::NotFound(
            "This unsubscribe link is not valid. Sign in and change your notifications instead."
                .to_owned(),
        )
        .into_response(),
        Ok(_) => Redirect::to(&format!("/unsubscribe/{token}")).into_response(),
        Err(error) => FormError::from(error).into_response(),
    }
}
