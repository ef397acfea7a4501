//! The blocker table with its filters. The filter is the page's query string, so
//! the server renders exactly the rows the browser later shows; facet links and
//! the search form work as plain HTML, and after hydration they update the table
//! without loading a page.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::domain::proof_run::ProofRun;
use crate::domain::register::Blocker;
use crate::domain::triage::{BlockerFilter, FacetValue, StateFilter, Triage, TriageResult};
use crate::domain::{BlockerEvaluation, ReadinessInputs};
use crate::pages::shared::{format_time, LiveRegister, StatusBadge};

#[component]
pub fn BlockerTriage(live: LiveRegister) -> impl IntoView {
    let query = use_query_map();
    let parsed = Memo::new(move |_| {
        let query = query.read();
        BlockerFilter::from_query(|key| query.get(key))
    });
    let triage = Memo::new(move |_| {
        Arc::new(Triage::new(
            &live.register.read_value(),
            &live.evaluation.read(),
        ))
    });
    let result = Memo::new(move |_| {
        let (filter, mut problems) = parsed.get();
        let mut result = triage.read().apply(&filter);
        problems.append(&mut result.problems);
        result.problems = problems;
        Arc::new(result)
    });

    let problems = move || {
        result
            .read()
            .problems
            .iter()
            .map(|problem| view! { <p class="notice" role="status">{problem.to_string()}</p> })
            .collect_view()
    };

    view! {
        <section class="blockers" aria-labelledby="blockers-heading">
            <h2 id="blockers-heading" tabindex="-1">
                {move || match result.read().filter.state {
                    StateFilter::Live => "Live blockers",
                    StateFilter::Cleared => "Cleared blockers",
                    StateFilter::All => "Blockers",
                }}
            </h2>
            <div class="triage">
                <Filters result/>
                <div class="triage__results">
                    <SearchForm result/>
                    {problems}
                    <Summary result/>
                    <div class="table-wrap">
                        <table
                            data-testid="live-blockers"
                            data-query=move || result.read().filter.to_query()
                            data-matches=move || result.read().matches.len()
                        >
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
                                {move || {
                                    // Rows also show what the filter does not look at
                                    // (proof runs, dependency states): follow those too.
                                    live.live.track();
                                    live.evaluation.track();
                                    view! { <Rows live result=result.get()/> }
                                }}
                            </tbody>
                        </table>
                    </div>
                    <Pager result/>
                </div>
            </div>
        </section>
    }
    .into_any()
}

/// The facet lists: each value is a link to the same page with that facet chosen.
#[component]
fn Filters(result: Memo<Arc<TriageResult>>) -> impl IntoView {
    let group = move |name: &'static str,
                      title: &'static str,
                      pick: fn(&TriageResult) -> &Vec<FacetValue>| {
        let heading = format!("facet-{name}");
        view! {
            <div class="facet">
                <h3 id=heading.clone()>{title}</h3>
                <ul aria-labelledby=heading>
                    {move || {
                        pick(&result.read())
                            .iter()
                            .map(|facet| view! { <FacetLink name facet=facet.clone()/> })
                            .collect_view()
                    }}
                </ul>
            </div>
        }
    };
    view! {
        <nav class="filters" aria-label="Filter blockers">
            {group("state", "State", |result| &result.facets.state)}
            {group("scope", "Scope", |result| &result.facets.scope)}
            {group("motion", "Standing between a motion and clear", |result| &result.facets.motion)}
            {group("dependency", "Dependency state", |result| &result.facets.dependency)}
            {move || result.read().filter.is_active().then(|| view! {
                <p><a class="button button--secondary" href="/" data-testid="clear-filters">"Clear all filters"</a></p>
            })}
        </nav>
    }
    .into_any()
}

#[component]
fn FacetLink(name: &'static str, facet: FacetValue) -> impl IntoView {
    let label = format!("{} ({})", facet.label, facet.count);
    view! {
        <li>
            <a
                href=facet.href
                class:active=facet.selected
                class:empty=facet.count == 0
                aria-current=facet.selected.then_some("true")
                data-facet=name
                data-value=facet.value.unwrap_or_default()
            >
                {label}
            </a>
        </li>
    }
    .into_any()
}

