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

/// Begins a transaction with `clearance.role` and `clearance.tenant_id` set for
/// its duration only.
pub async fn begin<'a>(
    pool: &PgPool,
    acting: Acting<'_>,
) -> Result<Transaction<'a, Postgres>, sqlx::Error> {
    let (role, tenant) = match acting {
        Acting::System => ("system".to_owned(), String::new()),
        Acting::As(Viewer::Public) => (String::new(), String::new()),
        Acting::As(Viewer::Account(account)) => (
            account.role.as_str().to_owned(),
            account
                .tenant_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        ),
    };
    let mut tx = pool.begin().await?;
    sqlx::query!(
        r#"SELECT set_config('clearance.role', $1, true) AS "role!",
                  set_config('clearance.tenant_id', $2, true) AS "tenant!""#,
        role,
        tenant
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(tx)
}
