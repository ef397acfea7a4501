//! Invitations: an operator invites a buyer sponsor to one tenant with a single-use
//! link that expires. Only the SHA-256 of the link's token is stored; the link is
//! shown once, to the operator who made it, and, with e-mail configured, mailed
//! to the invited address (the mail is queued in the same transaction).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::Utc;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use app::domain::access::{normalize_email, AccountSummary, FieldError, Role, Viewer};
use app::domain::tenant::{invitation_expiry, Invitation, InvitationState};

use super::accounts::{self, CreateError, NewAccount};
use crate::public_url::PublicUrl;
use crate::tenancy::{self, Acting};

#[derive(Debug, thiserror::Error)]
pub enum InvitationError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("only operators manage invitations")]
    Forbidden,
    #[error("tenant: no such tenant")]
    UnknownTenant,
    /// The token opens nothing; `email` is the invitation it named, if any, for
    /// the access log (never shown to the person holding the token).
    #[error("{reason}")]
    NotUsable {
        reason: Unusable,
        email: Option<String>,
    },
    #[error("invitation: it is no longer pending (used, revoked or expired)")]
    NotPending,
    #[error(transparent)]
    Account(CreateError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Why a token opens nothing, said plainly: whoever holds a token learns only
/// about the one invitation it names, and a 256-bit token cannot be guessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("This invitation link is not valid. Check that you copied the whole link, or ask your operator for a new one.")]
    Unknown,
    #[error("This invitation link has already been used. Sign in with the password you chose.")]
    Used,
    #[error("This invitation link was revoked. Ask your operator for a new one.")]
    Revoked,
    #[error("This invitation link has expired. Ask your operator for a new one.")]
    Expired,
}

impl Unusable {
    /// How the access log names the refusal.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown invitation token",
            Self::Used => "used invitation",
            Self::Revoked => "revoked invitation",
            Self::Expired => "expired invitation",
        }
    }

    fn of(state: InvitationState) -> Option<Self> {
        match state {
            InvitationState::Pending => None,
            InvitationState::Used => Some(Self::Used),
            InvitationState::Revoked => Some(Self::Revoked),
            InvitationState::Expired => Some(Self::Expired),
        }
    }
}

/// A token's stored form.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new invitation and its token, which exists only in this value (and in
/// the body of its mail until that is sent).
pub struct Created {
    pub invitation: Invitation,
    pub token: String,
    /// Whether its mail was queued.
    pub mailed: bool,
}

/// Invites `email` to `tenant` for `days` days, without mail.
pub async fn create(
    pool: &PgPool,
    viewer: &Viewer,
    tenant: i64,
    email: &str,
    days: i64,
) -> Result<Created, InvitationError> {
    create_and_mail(pool, viewer, tenant, email, days, None).await
}

/// [`create`], queuing the invitation's mail in the same transaction when
/// `mail_links` (the public address links are built on) is given. An address
/// that followed the unsubscribe link of an earlier invitation mail is not
/// mailed (`mailed` is false).
pub async fn create_and_mail(
    pool: &PgPool,
    viewer: &Viewer,
    tenant: i64,
    email: &str,
    days: i64,
    mail_links: Option<&PublicUrl>,
) -> Result<Created, InvitationError> {
    let Viewer::Account(operator) = viewer else {
        return Err(InvitationError::Forbidden);
    };
    if operator.role != Role::Operator {
        return Err(InvitationError::Forbidden);
    }
    let email = normalize_email(email)?;
    let now = Utc::now();
    let expires_at = invitation_expiry(now, days)?;
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let tenant_name = sqlx::query_scalar!("SELECT name FROM tenants WHERE id = $1", tenant)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(InvitationError::UnknownTenant)?;
    let row = sqlx::query!(
        r#"INSERT INTO invitations (tenant_id, email, token_hash, created_by, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"#,
        tenant,
        email,
        token_hash(&token),
        operator.id,
        now,
        expires_at,
    )
    .fetch_one(&mut *tx)
    .await?;
    let mailed = match mail_links {
        Some(public_url) => {
            let link = public_url.link(&format!("/invite/{token}"));
            crate::mail::store::queue_invitation(
                &mut tx,
                &public_url.to_string(),
                row.id,
                &email,
                &tenant_name,
                &link,
                expires_at,
            )
            .await?
        }
        None => false,
    };
    tx.commit().await?;
    Ok(Created {
        mailed,
        invitation: Invitation {
            id: row.id,
            tenant_id: tenant,
            tenant_name,
            email,
            created_at: now,
            expires_at,
            used_at: None,
            revoked_at: None,
        },
        token,
    })
}

