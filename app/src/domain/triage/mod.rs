//! Triage: which blockers a filter selects, how many each facet value would select,
//! and the filter's URL form.
//!
//! - `filter`: the filter ([`BlockerFilter`]) as read from and written to the
//!   page's query string, so the server and the browser compute the same rows from
//!   the same URL.
//! - `index`: the register's blockers evaluated once ([`Triage::new`]) and then
//!   filtered in a single pass per filter change ([`Triage::apply`]), with the
//!   facet counts and the page shown.

mod filter;
mod index;

pub use filter::{
    clip_value, BlockerFilter, DependencyFilter, FilterProblem, StateFilter, MAX_SEARCH_CHARS,
    MAX_VALUE_CHARS, QUERY_NAMES,
};
pub use index::{holds_back, FacetValue, Facets, Triage, TriageResult, PAGE_SIZE};
