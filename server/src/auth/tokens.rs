//! Per-account bearer tokens for the JSON API. A token acts with its account's
//! role (a buyer sponsor's token reaches that sponsor's tenant only); only its
//! SHA-256 is stored, and a disabled account's tokens stop working.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use app::domain::access::{check_name, normalize_email, AccountSummary, FieldError, Role};

use super::invitations::token_hash;

/// What every token starts with, so a leaked one is recognisable in a scanner.
pub const PREFIX: &str = "clr_";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("email: no enabled account with that address")]
    NoAccount,
    #[error("id: no active token with that id")]
    NoToken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A token as listed: never its value.
#[derive(Clone, Debug)]
pub struct TokenRow {
    pub id: i64,
    pub email: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Creates a token for the enabled account `email`; answers its id and value.
pub async fn create(pool: &PgPool, email: &str, label: &str) -> Result<(i64, String), TokenError> {
    let email = normalize_email(email)?;
    let label = check_name(label).map_err(|error| FieldError::new("label", error.message))?;
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", hex::encode(bytes));
    let id = sqlx::query_scalar!(
        r#"INSERT INTO api_tokens (account_id, label, token_hash)
           SELECT id, $2, $3 FROM accounts WHERE email = $1 AND disabled_at IS NULL
           RETURNING id"#,
        email,
        label,
        token_hash(&token)
    )
    .fetch_optional(pool)
    .await?
    .ok_or(TokenError::NoAccount)?;
    Ok((id, token))
}

/// The enabled account a presented token belongs to, if it is active.
pub async fn account(pool: &PgPool, token: &str) -> Result<Option<AccountSummary>, sqlx::Error> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let row = sqlx::query!(
        r#"SELECT a.id, a.email, a.name, a.role, a.tenant_id
           FROM api_tokens t JOIN accounts a ON a.id = t.account_id
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.disabled_at IS NULL"#,
        token_hash(token)
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|row| {
        Some(AccountSummary {
            id: row.id,
            email: row.email,
            name: row.name,
            role: Role::parse(&row.role)?,
            tenant_id: row.tenant_id,
        })
    }))
}

pub async fn revoke(pool: &PgPool, id: i64) -> Result<(), TokenError> {
    let revoked = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        id
    )
    .execute(pool)
    .await?;
    if revoked.rows_affected() == 1 {
        Ok(())
    } else {
        Err(TokenError::NoToken)
    }
}

pub async fn list(pool: &PgPool) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        TokenRow,
        r#"SELECT t.id, a.email, t.label, t.created_at, t.revoked_at
           FROM api_tokens t JOIN accounts a ON a.id = t.account_id
           ORDER BY t.id"#
    )
    .fetch_all(pool)
    .await
}
