//! Sign-in and sign-out: plain HTML form posts answered with redirects, so they
//! work with or without the WASM.

use axum::extract::State;
use axum::response::Redirect;
use axum::Form;
use serde::Deserialize;
use sqlx::PgPool;
use tower_sessions::Session;

use app::domain::access::{normalize_email, Viewer, MAX_PASSWORD_BYTES};
// Where to go after signing in: a page of this site only, never another site.
use app::domain::local_path::local_path;

use super::audit::{self, Action, Event};
use super::invitations::Unusable;
use super::refusals::RefusalLog;
use super::throttle::{Refused, FAILURE_DELAY};
use super::{accounts, invitations, session, ClientAddr};
use crate::state::AppState;

// No `Debug`: it holds a password.
#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

fn back_to_sign_in(error: &str, email: &str, next: Option<&str>) -> Redirect {
    back_with_retry(error, email, next, None)
}

fn back_with_retry(error: &str, email: &str, next: Option<&str>, retry: Option<u64>) -> Redirect {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("error", error);
    if let Some(seconds) = retry {
        query.append_pair("retry", &seconds.to_string());
    }
    if !email.is_empty() {
        query.append_pair("email", email);
    }
    if let Some(next) = next {
        query.append_pair("next", &local_path(Some(next)));
    }
    Redirect::to(&format!("/login?{}", query.finish()))
}

/// `POST /auth/login`: checks the throttle, then the password; on success starts a
/// new session. Every outcome is recorded in the access log.
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Redirect {
    let next = form.next.as_deref();
    let Ok(email) = normalize_email(&form.email) else {
        return back_to_sign_in("invalid", "", next);
    };
    if let Err(refused) = state.throttle.attempt(&email, &address).await {
        // An address refusal is about the address, whatever account it tried:
        // recorded as anonymous, so a flood of names stays one counted row.
        let (actor, subject) = match refused {
            Refused::Address(_) => ("anonymous", "too many attempts from this address"),
            Refused::Account(_) => (email.as_str(), "too many attempts on this account"),
        };
        state
            .refusals
            .record(&Event {
                account_id: None,
                actor,
                action: Action::SignInRefused,
                subject: Some(subject),
                remote_addr: Some(&address),
            })
            .await;
        let wait = refused.wait().as_secs().max(1);
        return back_with_retry("throttled", &email, next, Some(wait));
    }

    let account = match accounts::find_by_email(&state.pool, &email).await {
        Ok(account) => account,
        Err(error) => {
            tracing::error!(%error, "sign-in could not read the account");
            return back_to_sign_in("unavailable", &email, next);
        }
    };
    let password = form.password;
    let (hash, usable) = match &account {
        Some(account) if !account.disabled => (account.password_hash.clone(), true),
        _ => (accounts::decoy_hash().to_owned(), false),
    };
    // Verified either way, so timing does not tell whether the address exists.
    let matches = password.len() <= MAX_PASSWORD_BYTES
        && tokio::task::spawn_blocking(move || accounts::verify_password(&password, &hash))
            .await
            .unwrap_or(false);

    match account.filter(|_| usable && matches) {
        Some(account) => {
            if let Err(error) = session::sign_in(&session, account.summary.id).await {
                tracing::error!(%error, "could not start a session");
                return back_to_sign_in("unavailable", &email, next);
            }
            audit::record(
                &state.pool,
                &Event {
                    account_id: Some(account.summary.id),
                    actor: &email,
                    action: Action::SignInSucceeded,
                    subject: None,
                    remote_addr: Some(&address),
                },
            )
            .await;
            Redirect::to(&local_path(next))
        }
        None => {
            audit::record(
                &state.pool,
                &Event {
                    account_id: None,
                    actor: &email,
                    action: Action::SignInFailed,
                    subject: None,
                    remote_addr: Some(&address),
                },
            )
            .await;
            tokio::time::sleep(FAILURE_DELAY).await;
            back_to_sign_in("invalid", &email, next)
        }
    }
}