/// Every invitation the viewer may see, newest first.
pub async fn list(pool: &PgPool, viewer: &Viewer) -> Result<Vec<Invitation>, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let rows = sqlx::query_as!(
        Invitation,
        r#"SELECT i.id, i.tenant_id, t.name AS tenant_name, i.email, i.created_at, i.expires_at,
                  i.used_at, i.revoked_at
           FROM invitations i JOIN tenants t ON t.id = i.tenant_id
           ORDER BY i.id DESC"#
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// Revokes a pending invitation; answers its e-mail address.
pub async fn revoke(pool: &PgPool, viewer: &Viewer, id: i64) -> Result<String, InvitationError> {
    if !viewer.is_operator() {
        return Err(InvitationError::Forbidden);
    }
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let email = sqlx::query_scalar!(
        r#"UPDATE invitations SET revoked_at = now()
           WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
           RETURNING email"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(InvitationError::NotPending)?;
    tx.commit().await?;
    Ok(email)
}

/// The invitation a token opens while it is pending, or why it opens nothing
/// (with the e-mail address of the invitation it named, if any).
pub async fn open(
    pool: &PgPool,
    token: &str,
) -> Result<Result<Invitation, (Unusable, Option<String>)>, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::System).await?;
    let found = sqlx::query_as!(
        Invitation,
        r#"SELECT i.id, i.tenant_id, t.name AS tenant_name, i.email, i.created_at, i.expires_at,
                  i.used_at, i.revoked_at
           FROM invitations i JOIN tenants t ON t.id = i.tenant_id
           WHERE i.token_hash = $1"#,
        token_hash(token)
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(match found {
        None => Err((Unusable::Unknown, None)),
        Some(invitation) => match Unusable::of(invitation.state(Utc::now())) {
            None => Ok(invitation),
            Some(reason) => Err((reason, Some(invitation.email))),
        },
    })
}

/// The pending invitation a token opens, if any.
pub async fn find_pending(pool: &PgPool, token: &str) -> Result<Option<Invitation>, sqlx::Error> {
    Ok(open(pool, token).await?.ok())
}

/// Uses a token once: creates the buyer sponsor's account for the invitation's
/// tenant and marks the invitation used, in one transaction. A second use of the
/// same token, concurrent or later, finds it used.
pub async fn accept(
    pool: &PgPool,
    token: &str,
    name: &str,
    password: &str,
) -> Result<AccountSummary, InvitationError> {
    let mut tx = tenancy::begin(pool, Acting::System).await?;
    // Locked whatever its state, so a concurrent use waits and then sees it used;
    // the state is judged by the database's clock, like the expiry it was given.
    let invitation = sqlx::query!(
        r#"SELECT id, tenant_id, email,
                  used_at IS NOT NULL AS "used!",
                  revoked_at IS NOT NULL AS "revoked!",
                  expires_at <= now() AS "expired!"
           FROM invitations WHERE token_hash = $1
           FOR UPDATE"#,
        token_hash(token)
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(InvitationError::NotUsable {
        reason: Unusable::Unknown,
        email: None,
    })?;
    let refused = if invitation.used {
        Some(Unusable::Used)
    } else if invitation.revoked {
        Some(Unusable::Revoked)
    } else if invitation.expired {
        Some(Unusable::Expired)
    } else {
        None
    };
    if let Some(reason) = refused {
        return Err(InvitationError::NotUsable {
            reason,
            email: Some(invitation.email),
        });
    }
    let account = accounts::create_in(
        &mut tx,
        &NewAccount {
            email: &invitation.email,
            name,
            role: Role::BuyerSponsor,
            tenant_id: Some(invitation.tenant_id),
            password,
        },
    )
    .await
    .map_err(|error| match error {
        CreateError::Database(error) => InvitationError::Database(error),
        other => InvitationError::Account(other),
    })?;
    sqlx::query!(
        "UPDATE invitations SET used_at = now(), used_by = $2 WHERE id = $1",
        invitation.id,
        account.id
    )
    .execute(&mut *tx)
    .await?;
    // Told when the tenant's signed acceptance goes stale (unsubscribable).
    crate::mail::store::subscribe_sponsor(&mut tx, account.id).await?;
    tx.commit().await?;
    Ok(account)
}
