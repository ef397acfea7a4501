//! `/rooms/{slug}/review`: the step before signing. Shows exactly what the
//! sponsor is about to accept — the motion and its status for the tenant, the
//! readiness snapshot and its digest, the open blockers, the exclusions — and
//! signs it with a plain form post.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::islands::{SignForm, Signature};
use crate::page_data::rooms::{get_room, RoomPages, RoomView};
use crate::pages::rooms_page::RoomDenied;
use crate::pages::shared::{with_clearance, StatusBadge, SKIP_TO_CONTENT};

#[component]
pub fn ReviewPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let room = Resource::new(slug, |slug| get_room(slug, RoomPages::default()));
    with_clearance(SKIP_TO_CONTENT, move |_live| {
        view! {
            <Title text="Review launch acceptance · Clearance"/>
            <Meta name="description" content="Review exactly what a launch acceptance signs: the motion, the readiness snapshot and its digest, the open blockers and the exclusions."/>
            <Suspense fallback=|| view! { <p class="loading">"Loading the review…"</p> }>
                {move || Suspend::new(async move {
                    match room.await {
                        Ok(view) => view! { <ReviewBody view/> }.into_any(),
                        Err(error) => view! { <RoomDenied error next=format!("/rooms/{}/review", slug())/> }.into_any(),
                    }
                })}
            </Suspense>
        }
    })
}

#[component]
fn ReviewBody(view: RoomView) -> impl IntoView {
    let room_href = format!("/rooms/{}", view.tenant.slug);
    let back = format!("{room_href}#acceptance");
    let draft = view.draft.clone().filter(|draft| draft.errors.is_empty());
    let body = match draft {
        None => view! {
            <p class="notice">"Nothing to review: fill in the acceptance form first."</p>
            <p><a href=back>"Back to the launch room"</a></p>
        }
        .into_any(),
        Some(draft) if draft.form.readiness_digest != view.status.readiness_digest => view! {
            <p class="notice notice--error" role="alert" data-testid="review-stale">
                "Readiness changed since you started this review. Review it again with readiness as it is now."
            </p>
            <p><a href=back>"Back to the acceptance form"</a></p>
        }
        .into_any(),
        Some(draft) => {
            let form = draft.form;
            let motion = view.status.motion.clone();
            let exclusions: Vec<String> = form.exclusions.iter().map(|id| view.blocker_title(id)).collect();
            let open: Vec<String> = view.status.open_blockers.iter().map(|id| view.blocker_title(id)).collect();
            view! {
                <dl class="facts review" data-testid="review">
                    <div><dt>"Tenant"</dt><dd>{view.tenant.name.clone()}</dd></div>
                    <div><dt>"Motion accepted"</dt><dd data-testid="review-motion">{view.motion_name.clone().unwrap_or_default()}</dd></div>
                    <div><dt>"Status now"</dt><dd>{motion.map(|motion| view! { <StatusBadge status=motion.status.as_str()/> })}</dd></div>
                    <div><dt>"Readiness snapshot digest"</dt><dd><code class="digest" data-testid="review-digest">{form.readiness_digest.clone()}</code></dd></div>
                    <div><dt>"Open blockers"</dt><dd data-testid="review-open-blockers">
                        {if open.is_empty() { view! { "none" }.into_any() } else {
                            view! { <ul>{open.into_iter().map(|title| view! { <li>{title}</li> }).collect_view()}</ul> }.into_any()
                        }}
                    </dd></div>
                    <div><dt>"Scoped exclusions"</dt><dd data-testid="review-exclusions">
                        {if exclusions.is_empty() { view! { "none" }.into_any() } else {
                            view! { <ul>{exclusions.into_iter().map(|title| view! { <li>{title}</li> }).collect_view()}</ul> }.into_any()
                        }}
                    </dd></div>
                    <div><dt>"Residual risks"</dt><dd>{if form.residual_risks.is_empty() { "none stated".to_owned() } else { form.residual_risks.clone() }}</dd></div>
                    <div><dt>"Signer"</dt><dd data-testid="review-signer">{form.signer_name.clone()} " (" {form.signer_role.clone()} ")"</dd></div>
                    <div><dt>"Approval reference"</dt><dd>{form.approval_reference.clone()}</dd></div>
                </dl>
                <SignForm signature=Signature { slug: view.tenant.slug.clone(), form: form.clone(), back }/>
            }
            .into_any()
        }
    };
    view! {
        <main class="page page--narrow" id="content" data-live>
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">"Launch clearance"</a> " › " <a href="/rooms">"Launch rooms"</a> " › "
                <a href=room_href.clone()>{view.tenant.name.clone()}</a> " › Review"
            </nav>
            <h1>"Review launch acceptance"</h1>
            {body}
        </main>
    }
    .into_any()
}
