//! `/invite/{token}`: a buyer sponsor opens their invitation link, sets their name
//! and password, and is signed in to their tenant. A plain form post.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::domain::access::MIN_PASSWORD_CHARS;
use crate::page_data::admin::{get_invitation, InvitationLink};
use crate::pages::shared::{format_time, SectionError};

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let invitation = Resource::new(token, get_invitation);
    let error = move || {
        query
            .read()
            .get("error")
            .map(|error| view! { <p class="notice notice--error" role="alert" data-testid="invite-error">{error}</p> })
    };
    view! {
        <Title text="Accept an invitation · Clearance"/>
        <Meta
            name="description"
            content="Accept an invitation to Clearance: choose your name and password to sign your tenant's launch acceptance as its buyer sponsor."
        />
        <main class="page page--narrow" id="content">
            <nav class="breadcrumb" aria-label="Breadcrumb"><a href="/">"Launch clearance"</a> " › Invitation"</nav>
            <h1>"Accept your invitation"</h1>
            {error}
            <Suspense fallback=|| view! { <p class="loading">"Checking the link…"</p> }>
                {move || Suspend::new(async move {
                    match invitation.await {
                        Ok(InvitationLink::Pending(preview)) => view! {
                            <p data-testid="invitation-for">
                                "You are invited as the buyer sponsor of " <strong>{preview.tenant_name}</strong>
                                ", signing in as " <strong>{preview.email}</strong>
                                ". The link works once and expires " {format_time(preview.expires_at)} "."
                            </p>
                            <form method="post" action="/auth/invitations/accept" class="form" data-testid="accept-form">
                                <input type="hidden" name="token" value=token()/>
                                <label for="invite-name">"Your name"</label>
                                <input id="invite-name" name="name" required maxlength="200" autocomplete="name"/>
                                <label for="invite-password">{format!("Choose a password (at least {MIN_PASSWORD_CHARS} characters)")}</label>
                                <input id="invite-password" name="password" type="password" required minlength=MIN_PASSWORD_CHARS.to_string() autocomplete="new-password"/>
                                <button type="submit" class="button">"Create my account"</button>
                            </form>
                        }
                        .into_any(),
                        Ok(InvitationLink::Unusable(reason)) => view! {
                            <p class="notice notice--error" role="alert" data-testid="invitation-unusable">
                                {reason}
                            </p>
                        }
                        .into_any(),
                        Err(error) => view! { <SectionError error/> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}
