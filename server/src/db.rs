//! The PostgreSQL pool and the schema migrations. Migrations run as the tables'
//! owner (`server migrate`); the server serves as a role that may not change the
//! ledgers ([`privilege`]) and only checks the schema is current ([`schema`]).

pub mod privilege;
pub mod schema;

use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// How long a request waits for a connection before its database work fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the server retries a database that was down at start.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// A pooled connection idle for longer than this is tested before use.
const TEST_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// The pool settings every pool shares. sqlx tests each connection as it
/// returns to the pool (a round trip it always makes); testing it again as it
/// leaves would be a second round trip on every use, a sixth of a signature's.
/// So a connection is tested on the way out only when it sat idle for more
/// than [`TEST_WHEN_IDLE_FOR`]: one that broke while idle (PostgreSQL
/// restarted) is replaced, not handed to a request.
fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for <= TEST_WHEN_IDLE_FOR {
                    return Ok(true);
                }
                // A broken connection is closed and another one taken.
                Ok(sqlx::Connection::ping(conn).await.is_ok())
            })
        })
}

/// Connects for a command, which needs the database at once, and checks the
/// schema is current. With `migrate` (development: `--dev-allow-owner-role`)
/// brings it up to date instead, as every command did before least privilege.
pub async fn connect_for_command(
    url: &SecretString,
    max_connections: u32,
    migrate: bool,
) -> anyhow::Result<PgPool> {
    let pool = pool_options(max_connections)
        .connect_with(connect_options(url)?)
        .await
        .context("could not connect to PostgreSQL (check DATABASE_URL)")?;
    if migrate {
        migrate_if_behind(&pool).await?;
    } else {
        ensure_current(&pool).await?;
    }
    Ok(pool)
}

/// Connects as the owner and brings the schema up to date (`server migrate`,
/// the benchmark's throwaway database).
pub async fn connect_and_migrate(
    url: &SecretString,
    max_connections: u32,
) -> anyhow::Result<PgPool> {
    let pool = pool_options(max_connections)
        .connect_with(connect_options(url)?)
        .await
        .context("could not connect to PostgreSQL as the owner")?;
    migrate(&pool).await?;
    Ok(pool)
}

/// A pool that connects on demand, so the server starts (and serves the public
/// register, marked degraded) while PostgreSQL is down. Connections that broke
/// while it was down are tested before use and replaced ([`pool_options`]).
pub fn lazy_pool(url: &SecretString, max_connections: u32) -> anyhow::Result<PgPool> {
    Ok(pool_options(max_connections).connect_lazy_with(connect_options(url)?))
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
        .context("invalid PostgreSQL URL (DATABASE_URL or CLEARANCE_OWNER_DATABASE_URL)")?;
    Ok(options.options([("plan_cache_mode", "force_generic_plan")]))
}

/// Brings the schema up to date (as the tables' owner).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    schema::MIGRATOR
        .run(pool)
        .await
        .context("could not apply the database migrations")?;
    Ok(())
}

/// Migrates only when a migration is missing: a role that is not the owner can
/// still start in development once the schema is current.
async fn migrate_if_behind(pool: &PgPool) -> anyhow::Result<()> {
    let state = schema::state(pool)
        .await
        .context("could not read the applied migrations")?;
    if !state.pending.is_empty() {
        migrate(pool).await?;
    }
    Ok(())
}

/// Fails, saying what to run, when a migration this build has is not applied.
pub async fn ensure_current(pool: &PgPool) -> anyhow::Result<()> {
    let state = match schema::state(pool).await {
        Ok(state) => state,
        Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42501") => {
            anyhow::bail!(
                "the database role may not read _sqlx_migrations: the schema predates least \
                 privilege (migration 20261203000022) or the role is not in {}; run `server \
                 migrate` with the owner's URL in CLEARANCE_OWNER_DATABASE_URL \
                 (docs/operations.md)",
                privilege::SERVING_GROUP
            )
        }
        Err(error) => return Err(error).context("could not read the applied migrations"),
    };
    if let Some(missing) = state.missing() {
        anyhow::bail!(missing);
    }
    if !state.unknown.is_empty() || !state.changed.is_empty() {
        tracing::warn!(
            unknown = ?state.unknown,
            changed = ?state.changed,
            "the database has migrations this build does not know, or knows differently"
        );
    }
    Ok(())
}

/// Waits until the database answers, then checks the role it serves as
/// ([`privilege`]) and the schema. Outside development the schema must be
/// current already; in development (`allow_owner`) it is migrated as before. A
/// database that answers but fails either check is an error; one that does not
/// answer is waited for.
pub async fn check_when_reachable(pool: &PgPool, allow_owner: bool) -> anyhow::Result<()> {
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
    privilege::check_serving_role(pool, allow_owner).await?;
    if allow_owner {
        migrate_if_behind(pool).await?;
    } else {
        ensure_current(pool).await?;
    }
    if warned {
        tracing::info!("PostgreSQL is reachable again; schema up to date");
    }
    Ok(())
}
