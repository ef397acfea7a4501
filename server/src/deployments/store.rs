//! Deployments, their reporter tokens and their latest reports in PostgreSQL.
//! A reporter token is scoped to one deployment and can only report: only its
//! SHA-256 is stored, and it is never an account's token (other prefix, other
//! table), so no other endpoint accepts it.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use app::domain::deployment::{is_valid_deployment_name, CheckVerdict, ReceivedReport, Report};

use crate::auth::invitations::token_hash;

/// What every reporter token starts with (account tokens start with `clr_`).
pub const TOKEN_PREFIX: &str = "clrdep_";

#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    #[error(
        "name: {0:?} must be lowercase letters, digits and '-' (at most 63), starting with a letter or digit"
    )]
    BadName(String),
    #[error("name: deployment {0:?} already exists with an active token (revoke it first to issue a new one)")]
    Exists(String),
    #[error("name: no deployment {0:?} with an active token")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A deployment as listed: never its token.
#[derive(Clone, Debug)]
pub struct DeploymentRow {
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_report_at: Option<DateTime<Utc>>,
}

/// Creates the deployment `name` (or gives a revoked one a new token) and
/// answers its reporter token, which exists only in this value.
pub async fn create(pool: &PgPool, name: &str) -> Result<String, DeploymentError> {
    if !is_valid_deployment_name(name) {
        return Err(DeploymentError::BadName(name.to_owned()));
    }
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    sqlx::query_scalar!(
        r#"INSERT INTO deployments (name, token_hash) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE
               SET token_hash = EXCLUDED.token_hash, revoked_at = NULL, created_at = now()
               WHERE deployments.revoked_at IS NOT NULL
           RETURNING id"#,
        name,
        token_hash(&token)
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| DeploymentError::Exists(name.to_owned()))?;
    Ok(token)
}

/// Revokes the deployment's token: it can report no more. Its last report stays
/// (and goes stale like any other).
pub async fn revoke(pool: &PgPool, name: &str) -> Result<(), DeploymentError> {
    let revoked = sqlx::query!(
        "UPDATE deployments SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
        name
    )
    .execute(pool)
    .await?;
    if revoked.rows_affected() == 1 {
        Ok(())
    } else {
        Err(DeploymentError::NotFound(name.to_owned()))
    }
}

pub async fn list(pool: &PgPool) -> Result<Vec<DeploymentRow>, sqlx::Error> {
    sqlx::query_as!(
        DeploymentRow,
        r#"SELECT d.name, d.created_at, d.revoked_at, r.received_at AS "last_report_at?"
           FROM deployments d LEFT JOIN deployment_reports r ON r.deployment_id = d.id
           ORDER BY d.name"#
    )
    .fetch_all(pool)
    .await
}

/// The deployment (id and name) an active reporter token belongs to.
pub async fn authenticate(
    pool: &PgPool,
    token: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let row = sqlx::query!(
        "SELECT id, name FROM deployments WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash(token)
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| (row.id, row.name)))
}

/// Whether a deployment of that name exists (active or revoked).
pub async fn exists(pool: &PgPool, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM deployments WHERE name = $1) AS "exists!""#,
        name
    )
    .fetch_one(pool)
    .await
}

/// Stores a validated report as the deployment's latest; answers when it arrived.
pub async fn save_report(
    pool: &PgPool,
    deployment_id: i64,
    report: &Report,
) -> Result<DateTime<Utc>, sqlx::Error> {
    let dependencies = to_json(&report.dependencies)?;
    let checks = to_json(&report.checks)?;
    sqlx::query_scalar!(
        r#"INSERT INTO deployment_reports (deployment_id, dependencies, checks)
           VALUES ($1, $2, $3)
           ON CONFLICT (deployment_id) DO UPDATE
               SET received_at = now(), dependencies = EXCLUDED.dependencies,
                   checks = EXCLUDED.checks
           RETURNING received_at"#,
        deployment_id,
        dependencies,
        checks
    )
    .fetch_one(pool)
    .await
}

/// The latest report of the deployment `name`, if it ever reported.
pub async fn latest_report(
    pool: &PgPool,
    name: &str,
) -> Result<Option<ReceivedReport>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT r.received_at, r.dependencies, r.checks
           FROM deployment_reports r JOIN deployments d ON d.id = r.deployment_id
           WHERE d.name = $1"#,
        name
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let decode = |error: serde_json::Error| sqlx::Error::Decode(Box::new(error));
    let checks: Vec<CheckVerdict> = serde_json::from_value(row.checks).map_err(decode)?;
    Ok(Some(ReceivedReport {
        report: Report {
            dependencies: serde_json::from_value(row.dependencies).map_err(decode)?,
            checks,
        },
        received_at: row.received_at,
    }))
}

fn to_json(value: &impl serde::Serialize) -> Result<serde_json::Value, sqlx::Error> {
    serde_json::to_value(value).map_err(|error| sqlx::Error::Encode(Box::new(error)))
}
