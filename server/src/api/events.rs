//! `GET /api/events`: server-sent events carrying the live state on every change.
//! Each event's id is the state's version (`LiveState::version`), which the
//! pages compare with the version they were rendered from.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::WatchStream;

use app::live_state::LIVE_EVENT;

use crate::state::AppState;

/// The current state at once, then every change; a comment every 15 s keeps
/// proxies from closing an idle stream.
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let shutdown = state.shutdown.clone().cancelled_owned();
    let updates = WatchStream::new(state.clearance.state.clone()).filter_map(|live| async move {
        // Browsers reconnect a second after a dropped stream.
        match Event::default()
            .event(LIVE_EVENT)
            .id(live.version())
            .retry(Duration::from_secs(1))
            .json_data(&*live)
        {
            Ok(event) => Some(Ok(event)),
            Err(error) => {
                tracing::error!(%error, "could not encode a live update");
                None
            }
        }
    });
    Sse::new(updates.take_until(shutdown))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