/// Free-text search. A plain GET form before hydration; afterwards the table
/// follows each keystroke.
#[component]
fn SearchForm(result: Memo<Arc<TriageResult>>) -> impl IntoView {
    let navigate = use_navigate();
    let go = move |filter: BlockerFilter| {
        navigate(
            &filter.href(),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    };
    let on_input = {
        let go = go.clone();
        move |event| {
            let text = event_target_value(&event);
            go(result
                .read_untracked()
                .filter
                .with(|filter| filter.text = text));
        }
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        go(result.read_untracked().filter.with(|_| ()));
    };
    let hidden = move || {
        let filter = result.read().filter.clone();
        [
            ("scope", filter.scope),
            ("motion", filter.motion),
            (
                "state",
                (filter.state != Default::default()).then(|| filter.state.as_str().to_owned()),
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
        .collect_view()
    };
    view! {
        <form class="search" method="get" action="/" role="search" data-testid="blocker-search" on:submit=on_submit>
            {hidden}
            <label for="blocker-search-q">"Search titles, dependency names and proofs"</label>
            <div class="search__row">
                <input
                    type="search"
                    id="blocker-search-q"
                    name="q"
                    maxlength="200"
                    autocomplete="off"
                    prop:value=move || result.read().filter.text.clone()
                    on:input=on_input
                />
                <button type="submit" class="button">"Search"</button>
            </div>
        </form>
    }
    .into_any()
}

#[component]
fn Summary(result: Memo<Arc<TriageResult>>) -> impl IntoView {
    let text = move || {
        let result = result.read();
        let state = result.filter.state.as_str();
        let noun = match result.filter.state {
            StateFilter::All => "blockers".to_owned(),
            _ => format!("{state} blockers"),
        };
        match result.shown_range() {
            None => format!("No {noun} match these filters."),
            Some(_) if result.pages == 1 => format!("{} {noun}.", result.matches.len()),
            Some((first, last)) => {
                format!("Showing {first}–{last} of {} {noun}.", result.matches.len())
            }
        }
    };
    view! { <p class="match-summary" role="status" aria-live="polite" data-testid="match-summary">{text}</p> }
}

#[component]
fn Pager(result: Memo<Arc<TriageResult>>) -> impl IntoView {
    move || {
        let result = result.read();
        (result.pages > 1).then(|| {
            let page = result.page;
            view! {
                <nav class="pager" aria-label="Pages of blockers">
                    {(page > 1).then(|| view! { <a href=result.page_href(page - 1) rel="prev">"← Previous"</a> })}
                    <span>"Page " {page} " of " {result.pages}</span>
                    {(page < result.pages).then(|| view! { <a href=result.page_href(page + 1) rel="next">"Next →"</a> })}
                </nav>
            }
        })
    }
}

/// The rows of the current page.
#[component]
fn Rows(live: LiveRegister, result: Arc<TriageResult>) -> impl IntoView {
    let register = live.register();
    let evaluation = live.evaluation.get_untracked();
    let state = live.live.get_untracked();
    let inputs = &state.readiness.inputs;
    result
        .page_rows()
        .iter()
        .filter_map(|&index| {
            let blocker = register.blockers.get(index)?;
            let evaluation = evaluation.blockers.get(index)?;
            let scope = register
                .scope(&blocker.scope)
                .map_or_else(|| blocker.scope.clone(), |scope| scope.label.clone());
            let proof = register
                .proof(&blocker.proof)
                .map(|proof| (proof.name.clone(), proof.command.clone()));
            let last_run = state.latest_runs.get(&blocker.proof).cloned();
            Some(view! {
                <BlockerRow
                    blocker=blocker.clone()
                    state=evaluation.clone()
                    scope
                    proof
                    dependencies=dependency_states(blocker, inputs)
                    last_run
                />
            })
        })
        .collect_view()
        .into_any()
}

pub fn dependency_states(
    blocker: &Blocker,
    inputs: &ReadinessInputs,
) -> Vec<(String, &'static str)> {
    blocker
        .dependencies
        .iter()
        .map(|name| (name.clone(), inputs.dependency(name).as_str()))
        .collect()
}

#[component]
fn BlockerRow(
    blocker: Blocker,
    state: BlockerEvaluation,
    scope: String,
    proof: Option<(String, String)>,
    dependencies: Vec<(String, &'static str)>,
    last_run: Option<ProofRun>,
) -> impl IntoView {
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
                {proof.map(|(name, command)| view! {
                    <span class="proof__name">{name}</span>
                    <code class="proof__command">{command}</code>
                })}
                <LastRun run=last_run passing=state.proof_passing/>
            </td>
            <td class="blocker__if-missing">{blocker.if_missing}</td>
        </tr>
    }
    .into_any()
}

#[component]
pub fn DependencyList(dependencies: Vec<(String, &'static str)>) -> impl IntoView {
    view! {
        <ul class="dependencies">
            {dependencies
                .into_iter()
                .map(|(name, state)| view! {
                    <li class=format!("dependency dependency--{state}")>
                        <code>{name}</code>
                        " "
                        <span class="dependency__state">{state}</span>
                    </li>
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
