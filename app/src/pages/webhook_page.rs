//! `/admin/webhooks/{id}`: one webhook endpoint — its settings to edit, enable
//! or disable, its secret to rotate, delete — and its newest deliveries, each
//! with a Redeliver button. Operators only; forms are plain posts.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::page_data::webhooks::{get_webhook, DeliveryRow, EndpointRow, WebhookView};
use crate::page_data::ClearanceError;
use crate::pages::shared::{
    datetime_value, format_time, with_account, FormMessage, StatusBadge, SKIP_TO_CONTENT,
};
use crate::pages::webhook_form::{list_or_every, EndpointFields, SecretNotice, WebhookDenied};

#[component]
pub fn WebhookPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let webhook = Resource::new(id, |id| async move {
        match id.parse::<i64>() {
            Ok(id) => get_webhook(id).await,
            Err(_) => Err(ClearanceError::NotFound),
        }
    });
    with_account(SKIP_TO_CONTENT, move |_live| {
        view! {
            <Title text="Webhook endpoint · Clearance"/>
            <Meta
                name="description"
                content="A webhook endpoint of Clearance: its settings, its signing secret's rotation, and its newest deliveries."
            />
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match webhook.await {
                        Ok(view) => view! { <WebhookBody view/> }.into_any(),
                        Err(error) => view! { <WebhookDenied error next=format!("/admin/webhooks/{}", id())/> }.into_any(),
                    }
                })}
            </Suspense>
        }
    })
}

#[component]
fn WebhookBody(view: WebhookView) -> impl IntoView {
    let WebhookView {
        endpoint,
        deliveries,
        choices,
        new_secret,
    } = view;
    let id = endpoint.id;
    let action = move |what: &str| format!("/admin/webhooks/{id}{what}");
    let (toggle, toggle_label) = if endpoint.enabled {
        ("false", "Disable")
    } else {
        ("true", "Enable")
    };
    view! {
        <main class="page" id="content">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">"Launch clearance"</a> " › " <a href="/admin">"Administration"</a> " › "
                <a href="/admin/webhooks">"Webhooks"</a> " › " {format!("Endpoint {id}")}
            </nav>
            <h1>"Webhook endpoint"</h1>
            <p><code data-testid="endpoint-url">{endpoint.url.clone()}</code></p>
            <FormMessage testid="webhook"/>
            {new_secret.map(|secret| view! { <SecretNotice secret/> })}
            <Facts endpoint=endpoint.clone()/>
            <div>
                <form method="post" action=action("/enabled") class="inline-form">
                    <input type="hidden" name="enabled" value=toggle/>
                    <button type="submit" class="button button--secondary">{toggle_label}</button>
                </form>
                <form method="post" action=action("/rotate") class="inline-form">
                    <button type="submit" class="button button--secondary">"Rotate secret"</button>
                </form>
                <form method="post" action=action("/delete") class="inline-form">
                    <button type="submit" class="button button--secondary">"Delete endpoint"</button>
                </form>
            </div>
            <p class="hint">
                "Rotating makes a new secret, shown once; the old one keeps signing beside it for 24 hours, so the receiver can switch without losing a delivery. Deleting removes the endpoint and its deliveries."
            </p>
            <section aria-labelledby="deliveries-heading">
                <h2 id="deliveries-heading">"Newest deliveries"</h2>
                {if deliveries.is_empty() {
                    view! { <p data-testid="no-deliveries">"No delivery yet."</p> }.into_any()
                } else {
                    view! { <Deliveries endpoint=id deliveries/> }.into_any()
                }}
            </section>
            <section aria-labelledby="edit-heading">
                <h2 id="edit-heading">"Settings"</h2>
                <form method="post" action=action("") class="form" data-testid="edit-endpoint">
                    <EndpointFields prefix="edit" choices current=Some(endpoint)/>
                    <button type="submit" class="button">"Save endpoint"</button>
                </form>
            </section>
        </main>
    }
    .into_any()
}

#[component]
fn Facts(endpoint: EndpointRow) -> impl IntoView {
    let time = |at: chrono::DateTime<chrono::Utc>| {
        view! { <time datetime=datetime_value(at)>{format_time(at)}</time> }
    };
    view! {
        <dl class="facts">
            <div>
                <dt>"State"</dt>
                <dd data-testid="endpoint-state">
                    <StatusBadge status=if endpoint.enabled { "enabled" } else { "disabled" }/>
                    {endpoint.disabled_reason.map(|reason| view! { " " {reason} })}
                </dd>
            </div>
            <div><dt>"Description"</dt><dd>{endpoint.description}</dd></div>
            <div><dt>"Event types"</dt><dd>{list_or_every(&endpoint.event_types, "every event")}</dd></div>
            <div><dt>"Motions"</dt><dd>{list_or_every(&endpoint.motions, "every motion")}</dd></div>
            <div><dt>"Tenants"</dt><dd>{list_or_every(&endpoint.tenants, "every tenant")}</dd></div>
            <div><dt>"Format"</dt><dd>{endpoint.format}</dd></div>
            {endpoint.failing_since.map(|since| view! { <div><dt>"Failing since"</dt><dd>{time(since)}</dd></div> })}
            {endpoint.previous_secret_expires_at.map(|until| view! { <div><dt>"Previous secret signs until"</dt><dd>{time(until)}</dd></div> })}
            <div><dt>"Created"</dt><dd>{time(endpoint.created_at)} " by " {endpoint.created_by}</dd></div>
        </dl>
    }
}

#[component]
fn Deliveries(endpoint: i64, deliveries: Vec<DeliveryRow>) -> impl IntoView {
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map(|at| view! { <time datetime=datetime_value(at)>{format_time(at)}</time> })
    };
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="deliveries">
                <thead>
                    <tr>
                        <th scope="col">"Event type"</th>
                        <th scope="col">"Event id"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Attempts"</th>
                        <th scope="col">"Last attempt"</th>
                        <th scope="col">"Response"</th>
                        <th scope="col">"Last error"</th>
                        <th scope="col">"Next attempt"</th>
                        <th scope="col">"Action"</th>
                    </tr>
                </thead>
                <tbody>
                    {deliveries.into_iter().map(|delivery| {
                        let (status, label) = match delivery.status.as_str() {
                            "delivered" => ("passed", Some("delivered")),
                            "pending" => ("pending", None),
                            _ => ("failed", None),
                        };
                        let action = format!("/admin/webhooks/{endpoint}/deliveries/{}/redeliver", delivery.id);
                        let event_id = delivery.event_id.clone();
                        view! {
                            <tr>
                                <td>{delivery.event_type}</td>
                                <td><code>{delivery.event_id}</code></td>
                                <td><StatusBadge status label=label.unwrap_or(status)/></td>
                                <td>{delivery.attempts}</td>
                                <td>{time(delivery.last_attempt_at)}</td>
                                <td>{delivery.response_code.map(|code| code.to_string())}</td>
                                <td>{delivery.last_error}</td>
                                <td>{time(delivery.next_attempt_at)}</td>
                                <td>
                                    <form method="post" action=action class="inline-form">
                                        <button type="submit" class="button button--secondary" aria-label=format!("Redeliver {event_id}")>"Redeliver"</button>
                                    </form>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
