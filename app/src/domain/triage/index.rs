//! The triage index: the register's blockers evaluated once
//! ([`Triage::new`]), then filtered as often as the filter changes
//! ([`Triage::apply`], one pass over the rows computing the matches, the page and
//! every facet count).

use serde::{Deserialize, Serialize};

use super::filter::{BlockerFilter, DependencyFilter, FilterProblem, StateFilter};
use crate::domain::evaluation::Evaluation;
use crate::domain::register::{Blocker, LaunchMotion, Register};

/// Rows shown per page of the blocker table.
pub const PAGE_SIZE: usize = 100;

/// What [`Triage::new`] precomputes about one blocker.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RowFacts {
    /// Index into [`Triage::scopes`], `None` for an undeclared scope.
    scope: Option<usize>,
    /// Indices into [`Triage::motions`] of the motions this blocker can hold back.
    motions: Vec<usize>,
    live: bool,
    any_missing: bool,
    /// Lower-cased title, dependency names and proof name.
    haystack: String,
}

/// The register's blockers, evaluated, ready to be filtered many times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Triage {
    /// (id, label) in register order.
    scopes: Vec<(String, String)>,
    /// (id, name) in register order.
    motions: Vec<(String, String)>,
    rows: Vec<RowFacts>,
}

/// One value of a facet, with how many rows choosing it would show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: Option<String>,
    pub label: String,
    pub count: usize,
    pub selected: bool,
    pub href: String,
}

/// The facets beside the table; counts take every other active filter into account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    pub scope: Vec<FacetValue>,
    pub motion: Vec<FacetValue>,
    pub state: Vec<FacetValue>,
    pub dependency: Vec<FacetValue>,
}

/// The filtered table: every matching blocker's index (register order), the page
/// shown, the facets and what was ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageResult {
    /// The filter as applied: unknown ids dropped, the page clamped.
    pub filter: BlockerFilter,
    pub matches: Vec<usize>,
    pub page: usize,
    pub pages: usize,
    pub facets: Facets,
    pub problems: Vec<FilterProblem>,
}

impl TriageResult {
    /// The blocker indices on the current page.
    pub fn page_rows(&self) -> &[usize] {
        let start = (self.page - 1) * PAGE_SIZE;
        let end = (start + PAGE_SIZE).min(self.matches.len());
        self.matches.get(start..end).unwrap_or_default()
    }

    /// 1-based position of the first and last row shown, `None` when nothing matches.
    pub fn shown_range(&self) -> Option<(usize, usize)> {
        let rows = self.page_rows();
        (!rows.is_empty()).then(|| {
            let first = (self.page - 1) * PAGE_SIZE + 1;
            (first, first + rows.len() - 1)
        })
    }

    /// The URL of another page of the same filter.
    pub fn page_href(&self, page: usize) -> String {
        let mut filter = self.filter.clone();
        filter.page = page;
        filter.href()
    }
}

/// Whether `blocker` can stand between `motion` and `clear`: a motion that needs
/// strict readiness is held by every blocker; otherwise by the blockers it requires
/// cleared and those in its conditional scopes.
pub fn holds_back(motion: &LaunchMotion, blocker: &Blocker) -> bool {
    let requires = &motion.requires;
    requires.strict_readiness
        || requires.cleared_blockers.contains(&blocker.id)
        || requires.conditional_scopes.contains(&blocker.scope)
}

/// Which of a blocker's predicates pass, for counting facets.
#[derive(Clone, Copy)]
struct Checks {
    scope: bool,
    motion: bool,
    state: bool,
    dependency: bool,
    text: bool,
}

impl Checks {
    fn all(self) -> bool {
        self.scope && self.motion && self.state && self.dependency && self.text
    }
}

impl Triage {
    /// `evaluation` must be of `register` (blockers in register order).
    pub fn new(register: &Register, evaluation: &Evaluation) -> Self {
        let scopes: Vec<(String, String)> = register
            .scopes
            .iter()
            .map(|scope| (scope.id.clone(), scope.label.clone()))
            .collect();
        let rows = register
            .blockers
            .iter()
            .zip(&evaluation.blockers)
            .map(|(blocker, state)| {
                let mut haystack = blocker.title.to_lowercase();
                for name in &blocker.dependencies {
                    haystack.push('\n');
                    haystack.push_str(&name.to_lowercase());
                }
                if let Some(proof) = register.proof(&blocker.proof) {
                    haystack.push('\n');
                    haystack.push_str(&proof.name.to_lowercase());
                }
                RowFacts {
                    scope: scopes.iter().position(|(id, _)| *id == blocker.scope),
                    motions: register
                        .motions
                        .iter()
                        .enumerate()
                        .filter(|(_, motion)| holds_back(motion, blocker))
                        .map(|(index, _)| index)
                        .collect(),
                    live: state.live,
                    any_missing: !state.missing.is_empty(),
                    haystack,
                }
            })
            .collect();
        Self {
            scopes,
            motions: register
                .motions
                .iter()
                .map(|motion| (motion.id.clone(), motion.name.clone()))
                .collect(),
            rows,
        }
    }

