//! The blocker table's controls without leaving the document. Facet, pager and
//! "clear all filters" links carry `data-triage`; the search box is
//! `#blocker-search-q` in the form `#blocker-search`. Before hydration (or
//! without JavaScript) they are plain links and a plain GET form; afterwards
//! each one loads the filtered page and swaps its live regions, so the address,
//! the facets' counts and the rows change in place and keyboard focus stays on
//! the control that was used.

use leptos::prelude::*;

/// Placed once on the register page; renders nothing.
#[island]
pub fn TriageNavigation() -> impl IntoView {
    Effect::new(move |_| listen());
}

#[cfg(not(feature = "hydrate"))]
fn listen() {}

#[cfg(feature = "hydrate")]
fn listen() {
    use leptos::ev;
    use leptos::wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlInputElement};

    use super::swap::{self, History};
    use crate::domain::triage::BlockerFilter;

    fn go(url: String, history: History) {
        leptos::task::spawn_local(async move {
            // A failed load leaves the table as it was; the next action retries.
            swap::show(url, history).await;
        });
    }

    /// The filter the person asked for last: the one still loading, else the
    /// one shown.
    fn asked() -> BlockerFilter {
        BlockerFilter::from_query_string(&swap::target_query()).0
    }

    /// The address the search box asks for: the asked-for filter with its text.
    fn searched(text: String) -> String {
        asked().with(|filter| filter.text = text).href()
    }

    /// The address a facet link asks for. The link was rendered with the page
    /// shown, which may be older than the filter asked for since (a facet clicked
    /// just before, still loading; text typed into the box), so its facet is set
    /// on that filter instead of following the link's own address.
    fn faceted(link: &Element) -> Option<String> {
        let name = link.get_attribute("data-facet")?;
        let value = link.get_attribute("data-value").unwrap_or_default();
        let mut filter = asked().with_facet(&name, &value)?;
        if let Some(text) = search_text() {
            filter.text = text;
        }
        Some(filter.href())
    }

    fn search_text() -> Option<String> {
        document()
            .get_element_by_id("blocker-search-q")
            .and_then(|element| element.dyn_into::<HtmlInputElement>().ok())
            .map(|input| input.value())
    }

    // The listeners stay for as long as the page is open.
    window_event_listener(ev::click, |event| {
        if event.default_prevented()
            || event.button() != 0
            || event.meta_key()
            || event.ctrl_key()
            || event.shift_key()
            || event.alt_key()
        {
            return;
        }
        let link = event
            .target()
            .and_then(|target| target.dyn_into::<Element>().ok())
            .and_then(|element| element.closest("a[data-triage]").ok().flatten());
        let Some(link) = link else {
            return;
        };
        let Some(href) = link.get_attribute("href") else {
            return;
        };
        event.prevent_default();
        let href = faceted(&link).unwrap_or(href);
        go(href, History::Push);
    });
    window_event_listener(ev::input, |event| {
        let on_search = event
            .target()
            .and_then(|target| target.dyn_into::<Element>().ok())
            .is_some_and(|element| element.id() == "blocker-search-q");
        if let Some(text) = search_text().filter(|_| on_search) {
            go(searched(text), History::Replace);
        }
    });
    window_event_listener(ev::submit, |event| {
        let is_search = event
            .target()
            .and_then(|target| target.dyn_into::<Element>().ok())
            .is_some_and(|element| element.id() == "blocker-search");
        if let Some(text) = search_text().filter(|_| is_search) {
            event.prevent_default();
            go(searched(text), History::Replace);
        }
    });
    window_event_listener(ev::popstate, |_| {
        go(
            window().location().href().unwrap_or_default(),
            History::Keep,
        );
    });
}
