//! What every page shares: loading the register with its live readiness, and the
//! small views that show a status, a time or a command.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::hooks::use_query_map;

use crate::domain::access::Viewer;
use crate::domain::register::{CommandPart, RegisterOutline};
use crate::islands::{CopyButton, LiveUpdates};
use crate::live_state::LiveState;
use crate::page_data::{get_clearance, ClearanceError};

/// What every page is rendered from: the register's outline, who is asking, and
/// the live state at the time of the request.
#[derive(Clone)]
pub struct LivePage {
    pub outline: Arc<RegisterOutline>,
    pub viewer: Viewer,
    pub live: Arc<LiveState>,
}

/// Loads the outline and live state and renders `page` with them, after the skip
/// link, the account bar and the live-updates indicator. The page marks what a
/// pushed change may alter as live regions (`data-live` with an `id`); the
/// [`LiveUpdates`] island swaps them in place.
pub fn with_clearance<V: IntoView + 'static>(
    skip: SkipLink,
    page: impl Fn(LivePage) -> V + Send + Sync + Clone + 'static,
) -> impl IntoView {
    framed(skip, true, page)
}

/// Like [`with_clearance`], for a signed-in page that shows nothing readiness
/// changes (the administration page): the skip link and the account bar, no
/// live updates.
pub fn with_account<V: IntoView + 'static>(
    skip: SkipLink,
    page: impl Fn(LivePage) -> V + Send + Sync + Clone + 'static,
) -> impl IntoView {
    framed(skip, false, page)
}

