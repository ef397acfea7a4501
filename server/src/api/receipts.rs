//! `GET /api/platform/launch-receipt`: the receipt of one acceptance record,
//! for those who may see its room — the record, its inclusion proof in the
//! transparency log and the signed checkpoint, to keep and check offline.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use app::domain::access::Viewer;

use super::acceptance::requested;
use super::error::{ApiError, ErrorBody, Result};
use super::queries::{query, QueryResult, ReceiptQuery};
use super::safe_json::SafeJson;
use crate::auth::ClientAddr;
use crate::rooms;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/platform/launch-receipt",
    tag = "launch rooms",
    summary = "The receipt of acceptance record `seq` (format clearance-receipt/1): the record, its inclusion proof and the signed checkpoint; check it with `server receipt verify FILE --key KEY`",
    params(ReceiptQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The receipt", body = crate::log::receipt::Receipt),
        (status = 400, description = "A bad query", body = ErrorBody),
        (status = 401, description = "No session and no bearer token, an unknown token, or an `Authorization` other than `Bearer`", body = ErrorBody),
        (status = 404, description = "Unknown tenant or record, or not visible to the caller (logged)", body = ErrorBody),
        (status = 429, description = "Too many wrong bearer tokens from this address", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached, or the record still waits for the log (try again in a second)", body = ErrorBody)
    )
)]
pub async fn receipt(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    asked: QueryResult<ReceiptQuery>,
) -> Result<Response> {
    let asked = query(asked)?;
    let seq = asked.seq;
    let pool = &state.pool;
    let viewer_ref = &viewer;
    let record = requested(
        &state,
        &viewer,
        &headers,
        asked.tenant,
        &address,
        "launch-receipt",
        |slug| async move { rooms::load_record(pool, viewer_ref, &slug, seq).await },
    )
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no acceptance record {seq}")))?;
    // A record signed a moment ago may still wait for the sequencer (the room's
    // form does not wait for it): ask for a batch, then read again.
    let receipt = match crate::log::receipt::stored(pool, &record).await? {
        Some(receipt) => receipt,
        None => {
            state.log.flush().await?;
            crate::log::receipt::stored(pool, &record)
                .await?
                .ok_or_else(|| ApiError::Log("the record waits to be sequenced".to_owned()))?
        }
    };
    let mut response = SafeJson(&receipt).into_response();
    if asked.download == Some(1) {
        let disposition = format!(
            "attachment; filename=\"launch-receipt-{}-{}.json\"",
            record.tenant_id, record.seq
        );
        if let Ok(value) = http::HeaderValue::from_str(&disposition) {
            response
                .headers_mut()
                .insert(http::header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}
