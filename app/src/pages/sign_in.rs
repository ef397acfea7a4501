//! `/login`: the sign-in form. A plain form post to `/auth/login`; the server
//! answers with a redirect, back here with `?error=` when it failed.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use crate::domain::local_path::local_path;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        let query = query.read();
        let message = match query.get("error").as_deref() {
            Some("invalid") => {
                "That e-mail address and password do not match an account.".to_owned()
            }
            Some("throttled") => format!(
                "Too many sign-in attempts. Try again in {} seconds.",
                query
                    .get("retry")
                    .and_then(|seconds| seconds.parse::<u64>().ok())
                    .unwrap_or(30)
            ),
            Some("unavailable") => {
                "Signing in is unavailable: the database cannot be reached. Try again shortly."
                    .to_owned()
            }
            _ => return None,
        };
        Some(
            view! { <p class="notice notice--error" role="alert" data-testid="sign-in-error">{message}</p> },
        )
    };
    let email = move || query.read().get("email").unwrap_or_default();
    // Only a page of this site is echoed back (the server checks again on sign-in).
    let next = move || local_path(query.read().get("next").as_deref());
    view! {
        <Title text="Sign in · Clearance"/>
        <Meta
            name="description"
            content="Sign in to Clearance as an operator, a commercial owner or a buyer sponsor. The public register needs no account."
        />
        <main class="page page--narrow">
            <nav class="breadcrumb" aria-label="Breadcrumb"><a href="/">"Launch clearance"</a> " › Sign in"</nav>
            <h1>"Sign in"</h1>
            <p>"Operators, commercial owners and buyer sponsors sign in here. The public register needs no account."</p>
            {error}
            <form method="post" action="/auth/login" class="form" data-testid="sign-in-form">
                <input type="hidden" name="next" value=next/>
                <label for="sign-in-email">"E-mail address"</label>
                <input id="sign-in-email" type="email" name="email" autocomplete="username" required value=email/>
                <label for="sign-in-password">"Password"</label>
                <input id="sign-in-password" type="password" name="password" autocomplete="current-password" required/>
                <button type="submit" class="button">"Sign in"</button>
            </form>
        </main>
    }
}
