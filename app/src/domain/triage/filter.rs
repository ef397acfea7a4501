//! The blocker filter and its URL form: what the page's query string
//! (`?scope=…&motion=…&state=…&dependency=…&q=…&page=…`) selects, read leniently
//! (what cannot be used is reported and left out) and written back canonically, so
//! the server and the browser compute the same rows from the same URL.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest search text kept, in characters; the rest is ignored.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Longest scope or motion id, state or page number kept, in characters: longer
/// than any id a register may hold, and short enough that an unknown value
/// echoed back ("No scope called …") or used as a page-cache key stays small.
pub const MAX_VALUE_CHARS: usize = 100;

/// The query parameters the filter reads; no other parameter changes the page.
pub const QUERY_NAMES: [&str; 6] = ["scope", "motion", "state", "dependency", "q", "page"];

/// A query value as the filter reads it: trimmed, then cut to its parameter's
/// limit ([`MAX_SEARCH_CHARS`] for `q`, [`MAX_VALUE_CHARS`] for the others), so
/// nothing longer is ever echoed or kept.
pub fn clip_value(name: &str, value: &str) -> String {
    let limit = if name == "q" {
        MAX_SEARCH_CHARS
    } else {
        MAX_VALUE_CHARS
    };
    value.trim().chars().take(limit).collect()
}

/// Which blockers by evaluated state. The table shows live blockers by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    #[default]
    Live,
    Cleared,
    All,
}

impl StateFilter {
    pub const ALL: [Self; 3] = [Self::Live, Self::Cleared, Self::All];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Cleared => "cleared",
            Self::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Live => "Live",
            Self::Cleared => "Cleared",
            Self::All => "Live and cleared",
        }
    }

    pub(super) fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == value)
    }

    pub(super) fn admits(self, live: bool) -> bool {
        match self {
            Self::Live => live,
            Self::Cleared => !live,
            Self::All => true,
        }
    }
}

/// Which blockers by the state of their dependencies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyFilter {
    /// At least one dependency is not configured.
    Missing,
    /// Every dependency is configured: only the proof can hold the blocker live.
    Configured,
}

impl DependencyFilter {
    pub const ALL: [Self; 2] = [Self::Missing, Self::Configured];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Configured => "configured",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Missing => "A dependency missing",
            Self::Configured => "All dependencies configured",
        }
    }

    pub(super) fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == value)
    }

    pub(super) fn admits(self, any_missing: bool) -> bool {
        match self {
            Self::Missing => any_missing,
            Self::Configured => !any_missing,
        }
    }
}

/// A query-string value the filter could not use. The rest of the filter still
/// applies; the page says what was ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterProblem {
    UnknownScope(String),
    UnknownMotion(String),
    UnknownState(String),
    UnknownDependencyState(String),
    BadPage(String),
}

impl fmt::Display for FilterProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownScope(id) => write!(f, "No scope called “{id}”; not filtering by scope."),
            Self::UnknownMotion(id) => {
                write!(
                    f,
                    "No launch motion called “{id}”; not filtering by motion."
                )
            }
            Self::UnknownState(value) => write!(
                f,
                "No blocker state called “{value}” (live, cleared or all); showing live blockers."
            ),
            Self::UnknownDependencyState(value) => write!(
                f,
                "No dependency state called “{value}” (missing or configured); not filtering by it."
            ),
            Self::BadPage(value) => write!(f, "“{value}” is not a page number; showing page 1."),
        }
    }
}

/// The filter over the blocker table, as read from and written to the query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerFilter {
    /// A scope id. Checked against the register by [`Triage::apply`](super::Triage::apply).
    pub scope: Option<String>,
    /// A launch motion id: the blockers that stand between it and `clear`.
    pub motion: Option<String>,
    pub state: StateFilter,
    pub dependency: Option<DependencyFilter>,
    /// Free text; every word must appear in the title, a dependency name or the
    /// proof's name (case-insensitive).
    pub text: String,
    /// 1-based.
    pub page: usize,
}

