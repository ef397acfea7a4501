//! The query strings of the `/api/platform/…` endpoints, as parsed and as the
//! OpenAPI document describes them.

use axum::extract::Query;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, Result};

/// Operators and commercial owners must name the tenant; a buyer sponsor may
/// leave it out (their own) and may only name their own.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct TenantQuery {
    /// Tenant slug (required of operators and commercial owners).
    #[param(required = true)]
    pub(super) tenant: Option<String>,
}

/// `GET launch-acceptance`: the tenant and which page of the history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct HistoryQuery {
    /// Tenant slug (required of operators and commercial owners).
    #[param(required = true)]
    pub(super) tenant: Option<String>,
    /// Records per page.
    #[param(minimum = 1, maximum = 200)]
    pub(super) limit: Option<i64>,
    /// Only records with a lower seq: the previous answer's `next_before`.
    #[param(minimum = 1)]
    pub(super) before: Option<i64>,
}

/// `GET launch-room`: the tenant and which page of each chain.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct RoomQuery {
    /// Tenant slug (required of operators and commercial owners).
    #[param(required = true)]
    pub(super) tenant: Option<String>,
    /// Records per page of each chain.
    #[param(minimum = 1, maximum = 200)]
    pub(super) limit: Option<i64>,
    /// Only acceptance records with a lower seq.
    #[param(minimum = 1)]
    pub(super) before: Option<i64>,
    /// Only evidence changes with a lower seq.
    #[param(minimum = 1)]
    pub(super) evidence_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct DossierQuery {
    /// Tenant slug (required of operators and commercial owners).
    #[param(required = true)]
    pub(super) tenant: Option<String>,
    /// 1: answer as a file (`Content-Disposition: attachment`).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1)]
    pub(super) download: Option<u8>,
}

/// `GET launch-receipt`: the tenant and which record.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ReceiptQuery {
    /// Tenant slug (required of operators and commercial owners).
    #[param(required = true)]
    pub(super) tenant: Option<String>,
    /// The acceptance record's seq.
    #[param(minimum = 1)]
    pub(super) seq: i32,
    /// 1: answer as a file (`Content-Disposition: attachment`).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1)]
    pub(super) download: Option<u8>,
}

pub(super) type QueryResult<Q> =
    std::result::Result<Query<Q>, axum::extract::rejection::QueryRejection>;

pub(super) fn query<Q>(query: QueryResult<Q>) -> Result<Q> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
}
