//! The administration page's form posts: operators create accounts and tenants,
//! change roles, disable accounts, and create and revoke invitations. Each works
//! without JavaScript (post, then redirect back with a message) and every change
//! and every denial goes to the access log.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use tower_sessions::Session;

use app::domain::access::{Role, Viewer};

use super::store::{new_link_cookie, NEW_LINK};
use crate::auth::accounts::{self, NewAccount};
use crate::auth::audit::{self, Action, Event};
use crate::auth::{invitations, ClientAddr};
use crate::refusal::{self, FormError};
use crate::state::AppState;
use crate::tenants;

/// Back to the administration page with a message (or an error naming its field).
fn back(message: &str, error: bool) -> Response {
    let key = if error { "error" } else { "done" };
    Redirect::to(&refusal::back_to("/admin", key, message, "")).into_response()
}

/// A handler's answer: a redirect, or the refusal that answers instead.
type Answer = Result<Response, Response>;

/// The operator making a change, or a 403 recorded in the access log.
async fn operator(
    state: &AppState,
    viewer: &Viewer,
    what: &str,
    address: &str,
) -> Result<i64, Response> {
    match viewer {
        Viewer::Account(account) if account.role == Role::Operator => Ok(account.id),
        _ => {
            let error = FormError::Forbidden("only operators may change this".to_owned());
            Err(refusal::denied(&state.pool, viewer, what, address, error)
                .await
                .into_response())
        }
    }
}

/// Records an operator's change in the access log.
async fn log_change(
    state: &AppState,
    viewer: &Viewer,
    operator_id: i64,
    action: Action,
    subject: &str,
    address: &str,
) {
    audit::record(
        &state.pool,
        &Event {
            account_id: Some(operator_id),
            actor: actor(viewer),
            action,
            subject: Some(subject),
            remote_addr: Some(address),
        },
    )
    .await;
}

fn actor(viewer: &Viewer) -> &str {
    match viewer {
        Viewer::Public => "anonymous",
        Viewer::Account(account) => &account.email,
    }
}

#[derive(Deserialize)]
pub struct NewAccountForm {
    email: String,
    name: String,
    role: String,
    password: String,
}

/// `POST /admin/accounts`: an operator creates an operator or commercial owner.
pub async fn create_account(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<NewAccountForm>,
) -> Answer {
    let operator_id = operator(&state, &viewer, "create account", &address).await?;
    let role = match Role::parse(&form.role) {
        Some(role @ (Role::Operator | Role::CommercialOwner)) => role,
        _ => return Ok(back("role: choose operator or commercial owner", true)),
    };
    let created = accounts::create(
        &state.pool,
        &NewAccount {
            email: &form.email,
            name: &form.name,
            role,
            tenant_id: None,
            password: &form.password,
        },
    )
    .await;
    Ok(match created {
        Ok(account) => {
            log_change(
                &state,
                &viewer,
                operator_id,
                Action::AccountCreated,
                &format!("{} ({})", account.email, account.role.as_str()),
                &address,
            )
            .await;
            back(
                &format!("Created {} account {}.", account.role, account.email),
                false,
            )
        }
        Err(accounts::CreateError::Database(error)) => FormError::from(error).into_response(),
        Err(error) => back(&error.to_string(), true),
    })
}

#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
}

/// `POST /admin/accounts/disable`.
pub async fn disable_account(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<EmailForm>,
) -> Answer {
    let operator_id = operator(&state, &viewer, "disable account", &address).await?;
    if actor(&viewer) == form.email.trim().to_lowercase() {
        return Ok(back("email: you cannot disable your own account", true));
    }
    Ok(match accounts::disable(&state.pool, &form.email).await {
        Ok(true) => {
            log_change(
                &state,
                &viewer,
                operator_id,
                Action::AccountDisabled,
                &form.email,
                &address,
            )
            .await;
            back(&format!("Disabled {}.", form.email), false)
        }
        Ok(false) => back("email: no enabled account with that address", true),
        Err(error) => FormError::from(error).into_response(),
    })
}

#[derive(Deserialize)]
pub struct RoleForm {
    email: String,
    role: String,
}