impl BlockerFilter {
    /// Reads the filter from query parameters; unusable values are reported and
    /// left out.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> (Self, Vec<FilterProblem>) {
        let mut problems = Vec::new();
        let present = |key: &str| get(key).map(|value| clip_value(key, &value));
        let state = match present("state").filter(|value| !value.is_empty()) {
            None => StateFilter::default(),
            Some(value) => StateFilter::parse(&value).unwrap_or_else(|| {
                problems.push(FilterProblem::UnknownState(value));
                StateFilter::default()
            }),
        };
        let dependency = present("dependency")
            .filter(|value| !value.is_empty())
            .and_then(|value| {
                let parsed = DependencyFilter::parse(&value);
                if parsed.is_none() {
                    problems.push(FilterProblem::UnknownDependencyState(value));
                }
                parsed
            });
        let page = match present("page").filter(|value| !value.is_empty()) {
            None => 1,
            Some(value) => match value.parse::<usize>() {
                Ok(page) if page >= 1 => page,
                _ => {
                    problems.push(FilterProblem::BadPage(value));
                    1
                }
            },
        };
        let filter = Self {
            scope: present("scope").filter(|value| !value.is_empty()),
            motion: present("motion").filter(|value| !value.is_empty()),
            state,
            dependency,
            text: present("q").unwrap_or_default(),
            page,
        };
        (filter, problems)
    }

    /// Reads the filter from a raw query string (`scope=…&q=…`, with or without `?`).
    pub fn from_query_string(query: &str) -> (Self, Vec<FilterProblem>) {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
                .into_owned()
                .collect();
        Self::from_query(|key| {
            pairs
                .iter()
                .rev()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.clone())
        })
    }

    /// Whether anything narrows the table beyond the default (live blockers, page 1).
    pub fn is_active(&self) -> bool {
        self.scope.is_some()
            || self.motion.is_some()
            || self.state != StateFilter::Live
            || self.dependency.is_some()
            || !self.text.trim().is_empty()
    }

    /// The canonical query string, without `?`: parameters in a fixed order,
    /// defaults left out. Empty for the default filter.
    pub fn to_query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(scope) = &self.scope {
            query.append_pair("scope", scope);
        }
        if let Some(motion) = &self.motion {
            query.append_pair("motion", motion);
        }
        if self.state != StateFilter::Live {
            query.append_pair("state", self.state.as_str());
        }
        if let Some(dependency) = self.dependency {
            query.append_pair("dependency", dependency.as_str());
        }
        if !self.text.trim().is_empty() {
            query.append_pair("q", self.text.trim());
        }
        if self.page > 1 {
            query.append_pair("page", &self.page.to_string());
        }
        query.finish()
    }

    /// The register page's URL for this filter.
    pub fn href(&self) -> String {
        match self.to_query() {
            query if query.is_empty() => "/".to_owned(),
            query => format!("/?{query}"),
        }
    }

    /// This filter with one facet changed, back on the first page.
    pub fn with(&self, change: impl FnOnce(&mut Self)) -> Self {
        let mut next = self.clone();
        change(&mut next);
        next.page = 1;
        next
    }

    /// This filter with the facet called `name` (`scope`, `motion`, `state` or
    /// `dependency`, as the page's facet links name them) set to `value`, an
    /// empty value meaning any, back on the first page: what following that
    /// facet's link does to this filter. `None` for a facet or a state value
    /// the filter does not have.
    pub fn with_facet(&self, name: &str, value: &str) -> Option<Self> {
        let id = (!value.is_empty()).then(|| value.to_owned());
        match name {
            "scope" => Some(self.with(|next| next.scope = id)),
            "motion" => Some(self.with(|next| next.motion = id)),
            "state" => {
                let state = match value {
                    "" => StateFilter::default(),
                    value => StateFilter::parse(value)?,
                };
                Some(self.with(|next| next.state = state))
            }
            "dependency" => {
                let dependency = match value {
                    "" => None,
                    value => Some(DependencyFilter::parse(value)?),
                };
                Some(self.with(|next| next.dependency = dependency))
            }
            _ => None,
        }
    }
}
