//! Browser entry point: hydrates the islands of the page the server rendered
//! (see `app::islands`); the rest of the page is plain server-rendered HTML.

// The islands' hydration functions are exported from the app crate.
pub use app::islands;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
