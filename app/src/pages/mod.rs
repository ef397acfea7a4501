//! The app's pages.

pub mod history;
pub mod live_updates;
mod register_page;

pub use register_page::RegisterPage;

use leptos::prelude::*;

/// Any path the app does not know: a real 404, not an empty page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="page">
            <section class="notice">
                <h1>"Page not found"</h1>
                <p><a href="/">"Back to the launch clearance register"</a></p>
            </section>
        </main>
    }
}
