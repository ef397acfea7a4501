//! The `<head>` part that loads the WASM and hydrates the islands.
//!
//! Leptos's own loader for islands waits for the browser to be idle before it
//! even starts fetching the module. This one starts at once, while the page is
//! still being parsed, and hydrates each `<leptos-island>` as soon as both the
//! module is instantiated and the document is parsed. The islands here take no
//! `children`, so no more is needed. `window.__hydrateIsland(element)` hydrates
//! an island swapped in later (see `swap.rs`).

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
        r#"(() => {{
  const pkg = import("{js}").then((m) => m.default({{ module_or_path: "{wasm}" }}).then(() => m));
  const parsed = new Promise((done) => document.readyState === "loading"
    ? document.addEventListener("DOMContentLoaded", done, {{ once: true }})
    : done());
  Promise.all([pkg, parsed]).then(([m]) => {{
    m.hydrate();
    const hydrateIsland = (island) => {{
      const hydrate = m[island.dataset.component];
      if (hydrate) hydrate(island);
      else console.warn("no WASM function for the island " + island.dataset.component);
    }};
    window.__hydrateIsland = hydrateIsland;
    document.querySelectorAll("leptos-island").forEach(hydrateIsland);
  }});
}})();"#
    );
    let nonce = use_nonce();
    view! {
        <link rel="modulepreload" href=js.clone()/>
        <link rel="preload" href=wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin=""/>
        <script nonce=nonce>{script}</script>
    }
}
