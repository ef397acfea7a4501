//! `/account/notifications`: any signed-in account chooses what it is mailed
//! about (event types it may see, optionally one or more motions) and removes
//! subscriptions; `/unsubscribe/{token}`: the link in every mail, confirmed with
//! one button. Plain form posts, no script needed.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::page_data::notifications::{
    get_notifications, get_unsubscribe, NotificationsView, UnsubscribeLink,
};
use crate::pages::shared::{
    format_time, with_account, Denied, FormMessage, SectionError, SKIP_TO_CONTENT,
};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let notifications = Resource::new(|| (), |()| get_notifications());
    with_account(SKIP_TO_CONTENT, move |_live| {
        view! {
            <Title text="E-mail notifications · Clearance"/>
            <Meta
                name="description"
                content="Choose which Clearance events you are told about by e-mail: launch motion status changes, blockers, proofs, sources and your tenants' launch rooms."
            />
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match notifications.await {
                        Ok(view) => view! { <NotificationsBody view/> }.into_any(),
                        Err(error) => view! {
                            <Denied title="E-mail notifications" error next="/account/notifications".to_owned()/>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        }
    })
}

#[component]
fn NotificationsBody(view: NotificationsView) -> impl IntoView {
    let NotificationsView {
        email_configured,
        email,
        subscriptions,
        event_types,
        motions,
    } = view;
    view! {
        <main class="page page--narrow" id="content">
            <nav class="breadcrumb" aria-label="Breadcrumb"><a href="/">"Launch clearance"</a> " › E-mail notifications"</nav>
            <h1>"E-mail notifications"</h1>
            {(!email_configured).then(|| view! {
                <p class="notice" role="status" data-testid="email-not-configured">
                    "E-mail is not configured on this server (no SMTP relay): nothing is mailed until an operator sets CLEARANCE_SMTP_URL. Subscriptions made now take effect then."
                </p>
            })}
            <FormMessage testid="notifications"/>
            <p>"Mail goes to " <strong data-testid="notifications-email">{email}</strong>
               ". Events about a tenant reach you only if your account may see that tenant. Every mail has an unsubscribe link."</p>
            <section aria-labelledby="subscriptions-heading">
                <h2 id="subscriptions-heading">"Your subscriptions"</h2>
                {if subscriptions.is_empty() {
                    view! { <p data-testid="no-subscriptions">"None yet."</p> }.into_any()
                } else {
                    view! {
                        <ul data-testid="subscriptions">
                            {subscriptions.into_iter().map(|subscription| {
                                let id = subscription.id;
                                let description = subscription.description.clone();
                                view! {
                                    <li>
                                        {subscription.description}
                                        {subscription.automatic.then_some(" (made for you)")}
                                        " · since " {format_time(subscription.created_at)}
                                        <form method="post" action=format!("/account/notifications/{id}/delete") class="inline-form">
                                            <button type="submit" class="button button--secondary" aria-label=format!("Remove: {description}")>"Remove"</button>
                                        </form>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            <form method="post" action="/account/notifications" class="form" data-testid="new-subscription">
                <h2>"Subscribe"</h2>
                <fieldset>
                    <legend>"Tell me when (none chosen: every event)"</legend>
                    {event_types.into_iter().map(|choice| {
                        let id = format!("type-{}", choice.value.replace('.', "-"));
                        view! {
                            <div>
                                <input type="checkbox" id=id.clone() name="event_type" value=choice.value/>
                                " "
                                <label for=id>{choice.label}</label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"About these launch motions (none chosen: every motion)"</legend>
                    {motions.into_iter().map(|choice| {
                        let id = format!("motion-{}", choice.value);
                        view! {
                            <div>
                                <input type="checkbox" id=id.clone() name="motion" value=choice.value/>
                                " "
                                <label for=id>{choice.label}</label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <button type="submit" class="button">"Subscribe"</button>
            </form>
        </main>
    }
    .into_any()
}

#[component]
pub fn UnsubscribePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let link = Resource::new(token, get_unsubscribe);
    view! {
        <Title text="Unsubscribe · Clearance"/>
        <Meta
            name="description"
            content="Stop the Clearance e-mail this link came in."
        />
        <main class="page page--narrow" id="content">
            <h1>"Unsubscribe"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Checking the link…"</p> }>
                {move || Suspend::new(async move {
                    let confirm = |what: String| view! {
                        <p data-testid="unsubscribe-what">{what}</p>
                        <form method="post" action=format!("/unsubscribe/{}", token()) class="form">
                            <button type="submit" class="button">"Unsubscribe"</button>
                        </form>
                    };
                    match link.await {
                        Ok(UnsubscribeLink::Subscription { email, description }) => confirm(format!(
                            "Stop mail to {email} about {description}."
                        )).into_any(),
                        Ok(UnsubscribeLink::Invitations { email }) => confirm(format!(
                            "Stop invitation mail to {email}."
                        )).into_any(),
                        Ok(UnsubscribeLink::Done) => view! {
                            <p class="notice" role="status" data-testid="unsubscribed">"You are unsubscribed: this mail will not come again."</p>
                        }.into_any(),
                        Ok(UnsubscribeLink::Unknown) => view! {
                            <p class="notice notice--error" role="alert" data-testid="unsubscribe-unknown">
                                "This unsubscribe link is not valid. Check that you copied the whole link, or sign in and change your notifications."
                            </p>
                        }.into_any(),
                        Err(error) => view! { <SectionError error/> }.into_any(),
                    }
                })}
            </Suspense>
            <p><a href="/account/notifications">"Your e-mail notifications"</a></p>
        </main>
    }
}
