//! The sponsor's acceptance form. A plain post to the review step that works
//! before (and without) the WASM; once hydrated, each field is checked as it is
//! typed, with the same rules the server applies.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::access::FieldError;
use crate::domain::launch_room::{
    check_acceptance_fields, AcceptanceForm, MAX_FIELD_CHARS, MAX_TEXT_CHARS,
};

/// What the form is rendered from: the sponsor's entries so far and what the
/// server found wrong with them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValues {
    /// Where the form posts: the room's review step.
    pub action: String,
    pub form: AcceptanceForm,
    pub errors: Vec<FieldError>,
    /// The live blockers the motion allows the sponsor to scope out: (id, title).
    pub scopable: Vec<(String, String)>,
}

impl FieldValues {
    fn error(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.clone())
    }
}

#[island]
pub fn AcceptanceFields(values: FieldValues) -> impl IntoView {
    let server_error = |field: &str| values.error(field);
    let form = RwSignal::new(values.form.clone());
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let inline = move |field: &'static str| {
        move || {
            if !touched.read().contains(&field) {
                return None;
            }
            check_acceptance_fields(&form.read())
                .into_iter()
                .find(|error: &FieldError| error.field == field)
                .map(|error| error.message)
        }
    };
    let room_error = server_error("room").or_else(|| server_error("readiness_digest"));
    let residual_server = server_error("residual_risks");
    let entered = values.form.clone();
    view! {
        <form method="post" action=values.action.clone() class="form acceptance-form" data-testid="acceptance-form" novalidate>
            <h3>"Sign launch acceptance"</h3>
            <p class="hint">"You will see exactly what you are accepting before you sign."</p>
            {room_error.map(|error| view! { <p class="notice notice--error" role="alert">{error}</p> })}
            <Field field="signer_name" label="Signer name" value=entered.signer_name
                server=server_error("signer_name") inline=inline("signer_name")
                on_input=move |value| { form.update(|form| form.signer_name = value); touch(touched, "signer_name"); }/>
            <Field field="signer_role" label="Signer role" value=entered.signer_role
                server=server_error("signer_role") inline=inline("signer_role")
                on_input=move |value| { form.update(|form| form.signer_role = value); touch(touched, "signer_role"); }/>
            <Field field="approval_reference" label="Approval reference" value=entered.approval_reference
                server=server_error("approval_reference") inline=inline("approval_reference")
                on_input=move |value| { form.update(|form| form.approval_reference = value); touch(touched, "approval_reference"); }/>
            <fieldset class="exclusions" aria-describedby="exclusions-hint">
                <legend>"Scoped exclusions"</legend>
                <p class="hint" id="exclusions-hint">"Live blockers this motion allows you to scope out of the order form. An excluded blocker no longer holds this tenant’s motion at conditional."</p>
                {if values.scopable.is_empty() {
                    view! { <p>"None: no live blocker can be scoped out."</p> }.into_any()
                } else {
                    values.scopable.iter().map(|(id, title)| {
                        let checked = entered.exclusions.contains(id);
                        let input_id = format!("exclude-{id}");
                        view! {
                            <label class="checkbox" for=input_id.clone()>
                                <input type="checkbox" id=input_id.clone() name="exclusions" value=id.clone() checked=checked/>
                                {title.clone()}
                            </label>
                        }
                    }).collect_view().into_any()
                }}
                {server_error("exclusions").map(|error| view! { <p class="field-error" role="alert">{error}</p> })}
            </fieldset>
            <label for="residual_risks">"Residual risks"</label>
            <textarea id="residual_risks" name="residual_risks" maxlength=MAX_TEXT_CHARS.to_string() rows="4"
                on:input=move |event| { form.update(|form| form.residual_risks = event_target_value(&event)); touch(touched, "residual_risks"); }
            >{entered.residual_risks}</textarea>
            {move || inline("residual_risks")().or_else(|| residual_server.clone()).map(|error| view! { <p class="field-error" role="alert">{error}</p> })}
            <button type="submit" class="button">"Review acceptance"</button>
        </form>
    }
}

fn touch(touched: RwSignal<Vec<&'static str>>, field: &'static str) {
    if !touched.read_untracked().contains(&field) {
        touched.update(|touched| touched.push(field));
    }
}

/// One text field with its message: the inline check once the field has been
/// typed in, else what the server said.
#[component]
fn Field<I, F>(
    field: &'static str,
    label: &'static str,
    value: String,
    server: Option<String>,
    inline: I,
    on_input: F,
) -> impl IntoView
where
    I: Fn() -> Option<String> + Send + Sync + 'static,
    F: Fn(String) + 'static,
{
    let message_id = format!("{field}-error");
    let server = StoredValue::new(server);
    let message = Memo::new(move |_| inline().or_else(|| server.get_value()));
    let invalid = move || message.read().is_some().to_string();
    view! {
        <label for=field>{label}</label>
        <input id=field name=field value=value required maxlength=MAX_FIELD_CHARS.to_string()
            aria-invalid=invalid aria-describedby=message_id.clone()
            on:input=move |event| on_input(event_target_value(&event))/>
        <p class="field-error" id=message_id role="alert" data-testid=format!("{field}-error")>{message}</p>
    }
}
