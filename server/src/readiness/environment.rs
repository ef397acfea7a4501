//! The server's own environment as a readiness source.

use std::collections::BTreeMap;

use app::domain::DependencyState;

/// The presence of each name in the process environment. Only presence is read:
/// the value is checked for emptiness and dropped at once, never stored or logged.
pub fn observe<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, DependencyState> {
    names
        .into_iter()
        .map(|name| {
            let present = std::env::var_os(name).is_some_and(|value| !value.is_empty());
            let state = if present {
                DependencyState::Configured
            } else {
                DependencyState::Missing
            };
            (name.to_owned(), state)
        })
        .collect()
}