    /// Applies `filter`: one pass over the rows computes the matches and every
    /// facet count.
    pub fn apply(&self, filter: &BlockerFilter) -> TriageResult {
        let mut filter = filter.clone();
        let mut problems = Vec::new();
        let scope = filter.scope.as_ref().and_then(|id| {
            let index = self.scopes.iter().position(|(scope, _)| scope == id);
            if index.is_none() {
                problems.push(FilterProblem::UnknownScope(id.clone()));
            }
            index
        });
        if scope.is_none() {
            filter.scope = None;
        }
        let motion = filter.motion.as_ref().and_then(|id| {
            let index = self.motions.iter().position(|(motion, _)| motion == id);
            if index.is_none() {
                problems.push(FilterProblem::UnknownMotion(id.clone()));
            }
            index
        });
        if motion.is_none() {
            filter.motion = None;
        }
        let terms: Vec<String> = filter
            .text
            .to_lowercase()
            .split_whitespace()
            .map(str::to_owned)
            .collect();

        let mut matches = Vec::new();
        let mut scope_counts = vec![0; self.scopes.len()];
        let mut scope_any = 0;
        let mut motion_counts = vec![0; self.motions.len()];
        let mut motion_any = 0;
        let mut state_counts = [0; 3]; // live, cleared, all
        let mut dependency_counts = [0; 2]; // missing, configured
        let mut dependency_any = 0;

        for (index, row) in self.rows.iter().enumerate() {
            let checks = Checks {
                scope: scope.is_none_or(|scope| row.scope == Some(scope)),
                motion: motion.is_none_or(|motion| row.motions.contains(&motion)),
                state: filter.state.admits(row.live),
                dependency: filter
                    .dependency
                    .is_none_or(|dependency| dependency.admits(row.any_missing)),
                text: terms
                    .iter()
                    .all(|term| row.haystack.contains(term.as_str())),
            };
            if checks.all() {
                matches.push(index);
            }
            // Each facet counts the rows every *other* filter admits.
            let scope_free = Checks {
                scope: true,
                ..checks
            }
            .all();
            let motion_free = Checks {
                motion: true,
                ..checks
            }
            .all();
            let state_free = Checks {
                state: true,
                ..checks
            }
            .all();
            let dependency_free = Checks {
                dependency: true,
                ..checks
            }
            .all();
            if scope_free {
                scope_any += 1;
                if let Some(scope) = row.scope {
                    scope_counts[scope] += 1;
                }
            }
            if motion_free {
                motion_any += 1;
                for &motion in &row.motions {
                    motion_counts[motion] += 1;
                }
            }
            if state_free {
                state_counts[2] += 1;
                state_counts[usize::from(!row.live)] += 1;
            }
            if dependency_free {
                dependency_any += 1;
                dependency_counts[usize::from(!row.any_missing)] += 1;
            }
        }

        let pages = matches.len().div_ceil(PAGE_SIZE).max(1);
        if filter.page > pages {
            filter.page = pages;
        }
        let facets = Facets {
            scope: id_facet(
                &filter,
                scope_any,
                self.scopes.iter().zip(scope_counts),
                |filter| &mut filter.scope,
            ),
            motion: id_facet(
                &filter,
                motion_any,
                self.motions.iter().zip(motion_counts),
                |filter| &mut filter.motion,
            ),
            state: StateFilter::ALL
                .into_iter()
                .zip(state_counts)
                .map(|(state, count)| FacetValue {
                    value: Some(state.as_str().to_owned()),
                    label: state.label().to_owned(),
                    count,
                    selected: filter.state == state,
                    href: filter.with(|next| next.state = state).href(),
                })
                .collect(),
            dependency: std::iter::once((None, "Any".to_owned(), dependency_any))
                .chain(
                    DependencyFilter::ALL
                        .into_iter()
                        .zip(dependency_counts)
                        .map(|(state, count)| (Some(state), state.label().to_owned(), count)),
                )
                .map(|(state, label, count)| FacetValue {
                    value: state.map(|state| state.as_str().to_owned()),
                    label,
                    count,
                    selected: filter.dependency == state,
                    href: filter.with(|next| next.dependency = state).href(),
                })
                .collect(),
        };
        TriageResult {
            page: filter.page,
            filter,
            matches,
            pages,
            facets,
            problems,
        }
    }

    /// How many blockers the register has.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// An id facet: "All" and then each value with its count.
fn id_facet<'a>(
    filter: &BlockerFilter,
    any: usize,
    values: impl Iterator<Item = (&'a (String, String), usize)>,
    field: fn(&mut BlockerFilter) -> &mut Option<String>,
) -> Vec<FacetValue> {
    let mut current = filter.clone();
    let selected = field(&mut current).clone();
    std::iter::once(FacetValue {
        value: None,
        label: "All".to_owned(),
        count: any,
        selected: selected.is_none(),
        href: filter.with(|next| *field(next) = None).href(),
    })
    .chain(values.map(|((id, label), count)| FacetValue {
        value: Some(id.clone()),
        label: label.clone(),
        count,
        selected: selected.as_deref() == Some(id.as_str()),
        href: filter.with(|next| *field(next) = Some(id.clone())).href(),
    }))
    .collect()
}
