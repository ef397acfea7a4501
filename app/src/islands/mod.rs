//! The only code that runs in the browser. Every page is rendered on the server
//! and works as plain HTML; these islands are hydrated on top of it:
//!
//! - [`LiveUpdates`]: follows `/api/events` and, when what the page shows has
//!   changed, loads the same page again and swaps its live regions in place.
//! - [`TriageNavigation`]: facet, pager and search controls of the blocker table
//!   load the filtered page without leaving the document.
//! - [`CopyButton`]: copies a proof command to the clipboard.
//! - [`AcceptanceFields`]: the acceptance form's fields, checked as they are typed.
//! - [`AttachEvidenceForm`], [`DetachEvidenceForm`], [`RevocationForm`],
//!   [`SignForm`]: the room's changes, as Leptos `ActionForm`s for server
//!   functions, with their typed errors beside the fields.
//! - [`HydrationMarker`]: says, on `<body data-hydrated>`, that the page is
//!   interactive.
//!
//! A *live region* is an element with an `id` and `data-live`; [`swap`] replaces
//! each one with its counterpart from a freshly rendered page, except where the
//! person is typing.

mod acceptance;
mod copy;
mod live;
mod loader;
mod room_forms;
#[cfg(feature = "hydrate")]
mod swap;
mod triage;

pub use acceptance::{AcceptanceFields, FieldValues};
pub use copy::CopyButton;
pub use live::{Connection, LiveUpdates};
pub use loader::IslandLoader;
pub use room_forms::{
    AttachEvidenceForm, DetachEvidenceForm, EvidenceTarget, RevocationForm, SignForm, Signature,
};
pub use triage::TriageNavigation;

use leptos::prelude::*;

/// Rendered last in the body: islands hydrate in document order, so once this
/// one has, every island on the page has.
#[island]
pub fn HydrationMarker() -> impl IntoView {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            // Setting an attribute on the live body cannot fail in practice; a
            // failure would only leave the marker unset.
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
