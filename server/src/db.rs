//! The PostgreSQL pool and the schema migrations.

use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

/// Connects and brings the schema up to date (`migrations/`).
pub async fn connect_and_migrate(
    url: &SecretString,
    max_connections: u32,
) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url.expose_secret())
        .await
        .context("could not connect to PostgreSQL (check DATABASE_URL)")?;
    sqlx::migrate!("../migrations")
        .run(&pool)
        .await
        .context("could not apply the database migrations")?;
    warn_if_bypassing_row_security(&pool).await;
    Ok(pool)
}

/// Row-level security keeps tenants apart only for roles it applies to: say so
/// loudly when the configured role is exempt.
async fn warn_if_bypassing_row_security(pool: &PgPool) {
    let exempt = sqlx::query_scalar!(
        r#"SELECT (rolsuper OR rolbypassrls) AS "exempt!" FROM pg_roles WHERE rolname = current_user"#
    )
    .fetch_optional(pool)
    .await;
    if let Ok(Some(true)) = exempt {
        tracing::warn!(
            "the database role in DATABASE_URL is a superuser or has BYPASSRLS: \
             row-level security will not isolate tenants; use an ordinary role"
        );
    }
}
