//! What every page shares: loading the register with its live readiness, and the
//! small views that show a status, a time or a command.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::clearance::{get_clearance, ClearanceError, LiveState};
use crate::domain::access::Viewer;
use crate::domain::register::{CommandPart, RegisterOutline};
use crate::pages::live_updates::{subscribe, Connection};

/// What every page holds: the register's outline and the live state pushed by the
/// server. `tick` counts the pushed changes that alter what the views show; the
/// page's resources name it, so each change refetches them.
#[derive(Clone, Copy)]
pub struct LivePage {
    pub outline: StoredValue<Arc<RegisterOutline>>,
    pub viewer: StoredValue<Viewer>,
    pub live: RwSignal<Arc<LiveState>>,
    pub connection: RwSignal<Connection>,
    pub tick: RwSignal<u64>,
}

impl LivePage {
    pub fn outline(&self) -> Arc<RegisterOutline> {
        self.outline.get_value()
    }
}

/// Loads the outline and live state (rendered on the server, resumed in the
/// browser), follows the live updates once hydrated, and renders `page` with it.
/// Create `tick` at the top of the page component, with the page's resources.
pub fn with_clearance<V: IntoView + 'static>(
    tick: RwSignal<u64>,
    skip: SkipLink,
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
                            let outline = StoredValue::new(Arc::clone(&clearance.outline));
                            let viewer = StoredValue::new(clearance.viewer.clone());
                            let live = RwSignal::new(Arc::clone(&clearance.live));
                            let connection = RwSignal::new(Connection::Static);
                            // Effects run only in the browser: once hydrated, follow pushes.
                            Effect::new(move |_| subscribe(live, connection, tick));
                            view! {
                                <a class="skip-link" href=skip.href>{skip.label}</a>
                                <AccountBar viewer=clearance.viewer/>
                                {page(LivePage { outline, viewer, live, connection, tick })}
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

#[component]
fn Unavailable(error: ClearanceError) -> impl IntoView {
    view! {
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
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let status = RwSignal::new(String::new());
    let copy = move |_| copy_to_clipboard(command.clone(), status);
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
            <div class="command-block__actions">
                <button type="button" class="button" on:click=copy hidden=move || !hydrated.get() data-testid="copy">
                    {label}
                </button>
                <span class="command-block__status" role="status" aria-live="polite" data-testid="copy-status">
                    {move || status.get()}
                </span>
            </div>
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

fn copy_to_clipboard(text: String, status: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let promise = window().navigator().clipboard().write_text(&text);
        let message = match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => "Copied to the clipboard.",
            Err(_) => "Copying was refused: select the command and copy it by hand.",
        };
        status.set(message.to_owned());
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (text, status);
}
