//! Server push: the page follows `/api/events` and says whether it is live. Each
//! event's id is the version of what the pages show; when it differs from the
//! version the page was rendered from, the page is loaded again and its live
//! regions swapped in place.

use leptos::prelude::*;

/// The state of the page's event stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Rendered by the server, not (yet) hydrated: no live updates.
    Static,
    Connecting,
    Live,
    Reconnecting,
}

impl Connection {
    fn text(self) -> &'static str {
        match self {
            Self::Static => "Static page: reload to refresh (live updates need JavaScript).",
            Self::Connecting => "Connecting to live updates…",
            Self::Live => "Live: this page updates as readiness changes.",
            Self::Reconnecting => "Reconnecting: live updates paused, retrying…",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Static => "static",
            Self::Connecting => "connecting",
            Self::Live => "live",
            Self::Reconnecting => "reconnecting",
        }
    }
}

/// The connection indicator, and the live updates behind it. `version` is
/// [`crate::live_state::LiveState::version`] of the state the page was rendered from.
#[island]
pub fn LiveUpdates(version: String) -> impl IntoView {
    let connection = RwSignal::new(Connection::Static);
    Effect::new(move |_| follow(version.clone(), connection));
    view! {
        <p class="connection" role="status" data-testid="connection" data-state=move || connection.get().as_str()>
            <span class="connection__dot" aria-hidden="true"></span>
            {move || connection.get().text()}
        </p>
    }
}

#[cfg(not(feature = "hydrate"))]
fn follow(version: String, connection: RwSignal<Connection>) {
    let _ = (version, connection);
}

/// Follows the stream for as long as the page is open, reconnecting a second
/// after any failure.
#[cfg(feature = "hydrate")]
fn follow(version: String, connection: RwSignal<Connection>) {
    use futures::future::{select, Either};
    use futures::StreamExt;
    use gloo_net::eventsource::futures::EventSource;
    use gloo_net::eventsource::State;
    use gloo_timers::future::TimeoutFuture;

    use super::swap;
    use crate::live_state::LIVE_EVENT;

    swap::mark_dirty_forms();
    leptos::task::spawn_local(async move {
        let mut shown = version;
        connection.set(Connection::Connecting);
        loop {
            if let Ok(mut source) = EventSource::new("/api/events") {
                if let Ok(mut updates) = source.subscribe(LIVE_EVENT) {
                    loop {
                        // The browser retries a dropped stream by itself without
                        // reporting it, so the connection state is checked meanwhile.
                        match select(updates.next(), TimeoutFuture::new(500)).await {
                            Either::Left((Some(Ok((_, message))), _)) => {
                                connection.set(Connection::Live);
                                let version = message.last_event_id();
                                if version != shown {
                                    shown = version;
                                    leptos::task::spawn_local(async move {
                                        // A page that cannot be loaded now is
                                        // loaded with the next change.
                                        swap::refresh().await;
                                    });
                                }
                            }
                            Either::Left(_) => break,
                            // An open stream is live even before its first event:
                            // a stream resumed at the version the page has
                            // (`Last-Event-ID`) sends nothing until the next change.
                            Either::Right(_) => {
                                let now = if source.state() == State::Open {
                                    Connection::Live
                                } else {
                                    Connection::Reconnecting
                                };
                                if connection.get_untracked() != now {
                                    connection.set(now);
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
    });
}
