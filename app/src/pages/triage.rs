//! The blocker table with its filters. The filter is the page's query string: the
//! server renders exactly the rows the URL asks for, and facet links and the search
//! form work as plain HTML. Once hydrated, the [`TriageNavigation`] island loads
//! each filtered page without leaving the document and swaps the heading, facets,
//! search form and results (all live regions). The register can hold thousands of
//! blockers; a page only ever holds one page of them.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::domain::proof_run::ProofRun;
use crate::domain::triage::{BlockerFilter, FacetValue, StateFilter, MAX_SEARCH_CHARS};
use crate::domain::DependencyState;
use crate::islands::TriageNavigation;
use crate::page_data::register::{BlockerRow, TriageView};
use crate::page_data::ClearanceError;
use crate::pages::shared::{format_time, SectionError, StatusBadge};

pub type TriageResource = Resource<Result<TriageView, ClearanceError>>;

#[component]
pub fn BlockerTriage(triage: TriageResource) -> impl IntoView {
    let query = use_query_map();
    let filter = query.with_untracked(|query| BlockerFilter::from_query(|key| query.get(key)).0);
    let heading = match filter.state {
        StateFilter::Live => "Live blockers",
        StateFilter::Cleared => "Cleared blockers",
        StateFilter::All => "Blockers",
    };
    let loaded = move |body: fn(Arc<TriageView>) -> AnyView| {
        view! {
            <Suspense fallback=|| view! { <p class="loading">"Loading blockers…"</p> }>
                {move || Suspend::new(async move {
                    match triage.await {
                        Ok(view) => body(Arc::new(view)),
                        Err(error) => view! { <SectionError error/> }.into_any(),
                    }
                })}
            </Suspense>
        }
    };
    view! {
        <section class="blockers" aria-labelledby="blockers-heading">
            <h2 id="blockers-heading" tabindex="-1" data-live>{heading}</h2>
            <TriageNavigation/>
            <div class="triage">
                <div id="triage-filters" data-live>
                    {loaded(|view| view! { <Filters view/> }.into_any())}
                </div>
                <div class="triage__results">
                    <SearchForm filter/>
                    <div id="triage-results" data-live>
                        {loaded(|view| view! { <Results view/> }.into_any())}
                    </div>
                </div>
            </div>
        </section>
    }
    .into_any()
}

/// The facet lists: each value is a link to the same page with that facet chosen.
#[component]
fn Filters(view: Arc<TriageView>) -> impl IntoView {
    let group = |name: &'static str, title: &'static str, values: &[FacetValue]| {
        let heading = format!("facet-{name}");
        view! {
            <div class="facet">
                <h3 id=heading.clone()>{title}</h3>
                <ul aria-labelledby=heading>
                    {values
                        .iter()
                        .map(|facet| view! { <FacetLink name facet=facet.clone()/> })
                        .collect_view()}
                </ul>
            </div>
        }
    };
    let facets = &view.facets;
    view! {
        <nav class="filters" aria-label="Filter blockers">
            {group("state", "State", &facets.state)}
            {group("scope", "Scope", &facets.scope)}
            {group("motion", "Standing between a motion and clear", &facets.motion)}
            {group("dependency", "Dependency state", &facets.dependency)}
            {view.filter.is_active().then(|| view! {
                <p><a class="button button--secondary" href="/" data-testid="clear-filters" data-triage data-refocus="clear">"Clear all filters"</a></p>
            })}
        </nav>
    }
    .into_any()
}

#[component]
fn FacetLink(name: &'static str, facet: FacetValue) -> impl IntoView {
    let label = format!("{} ({})", facet.label, facet.count);
    let value = facet.value.unwrap_or_default();
    // Facet links are rebuilt with the results: the key finds the used one again.
    let key = format!("{name}:{value}");
    view! {
        <li>
            <a
                href=facet.href
                class:active=facet.selected
                class:empty=facet.count == 0
                aria-current=facet.selected.then_some("true")
                data-facet=name
                data-value=value
                data-refocus=key
                data-triage
            >
                {label}
            </a>
        </li>
    }
    .into_any()
}

/// Free-text search: a plain GET form keeping the other filters in hidden fields.
/// Once hydrated, the table follows each keystroke.
#[component]
fn SearchForm(filter: BlockerFilter) -> impl IntoView {
    let hidden = [
        ("scope", filter.scope),
        ("motion", filter.motion),
        (
            "state",
            (filter.state != StateFilter::Live).then(|| filter.state.as_str().to_owned()),
        ),
        (
            "dependency",
            filter.dependency.map(|state| state.as_str().to_owned()),
        ),
    ]
    .into_iter()
    .filter_map(|(name, value)| {
        value.map(|value| view! { <input type="hidden" name=name value=value/> })
    })
    .collect_view();
    view! {
        <form class="search" method="get" action="/" role="search" id="blocker-search" data-testid="blocker-search" data-live>
            {hidden}
            <label for="blocker-search-q">"Search titles, dependency names and proofs"</label>
            <div class="search__row">
                <input
                    type="search"
                    id="blocker-search-q"
                    name="q"
                    maxlength=MAX_SEARCH_CHARS.to_string()
                    autocomplete="off"
                    value=filter.text
                />
                <button type="submit" class="button">"Search"</button>
            </div>
        </form>
    }
    .into_any()
}

