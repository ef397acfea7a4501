//! Showing a freshly rendered page without leaving the document: the server
//! renders the page as it would for a reload, and each live region of the open
//! page (`[data-live][id]`) is replaced with its counterpart. Browser only.
//!
//! A region is left as it is while the person is working in it: when it holds
//! the focused form field, or a form that posts and has been typed into
//! (`data-dirty`, set by [`mark_dirty_forms`]). Focus on anything else (a facet
//! link, a button) moves to the same control in the new region.
//!
//! Leptos's islands router swaps the whole body on link clicks and form
//! submissions only. It has no entry point for a change pushed by the server,
//! and a whole-body swap would drop the field being typed in, so the app keeps
//! this (see docs/performance.md).

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use leptos::wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, DomParser, Element, HtmlElement, SupportedType};

/// Where the shown page goes in the browser's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum History {
    /// The address stays (a live update, or going back).
    Keep,
    /// A new entry (a facet or pager link).
    Push,
    /// The current entry changes (each keystroke in the search box).
    Replace,
}

/// The load being waited for, if any.
struct Pending {
    ticket: u64,
    url: String,
    history: History,
}

thread_local! {
    /// Numbers each load: only the newest one is shown, so a slow answer never
    /// overwrites a newer one.
    static LATEST: Cell<u64> = const { Cell::new(0) };
    /// Where the page is heading: the newest load not yet shown. A control used
    /// meanwhile builds on it, and a live update reloads it rather than the
    /// address the page still shows.
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// The query string (without `?`) of the page the person asked for last: the
/// load still under way, else the address shown.
pub fn target_query() -> String {
    let pending = PENDING.with(|pending| {
        pending.borrow().as_ref().map(|pending| {
            pending
                .url
                .split_once('?')
                .map_or("", |(_, query)| query)
                .to_owned()
        })
    });
    pending.unwrap_or_else(|| {
        let search = window().location().search().unwrap_or_default();
        search.trim_start_matches('?').to_owned()
    })
}

/// Shows the current state of the page the person asked for last (what the
/// page is heading to, else the address shown), after a live update.
pub async fn refresh() -> bool {
    let pending = PENDING.with(|pending| {
        pending
            .borrow()
            .as_ref()
            .map(|pending| (pending.url.clone(), pending.history))
    });
    match pending {
        Some((url, history)) => show(url, history).await,
        None => {
            show(
                window().location().href().unwrap_or_default(),
                History::Keep,
            )
            .await
        }
    }
}

/// Loads `url` and shows it in place. Returns false when it could not be loaded
/// (the page stays as it was) or a newer load started meanwhile.
pub async fn show(url: String, history: History) -> bool {
    let ticket = LATEST.with(|latest| {
        latest.set(latest.get() + 1);
        latest.get()
    });
    PENDING.with(|pending| {
        *pending.borrow_mut() = Some(Pending {
            ticket,
            url: url.clone(),
            history,
        });
    });
    let shown = load(&url, ticket).await;
    if let Some(fresh) = &shown {
        if let Ok(browser_history) = window().history() {
            // Only a URL of another origin could be refused, and these are our own.
            let _ = match history {
                History::Keep => Ok(()),
                History::Push => {
                    browser_history.push_state_with_url(&JsValue::NULL, "", Some(&url))
                }
                History::Replace => {
                    browser_history.replace_state_with_url(&JsValue::NULL, "", Some(&url))
                }
            };
        }
        replace_regions(&document(), fresh);
    }
    PENDING.with(|pending| {
        let mut pending = pending.borrow_mut();
        // A failed load is given up: the next control builds on what is shown.
        if pending
            .as_ref()
            .is_some_and(|pending| pending.ticket == ticket)
        {
            *pending = None;
        }
    });
    shown.is_some()
}

/// The page at `url`, parsed, if it loaded and no newer load started meanwhile.
async fn load(url: &str, ticket: u64) -> Option<Document> {
    let request = gloo_net::http::Request::get(url).header("accept", "text/html");
    let html = request.send().await.ok()?.text().await.ok()?;
    if LATEST.with(Cell::get) != ticket {
        return None;
    }
    DomParser::new()
        .and_then(|parser| parser.parse_from_string(&html, SupportedType::TextHtml))
        .ok()
}

/// Replaces every live region of `open` that `fresh` also has, then gives focus
/// back to the control that had it.
fn replace_regions(open: &Document, fresh: &Document) {
    let focused = open.active_element();
    let refocus = focused.as_ref().and_then(focus_selector);
    let Ok(regions) = open.query_selector_all("[data-live][id]") else {
        return;
    };
    for index in 0..regions.length() {
        let Some(region) = regions
            .item(index)
            .and_then(|node| node.dyn_into::<Element>().ok())
        else {
            continue;
        };
        if in_use(&region, focused.as_ref()) {
            continue;
        }
        let Some(replacement) = fresh.get_element_by_id(&region.id()) else {
            continue;
        };
        let Ok(replacement) = open.import_node_with_deep(&replacement, true) else {
            continue;
        };
        if region.replace_with_with_node_1(&replacement).is_ok() {
            if let Ok(replacement) = replacement.dyn_into::<Element>() {
                hydrate_islands(&replacement);
            }
        }
    }
    if !fresh.title().is_empty() {
        open.set_title(&fresh.title());
    }
    if let (Some(focused), Some(selector)) = (focused, refocus) {
        if !focused.is_connected() {
            let target = open
                .query_selector(&selector)
                .ok()
                .flatten()
                .and_then(|element| element.dyn_into::<HtmlElement>().ok());
            if let Some(target) = target {
                // Focusing fails only on an element that cannot take focus.
                let _ = target.focus();
            }
        }
    }
}

/// How to find the focused control again in the new page: its `data-refocus`
/// key, else its id.
fn focus_selector(focused: &Element) -> Option<String> {
    if let Some(key) = focused.get_attribute("data-refocus") {
        return Some(format!("[data-refocus=\"{}\"]", key.replace('"', "\\\"")));
    }
    let id = focused.id();
    (!id.is_empty()).then(|| format!("[id=\"{}\"]", id.replace('"', "\\\"")))
}

/// Whether the person is working in `region`: it holds the focused form field or
/// a posting form they have typed into.
fn in_use(region: &Element, focused: Option<&Element>) -> bool {
    let typing = focused.is_some_and(|focused| {
        matches!(focused.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            && region.contains(Some(focused))
    });
    typing
        || region
            .query_selector("form[data-dirty]")
            .ok()
            .flatten()
            .is_some()
}

/// Hydrates the islands a swapped-in region brings (a copy button, the
/// acceptance form), through the function the island loader leaves on `window`.
fn hydrate_islands(region: &Element) {
    let Ok(hydrate) = js_sys::Reflect::get(&window(), &JsValue::from_str("__hydrateIsland")) else {
        return;
    };
    let Some(hydrate) = hydrate.dyn_ref::<js_sys::Function>() else {
        return;
    };
    let Ok(islands) = region.query_selector_all("leptos-island") else {
        return;
    };
    for index in 0..islands.length() {
        let Some(island) = islands
            .item(index)
            .and_then(|node| node.dyn_into::<Element>().ok())
        else {
            continue;
        };
        // A failing island stays as its server-rendered HTML, which works.
        let _ = hydrate.call1(&JsValue::NULL, &island);
    }
}

/// Marks a form that posts as typed into, so live updates leave its region alone.
pub fn mark_dirty_forms() {
    // The listener stays for as long as the page is open.
    window_event_listener(leptos::ev::input, |event| {
        let form = event
            .target()
            .and_then(|target| target.dyn_into::<Element>().ok())
            .and_then(|element| element.closest("form[method=\"post\"]").ok().flatten());
        if let Some(form) = form {
            // Setting an attribute on a live element cannot fail in practice.
            let _ = form.set_attribute("data-dirty", "");
        }
    });
}
