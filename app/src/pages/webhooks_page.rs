//! `/admin/webhooks`: every webhook endpoint (where it points, what it wants,
//! whether it is enabled and, if the server disabled it, why) and the form for
//! a new one. Operators only; forms are plain posts.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};

use crate::page_data::webhooks::{get_webhooks, EndpointRow, WebhooksView};
use crate::pages::shared::{
    datetime_value, format_time, with_account, FormMessage, StatusBadge, SKIP_TO_CONTENT,
};
use crate::pages::webhook_form::{list_or_every, EndpointFields, SecretNotice, WebhookDenied};

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let webhooks = Resource::new(|| (), |()| get_webhooks());
    with_account(SKIP_TO_CONTENT, move |_live| {
        view! {
            <Title text="Webhooks · Clearance"/>
            <Meta
                name="description"
                content="Webhook endpoints of Clearance: where events are delivered, which events each wants, and the form for a new endpoint."
            />
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match webhooks.await {
                        Ok(view) => view! { <WebhooksBody view/> }.into_any(),
                        Err(error) => view! { <WebhookDenied error next="/admin/webhooks".to_owned()/> }.into_any(),
                    }
                })}
            </Suspense>
        }
    })
}

#[component]
fn WebhooksBody(view: WebhooksView) -> impl IntoView {
    let WebhooksView {
        endpoints,
        choices,
        new_secret,
        allow_private,
    } = view;
    view! {
        <main class="page" id="content">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">"Launch clearance"</a> " › " <a href="/admin">"Administration"</a> " › Webhooks"
            </nav>
            <h1>"Webhooks"</h1>
            <FormMessage testid="webhook"/>
            {new_secret.map(|secret| view! { <SecretNotice secret/> })}
            <p>
                "Each event Clearance records is POSTed to every enabled endpoint that wants it, signed with the endpoint's own secret ("
                <a href="https://www.standardwebhooks.com/">"Standard Webhooks"</a>
                "). An endpoint that fails for too long is disabled; enable it again and redeliver from its page."
            </p>
            <section aria-labelledby="endpoints-heading">
                <h2 id="endpoints-heading">"Endpoints"</h2>
                {if endpoints.is_empty() {
                    view! { <p data-testid="no-endpoints">"No webhook endpoint yet."</p> }.into_any()
                } else {
                    view! { <EndpointTable endpoints/> }.into_any()
                }}
            </section>
            <section aria-labelledby="new-endpoint-heading">
                <h2 id="new-endpoint-heading">"New endpoint"</h2>
                <form method="post" action="/admin/webhooks" class="form" data-testid="new-endpoint">
                    <EndpointFields prefix="new" choices current=None/>
                    <p class="hint">
                        {if allow_private {
                            "Loopback and private addresses are allowed on this server (CLEARANCE_WEBHOOK_ALLOW_PRIVATE)."
                        } else {
                            "Destinations on loopback, private or link-local addresses are refused (CLEARANCE_WEBHOOK_ALLOW_PRIVATE allows them)."
                        }}
                    </p>
                    <button type="submit" class="button">"Create endpoint"</button>
                </form>
            </section>
        </main>
    }
    .into_any()
}

#[component]
fn EndpointTable(endpoints: Vec<EndpointRow>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="endpoints">
                <thead>
                    <tr>
                        <th scope="col">"URL"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col">"Event types"</th>
                        <th scope="col">"Format"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Failing since"</th>
                    </tr>
                </thead>
                <tbody>
                    {endpoints.into_iter().map(|row| {
                        let state = if row.enabled {
                            view! { <StatusBadge status="enabled"/> }.into_any()
                        } else {
                            view! {
                                <StatusBadge status="disabled"/>
                                {row.disabled_reason.map(|reason| view! { <p class="hint">{reason}</p> })}
                            }
                            .into_any()
                        };
                        view! {
                            <tr>
                                <th scope="row"><a href=format!("/admin/webhooks/{}", row.id)>{row.url}</a></th>
                                <td>{row.description}</td>
                                <td>{list_or_every(&row.event_types, "every event")}</td>
                                <td>{row.format}</td>
                                <td>{state}</td>
                                <td>{row.failing_since.map(|since| view! { <time datetime=datetime_value(since)>{format_time(since)}</time> })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
