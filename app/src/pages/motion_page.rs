//! `/motions/{id}`: one launch motion — its status and rule, each requirement met
//! or unmet, what stands in its way, and what would change its status.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::domain::triage::BlockerFilter;
use crate::page_data::register::{get_motion, MotionView};
use crate::page_data::ClearanceError;
use crate::pages::register_page::GateCard;
use crate::pages::shared::{
    with_clearance, LivePage, SectionError, StatusBadge, DEFAULT_DESCRIPTION, SKIP_TO_CONTENT,
};
use crate::pages::NotFound;

#[component]
pub fn MotionPage() -> impl IntoView {
    let params = use_params_map();
    let motion = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_motion,
    );
    with_clearance(SKIP_TO_CONTENT, move |live| {
        view! {
            <Suspense fallback=|| view! { <p class="loading">"Loading the motion…"</p> }>
                {move || {
                    let live = live.clone();
                    Suspend::new(async move {
                    match motion.await {
                        Ok(view) => view! { <MotionBody live view/> }.into_any(),
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
fn MotionBody(live: LivePage, view: MotionView) -> impl IntoView {
    let outline = live.outline;
    let MotionView {
        motion,
        status,
        outlook,
        in_the_way,
        gates,
    } = view;
    let title = format!("{} · {}", motion.name, outline.page.title);
    let description = format!(
        "{}, {}: {}",
        outline.organisation, motion.name, motion.summary
    );
    let filtered = BlockerFilter {
        motion: Some(motion.id.clone()),
        ..BlockerFilter::default()
    }
    .href();
    view! {
        <Title text=title/>
        <Meta name="description" content=description/>
        <main class="page" id="content" data-live>
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">{outline.page.title.clone()}</a> " › " {motion.name.clone()}
            </nav>
            <header class="motion-header">
                <h1>{motion.name.clone()}</h1>
                <p>{motion.summary}</p>
                <p class="motion__rule"><span class="label">"Rule: "</span>{motion.rule}</p>
                <p><a href=filtered data-testid="motion-blockers-link">"Show these blockers in the register’s table"</a></p>
            </header>
            <section class="motion-status" aria-labelledby="status-heading">
                <h2 id="status-heading">"Status"</h2>
                <p class="motion-status__line" data-testid="motion-status">
                    <StatusBadge status=status.status.as_str()/>
                </p>
                {(!status.reasons.items.is_empty()).then(|| view! {
                    <ul class="reasons">
                        {status.reasons.items.iter().map(|reason| {
                            let class = if reason.is_hard() { "reason reason--hard" } else { "reason" };
                            view! { <li class=class>{reason.to_string()}</li> }
                        }).collect_view()}
                        {(status.reasons.more > 0).then(|| view! { <li>"… and " {status.reasons.more} " more"</li> })}
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
                            {outlook.steps.into_iter().map(|step| view! {
                                <li data-testid="step">
                                    <ul class="steps__actions">
                                        {step.actions.iter().map(|action| view! { <li>{action.to_string()}</li> }).collect_view()}
                                    </ul>
                                    <p class="steps__to">"→ " <StatusBadge status=step.to.as_str()/></p>
                                </li>
                            }).collect_view()}
                        </ol>
                    }.into_any()
                }}
            </section>
            <section aria-labelledby="in-the-way-heading">
                <h2 id="in-the-way-heading">"Blockers in the way"</h2>
                {if in_the_way.items.is_empty() {
                    view! { <p data-testid="in-the-way">"No live blocker holds this motion back."</p> }.into_any()
                } else {
                    view! {
                        <ul class="in-the-way" data-testid="in-the-way">
                            {in_the_way.items.into_iter().map(|(id, title)| view! {
                                <li><a href=format!("/blockers/{id}")>{title}</a></li>
                            }).collect_view()}
                            {(in_the_way.more > 0).then(|| view! { <li>"… and " {in_the_way.more} " more"</li> })}
                        </ul>
                    }.into_any()
                }}
            </section>
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
