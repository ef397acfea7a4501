//! The copy button of a proof command. Hidden in the server's HTML (the command
//! is plain selectable text there) and shown once the island is interactive.

use leptos::prelude::*;

#[island]
pub fn CopyButton(command: String, label: String) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let status = RwSignal::new(String::new());
    let copy = move |_| copy_to_clipboard(command.clone(), status);
    view! {
        <div class="command-block__actions">
            <button type="button" class="button" on:click=copy hidden=move || !hydrated.get() data-testid="copy">
                {label}
            </button>
            <span class="command-block__status" role="status" aria-live="polite" data-testid="copy-status">
                {move || status.get()}
            </span>
        </div>
    }
}

fn copy_to_clipboard(text: String, status: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let promise = window().navigator().clipboard().write_text(&text);
        let message = match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => "Copied to the clipboard.",
            Err(_) => "Copying was refused: select the command and copy it by hand.",
        };
        status.set(message.to_owned());
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (text, status);
}
