//! Tenants in PostgreSQL. Every query runs as the asking viewer (see
//! [`crate::tenancy`]), so row-level security applies.

use sqlx::PgPool;

use app::domain::access::{check_name, FieldError, Viewer};
use app::domain::tenant::{check_slug, Tenant};

use crate::tenancy::{self, Acting};

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("slug: a tenant with this slug exists")]
    Exists,
    #[error("only operators create tenants")]
    Forbidden,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Creates a tenant; only an operator may.
pub async fn create(
    pool: &PgPool,
    viewer: &Viewer,
    name: &str,
    slug: &str,
) -> Result<Tenant, TenantError> {
    if !viewer.is_operator() {
        return Err(TenantError::Forbidden);
    }
    let name = check_name(name)?;
    let slug = check_slug(slug)?;
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let tenant = sqlx::query_as!(
        Tenant,
        r#"INSERT INTO tenants (slug, name) VALUES ($1, $2)
           ON CONFLICT (slug) DO NOTHING
           RETURNING id, slug, name, created_at"#,
        slug,
        name
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(TenantError::Exists)?;
    tx.commit().await?;
    Ok(tenant)
}

/// The tenants `viewer` may see, by name. No tenant filter here: the database's
/// policies decide.
pub async fn visible(pool: &PgPool, viewer: &Viewer) -> Result<Vec<Tenant>, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let tenants = sqlx::query_as!(
        Tenant,
        "SELECT id, slug, name, created_at FROM tenants ORDER BY name, id"
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(tenants)
}