/// `POST /auth/logout`: ends the session.
pub async fn sign_out(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    viewer: axum::Extension<Viewer>,
    session: Session,
) -> Redirect {
    if let Viewer::Account(account) = &viewer.0 {
        audit::record(
            &state.pool,
            &Event {
                account_id: Some(account.id),
                actor: &account.email,
                action: Action::SignedOut,
                subject: None,
                remote_addr: Some(&address),
            },
        )
        .await;
    }
    if let Err(error) = session::sign_out(&session).await {
        tracing::warn!(%error, "could not end a session");
    }
    Redirect::to("/")
}

// No `Debug`: it holds an invitation token and a password.
#[derive(Deserialize)]
pub struct AcceptForm {
    token: String,
    name: String,
    password: String,
}

fn back_to_invitation(token: &str, message: &str) -> Redirect {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", message)
        .finish();
    // Tokens are hex; anything else cannot name an invitation anyway.
    let token: String = token
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(64)
        .collect();
    Redirect::to(&format!("/invite/{token}?{query}"))
}

/// Records a token that opened nothing (what was wrong and, when the token named
/// an invitation, whose; never the token) and answers only after the same pause
/// as a failed sign-in, so probing for links is slow.
pub(crate) async fn refuse_token(
    pool: &PgPool,
    address: &str,
    reason: Unusable,
    email: Option<&str>,
) {
    let subject = match email {
        Some(email) => format!("{} for {email}", reason.as_str()),
        None => reason.as_str().to_owned(),
    };
    record_token_refusal(pool, address, &subject).await;
    tokio::time::sleep(FAILURE_DELAY).await;
}

/// An invitation link refused to an anonymous caller at `address`, and why.
async fn record_token_refusal(pool: &PgPool, address: &str, subject: &str) {
    audit::record(
        pool,
        &Event {
            account_id: None,
            actor: "anonymous",
            action: Action::InvitationRefused,
            subject: Some(subject),
            remote_addr: Some(address),
        },
    )
    .await;
}

/// Counts an invitation-link attempt from `address`; when it has made too many,
/// records the refusal (counted in its burst) and answers the wait in whole
/// seconds.
pub(crate) async fn throttle_token(
    refusals: &RefusalLog,
    throttle: &super::throttle::SignInThrottle,
    address: &str,
) -> Result<(), u64> {
    let Err(wait) = throttle.invitation_attempt(address).await else {
        return Ok(());
    };
    refusals
        .record(&Event {
            account_id: None,
            actor: "anonymous",
            action: Action::InvitationRefused,
            subject: Some("too many attempts"),
            remote_addr: Some(address),
        })
        .await;
    Err(wait.as_secs().max(1))
}

/// `POST /auth/invitations/accept`: uses an invitation once, creating the buyer
/// sponsor's account, and signs them in. Bad, used, revoked and expired tokens
/// are refused slowly, logged, and throttled per address.
pub async fn accept_invitation(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    session: Session,
    Form(form): Form<AcceptForm>,
) -> Redirect {
    if let Err(seconds) = throttle_token(&state.refusals, &state.throttle, &address).await {
        return back_to_invitation(
            &form.token,
            &format!("Too many attempts with invitation links. Try again in {seconds} seconds."),
        );
    }
    match invitations::accept(&state.pool, &form.token, &form.name, &form.password).await {
        Ok(account) => {
            audit::record(
                &state.pool,
                &Event {
                    account_id: Some(account.id),
                    actor: &account.email,
                    action: Action::InvitationUsed,
                    subject: None,
                    remote_addr: Some(&address),
                },
            )
            .await;
            if let Err(error) = session::sign_in(&session, account.id).await {
                tracing::error!(%error, "could not start a session after an invitation");
                return Redirect::to("/login");
            }
            Redirect::to("/")
        }
        Err(invitations::InvitationError::Database(error)) => {
            tracing::error!(%error, "could not use an invitation");
            back_to_invitation(
                &form.token,
                "The database cannot be reached. Try again shortly.",
            )
        }
        Err(invitations::InvitationError::NotUsable { reason, email }) => {
            refuse_token(&state.pool, &address, reason, email.as_deref()).await;
            back_to_invitation(&form.token, &reason.to_string())
        }
        Err(error) => back_to_invitation(&form.token, &error.to_string()),
    }
}
