//! Tenants in PostgreSQL. Every query runs as the asking viewer (see
//! [`crate::tenancy`]), so row-level security applies.

use sqlx::PgPool;

use app::domain::access::{check_name, FieldError, TenantScope, Viewer};
use app::domain::launch_room::{check_motion, BillingRoute};
use app::domain::tenant::{check_slug, Tenant};
use app::domain::Register;

use crate::tenancy::{self, Acting};

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("slug: a tenant with this slug exists")]
    Exists,
    #[error("billing_route: choose invoice-only or Stripe-ready")]
    BillingRoute,
    #[error("slug: no such tenant")]
    NotFound,
    #[error("only operators create and change tenants")]
    Forbidden,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What an operator enters for a tenant.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct TenantForm {
    pub name: String,
    pub slug: String,
    pub motion: String,
    pub billing_route: String,
}

struct Checked {
    name: String,
    slug: String,
    motion: String,
    billing_route: BillingRoute,
}

fn check(register: &Register, form: &TenantForm) -> Result<Checked, TenantError> {
    Ok(Checked {
        name: check_name(&form.name)?,
        slug: check_slug(&form.slug)?,
        motion: check_motion(register, &form.motion)?.id.clone(),
        billing_route: BillingRoute::parse(&form.billing_route).ok_or(TenantError::BillingRoute)?,
    })
}

/// A `tenants` row as stored; every query that reads a tenant goes through it.
pub(crate) struct TenantRow {
    pub(crate) id: i64,
    pub(crate) slug: String,
    pub(crate) name: String,
    pub(crate) motion: String,
    pub(crate) billing_route: String,
    pub(crate) created_at: chrono::DateTime<chrono::Utc>,
}

impl From<TenantRow> for Tenant {
    /// A billing route this build does not know reads as the default one.
    fn from(row: TenantRow) -> Self {
        Tenant {
            id: row.id,
            slug: row.slug,
            name: row.name,
            motion: row.motion,
            billing_route: BillingRoute::parse(&row.billing_route).unwrap_or_default(),
            created_at: row.created_at,
        }
    }
}

/// Creates a tenant pursuing one of the register's motions; only an operator may.
pub async fn create(
    pool: &PgPool,
    register: &Register,
    viewer: &Viewer,
    form: &TenantForm,
) -> Result<Tenant, TenantError> {
    if !viewer.is_operator() {
        return Err(TenantError::Forbidden);
    }
    let checked = check(register, form)?;
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let row = sqlx::query_as!(
        TenantRow,
        r#"INSERT INTO tenants (slug, name, motion, billing_route) VALUES ($1, $2, $3, $4)
           ON CONFLICT (slug) DO NOTHING
           RETURNING id, slug, name, motion, billing_route, created_at"#,
        checked.slug,
        checked.name,
        checked.motion,
        checked.billing_route.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(TenantError::Exists)?;
    tx.commit().await?;
    Ok(row.into())
}

/// Changes a tenant's name, motion and billing route (its slug stays); only an
/// operator may. Answers the tenant before and after.
pub async fn update(
    pool: &PgPool,
    register: &Register,
    viewer: &Viewer,
    form: &TenantForm,
) -> Result<(Tenant, Tenant), TenantError> {
    if !viewer.is_operator() {
        return Err(TenantError::Forbidden);
    }
    let checked = check(register, form)?;
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let before = sqlx::query_as!(
        TenantRow,
        r#"SELECT id, slug, name, motion, billing_route, created_at
           FROM tenants WHERE slug = $1 FOR UPDATE"#,
        checked.slug
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(TenantError::NotFound)?;
    let after = sqlx::query_as!(
        TenantRow,
        r#"UPDATE tenants SET name = $2, motion = $3, billing_route = $4 WHERE id = $1
           RETURNING id, slug, name, motion, billing_route, created_at"#,
        before.id,
        checked.name,
        checked.motion,
        checked.billing_route.as_str()
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((before.into(), after.into()))
}

/// The tenants `viewer` may see, by name. Filtered here by the viewer's tenant
/// scope and again by the database's policies, so either alone keeps a sponsor
/// to their own tenant.
pub async fn visible(pool: &PgPool, viewer: &Viewer) -> Result<Vec<Tenant>, sqlx::Error> {
    let only = match viewer.tenant_scope() {
        TenantScope::Nothing => return Ok(Vec::new()),
        TenantScope::Every => None,
        TenantScope::One(tenant) => Some(tenant),
    };
    let mut tx = tenancy::begin(pool, Acting::As(viewer)).await?;
    let rows = sqlx::query_as!(
        TenantRow,
        r#"SELECT id, slug, name, motion, billing_route, created_at
           FROM tenants WHERE ($1::bigint IS NULL OR id = $1) ORDER BY name, id"#,
        only
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(Tenant::from).collect())
}
