//! Transactions that carry who is asking into PostgreSQL, where row-level security
//! policies (migration 4) decide which tenants' rows exist for them. Every query on
//! tenant data runs inside one of these.

use sqlx::{PgPool, Postgres, Transaction};

use app::domain::access::Viewer;

/// Who the database should treat the transaction as.
#[derive(Clone, Copy, Debug)]
pub enum Acting<'a> {
    /// A request's viewer: the public sees no tenant data at all.
    As(&'a Viewer),
    /// The server itself (sign-in, invitation acceptance, the command line).
    System,
}

/// The values of `clearance.role` and `clearance.tenant_id` for `acting`: a fixed
/// role name and an integer id (or empty), never anything a request supplied.
fn settings(acting: Acting<'_>) -> (&'static str, String) {
    match acting {
        Acting::System => ("system", String::new()),
        Acting::As(Viewer::Public) => ("", String::new()),
        Acting::As(Viewer::Account(account)) => (
            account.role.as_str(),
            account
                .tenant_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        ),
    }
}

/// Begins a transaction with `clearance.role` and `clearance.tenant_id` set for
/// its duration only.
pub async fn begin<'a>(
    pool: &PgPool,
    acting: Acting<'_>,
) -> Result<Transaction<'a, Postgres>, sqlx::Error> {
    begin_as(pool, acting, "BEGIN").await
}

/// [`begin`] for a read-only transaction that sees one snapshot throughout
/// (`REPEATABLE READ`): every statement in it agrees with every other, whatever
/// commits meanwhile. For reads of several parts that must fit together, such as
/// a chain and its head.
pub async fn begin_snapshot<'a>(
    pool: &PgPool,
    acting: Acting<'_>,
) -> Result<Transaction<'a, Postgres>, sqlx::Error> {
    begin_as(
        pool,
        acting,
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    )
    .await
}

async fn begin_as<'a>(
    pool: &PgPool,
    acting: Acting<'_>,
    begin: &'static str,
) -> Result<Transaction<'a, Postgres>, sqlx::Error> {
    let (role, tenant) = settings(acting);
    // One round trip: BEGIN and the settings as one simple query. Both values come
    // from `settings`, so writing them into the statement cannot inject anything.
    debug_assert!(role
        .bytes()
        .all(|byte| byte.is_ascii_lowercase() || byte == b'_'));
    debug_assert!(tenant.bytes().all(|byte| byte.is_ascii_digit()));
    pool.begin_with(format!(
        "{begin}; SELECT set_config('clearance.role', '{role}', true), \
         set_config('clearance.tenant_id', '{tenant}', true)"
    ))
    .await
}
