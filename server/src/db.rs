//! The PostgreSQL pool and the schema migrations.

use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// How long a request waits for a connection before its database work fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the server retries a database that was down at start.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// Connects and brings the schema up to date (`migrations/`): for the commands,
/// which need the database at once.
pub async fn connect_and_migrate(
    url: &SecretString,
    max_connections: u32,
) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(connect_options(url)?)
        .await
        .context("could not connect to PostgreSQL (check DATABASE_URL)")?;
    migrate(&pool).await?;
    Ok(pool)
}

/// A pool that connects on demand, so the server starts (and serves the public
/// register, marked degraded) while PostgreSQL is down. Connections that broke
/// while it was down are tested before use and replaced.
pub fn lazy_pool(url: &SecretString, max_connections: u32) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(true)
        .connect_lazy_with(connect_options(url)?))
}

/// The connection settings of `url`, with one addition: every statement is
/// planned once per connection (`plan_cache_mode = force_generic_plan`). The
/// server's statements are all prepared and look rows up by key, so a plan made
/// for the parameters at hand is never better than the generic one, and making
/// it anew on every execution cost a fifth of PostgreSQL's time when signing
/// (measured with `perf`, `docs/performance.md`).
fn connect_options(url: &SecretString) -> anyhow::Result<PgConnectOptions> {
    let options: PgConnectOptions = url
        .expose_secret()
        .parse()
        .context("invalid DATABASE_URL")?;
    Ok(options.options([("plan_cache_mode", "force_generic_plan")]))
}

/// Brings the schema up to date.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("../migrations")
        .run(pool)
        .await
        .context("could not apply the database migrations")?;
    warn_if_bypassing_row_security(pool).await;
    Ok(())
}

/// Waits until the database answers, then migrates. A database that answers but
/// cannot be migrated is an error; one that does not answer is waited for.
pub async fn migrate_when_reachable(pool: &PgPool) -> anyhow::Result<()> {
    let mut warned = false;
    loop {
        match pool.acquire().await {
            Ok(connection) => {
                drop(connection);
                break;
            }
            Err(error) if !warned => {
                tracing::warn!(
                    %error,
                    "PostgreSQL is not reachable: serving the register degraded until it is"
                );
                warned = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
    migrate(pool).await?;
    if warned {
        tracing::info!("PostgreSQL is reachable again; schema up to date");
    }
    Ok(())
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
