//! Clearance: the launch clearance register as a Leptos islands app. Dependencies
//! run one way, from the pure model out to the browser:
//!
//! - [`domain`]: the register model and everything computed from it (evaluation,
//!   triage, launch rooms, the ledger, outlooks). Pure: no I/O, no framework.
//! - [`live_state`]: the live state the server observes and publishes, shared by
//!   the server, the pages and the browser. Plain data over [`domain`].
//! - `live` (server only): the handle through which the server publishes the live
//!   state to the server functions, evaluated once per change, and the store
//!   traits it implements for them.
//! - [`page_data`]: what each page fetches, evaluated on the server, and the
//!   server functions that answer.
//! - [`pages`]: the views, rendered on the server only, from [`page_data`].
//! - [`islands`]: the only code that runs in the browser (live updates, the
//!   blocker table's controls, copy buttons, the acceptance form), hydrated on
//!   top of the server-rendered pages.
//!
//! This module holds the HTML document around the app ([`shell`]) and its routes
//! ([`App`]).

pub mod domain;
pub mod islands;
#[cfg(feature = "ssr")]
pub mod live;
pub mod live_state;
pub mod page_data;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <islands::IslandLoader options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="leptos" href="/pkg/clearance.css"/>
        <Title text="Clearance"/>
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=StaticSegment("") view=pages::RegisterPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("login") view=pages::SignInPage/>
                <Route path=StaticSegment("admin") view=pages::AdminPage ssr=SsrMode::Async/>
                <Route
                    path=(StaticSegment("admin"), StaticSegment("webhooks"))
                    view=pages::WebhooksPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("admin"), StaticSegment("webhooks"), ParamSegment("id"))
                    view=pages::WebhookPage
                    ssr=SsrMode::Async
                />
                <Route path=StaticSegment("rooms") view=pages::RoomsPage ssr=SsrMode::Async/>
                <Route
                    path=(StaticSegment("rooms"), ParamSegment("slug"))
                    view=pages::RoomPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("rooms"), ParamSegment("slug"), StaticSegment("review"))
                    view=pages::ReviewPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("invite"), ParamSegment("token"))
                    view=pages::InvitePage
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("account"), StaticSegment("notifications"))
                    view=pages::NotificationsPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("unsubscribe"), ParamSegment("token"))
                    view=pages::UnsubscribePage
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("motions"), ParamSegment("id"))
                    view=pages::MotionPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("blockers"), ParamSegment("id"))
                    view=pages::BlockerPage
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
        // Last, so that it hydrates after every other island: it tells tests (and
        // benchmarks) that the page is now interactive.
        <islands::HydrationMarker/>
    }
}
