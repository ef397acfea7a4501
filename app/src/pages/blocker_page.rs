//! `/blockers/{id}`: one blocker drilled down — what it is for, each dependency with
//! its state and since when, the proof path with a copyable command, the fallback,
//! and the proof's recent runs.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::clearance::{get_blocker_history, BlockerHistory};
use crate::domain::triage::{holds_back, BlockerFilter};
use crate::pages::live_updates::ConnectionIndicator;
use crate::pages::shared::{format_time, with_clearance, CommandBlock, LiveRegister, StatusBadge};
use crate::pages::NotFound;

#[component]
pub fn BlockerPage() -> impl IntoView {
    with_clearance(|live| view! { <BlockerView live/> })
}

#[component]
fn BlockerView(live: LiveRegister) -> impl IntoView {
    let params = use_params_map();
    let register = live.register();
    let id = params.read_untracked().get("id").unwrap_or_default();
    let Some(blocker) = register.blocker(&id).cloned() else {
        return view! { <NotFound/> }.into_any();
    };
    let history = Resource::new(move || id.clone(), get_blocker_history);
    let proof = register.proof(&blocker.proof).cloned();
    let scope = register
        .scope(&blocker.scope)
        .map_or_else(|| blocker.scope.clone(), |scope| scope.label.clone());
    let scope_href = BlockerFilter {
        scope: Some(blocker.scope.clone()),
        ..BlockerFilter::default()
    }
    .href();
    let motions: Vec<_> = register
        .motions
        .iter()
        .filter(|motion| holds_back(motion, &blocker))
        .map(|motion| (motion.id.clone(), motion.name.clone()))
        .collect();
    let title = format!("{} · {}", blocker.title, register.page.title);

    let state = {
        let blocker = blocker.clone();
        move || {
            let evaluation = live.evaluation.get();
            let state = evaluation.blocker(&blocker.id).cloned()?;
            let mut why = Vec::new();
            if !state.missing.is_empty() {
                why.push(format!("{} not configured", state.missing.join(", ")));
            }
            if !state.proof_passing {
                why.push("the proof has no passing run in the freshness window".to_owned());
            }
            Some(view! {
                <p class="blocker-state" data-testid="blocker-state">
                    <StatusBadge status=if state.live { "live" } else { "cleared" }/>
                    {(!why.is_empty()).then(|| format!(": {}.", why.join("; ")))}
                </p>
            })
        }
    };

    let dependencies = {
        let blocker = blocker.clone();
        move |history: Option<BlockerHistory>| {
            let live_state = live.live.get();
            let inputs = &live_state.readiness.inputs;
            blocker
                .dependencies
                .iter()
                .map(|name| {
                    let state = inputs.dependency(name).as_str();
                    let since = history
                        .as_ref()
                        .and_then(|history| history.dependency_since.get(name).copied());
                    view! {
                        <tr data-testid="dependency">
                            <th scope="row"><code>{name.clone()}</code></th>
                            <td><StatusBadge status=state/></td>
                            <td>
                                {match since {
                                    Some(since) => view! {
                                        "since " <time datetime=since.to_rfc3339()>{format_time(since)}</time>
                                    }.into_any(),
                                    None => "not yet recorded".into_any(),
                                }}
                            </td>
                        </tr>
                    }
                })
                .collect_view()
        }
    };

    view! {
        <Title text=title/>
        <main class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">{register.page.title.clone()}</a> " › " {blocker.title.clone()}
            </nav>
            <ConnectionIndicator connection=live.connection/>
            <header>
                <h1>{blocker.title.clone()}</h1>
                {state}
                <p class="lead" data-testid="required-for">{blocker.required_for.clone()}</p>
                <p>
                    "Scope: " <a href=scope_href>{scope}</a>
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
                    <tbody>
                        <Suspense fallback={
                            let dependencies = dependencies.clone();
                            move || dependencies(None)
                        }>
                            {
                                let dependencies = dependencies.clone();
                                move || Suspend::new({
                                    let dependencies = dependencies.clone();
                                    async move { dependencies(history.await.ok()) }
                                })
                            }
                        </Suspense>
                    </tbody>
                </table>
            </section>
            <section aria-labelledby="proof-heading">
                <h2 id="proof-heading">"Proof path"</h2>
                {proof.map(|proof| view! {
                    <p class="proof__name" data-testid="proof-name">{proof.name}</p>
                    <CommandBlock command=proof.command/>
                })}
            </section>
            <section aria-labelledby="fallback-heading">
                <h2 id="fallback-heading">"If missing"</h2>
                <p data-testid="fallback">{blocker.if_missing.clone()}</p>
            </section>
            <section aria-labelledby="runs-heading">
                <h2 id="runs-heading">"Recent runs"</h2>
                <Suspense fallback=|| view! { <p class="loading">"Loading runs…"</p> }>
                    {move || Suspend::new(async move {
                        match history.await {
                            Ok(history) => view! { <Runs history/> }.into_any(),
                            Err(error) => view! { <p class="notice" role="status">{error.to_string()}</p> }.into_any(),
                        }
                    })}
                </Suspense>
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
                        " " <time datetime=run.ran_at.to_rfc3339()>{format_time(run.ran_at)}</time>
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
