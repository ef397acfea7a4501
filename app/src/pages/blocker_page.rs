//! `/blockers/{id}`: one blocker drilled down — what it is for, each dependency with
//! its state and since when, the proof path with a copyable command, the fallback,
//! and the proof's recent runs.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::domain::triage::BlockerFilter;
use crate::live_state::BlockerHistory;
use crate::page_data::register::{get_blocker, BlockerView};
use crate::page_data::ClearanceError;
use crate::pages::shared::{
    datetime_value, format_time, with_clearance, CommandBlock, LivePage, SectionError, StatusBadge,
    DEFAULT_DESCRIPTION, SKIP_TO_CONTENT,
};
use crate::pages::NotFound;

#[component]
pub fn BlockerPage() -> impl IntoView {
    let params = use_params_map();
    let blocker = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_blocker,
    );
    with_clearance(SKIP_TO_CONTENT, move |live| {
        view! {
            <Suspense fallback=|| view! { <p class="loading">"Loading the blocker…"</p> }>
                {move || {
                    let live = live.clone();
                    Suspend::new(async move {
                    match blocker.await {
                        Ok(view) => view! { <BlockerBody live view/> }.into_any(),
                        Err(ClearanceError::NotFound) => view! { <NotFound/> }.into_any(),
                        Err(error) => view! {
                            <Meta name="description" content=DEFAULT_DESCRIPTION/>
                            <main class="page"><SectionError error/></main>
                        }
                        .into_any(),
                    }
                    })
                }}
            </Suspense>
        }
    })
}

#[component]
fn BlockerBody(live: LivePage, view: BlockerView) -> impl IntoView {
    let outline = live.outline;
    let BlockerView {
        row,
        motions,
        history,
        proof_warning,
    } = view;
    let blocker = row.blocker;
    let title = format!("{} · {}", blocker.title, outline.page.title);
    let description = format!(
        "{}, {}: {} If missing: {}",
        outline.organisation, blocker.title, blocker.required_for, blocker.if_missing
    );
    let scope_href = BlockerFilter {
        scope: Some(blocker.scope.clone()),
        ..BlockerFilter::default()
    }
    .href();
    let mut why = Vec::new();
    if !row.state.missing.is_empty() {
        why.push(format!("{} not configured", row.state.missing.join(", ")));
    }
    if !row.state.proof_passing {
        why.push("the proof has no passing run in the freshness window".to_owned());
    }
    let since = |name: &str| {
        history
            .as_ref()
            .and_then(|history| history.dependency_since.get(name).copied())
    };
    let dependencies = row
        .dependencies
        .iter()
        .map(|(name, state)| {
            let since = since(name);
            view! {
                <tr data-testid="dependency">
                    <th scope="row"><code>{name.clone()}</code></th>
                    <td><StatusBadge status=state.as_str()/></td>
                    <td>
                        {match since {
                            Some(since) => view! {
                                "since " <time datetime=datetime_value(since)>{format_time(since)}</time>
                            }.into_any(),
                            None => "not yet recorded".into_any(),
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <Title text=title/>
        <Meta name="description" content=description/>
        <main class="page" id="content" data-live>
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">{outline.page.title.clone()}</a> " › " {blocker.title.clone()}
            </nav>
            <header>
                <h1>{blocker.title.clone()}</h1>
                <p class="blocker-state" data-testid="blocker-state">
                    <StatusBadge status=if row.state.live { "live" } else { "cleared" }/>
                    {(!why.is_empty()).then(|| format!(": {}.", why.join("; ")))}
                </p>
                <p class="lead" data-testid="required-for">{blocker.required_for.clone()}</p>
                <p>
                    "Scope: " <a href=scope_href>{row.scope}</a>
                    {(!motions.is_empty()).then(|| view! {
                        ". Can hold back: "
                        {motions.into_iter().enumerate().map(|(index, (id, name))| view! {
                            {(index > 0).then_some(", ")}
                            <a href=format!("/motions/{id}")>{name}</a>
                        }).collect_view()}
                        "."
                    })}
                </p>
            </header>
            <section aria-labelledby="dependencies-heading">
                <h2 id="dependencies-heading">"Dependencies"</h2>
                <p class="muted">"Only whether each name is configured is ever read; values never reach this page."</p>
                <table class="dependency-table">
                    <thead>
                        <tr><th scope="col">"Name"</th><th scope="col">"State"</th><th scope="col">"Since"</th></tr>
                    </thead>
                    <tbody>{dependencies}</tbody>
                </table>
            </section>
            <section aria-labelledby="proof-heading">
                <h2 id="proof-heading">"Proof path"</h2>
                {row.proof.map(|proof| view! {
                    <p class="proof__name" data-testid="proof-name">{proof.name}</p>
                    <CommandBlock command=proof.command/>
                })}
                {proof_warning.map(|warning| view! {
                    <p class="notice notice--stale" data-testid="proof-freshness">
                        <strong>"Proof freshness: "</strong> {warning} "."
                    </p>
                })}
            </section>
            <section aria-labelledby="fallback-heading">
                <h2 id="fallback-heading">"If missing"</h2>
                <p data-testid="fallback">{blocker.if_missing.clone()}</p>
            </section>
            <section aria-labelledby="runs-heading">
                <h2 id="runs-heading">"Recent runs"</h2>
                {match history {
                    Some(history) => view! { <Runs history/> }.into_any(),
                    None => view! {
                        <SectionError error=ClearanceError::HistoryUnavailable/>
                    }.into_any(),
                }}
            </section>
        </main>
    }
    .into_any()
}

#[component]
fn Runs(history: BlockerHistory) -> impl IntoView {
    if history.runs.is_empty() {
        return view! {
            <p data-testid="runs">
                "No run recorded yet. Record one with " <code>"server proof record"</code>
                " or " <code>"POST /api/proofs/{id}/runs"</code> " after running the command above."
            </p>
        }
        .into_any();
    }
    view! {
        <ol class="runs" data-testid="runs">
            {history.runs.into_iter().map(|run| {
                let status = if run.passed { "passed" } else { "failed" };
                view! {
                    <li class="run" data-testid="run">
                        <StatusBadge status/>
                        " " <time datetime=datetime_value(run.ran_at)>{format_time(run.ran_at)}</time>
                        " by " {run.actor}
                        {(!run.excerpt.is_empty()).then(|| view! {
                            <details>
                                <summary>"Output excerpt"</summary>
                                <pre class="excerpt">{run.excerpt}</pre>
                            </details>
                        })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}
