//! Server push: the page follows `/api/events` once hydrated, and says whether it
//! is live.

use std::sync::Arc;

use leptos::prelude::*;

use crate::clearance::LiveState;

/// The state of the page's event stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Rendered by the server, not (yet) hydrated: no live updates.
    Static,
    Connecting,
    Live,
    Reconnecting,
}

#[component]
pub fn ConnectionIndicator(connection: RwSignal<Connection>) -> impl IntoView {
    let text = move || match connection.get() {
        Connection::Static => "Static page: reload to refresh (live updates need JavaScript).",
        Connection::Connecting => "Connecting to live updates…",
        Connection::Live => "Live: this page updates as readiness changes.",
        Connection::Reconnecting => "Reconnecting: live updates paused, retrying…",
    };
    let state = move || match connection.get() {
        Connection::Static => "static",
        Connection::Connecting => "connecting",
        Connection::Live => "live",
        Connection::Reconnecting => "reconnecting",
    };
    view! {
        <p class="connection" role="status" data-testid="connection" data-state=state>
            <span class="connection__dot" aria-hidden="true"></span>
            {text}
        </p>
    }
}

/// Follows the server's live updates for as long as the page is open, reconnecting
/// a second after any failure, and advances `tick` when what the views show has
/// changed. Does nothing on the server.
pub fn subscribe(
    live: RwSignal<Arc<LiveState>>,
    connection: RwSignal<Connection>,
    tick: RwSignal<u64>,
) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(follow(live, connection, tick));
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, connection, tick);
}

#[cfg(feature = "hydrate")]
async fn follow(
    live: RwSignal<Arc<LiveState>>,
    connection: RwSignal<Connection>,
    tick: RwSignal<u64>,
) {
    use futures::future::{select, Either};
    use futures::StreamExt;
    use gloo_net::eventsource::futures::EventSource;
    use gloo_net::eventsource::State;
    use gloo_timers::future::TimeoutFuture;

    use crate::clearance::LIVE_EVENT;

    connection.set(Connection::Connecting);
    loop {
        if let Ok(mut source) = EventSource::new("/api/events") {
            if let Ok(mut updates) = source.subscribe(LIVE_EVENT) {
                loop {
                    // The browser retries a dropped stream by itself without
                    // reporting it, so the connection state is checked meanwhile.
                    match select(updates.next(), TimeoutFuture::new(500)).await {
                        Either::Left((Some(Ok((_, message))), _)) => {
                            let state = message
                                .data()
                                .as_string()
                                .and_then(|text| serde_json::from_str::<LiveState>(&text).ok());
                            if let Some(state) = state {
                                let changed = live
                                    .with_untracked(|current| current.version() != state.version());
                                live.set(Arc::new(state));
                                if changed {
                                    tick.update(|tick| *tick += 1);
                                }
                                connection.set(Connection::Live);
                            }
                        }
                        Either::Left(_) => break,
                        Either::Right(_) => {
                            if source.state() != State::Open {
                                connection.set(Connection::Reconnecting);
                            }
                        }
                    }
                }
            }
            source.close();
        }
        connection.set(Connection::Reconnecting);
        TimeoutFuture::new(1_000).await;
    }
}