/// `POST /admin/accounts/role`: between operator and commercial owner. Operators
/// cannot change their own role, so the last operator cannot lock everyone out.
pub async fn change_role(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<RoleForm>,
) -> Answer {
    let operator_id = operator(&state, &viewer, "change role", &address).await?;
    let role = match Role::parse(&form.role) {
        Some(role @ (Role::Operator | Role::CommercialOwner)) => role,
        _ => return Ok(back("role: choose operator or commercial owner", true)),
    };
    if actor(&viewer) == form.email.trim().to_lowercase() {
        return Ok(back("email: you cannot change your own role", true));
    }
    let changed = accounts::change_role(&state.pool, &form.email, role).await;
    Ok(match changed {
        Ok(Some(previous)) => {
            log_change(
                &state,
                &viewer,
                operator_id,
                Action::RoleChanged,
                &format!(
                    "{}: {} → {}",
                    form.email.trim().to_lowercase(),
                    previous.as_str(),
                    role.as_str()
                ),
                &address,
            )
            .await;
            back(&format!("{} is now a {role}.", form.email.trim()), false)
        }
        Ok(None) => back(
            "email: no enabled operator or commercial owner with that address",
            true,
        ),
        Err(error) => FormError::from(error).into_response(),
    })
}

/// `POST /admin/tenants`: then on to the new tenant's launch room.
pub async fn create_tenant(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<tenants::TenantForm>,
) -> Answer {
    let operator_id = operator(&state, &viewer, "create tenant", &address).await?;
    let created = tenants::create(&state.pool, &state.clearance.register, &viewer, &form).await;
    Ok(match created {
        Ok(tenant) => {
            log_change(
                &state,
                &viewer,
                operator_id,
                Action::TenantCreated,
                &format!(
                    "{} ({}): {}, {}",
                    tenant.name, tenant.slug, tenant.motion, tenant.billing_route
                ),
                &address,
            )
            .await;
            let message = format!("Created tenant {} ({}).", tenant.name, tenant.slug);
            let page = format!("/rooms/{}", tenant.slug);
            Redirect::to(&refusal::back_to(&page, "done", &message, "")).into_response()
        }
        Err(tenants::TenantError::Database(error)) => FormError::from(error).into_response(),
        Err(error) => Redirect::to(&refusal::back_to(
            "/rooms",
            "error",
            &error.to_string(),
            "#messages",
        ))
        .into_response(),
    })
}

#[derive(Deserialize)]
pub struct NewInvitationForm {
    tenant: i64,
    email: String,
    #[serde(default = "default_days")]
    days: i64,
}

fn default_days() -> i64 {
    app::domain::tenant::INVITATION_DAYS
}

/// `POST /admin/invitations`: the link goes into the operator's session, to be
/// shown once on the page, never into a URL or a log.
pub async fn create_invitation(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    session: Session,
    Form(form): Form<NewInvitationForm>,
) -> Answer {
    let operator_id = operator(&state, &viewer, "create invitation", &address).await?;
    let mail_links = state.mail.as_ref().map(|_| &state.public_url);
    let created = invitations::create_and_mail(
        &state.pool,
        &viewer,
        form.tenant,
        &form.email,
        form.days,
        mail_links,
    )
    .await;
    Ok(match created {
        Ok(created) => {
            // Built on the configured public address, never on the request's
            // `Host` header, which the client chooses.
            let link = state.public_url.link(&format!("/invite/{}", created.token));
            // Only the link's digest is kept server-side; the link rides in a
            // cookie to the page that shows it once.
            if let Err(error) = session
                .insert(NEW_LINK, invitations::token_hash(&link))
                .await
            {
                tracing::error!(%error, "could not keep the new invitation link for display");
            }
            let cookie = new_link_cookie(&link, state.sessions.secure_cookie);
            log_change(
                &state,
                &viewer,
                operator_id,
                Action::InvitationCreated,
                &format!(
                    "{} to {}",
                    created.invitation.email, created.invitation.tenant_name
                ),
                &address,
            )
            .await;
            let target = if created.mailed {
                let message = format!("The invitation was mailed to {}.", created.invitation.email);
                refusal::back_to("/admin", "done", &message, "#new-invitation")
            } else {
                "/admin#new-invitation".to_owned()
            };
            let mut response = Redirect::to(&target).into_response();
            if let Some(cookie) = cookie {
                response
                    .headers_mut()
                    .append(http::header::SET_COOKIE, cookie);
            }
            response
        }
        Err(invitations::InvitationError::Database(error)) => {
            FormError::from(error).into_response()
        }
        Err(error) => back(&error.to_string(), true),
    })
}

/// `POST /admin/invitations/{id}/revoke`.
pub async fn revoke_invitation(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
) -> Answer {
    let operator_id = operator(&state, &viewer, "revoke invitation", &address).await?;
    Ok(match invitations::revoke(&state.pool, &viewer, id).await {
        Ok(email) => {
            log_change(
                &state,
                &viewer,
                operator_id,
                Action::InvitationRevoked,
                &email,
                &address,
            )
            .await;
            back(&format!("Revoked the invitation for {email}."), false)
        }
        Err(invitations::InvitationError::Database(error)) => {
            FormError::from(error).into_response()
        }
        Err(error) => back(&error.to_string(), true),
    })
}
