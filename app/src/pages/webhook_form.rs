//! What both webhook pages share: the endpoint form's fields, the one-time
//! display of a signing secret and the refusal page.

use leptos::prelude::*;

use crate::domain::webhook::{WebhookFormat, MAX_DESCRIPTION_CHARS};
use crate::islands::CopyButton;
use crate::page_data::webhooks::{Choice, Choices, EndpointRow, NewSecret};
use crate::page_data::ClearanceError;
use crate::pages::shared::Denied;

/// A secret just made or rotated, with a copy button and the warning that it
/// is not shown again.
#[component]
pub fn SecretNotice(secret: NewSecret) -> impl IntoView {
    let NewSecret { url, secret, .. } = secret;
    view! {
        <section class="notice" id="new-secret" aria-labelledby="new-secret-heading" data-testid="new-secret">
            <h2 id="new-secret-heading">"Signing secret"</h2>
            <p>
                "The signing secret of " <code>{url}</code> ". Put it into the receiver now: it is "
                <strong>"shown only this once"</strong> " and cannot be read again; if it is lost, rotate it."
            </p>
            <div class="command-block">
                <pre class="command"><code data-testid="webhook-secret">{secret.clone()}</code></pre>
                <CopyButton command=secret label="Copy secret".to_owned()/>
            </div>
        </section>
    }
}

/// The webhook pages' 403, 404 or 503 page; the public is sent to sign in and
/// then back.
#[component]
pub fn WebhookDenied(error: ClearanceError, next: String) -> impl IntoView {
    view! {
        <Denied title="Webhooks" error next not_found="No such webhook endpoint." redirect=true>
            <p><a href="/admin/webhooks">"Back to webhooks"</a></p>
        </Denied>
    }
}

/// The endpoint form's fields, filled from `current` when editing. Ids are
/// prefixed with `prefix`, so two forms could share a page.
#[component]
pub fn EndpointFields(
    prefix: &'static str,
    choices: Choices,
    current: Option<EndpointRow>,
) -> impl IntoView {
    let id = move |name: &str| format!("{prefix}-{name}");
    let (url, description, event_types, motions, tenants, format, enabled) = match current {
        Some(row) => (
            row.url,
            row.description,
            row.event_types,
            row.motions,
            row.tenants,
            row.format,
            row.enabled,
        ),
        None => (
            String::new(),
            String::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            WebhookFormat::Standard.as_str().to_owned(),
            true,
        ),
    };
    let slack = format == WebhookFormat::Slack.as_str();
    let Choices {
        event_types: type_choices,
        motions: motion_choices,
        tenants: tenant_choices,
    } = choices;
    view! {
        <label for=id("url")>"Destination URL"</label>
        <input id=id("url") name="url" type="url" required maxlength="2000" value=url
            placeholder="https://hooks.example.com/clearance"/>
        <label for=id("description")>"Description (optional)"</label>
        <input id=id("description") name="description" maxlength=MAX_DESCRIPTION_CHARS.to_string() value=description/>
        <Checkboxes prefix legend="Event types (none ticked: every type)" name="event_type" choices=type_choices ticked=event_types/>
        <Checkboxes prefix legend="Launch motions (none ticked: every motion)" name="motion" choices=motion_choices ticked=motions/>
        <Checkboxes prefix legend="Tenants, for tenant events (none ticked: every tenant)" name="tenant" choices=tenant_choices ticked=tenants/>
        <label for=id("format")>"Payload format"</label>
        <select id=id("format") name="format">
            <option value="standard" selected=!slack>"Standard Webhooks JSON"</option>
            <option value="slack" selected=slack>"Slack-compatible message"</option>
        </select>
        <label class="checkbox" for=id("enabled")>
            <input id=id("enabled") name="enabled" type="checkbox" value="on" checked=enabled/>
            "Enabled: deliver events to this endpoint"
        </label>
    }
    .into_any()
}

#[component]
fn Checkboxes(
    prefix: &'static str,
    legend: &'static str,
    name: &'static str,
    choices: Vec<Choice>,
    ticked: Vec<String>,
) -> impl IntoView {
    if choices.is_empty() {
        return ().into_any();
    }
    view! {
        <fieldset class="exclusions">
            <legend>{legend}</legend>
            {choices.into_iter().enumerate().map(|(index, choice)| {
                let id = format!("{prefix}-{name}-{index}");
                let label_for = id.clone();
                let value = choice.value.clone();
                let checked = ticked.contains(&choice.value);
                let tenant_note = choice.tenant_event.then_some(" (tenant event)");
                view! {
                    <label class="checkbox" for=label_for>
                        <input id=id type="checkbox" name=name value=value checked=checked/>
                        <span>{choice.label} " " <code>{choice.value}</code> {tenant_note}</span>
                    </label>
                }
            }).collect_view()}
        </fieldset>
    }
    .into_any()
}

/// The event types an endpoint wants, in words.
pub fn list_or_every(values: &[String], every: &'static str) -> String {
    if values.is_empty() {
        every.to_owned()
    } else {
        values.join(", ")
    }
}
