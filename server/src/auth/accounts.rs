//! Accounts in PostgreSQL. Passwords are stored only as Argon2id hashes.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sqlx::{PgConnection, PgPool};

use app::domain::access::{
    check_name, check_password, normalize_email, AccountSummary, FieldError, Role,
};

/// A stored account. No `Debug`: it holds the password hash.
#[derive(Clone)]
pub struct Account {
    pub summary: AccountSummary,
    pub password_hash: String,
    pub disabled: bool,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("email: an account with this e-mail address exists")]
    Exists,
    #[error("tenant: a buyer sponsor needs a tenant, and only a buyer sponsor has one")]
    Tenant,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What a new account is made from, before validation. No `Debug`: it holds
/// the password.
#[derive(Clone)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub tenant_id: Option<i64>,
    pub password: &'a str,
}

/// Hashes with Argon2id and a random salt (PHC string). CPU-heavy: call from a
/// blocking thread in request handlers.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .map(|hash| hash.to_string())
        .map_err(|error| error.to_string())
}

/// Whether `password` matches `hash`; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of nothing in particular, verified against when the account does not
/// exist, so a sign-in takes as long whether or not the address is known.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").unwrap_or_default())
}

/// Validates and stores a new account.
pub async fn create(pool: &PgPool, new: &NewAccount<'_>) -> Result<AccountSummary, CreateError> {
    let mut conn = pool.acquire().await?;
    create_in(&mut conn, new).await
}

/// [`create`] on a connection, so it can join a transaction (invitations).
pub async fn create_in(
    conn: &mut PgConnection,
    new: &NewAccount<'_>,
) -> Result<AccountSummary, CreateError> {
    let email = normalize_email(new.email)?;
    let name = check_name(new.name)?;
    check_password(new.password)?;
    if (new.role == Role::BuyerSponsor) != new.tenant_id.is_some() {
        return Err(CreateError::Tenant);
    }
    let password = new.password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| CreateError::Hash(error.to_string()))?
        .map_err(CreateError::Hash)?;
    let inserted = sqlx::query!(
        r#"INSERT INTO accounts (email, name, role, tenant_id, password_hash)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (email) DO NOTHING
           RETURNING id"#,
        email,
        name,
        new.role.as_str(),
        new.tenant_id,
        hash,
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(CreateError::Exists)?;
    Ok(AccountSummary {
        id: inserted.id,
        email,
        name,
        role: new.role,
        tenant_id: new.tenant_id,
    })
}

fn account(
    id: i64,
    email: String,
    name: String,
    role: &str,
    tenant_id: Option<i64>,
    password_hash: String,
    disabled: bool,
) -> Option<Account> {
    Some(Account {
        summary: AccountSummary {
            id,
            email,
            name,
            role: Role::parse(role)?,
            tenant_id,
        },
        password_hash,
        disabled,
    })
}

pub async fn find_by_email(pool: &PgPool, email: &str) -> Result<Option<Account>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, email, name, role, tenant_id, password_hash, disabled_at IS NOT NULL AS "disabled!"
           FROM accounts WHERE email = $1"#,
        email.trim().to_lowercase(),
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|row| {
        account(
            row.id,
            row.email,
            row.name,
            &row.role,
            row.tenant_id,
            row.password_hash,
            row.disabled,
        )
    }))
}

/// An enabled account by id: what a session refers to.
pub async fn find_enabled(pool: &PgPool, id: i64) -> Result<Option<AccountSummary>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, email, name, role, tenant_id FROM accounts
           WHERE id = $1 AND disabled_at IS NULL"#,
        id
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

/// Every account, enabled first, then by e-mail.
pub async fn list(pool: &PgPool) -> Result<Vec<(AccountSummary, bool)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, email, name, role, tenant_id, disabled_at IS NOT NULL AS "disabled!"
           FROM accounts ORDER BY disabled_at IS NOT NULL, email"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some((
                AccountSummary {
                    id: row.id,
                    email: row.email,
                    name: row.name,
                    role: Role::parse(&row.role)?,
                    tenant_id: row.tenant_id,
                },
                row.disabled,
            ))
        })
        .collect())
}

/// Changes an enabled operator's or commercial owner's role to the other; answers
/// the previous role, or `None` when no such account exists. Buyer sponsors keep
/// their role: they belong to a tenant.
pub async fn change_role(
    pool: &PgPool,
    email: &str,
    role: Role,
) -> Result<Option<Role>, sqlx::Error> {
    if role == Role::BuyerSponsor {
        return Ok(None);
    }
    let previous = sqlx::query_scalar!(
        r#"UPDATE accounts AS a SET role = $2
           FROM (SELECT id, role AS old FROM accounts WHERE email = $1 FOR UPDATE) AS o
           WHERE a.id = o.id AND a.disabled_at IS NULL
             AND o.old IN ('operator', 'commercial_owner')
           RETURNING o.old"#,
        email.trim().to_lowercase(),
        role.as_str()
    )
    .fetch_optional(pool)
    .await?;
    Ok(previous.as_deref().and_then(Role::parse))
}

/// Disables an account; its sessions end at their next request. Answers whether an
/// enabled account was disabled.
pub async fn disable(pool: &PgPool, email: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query!(
        "UPDATE accounts SET disabled_at = now() WHERE email = $1 AND disabled_at IS NULL",
        email.trim().to_lowercase()
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}
