//! `/motions/{id}`: one launch motion — its status and rule, each requirement met
//! or unmet, what stands in its way, and what would change its status.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::domain::outlook::motion_outlook;
use crate::domain::triage::{holds_back, BlockerFilter};
use crate::pages::live_updates::ConnectionIndicator;
use crate::pages::register_page::GateCard;
use crate::pages::shared::{with_clearance, LiveRegister, StatusBadge};
use crate::pages::NotFound;

/// How many blockers and actions are listed before "and N more".
const LIST_LIMIT: usize = 25;

#[component]
pub fn MotionPage() -> impl IntoView {
    with_clearance(|live| view! { <MotionView live/> })
}

#[component]
fn MotionView(live: LiveRegister) -> impl IntoView {
    let params = use_params_map();
    let register = live.register();
    let id = params.read_untracked().get("id").unwrap_or_default();
    let Some(motion) = register
        .motions
        .iter()
        .find(|motion| motion.id == id)
        .cloned()
    else {
        return view! { <NotFound/> }.into_any();
    };
    let title = format!("{} · {}", motion.name, register.page.title);
    let filtered = BlockerFilter {
        motion: Some(motion.id.clone()),
        ..BlockerFilter::default()
    }
    .href();
    let gates: Vec<_> = motion
        .requires
        .evidence_gates
        .iter()
        .filter_map(|gate| register.gate(gate).cloned())
        .collect();

    let body = {
        let motion = motion.clone();
        move || {
            let register = live.register();
            let evaluation = live.evaluation.get();
            let state = live.live.get();
            let Some(status) = evaluation.motion(&motion.id).cloned() else {
                return ().into_any();
            };
            let outlook = motion_outlook(&register, &motion, &state.readiness.inputs, &evaluation);
            let in_the_way: Vec<_> = register
                .blockers
                .iter()
                .zip(&evaluation.blockers)
                .filter(|(blocker, state)| state.live && holds_back(&motion, blocker))
                .map(|(blocker, _)| (blocker.id.clone(), blocker.title.clone()))
                .collect();
            let more = in_the_way.len().saturating_sub(LIST_LIMIT);
            view! {
                <section class="motion-status" aria-labelledby="status-heading">
                    <h2 id="status-heading">"Status"</h2>
                    <p class="motion-status__line" data-testid="motion-status">
                        <StatusBadge status=status.status.as_str()/>
                    </p>
                    {(!status.reasons.is_empty()).then(|| view! {
                        <ul class="reasons">
                            {status.reasons.iter().take(LIST_LIMIT).map(|reason| {
                                let class = if reason.is_hard() { "reason reason--hard" } else { "reason" };
                                view! { <li class=class>{reason.to_string()}</li> }
                            }).collect_view()}
                            {(status.reasons.len() > LIST_LIMIT).then(|| view! {
                                <li>"… and " {status.reasons.len() - LIST_LIMIT} " more"</li>
                            })}
                        </ul>
                    })}
                </section>
                <section aria-labelledby="requirements-heading">
                    <h2 id="requirements-heading">"Requirements"</h2>
                    <ul class="requirements" data-testid="requirements">
                        {outlook.requirements.into_iter().map(|requirement| {
                            let status = match (requirement.met, requirement.hard) {
                                (true, _) => "met",
                                (false, true) => "unmet",
                                (false, false) => "outstanding",
                            };
                            view! {
                                <li class=format!("requirement requirement--{status}") data-testid="requirement">
                                    <StatusBadge status/>
                                    " " {requirement.text}
                                    <span class="requirement__kind">
                                        {if requirement.hard { " (blocks when unmet)" } else { " (leaves it conditional)" }}
                                    </span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
                <section aria-labelledby="steps-heading">
                    <h2 id="steps-heading">"What would change its status"</h2>
                    {if outlook.steps.is_empty() {
                        view! { <p data-testid="steps">"Nothing: the motion is clear."</p> }.into_any()
                    } else {
                        view! {
                            <ol class="steps" data-testid="steps">
                                {outlook.steps.into_iter().map(|step| {
                                    let more = step.actions.len().saturating_sub(LIST_LIMIT);
                                    view! {
                                        <li data-testid="step">
                                            <ul class="steps__actions">
                                                {step.actions.iter().take(LIST_LIMIT).map(|action| view! {
                                                    <li>{action.to_string()}</li>
                                                }).collect_view()}
                                                {(more > 0).then(|| view! { <li>"… and " {more} " more"</li> })}
                                            </ul>
                                            <p class="steps__to">"→ " <StatusBadge status=step.to.as_str()/></p>
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }.into_any()
                    }}
                </section>
                <section aria-labelledby="in-the-way-heading">
                    <h2 id="in-the-way-heading">"Blockers in the way"</h2>
                    {if in_the_way.is_empty() {
                        view! { <p data-testid="in-the-way">"No live blocker holds this motion back."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="in-the-way" data-testid="in-the-way">
                                {in_the_way.into_iter().take(LIST_LIMIT).map(|(id, title)| view! {
                                    <li><a href=format!("/blockers/{id}")>{title}</a></li>
                                }).collect_view()}
                                {(more > 0).then(|| view! { <li>"… and " {more} " more"</li> })}
                            </ul>
                        }.into_any()
                    }}
                </section>
            }
            .into_any()
        }
    };

    view! {
        <Title text=title/>
        <main class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">{register.page.title.clone()}</a> " › " {motion.name.clone()}
            </nav>
            <ConnectionIndicator connection=live.connection/>
            <header class="motion-header">
                <h1>{motion.name.clone()}</h1>
                <p>{motion.summary.clone()}</p>
                <p class="motion__rule"><span class="label">"Rule: "</span>{motion.rule.clone()}</p>
                <p><a href=filtered data-testid="motion-blockers-link">"Show these blockers in the register’s table"</a></p>
            </header>
            {body}
            <section aria-labelledby="gates-heading">
                <h2 id="gates-heading">"Customer evidence it needs"</h2>
                {if gates.is_empty() {
                    view! { <p>"This motion needs no customer evidence gate."</p> }.into_any()
                } else {
                    view! {
                        <p>"Each tenant must attach this evidence; until then the motion stays conditional for that tenant."</p>
                        <div class="gates">
                            {gates.into_iter().map(|gate| view! { <GateCard gate/> }).collect_view()}
                        </div>
                    }.into_any()
                }}
            </section>
        </main>
    }
    .into_any()
}
