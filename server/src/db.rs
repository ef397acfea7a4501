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
    Ok(pool)
}
