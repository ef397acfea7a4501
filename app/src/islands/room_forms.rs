//! The launch room's change forms, each a Leptos `ActionForm` for one of the
//! server functions in `crate::page_data::room_actions`. Rendered on the server
//! they are plain form posts, which work before (and without) the WASM; once
//! hydrated they call the server function, show its typed errors next to the
//! fields they name, and go to the room with the server's message when done.

use leptos::form::ActionForm;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::launch_room::{
    AcceptanceForm, MAX_FIELD_CHARS, MAX_NOTE_CHARS, MAX_REFERENCE_CHARS, MAX_TEXT_CHARS,
};
use crate::page_data::room_actions::{
    ChangeEvidence, RevokeAcceptance, RoomActionError, SignAcceptance,
};

/// An error message beside the field it names, or by the button for the form as a
/// whole; `id` lets the field point at it.
fn shown(message: Option<String>, id: String) -> impl IntoView {
    message.map(|message| {
        view! { <p class="field-error" role="alert" id=id data-testid="form-error">{message}</p> }
    })
}

/// The typed error of an action's last call, if it failed.
fn failed(
    value: impl Get<Value = Option<Result<String, RoomActionError>>> + Copy,
) -> impl Fn() -> Option<RoomActionError> + Copy {
    move || value.get().and_then(Result::err)
}

/// Which evidence item a form changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceTarget {
    pub slug: String,
    pub gate_id: String,
    pub item: String,
    /// Unique on the page: the fields' ids start with it.
    pub id: String,
}

/// An operator attaches evidence to an item (a reference and a note).
#[island]
pub fn AttachEvidenceForm(target: EvidenceTarget) -> impl IntoView {
    let action = ServerAction::<ChangeEvidence>::new();
    let error = failed(action.value());
    let id = target.id;
    let (reference_error, note_error, form_error) = (
        format!("{id}-error"),
        format!("{id}-note-error"),
        format!("{id}-form-error"),
    );
    view! {
        <ActionForm action attr:class="form form--inline" attr:data-testid="attach-form">
            <input type="hidden" name="slug" value=target.slug/>
            <input type="hidden" name="action" value="attach"/>
            <input type="hidden" name="gate_id" value=target.gate_id/>
            <input type="hidden" name="item" value=target.item/>
            <label for=id.clone()>"Reference or link"</label>
            <input id=id.clone() name="reference" required maxlength=MAX_REFERENCE_CHARS.to_string()/>
            {move || shown(error().and_then(|error| error.about("reference")), reference_error.clone())}
            <label for=format!("{id}-note")>"Note"</label>
            <input id=format!("{id}-note") name="note" maxlength=MAX_NOTE_CHARS.to_string()/>
            {move || shown(error().and_then(|error| error.about("note")), note_error.clone())}
            <button type="submit" class="button" disabled=move || action.pending().get()>"Attach"</button>
            {move || shown(error().and_then(|error| error.general(&["reference", "note"])), form_error.clone())}
        </ActionForm>
    }
}

/// An operator detaches an item's evidence.
#[island]
pub fn DetachEvidenceForm(target: EvidenceTarget) -> impl IntoView {
    let action = ServerAction::<ChangeEvidence>::new();
    let error = failed(action.value());
    let form_error = format!("{}-detach-error", target.id);
    view! {
        <ActionForm action attr:class="inline-form">
            <input type="hidden" name="slug" value=target.slug/>
            <input type="hidden" name="action" value="detach"/>
            <input type="hidden" name="gate_id" value=target.gate_id/>
            <input type="hidden" name="item" value=target.item/>
            <button type="submit" class="button button--secondary" disabled=move || action.pending().get()>"Detach"</button>
            {move || shown(error().and_then(|error| error.general(&[])), form_error.clone())}
        </ActionForm>
    }
}

/// The sponsor revokes the standing acceptance.
#[island]
pub fn RevocationForm(slug: String) -> impl IntoView {
    let action = ServerAction::<RevokeAcceptance>::new();
    let error = failed(action.value());
    let about = move |field: &'static str| {
        move || {
            shown(
                error().and_then(|error| error.about(field)),
                format!("revoke-{field}-error"),
            )
        }
    };
    view! {
        <ActionForm action attr:class="form" attr:data-testid="revocation-form">
            <h3>"Revoke launch acceptance"</h3>
            <input type="hidden" name="slug" value=slug/>
            <label for="revoke-name">"Signer name"</label>
            <input id="revoke-name" name="signer_name" required maxlength=MAX_FIELD_CHARS.to_string()/>
            {about("signer_name")}
            <label for="revoke-role">"Signer role"</label>
            <input id="revoke-role" name="signer_role" required maxlength=MAX_FIELD_CHARS.to_string()/>
            {about("signer_role")}
            <label for="revoke-reason">"Reason"</label>
            <textarea id="revoke-reason" name="reason" required maxlength=MAX_TEXT_CHARS.to_string() rows="3"></textarea>
            {about("reason")}
            <button type="submit" class="button button--secondary" disabled=move || action.pending().get()>"Revoke acceptance"</button>
            {move || shown(error().and_then(|error| error.general(&["signer_name", "signer_role", "reason"])), "revoke-error".to_owned())}
        </ActionForm>
    }
}

/// What the review step signs: the entries it showed, carried as hidden fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub slug: String,
    pub form: AcceptanceForm,
    /// The acceptance form, to change the entries.
    pub back: String,
}

/// The sponsor signs what the review showed.
#[island]
pub fn SignForm(signature: Signature) -> impl IntoView {
    let action = ServerAction::<SignAcceptance>::new();
    let error = failed(action.value());
    let Signature { slug, form, back } = signature;
    let fields = vec![
        ("slug".to_owned(), slug),
        ("signer_name".to_owned(), form.signer_name),
        ("signer_role".to_owned(), form.signer_role),
        ("approval_reference".to_owned(), form.approval_reference),
        ("residual_risks".to_owned(), form.residual_risks),
        ("readiness_digest".to_owned(), form.readiness_digest),
        ("exclusions".to_owned(), form.exclusions.join(",")),
    ];
    view! {
        <ActionForm action attr:class="form" attr:data-testid="sign-form">
            {fields
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
                .collect_view()}
            <p>"By signing you accept this launch for the tenant with readiness exactly as above. If readiness changes, the acceptance shows as changed and must be signed again."</p>
            {move || shown(error().map(|error| error.to_string()), "sign-error".to_owned())}
            <button type="submit" class="button" disabled=move || action.pending().get()>"Sign launch acceptance"</button>
            " " <a href=back>"Change the entries"</a>
        </ActionForm>
    }
}