fn framed<V: IntoView + 'static>(
    skip: SkipLink,
    live_updates: bool,
    page: impl Fn(LivePage) -> V + Send + Sync + Clone + 'static,
) -> impl IntoView {
    let clearance = Resource::new(|| (), |()| get_clearance());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the register…"</p> }>
            {move || {
                let page = page.clone();
                Suspend::new(async move {
                    match clearance.await {
                        Ok(clearance) => {
                            let version = clearance.live.version();
                            view! {
                                <a class="skip-link" href=skip.href>{skip.label}</a>
                                <AccountBar viewer=clearance.viewer.clone()/>
                                {live_updates.then(|| view! { <LiveUpdates version/> })}
                                {page(LivePage {
                                    outline: clearance.outline,
                                    viewer: clearance.viewer,
                                    live: clearance.live,
                                })}
                            }
                            .into_any()
                        }
                        Err(error) => view! { <Unavailable error/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The description of a page that has none of its own (an error in place of
/// the page).
pub const DEFAULT_DESCRIPTION: &str = "Clearance, the live launch clearance register: what can be sold now, what is conditional and what is blocked, with the reason for every status.";

/// The first control on every page: a link past the header to what matters.
#[derive(Clone, Copy)]
pub struct SkipLink {
    pub href: &'static str,
    pub label: &'static str,
}

/// Skips to the page's `<main id="content">`.
pub const SKIP_TO_CONTENT: SkipLink = SkipLink {
    href: "#content",
    label: "Skip to the content",
};

/// Who is signed in, and the way in or out. Sign-out is a form post, so it works
/// without the WASM and cannot be triggered by a link from another site.
#[component]
pub fn AccountBar(viewer: Viewer) -> impl IntoView {
    view! {
        <nav class="account-bar" aria-label="Account" data-testid="account-bar">
            {match viewer {
                Viewer::Public => view! { <a href="/login">"Sign in"</a> }.into_any(),
                Viewer::Account(account) => view! {
                    <a href="/rooms">{if account.role == crate::domain::access::Role::BuyerSponsor { "Your launch room" } else { "Launch rooms" }}</a>
                    {(account.role != crate::domain::access::Role::BuyerSponsor).then(|| view! { <a href="/admin">"Administration"</a> })}
                    <a href="/account/notifications">"E-mail notifications"</a>
                    <span>
                        "Signed in as " <strong>{account.name}</strong> " (" {account.role.label()} ")"
                    </span>
                    <form method="post" action="/auth/logout" class="account-bar__out">
                        <button type="submit" class="button button--secondary">"Sign out"</button>
                    </form>
                }
                .into_any(),
            }}
        </nav>
    }
}

/// A server function's error where a section should be.
#[component]
pub fn SectionError(error: ClearanceError) -> impl IntoView {
    view! { <p class="notice notice--error" role="alert">{error.to_string()}</p> }
}

/// The `?error=` or `?done=` message a form post was redirected back with;
/// `testid` names it for the tests (`{testid}-error`, `{testid}-done`).
#[component]
pub fn FormMessage(testid: &'static str) -> impl IntoView {
    let query = use_query_map();
    move || {
        let query = query.read();
        match (query.get("error"), query.get("done")) {
            (Some(error), _) => Some(view! {
                <p class="notice notice--error" role="alert" data-testid=format!("{testid}-error")>{error}</p>
            }
            .into_any()),
            (None, Some(done)) => Some(view! {
                <p class="notice" role="status" data-testid=format!("{testid}-done")>{done}</p>
            }
            .into_any()),
            (None, None) => None,
        }
    }
}

/// The page shown instead of one the viewer may not see, its status set on the
/// server: 401 with a link to sign in and come back to `next` (or, with
/// `redirect`, a 302 to that sign-in page), 403, 404 (saying `not_found`), 400
/// or 503. `children` go below, a way back for instance.
#[component]
pub fn Denied(
    title: &'static str,
    error: ClearanceError,
    next: String,
    #[prop(default = "No such page, or not one your account may open.")] not_found: &'static str,
    #[prop(optional)] redirect: bool,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let href = format!(
        "/login?next={}",
        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(match error {
            // The page below says the same, for a client that does not follow
            // redirects.
            ClearanceError::SignInRequired if redirect => {
                if let Ok(location) = http::HeaderValue::from_str(&href) {
                    response.insert_header(http::header::LOCATION, location);
                }
                http::StatusCode::FOUND
            }
            ClearanceError::SignInRequired => http::StatusCode::UNAUTHORIZED,
            ClearanceError::Forbidden => http::StatusCode::FORBIDDEN,
            ClearanceError::NotFound => http::StatusCode::NOT_FOUND,
            ClearanceError::BadRequest(_) => http::StatusCode::BAD_REQUEST,
            _ => http::StatusCode::SERVICE_UNAVAILABLE,
        });
    }
    #[cfg(not(feature = "ssr"))]
    let _ = redirect;
    let sign_in = matches!(error, ClearanceError::SignInRequired);
    view! {
        <main class="page page--narrow" id="content">
            <h1>{title}</h1>
            {if matches!(error, ClearanceError::NotFound) {
                view! { <p class="notice notice--error" role="alert">{not_found}</p> }.into_any()
            } else {
                view! { <SectionError error/> }.into_any()
            }}
            {sign_in.then(|| view! { <p><a href=href>"Sign in"</a></p> })}
            {children.map(|children| children())}
        </main>
    }
    .into_any()
}

#[component]
fn Unavailable(error: ClearanceError) -> impl IntoView {
    view! {
        <Meta name="description" content=DEFAULT_DESCRIPTION/>
        <main class="page">
            <section class="notice notice--error" role="alert">
                <h1>"The register is unavailable"</h1>
                <p>{error.to_string()}</p>
            </section>
        </main>
    }
}

pub fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A `<time datetime>` value: to the second, like [`format_time`], in UTC
/// (`2026-05-01T12:00:00Z`). HTML allows at most three digits of a fraction of
/// a second, and the stored times carry microseconds.
pub fn datetime_value(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A status as a symbol and a word, so colour is never the only cue.
#[component]
pub fn StatusBadge(
    status: &'static str,
    /// The words shown, when they differ from the status's own name.
    #[prop(optional)]
    label: Option<&'static str>,
) -> impl IntoView {
    let symbol = match status {
        "clear" | "ready" | "cleared" | "met" | "passed" | "configured" | "enabled" | "used"
        | "accepted" => "✓",
        "conditional"
        | "degraded"
        | "outstanding"
        | "pending"
        | "setup"
        | "ready_for_acceptance"
        | "stale" => "◐",
        _ => "✕",
    };
    view! {
        <span class=format!("badge badge--{status}")>
            <span aria-hidden="true">{symbol}" "</span>
            {label.unwrap_or(status)}
        </span>
    }
}

/// A shell command with its placeholders (`<secret>`) marked as values the operator
/// fills in, and a copy button that appears once the page is interactive.
#[component]
pub fn CommandBlock(command: String, #[prop(optional)] label: Option<String>) -> impl IntoView {
    let parts = CommandPart::split(&command);
    let has_placeholders = parts
        .iter()
        .any(|part| matches!(part, CommandPart::Placeholder(_)));
    let label = label.unwrap_or_else(|| "Copy command".to_owned());
    view! {
        <div class="command-block">
            <pre class="command"><code data-testid="command">
                {parts
                    .into_iter()
                    .map(|part| match part {
                        CommandPart::Text(text) => text.into_any(),
                        CommandPart::Placeholder(name) => {
                            view! { <var class="placeholder" title="Fill in this value">{name}</var> }.into_any()
                        }
                    })
                    .collect_view()}
            </code></pre>
            <CopyButton command label/>
            {has_placeholders.then(|| view! {
                <p class="hint">
                    "Highlighted values such as " <var class="placeholder">"<secret>"</var>
                    " are yours to fill in when you run the command; never paste a secret into a ticket or this page."
                </p>
            })}
        </div>
    }
    .into_any()
}
