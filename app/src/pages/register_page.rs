//! The register page: the whole seed page, evaluated live, with the blocker triage.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use crate::domain::register::{EvidenceGate, EvidencePacks, LaunchMotion};
use crate::live_state::LiveState;
use crate::page_data::register::{get_overview, get_triage, MotionSummary, Overview};
use crate::page_data::ClearanceError;
use crate::pages::health_checks::HealthChecks;
use crate::pages::history::History;
use crate::pages::shared::{
    datetime_value, format_time, with_clearance, LivePage, SectionError, SkipLink, StatusBadge,
};
use crate::pages::triage::{BlockerTriage, TriageResource};

type OverviewResource = Resource<Result<Overview, ClearanceError>>;

/// `/`: the register, with the blocker table filtered by the query string.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let query = use_query_map();
    let overview: OverviewResource = Resource::new(|| (), |()| get_overview());
    let triage: TriageResource = Resource::new(move || query.read().to_query_string(), get_triage);
    let skip = SkipLink {
        href: "#blockers-heading",
        label: "Skip to the blockers",
    };
    with_clearance(skip, move |live| {
        view! { <RegisterView live overview triage/> }
    })
}

/// Renders `section` with the overview once it is loaded.
fn with_overview<V: IntoView + 'static>(
    overview: OverviewResource,
    section: impl Fn(Overview) -> V + Send + Sync + Clone + 'static,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let section = section.clone();
                Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => section(overview).into_any(),
                        Err(error) => view! { <SectionError error/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn RegisterView(
    live: LivePage,
    overview: OverviewResource,
    triage: TriageResource,
) -> impl IntoView {
    let outline = Arc::clone(&live.outline);
    let page = outline.page.clone();
    let title = format!("{} · {}", outline.page.title, outline.organisation);
    let description = outline.page.introduction.clone();
    let motions = outline.motions.clone();

    view! {
        <Title text=title/>
        <Meta name="description" content=description/>
        <header class="masthead">
            <p class="masthead__org">{outline.organisation.clone()}</p>
            <h1>{page.title}</h1>
            <p class="masthead__headline">{page.headline}</p>
            <p class="masthead__intro">{page.introduction}</p>
        </header>
        <main class="page">
            <div id="live-figures" data-live>
                {with_overview(overview, |overview| view! { <Headline overview/> })}
                <ObservedAt live=Arc::clone(&live.live)/>
            </div>
            <section class="decision" aria-labelledby="decision-heading">
                <h2 id="decision-heading">"Decision"</h2>
                <p class="decision__statement">{outline.decision.statement.clone()}</p>
                <p class="decision__summary" data-testid="decision-summary" id="live-decision" data-live>
                    {with_overview(overview, |overview| overview.decision_summary)}
                </p>
                <p class="decision__label">"Strict readiness check"</p>
                <pre class="command"><code>{outline.decision.strict_check_command.clone()}</code></pre>
            </section>
            <div id="live-motions" data-live>
                {with_overview(overview, move |overview| view! { <Motions motions=motions.clone() overview/> })}
            </div>
            <div id="live-health" data-live>
                <HealthChecks live=Arc::clone(&live.live)/>
            </div>
            <BlockerTriage triage/>
            <div id="live-history" data-live>
                <History outline=Arc::clone(&outline) live=Arc::clone(&live.live)/>
            </div>
            <CustomerEvidenceSection
                gates=outline.customer_evidence.gates.clone()
                lead=outline.customer_evidence.lead.clone()
                body=outline.customer_evidence.body.clone()
            />
            <EvidencePacksSection packs=outline.evidence_packs.clone()/>
            <section class="boundaries" aria-labelledby="boundaries-heading">
                <h2 id="boundaries-heading">"Boundaries"</h2>
                <p class="lead">{outline.boundaries.lead.clone()}</p>
                <ul>
                    {outline
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
fn Headline(overview: Overview) -> impl IntoView {
    let advisory = overview.advisory.as_str();
    let strict = overview.strict.as_str();
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
                    <dd>{overview.live_blockers}</dd>
                </div>
                <div class="figure" data-testid="evidence-gate-count">
                    <dt>"customer evidence gates"</dt>
                    <dd>{overview.evidence_gates}</dd>
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
                <time datetime=datetime_value(readiness.first_seen_at) data-testid="first-seen">
                    {format_time(readiness.first_seen_at)}
                </time>
                ". Snapshot " <code title=readiness.digest.clone()>{short_digest}</code> "."
                {(!readiness.recorded).then(|| view! { <span class="warning">" Not yet stored: the database is unreachable."</span> })}
            </p>
            {live.database_down_since.map(|since| view! {
                <p class="notice notice--stale" role="alert" data-testid="database-down">
                    <strong>"Degraded: "</strong>
                    "Clearance's database has been unreachable since "
                    <time datetime=datetime_value(since)>{format_time(since)}</time>
                    ". Readiness stays live from the source; proof runs and history are as last \
                     known; sign-in, launch rooms and recording are unavailable until it returns."
                </p>
            })}
            {readiness.stale.clone().map(|stale| view! {
                <p class="notice notice--stale" role="alert" data-testid="stale">
                    <strong>"Stale: "</strong>
                    "the deployment has not answered since "
                    <time datetime=datetime_value(stale.since)>{format_time(stale.since)}</time>
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

#[component]
fn Motions(motions: Vec<LaunchMotion>, overview: Overview) -> impl IntoView {
    view! {
        <section class="motions" aria-labelledby="motions-heading">
            <h2 id="motions-heading">"Launch motions"</h2>
            <div class="motions__grid">
                {motions
                    .into_iter()
                    .zip(overview.motions)
                    .map(|(motion, state)| view! { <MotionCard motion state/> })
                    .collect_view()}
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn MotionCard(motion: LaunchMotion, state: MotionSummary) -> impl IntoView {
    let heading_id = format!("motion-{}", motion.id);
    let labelled_by = heading_id.clone();
    let href = format!("/motions/{}", motion.id);
    view! {
        <article
            class=format!("motion motion--{}", state.status)
            data-testid="motion"
            data-motion-id=motion.id.clone()
            aria-labelledby=labelled_by
        >
            <StatusBadge status=state.status.as_str()/>
            <h3 id=heading_id><a href=href>{motion.name}</a></h3>
            <p>{motion.summary}</p>
            <p class="motion__rule">{motion.rule}</p>
            {(!state.reasons.items.is_empty())
                .then(|| {
                    view! {
                        <details class="motion__reasons" open=true>
                            <summary>"Why " {state.status.as_str()}</summary>
                            <ul>
                                {state
                                    .reasons
                                    .items
                                    .iter()
                                    .map(|reason| {
                                        let class = if reason.is_hard() { "reason reason--hard" } else { "reason" };
                                        view! { <li class=class>{reason.to_string()}</li> }
                                    })
                                    .collect_view()}
                                {(state.reasons.more > 0).then(|| view! {
                                    <li>"… and " {state.reasons.more} " more in the motion view"</li>
                                })}
                            </ul>
                        </details>
                    }
                })}
        </article>
    }
    .into_any()
}

#[component]
fn CustomerEvidenceSection(gates: Vec<EvidenceGate>, lead: String, body: String) -> impl IntoView {
    view! {
        <section class="evidence" aria-labelledby="evidence-heading">
            <h2 id="evidence-heading">"Customer evidence"</h2>
            <p class="lead">{lead}</p>
            <p>{body}</p>
            <div class="gates">
                {gates.into_iter().map(|gate| view! { <GateCard gate/> }).collect_view()}
            </div>
        </section>
    }
    .into_any()
}

#[component]
pub fn GateCard(gate: EvidenceGate) -> impl IntoView {
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
fn EvidencePacksSection(packs: EvidencePacks) -> impl IntoView {
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
                                {if pack.path.starts_with("/api/") {
                                    view! { <a href=pack.path.clone()><code>{pack.path.clone()}</code></a> }.into_any()
                                } else {
                                    view! { <code>{pack.path.clone()}</code> }.into_any()
                                }}
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
