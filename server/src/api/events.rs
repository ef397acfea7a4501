//! `GET /api/events`: server-sent events carrying the live state on every change.
//! Each event's id is the state's version (`LiveState::version`), which the
//! pages compare with the version they were rendered from.
//!
//! Streams are capped: beyond [`EventStreams`]' limit per client address (an
//! IPv6 client by its /64) the
//! answer is 429, beyond its global limit 503, each with `Retry-After`; a
//! stream's place is given back when the client goes away.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::WatchStream;

use app::live_state::LIVE_EVENT;

use crate::auth::throttle::address_key;
use crate::auth::ClientAddr;
use crate::state::AppState;

/// The header a reconnecting `EventSource` sends with the last id it saw.
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// The open event streams, counted globally and per client address.
#[derive(Clone)]
pub struct EventStreams {
    global_limit: usize,
    per_address_limit: usize,
    open: Arc<Mutex<OpenStreams>>,
}

#[derive(Default)]
struct OpenStreams {
    total: usize,
    by_address: HashMap<String, usize>,
}

/// Why a stream was not opened.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamRefused {
    /// This address holds its share (429).
    TooManyFromAddress,
    /// The server holds all it will (503).
    TooManyOverall,
}

/// One open stream's place; given back when dropped.
pub struct StreamPlace {
    streams: EventStreams,
    address: String,
}

impl EventStreams {
    pub fn new(global_limit: usize, per_address_limit: usize) -> Self {
        Self {
            global_limit,
            per_address_limit,
            open: Arc::default(),
        }
    }

    fn open(&self) -> std::sync::MutexGuard<'_, OpenStreams> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A place for a stream to `address`, if the limits allow one.
    pub fn admit(&self, address: &str) -> Result<StreamPlace, StreamRefused> {
        let mut open = self.open();
        let from_address = open.by_address.get(address).copied().unwrap_or(0);
        if from_address >= self.per_address_limit {
            return Err(StreamRefused::TooManyFromAddress);
        }
        if open.total >= self.global_limit {
            return Err(StreamRefused::TooManyOverall);
        }
        open.total += 1;
        *open.by_address.entry(address.to_owned()).or_default() += 1;
        Ok(StreamPlace {
            streams: self.clone(),
            address: address.to_owned(),
        })
    }

    /// Streams open now.
    pub fn open_count(&self) -> usize {
        self.open().total
    }
}

impl Drop for StreamPlace {
    fn drop(&mut self) {
        let mut open = self.streams.open();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_address.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}

impl IntoResponse for StreamRefused {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::TooManyFromAddress => (
                StatusCode::TOO_MANY_REQUESTS,
                "too many live update streams from this address",
            ),
            Self::TooManyOverall => (
                StatusCode::SERVICE_UNAVAILABLE,
                "too many live update streams open; try again shortly",
            ),
        };
        (
            status,
            [(header::RETRY_AFTER, "10")],
            crate::api::safe_json::SafeJson(serde_json::json!({ "error": message })),
        )
            .into_response()
    }
}

/// The current state at once, then every change; a comment every 15 s keeps
/// proxies from closing an idle stream. A client that reconnects (to this
/// server or any other of the set) with `Last-Event-ID` naming the current
/// version already has it: it gets only the changes after it.
pub async fn stream(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, StreamRefused> {
    // Counted like the throttles count: an IPv6 client by its /64.
    let place = state.event_streams.admit(&address_key(&address))?;
    let shutdown = state.shutdown.clone().cancelled_owned();
    let mut receiver = state.clearance.state.clone();
    let current = receiver.borrow_and_update().version();
    let known = headers
        .get(LAST_EVENT_ID)
        .is_some_and(|last| last.as_bytes() == current.as_bytes());
    let stream = if known {
        WatchStream::from_changes(receiver)
    } else {
        WatchStream::new(receiver)
    };
    let updates = stream.filter_map(move |live| {
        // Held as long as the stream is: dropping the stream gives it back.
        let _place = &place;
        let event = Event::default()
            .event(LIVE_EVENT)
            .id(live.version())
            // Browsers reconnect a second after a dropped stream.
            .retry(Duration::from_secs(1))
            .json_data(&*live);
        async move {
            match event {
                Ok(event) => Some(Ok(event)),
                Err(error) => {
                    tracing::error!(%error, "could not encode a live update");
                    None
                }
            }
        }
    });
    Ok(Sse::new(updates.take_until(shutdown))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
