//! The `<head>` part that loads the WASM and hydrates the islands.
//!
//! Leptos's own loader for islands waits for the browser to be idle before it
//! even starts fetching the module. This one is an `async` module script: it
//! runs as soon as the module has arrived, while the page may still be parsed,
//! and hydrates each `<leptos-island>` as soon as the module
//! is instantiated and the body has been parsed: when the last island of the body
//! (the [`super::HydrationMarker`]) is in the document, or else at
//! `DOMContentLoaded` (which also waits for the stylesheet, because of the inline
//! scripts Leptos puts at the end of the body; see `server/src/pages.rs`). The islands here take no `children`, so
//! no more is needed. `window.__hydrateIsland(element)` hydrates an island
//! swapped in later (see `swap.rs`).
//!
//! Kept because it is measured: the hydration benchmark loads `/` with
//! Leptos's `<HydrationScripts islands=true/>` script instead in the same run,
//! and that hydrates 29 ms later per pair of loads (115 ms against 89 ms, see
//! docs/performance.md).
//!
//! The WASM is fetched and compiled by a classic script as soon as the parser
//! reaches the `<head>`, so that compiling it is off the path to hydration: the
//! module script runs only after Chromium's first style and layout of the page.

use leptos::config::LeptosOptions;
use leptos::prelude::*;

/// Preloads the module and the WASM and starts them. File names follow
/// cargo-leptos's output (`<output-name>.js`, `<output-name>.wasm`; the project
/// does not hash file names).
#[component]
pub fn IslandLoader(options: LeptosOptions) -> impl IntoView {
    // Only islands hydrate: nothing outside them is serialised for the browser.
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let js = format!("/{}/{}.js", options.site_pkg_dir, options.output_name);
    let wasm = format!("/{}/{}.wasm", options.site_pkg_dir, options.output_name);
    let script = format!(
        r#"import init, * as islands from "{js}";
await init({{ module_or_path: await window.__islandsWasm }});
const hydrateIsland = (island) => {{
  const hydrate = islands[island.dataset.component];
  if (hydrate) hydrate(island);
  else console.warn("no WASM function for the island " + island.dataset.component);
}};
const hydrateAll = () => {{
  islands.hydrate();
  window.__hydrateIsland = hydrateIsland;
  document.querySelectorAll("leptos-island").forEach(hydrateIsland);
}};
if (document.readyState !== "loading"
  || document.querySelector('leptos-island[data-component^="HydrationMarker_"]')) hydrateAll();
else document.addEventListener("DOMContentLoaded", hydrateAll, {{ once: true }});"#
    );
    // A browser without streaming compilation gets the address and compiles later.
    let compile = format!(
        r#"window.__islandsWasm = WebAssembly.compileStreaming(fetch("{wasm}")).catch(() => "{wasm}");"#
    );
    let nonce = use_nonce();
    view! {
        <link rel="modulepreload" href=js.clone()/>
        <script nonce=nonce.clone()>{compile}</script>
        <script type="module" async nonce=nonce>{script}</script>
    }
}