/// What was ignored, the count, the rows and the pager.
#[component]
fn Results(view: Arc<TriageView>) -> impl IntoView {
    let noun = match view.filter.state {
        StateFilter::All => "blockers".to_owned(),
        state => format!("{} blockers", state.as_str()),
    };
    let summary = match view.shown {
        None => format!("No {noun} match these filters."),
        Some(_) if view.pages == 1 => format!("{} {noun}.", view.total),
        Some((first, last)) => format!("Showing {first}–{last} of {} {noun}.", view.total),
    };
    let pager_link = |href: Option<String>, key: &'static str, text: &'static str| {
        href.map(|href| {
            view! {
                <a href=href rel=key data-refocus=key data-triage>
                    {text}
                </a>
            }
        })
    };
    view! {
        {view
            .problems
            .iter()
            .map(|problem| view! { <p class="notice" role="status">{problem.clone()}</p> })
            .collect_view()}
        <p class="match-summary" role="status" aria-live="polite" data-testid="match-summary">{summary}</p>
        <div class="table-wrap">
            <table data-testid="live-blockers" data-query=view.query.clone() data-matches=view.total>
                <caption class="visually-hidden">
                    "Blockers matching the filters, with their dependencies, proof path and fallback"
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"Blocker"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Scope"</th>
                        <th scope="col">"Dependency"</th>
                        <th scope="col">"Proof path"</th>
                        <th scope="col">"If missing"</th>
                    </tr>
                </thead>
                <tbody>
                    {view.rows.iter().map(|row| view! { <Row row=row.clone()/> }).collect_view()}
                </tbody>
            </table>
        </div>
        {(view.pages > 1).then(|| view! {
            <nav class="pager" aria-label="Pages of blockers">
                {pager_link(view.previous.clone(), "prev", "← Previous")}
                <span>"Page " {view.page} " of " {view.pages}</span>
                {pager_link(view.next.clone(), "next", "Next →")}
            </nav>
        })}
    }
    .into_any()
}

#[component]
fn Row(row: BlockerRow) -> impl IntoView {
    let BlockerRow {
        blocker,
        scope,
        state,
        proof,
        dependencies,
        last_run,
    } = row;
    let href = format!("/blockers/{}", blocker.id);
    view! {
        <tr id=format!("blocker-{}", blocker.id) data-testid="blocker-row" data-scope=blocker.scope.clone()>
            <th scope="row">
                <a class="blocker__title" href=href>{blocker.title}</a>
                <span class="blocker__required">{blocker.required_for}</span>
            </th>
            <td class="blocker__state">
                <StatusBadge status=if state.live { "live" } else { "cleared" }/>
            </td>
            <td class="blocker__scope">{scope}</td>
            <td><DependencyList dependencies/></td>
            <td>
                {proof.map(|proof| view! {
                    <span class="proof__name">{proof.name}</span>
                    <code class="proof__command">{proof.command}</code>
                })}
                <LastRun run=last_run passing=state.proof_passing/>
            </td>
            <td class="blocker__if-missing">{blocker.if_missing}</td>
        </tr>
    }
    .into_any()
}

#[component]
pub fn DependencyList(dependencies: Vec<(String, DependencyState)>) -> impl IntoView {
    view! {
        <ul class="dependencies">
            {dependencies
                .into_iter()
                .map(|(name, state)| {
                    let state = state.as_str();
                    view! {
                        <li class=format!("dependency dependency--{state}")>
                            <code>{name}</code>
                            " "
                            <span class="dependency__state">{state}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// The latest run of a blocker's proof, or that none is recorded.
#[component]
pub fn LastRun(run: Option<ProofRun>, passing: bool) -> impl IntoView {
    let text = match &run {
        None => "No run recorded: the proof has not passed.".to_owned(),
        Some(run) => format!(
            "Last run {} {} by {}{}",
            if run.passed { "passed" } else { "failed" },
            format_time(run.ran_at),
            run.actor,
            if run.passed && !passing {
                " (older than the freshness window)"
            } else {
                ""
            }
        ),
    };
    let class = if passing {
        "last-run last-run--passed"
    } else {
        "last-run"
    };
    view! { <span class=class data-testid="last-run">{text}</span> }.into_any()
}
