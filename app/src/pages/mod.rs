//! The app's pages. Each route loads the register with its live readiness through
//! [`shared::with_clearance`] and renders from the same pure evaluation.
//!
//! - `/`: [`RegisterPage`], the whole register with the blocker triage.
//! - `/motions/{id}`: [`MotionPage`], one launch motion and what would move it.
//! - `/blockers/{id}`: [`BlockerPage`], one blocker's proof path drilled down.
//! - `/login`: [`SignInPage`]; `/invite/{token}`: [`InvitePage`].
//! - `/admin`: [`AdminPage`], accounts, tenants, invitations, the access log.
//! - `/admin/webhooks`: [`WebhooksPage`], the webhook endpoints and a new one;
//!   `/admin/webhooks/{id}`: [`WebhookPage`], one endpoint and its deliveries.
//! - `/rooms`: [`RoomsPage`]; `/rooms/{slug}`: [`RoomPage`], a tenant's launch room;
//!   `/rooms/{slug}/review`: [`ReviewPage`], the step before signing.
//! - `/account/notifications`: [`NotificationsPage`], e-mail subscriptions;
//!   `/unsubscribe/{token}`: [`UnsubscribePage`], the link in every mail.

mod admin_page;
mod blocker_page;
mod health_checks;
pub mod history;
mod invite_page;
mod motion_page;
mod notifications_page;
mod register_page;
mod review_page;
mod room_page;
mod rooms_page;
pub mod shared;
mod sign_in;
mod triage;
mod webhook_form;
mod webhook_page;
mod webhooks_page;

pub use admin_page::AdminPage;
pub use blocker_page::BlockerPage;
pub use invite_page::InvitePage;
pub use motion_page::MotionPage;
pub use notifications_page::{NotificationsPage, UnsubscribePage};
pub use register_page::RegisterPage;
pub use review_page::ReviewPage;
pub use room_page::RoomPage;
pub use rooms_page::RoomsPage;
pub use sign_in::SignInPage;
pub use webhook_page::WebhookPage;
pub use webhooks_page::WebhooksPage;

use leptos::prelude::*;

/// Any path the app does not know: a real 404, not an empty page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <leptos_meta::Meta
            name="description"
            content="Clearance has no page at this address. The launch clearance register is at /."
        />
        <main class="page">
            <section class="notice">
                <h1>"Page not found"</h1>
                <p><a href="/">"Back to the launch clearance register"</a></p>
            </section>
        </main>
    }
}
