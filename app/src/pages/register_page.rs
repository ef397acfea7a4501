//! The register page: the whole seed page, evaluated live.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::clearance::{get_clearance, ClearanceError, ClearanceView, LiveState};
use crate::domain::proof_run::ProofRun;
use crate::domain::register::{Blocker, EvidenceGate, LaunchMotion};
use crate::domain::{
    decision_summary, evaluate, BlockerEvaluation, DependencyState, Evaluation, MotionEvaluation,
    ReadinessInputs, Register,
};
use crate::pages::history::History;
use crate::pages::live_updates::{subscribe, Connection, ConnectionIndicator};

/// `/`: the register, with the live-blocker table filtered by `?scope=`.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let clearance = Resource::new(|| (), |()| get_clearance());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the register…"</p> }>
            {move || Suspend::new(async move {
                match clearance.await {
                    Ok(clearance) => view! { <RegisterView clearance/> }.into_any(),
                    Err(error) => view! { <Unavailable error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Unavailable(error: ClearanceError) -> impl IntoView {
    view! {
        <main class="page">
            <section class="notice notice--error" role="alert">
                <h1>"The register is unavailable"</h1>
                <p>{error.to_string()}</p>
            </section>
        </main>
    }
}

#[component]
fn RegisterView(clearance: ClearanceView) -> impl IntoView {
    let register = Arc::clone(&clearance.register);
    let live = RwSignal::new(Arc::clone(&clearance.live));
    let connection = RwSignal::new(Connection::Static);
    // Effects run only in the browser: once hydrated, follow the server's pushes.
    Effect::new(move |_| subscribe(live, connection));
    let evaluation = Memo::new({
        let register = Arc::clone(&register);
        move |_| Arc::new(evaluate(&register, &live.read().readiness.inputs))
    });
    let page = register.page.clone();
    let title = format!("{} · {}", register.page.title, register.organisation);

    view! {
        <Title text=title/>
        <header class="masthead">
            <p class="masthead__org">{register.organisation.clone()}</p>
            <h1>{page.title}</h1>
            <p class="masthead__headline">{page.headline}</p>
            <p class="masthead__intro">{page.introduction}</p>
        </header>
        <main class="page">
            <ConnectionIndicator connection/>
            {move || view! { <Headline evaluation=evaluation.get()/> }}
            {move || view! { <ObservedAt live=live.get()/> }}
            <section class="decision" aria-labelledby="decision-heading">
                <h2 id="decision-heading">"Decision"</h2>
                <p class="decision__statement">{register.decision.statement.clone()}</p>
                <p class="decision__summary" data-testid="decision-summary">
                    {
                        let register = Arc::clone(&register);
                        move || decision_summary(&register, &evaluation.get())
                    }
                </p>
                <p class="decision__label">"Strict readiness check"</p>
                <pre class="command"><code>{register.decision.strict_check_command.clone()}</code></pre>
            </section>
            {
                let register = Arc::clone(&register);
                move || view! { <Motions register=Arc::clone(&register) evaluation=evaluation.get()/> }
            }
            {
                let register = Arc::clone(&register);
                move || {
                    let live = live.get();
                    view! {
                        <Blockers
                            register=Arc::clone(&register)
                            evaluation=evaluation.get()
                            inputs=live.readiness.inputs.clone()
                            latest_runs=Arc::new(live.latest_runs.clone())
                        />
                    }
                }
            }
            {
                let register = Arc::clone(&register);
                move || view! { <History register=Arc::clone(&register) live=live.get()/> }
            }
            <CustomerEvidenceSection register=Arc::clone(&register)/>
            <EvidencePacksSection register=Arc::clone(&register)/>
            <section class="boundaries" aria-labelledby="boundaries-heading">
                <h2 id="boundaries-heading">"Boundaries"</h2>
                <p class="lead">{register.boundaries.lead.clone()}</p>
                <ul>
                    {register
                        .boundaries
                        .statements
                        .iter()
                        .map(|statement| view! { <li>{statement.clone()}</li> })
                        .collect_view()}
                </ul>
            </section>
        </main>
    }
}

#[component]
fn Headline(evaluation: Arc<Evaluation>) -> impl IntoView {
    let advisory = evaluation.advisory.as_str();
    let strict = evaluation.strict.as_str();
    view! {
        <section class="figures" aria-label="Headline figures">
            <dl>
                <div class=format!("figure readiness--{advisory}") data-testid="advisory-readiness">
                    <dt>"advisory readiness"</dt>
                    <dd>{advisory}</dd>
                </div>
                <div class=format!("figure readiness--{strict}") data-testid="strict-readiness">
                    <dt>"strict readiness"</dt>
                    <dd>{strict}</dd>
                </div>
                <div class="figure" data-testid="live-blocker-count">
                    <dt>"live blockers"</dt>
                    <dd>{evaluation.live_blockers}</dd>
                </div>
                <div class="figure" data-testid="evidence-gate-count">
                    <dt>"customer evidence gates"</dt>
                    <dd>{evaluation.evidence_gates}</dd>
                </div>
            </dl>
        </section>
    }
    .into_any()
}

#[component]
fn ObservedAt(live: Arc<LiveState>) -> impl IntoView {
    let readiness = &live.readiness;
    let short_digest: String = readiness.digest.chars().take(12).collect();
    let failing: Vec<String> = readiness
        .inputs
        .public_checks
        .iter()
        .filter(|check| !check.passed)
        .map(|check| match &check.detail {
            Some(detail) => format!("{}: {detail}", check.name),
            None => check.name.clone(),
        })
        .collect();
    view! {
        <div class="observed" data-testid="observed">
            <p>
                "Readiness from " <strong data-testid="source">{readiness.source.clone()}</strong>
                {readiness.version.clone().map(|version| view! { " (version " <code>{version}</code> ")" })}
                ", this state first seen "
                <time datetime=readiness.first_seen_at.to_rfc3339() data-testid="first-seen">
                    {format_time(readiness.first_seen_at)}
                </time>
                ". Snapshot " <code title=readiness.digest.clone()>{short_digest}</code> "."
                {(!readiness.recorded).then(|| view! { <span class="warning">" Not yet stored: the database is unreachable."</span> })}
            </p>
            {readiness.stale.clone().map(|stale| view! {
                <p class="notice notice--stale" role="alert" data-testid="stale">
                    <strong>"Stale: "</strong>
                    "the deployment has not answered since "
                    <time datetime=stale.since.to_rfc3339()>{format_time(stale.since)}</time>
                    " (" {stale.error} "). Showing the last known state."
                </p>
            })}
            {(!failing.is_empty()).then(|| view! {
                <p class="notice notice--error" data-testid="failing-checks">
                    <strong>"Public checks failing: "</strong> {failing.join("; ")}
                </p>
            })}
        </div>
    }
    .into_any()
}

pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

#[component]
fn StatusBadge(status: &'static str) -> impl IntoView {
    // The symbol and the word both carry the status, so colour is never the only cue.
    let symbol = match status {
        "clear" | "ready" => "✓",
        "conditional" | "degraded" => "◐",
        _ => "✕",
    };
    view! {
        <span class=format!("badge badge--{status}")>
            <span aria-hidden="true">{symbol}" "</span>
            {status}
        </span>
    }
}

#[component]
fn Motions(register: Arc<Register>, evaluation: Arc<Evaluation>) -> impl IntoView {
    view! {
        <section class="motions" aria-labelledby="motions-heading">
            <h2 id="motions-heading">"Launch motions"</h2>
            <div class="motions__grid">
                {register
                    .motions
                    .iter()
                    .zip(evaluation.motions.iter())
                    .map(|(motion, state)| view! { <MotionCard motion=motion.clone() state=state.clone()/> })
                    .collect_view()}
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn MotionCard(motion: LaunchMotion, state: MotionEvaluation) -> impl IntoView {
    let heading_id = format!("motion-{}", motion.id);
    let labelled_by = heading_id.clone();
    view! {
        <article
            class=format!("motion motion--{}", state.status)
            data-testid="motion"
            data-motion-id=motion.id.clone()
            aria-labelledby=labelled_by
        >
            <StatusBadge status=state.status.as_str()/>
            <h3 id=heading_id>{motion.name}</h3>
            <p>{motion.summary}</p>
            <p class="motion__rule">{motion.rule}</p>
            {(!state.reasons.is_empty())
                .then(|| {
                    view! {
                        <details class="motion__reasons" open=true>
                            <summary>"Why " {state.status.as_str()}</summary>
                            <ul>
                                {state
                                    .reasons
                                    .iter()
                                    .map(|reason| {
                                        let class = if reason.is_hard() { "reason reason--hard" } else { "reason" };
                                        view! { <li class=class>{reason.to_string()}</li> }
                                    })
                                    .collect_view()}
                            </ul>
                        </details>
                    }
                })}
        </article>
    }
    .into_any()
}

/// The blocker scope filter, read from `?scope=` so it works as plain links before
/// hydration and as client-side navigation after.
#[component]
fn Blockers(
    register: Arc<Register>,
    evaluation: Arc<Evaluation>,
    inputs: ReadinessInputs,
    latest_runs: Arc<std::collections::BTreeMap<String, ProofRun>>,
) -> impl IntoView {
    let query = use_query_map();
    let selected = Memo::new(move |_| query.read().get("scope"));
    let inputs = Arc::new(inputs);

    let live: Arc<Vec<(Blocker, BlockerEvaluation)>> = Arc::new(
        register
            .blockers
            .iter()
            .zip(evaluation.blockers.iter())
            .filter(|(_, state)| state.live)
            .map(|(blocker, state)| (blocker.clone(), state.clone()))
            .collect(),
    );
    let cleared: Vec<Blocker> = register
        .blockers
        .iter()
        .zip(evaluation.blockers.iter())
        .filter(|(_, state)| !state.live)
        .map(|(blocker, _)| blocker.clone())
        .collect();

    let filter_links = {
        let register = Arc::clone(&register);
        let live = Arc::clone(&live);
        move || {
            let current = selected.get();
            let all = std::iter::once((None, "All".to_owned(), live.len()));
            let scopes = register.scopes.iter().map(|scope| {
                let count = live
                    .iter()
                    .filter(|(blocker, _)| blocker.scope == scope.id)
                    .count();
                (Some(scope.id.clone()), scope.label.clone(), count)
            });
            all.chain(scopes)
                .map(|(id, label, count)| {
                    let href = id
                        .as_ref()
                        .map_or_else(|| "/".to_owned(), |id| format!("/?scope={id}"));
                    let active = id == current;
                    view! {
                        <li>
                            <a
                                href=href
                                class:active=active
                                aria-current=active.then_some("true")
                                data-testid="scope-filter"
                            >
                                {label}
                                " "
                                <span class="count">"(" {count} ")"</span>
                            </a>
                        </li>
                    }
                })
                .collect_view()
        }
    };

    let unknown_scope = {
        let register = Arc::clone(&register);
        move || {
            selected
                .get()
                .filter(|id| register.scope(id).is_none())
                .map(|id| {
                    view! {
                        <p class="notice" role="status">
                            "No scope called “" {id} "”; showing every live blocker."
                        </p>
                    }
                })
        }
    };

    let rows = {
        let register = Arc::clone(&register);
        let inputs = Arc::clone(&inputs);
        move || {
            let current = selected.get().filter(|id| register.scope(id).is_some());
            live.iter()
                .filter(|(blocker, _)| current.as_ref().is_none_or(|id| &blocker.scope == id))
                .map(|(blocker, state)| {
                    let last_run = latest_runs.get(&blocker.proof).cloned();
                    view! {
                        <BlockerRow
                            register=Arc::clone(&register)
                            blocker=blocker.clone()
                            state=state.clone()
                            inputs=Arc::clone(&inputs)
                            last_run
                        />
                    }
                })
                .collect_view()
        }
    };

    view! {
        <section class="blockers" aria-labelledby="blockers-heading">
            <h2 id="blockers-heading">"Live blockers"</h2>
            <nav class="filter" aria-label="Filter live blockers by scope">
                <ul>{filter_links}</ul>
            </nav>
            {unknown_scope}
            <div class="table-wrap">
                <table data-testid="live-blockers">
                    <thead>
                        <tr>
                            <th scope="col">"Blocker"</th>
                            <th scope="col">"Scope"</th>
                            <th scope="col">"Dependency"</th>
                            <th scope="col">"Proof path"</th>
                            <th scope="col">"If missing"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {(!cleared.is_empty())
                .then(|| {
                    view! {
                        <div class="cleared" data-testid="cleared-blockers">
                            <h3>"Cleared blockers"</h3>
                            <ul>
                                {cleared
                                    .into_iter()
                                    .map(|blocker| {
                                        view! {
                                            <li id=format!("blocker-{}", blocker.id)>
                                                <StatusBadge status="clear"/>
                                                " " {blocker.title} ": every dependency configured ("
                                                {blocker.dependencies.join(", ")} ") and its proof passing."
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </div>
                    }
                })}
        </section>
    }
    .into_any()
}

#[component]
fn BlockerRow(
    register: Arc<Register>,
    blocker: Blocker,
    state: BlockerEvaluation,
    inputs: Arc<ReadinessInputs>,
    last_run: Option<ProofRun>,
) -> impl IntoView {
    let scope_label = register
        .scope(&blocker.scope)
        .map_or_else(|| blocker.scope.clone(), |scope| scope.label.clone());
    let proof = register.proof(&blocker.proof).cloned();
    view! {
        <tr id=format!("blocker-{}", blocker.id) data-testid="blocker-row" data-scope=blocker.scope.clone()>
            <th scope="row">
                <span class="blocker__title">{blocker.title}</span>
                <span class="blocker__required">{blocker.required_for}</span>
            </th>
            <td>{scope_label}</td>
            <td>
                <ul class="dependencies">
                    {blocker
                        .dependencies
                        .iter()
                        .map(|name| {
                            let state = inputs.dependency(name);
                            view! {
                                <li class=format!("dependency dependency--{}", state.as_str())>
                                    <code>{name.clone()}</code>
                                    " "
                                    <span class="dependency__state">
                                        {match state {
                                            DependencyState::Configured => "configured",
                                            DependencyState::Missing => "missing",
                                        }}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </td>
            <td>
                {proof
                    .map(|proof| {
                        view! {
                            <span class="proof__name">{proof.name}</span>
                            <code class="proof__command">{proof.command}</code>
                        }
                    })}
                <LastRun run=last_run passing=state.proof_passing/>
            </td>
            <td>{blocker.if_missing}</td>
        </tr>
    }
    .into_any()
}

#[component]
fn CustomerEvidenceSection(register: Arc<Register>) -> impl IntoView {
    let evidence = register.customer_evidence.clone();
    view! {
        <section class="evidence" aria-labelledby="evidence-heading">
            <h2 id="evidence-heading">"Customer evidence"</h2>
            <p class="lead">{evidence.lead}</p>
            <p>{evidence.body}</p>
            <div class="gates">
                {evidence.gates.into_iter().map(|gate| view! { <GateCard gate/> }).collect_view()}
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn GateCard(gate: EvidenceGate) -> impl IntoView {
    view! {
        <article class="gate" data-testid="evidence-gate" id=format!("gate-{}", gate.id)>
            <h3>{gate.name}</h3>
            <p class="gate__owner">"Owner: " {gate.owner}</p>
            <ul class="gate__items">
                {gate.items.into_iter().map(|item| view! { <li>{item}</li> }).collect_view()}
            </ul>
            <p class="gate__missing"><span class="label">"If missing: "</span>{gate.if_missing}</p>
        </article>
    }
    .into_any()
}

#[component]
fn EvidencePacksSection(register: Arc<Register>) -> impl IntoView {
    let packs = register.evidence_packs.clone();
    view! {
        <section class="packs" aria-labelledby="packs-heading">
            <h2 id="packs-heading">"Evidence packs"</h2>
            <p class="lead">{packs.lead}</p>
            <p>{packs.body}</p>
            <ul class="packs__list">
                {packs
                    .packs
                    .into_iter()
                    .map(|pack| {
                        view! {
                            <li>
                                <code>{pack.path}</code>
                                <span class="packs__title">{pack.title}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

/// The latest run of a blocker's proof, or that none is recorded.
#[component]
fn LastRun(run: Option<ProofRun>, passing: bool) -> impl IntoView {
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
