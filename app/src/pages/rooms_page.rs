//! `/rooms`: the launch rooms a viewer may open, each tenant's state and whether
//! it counts as live; operators create tenants here.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};

use crate::domain::launch_room::BillingRoute;
use crate::page_data::rooms::{get_rooms, RoomSummary, RoomsView};
use crate::page_data::ClearanceError;
use crate::pages::shared::{with_clearance, Denied, FormMessage, StatusBadge, SKIP_TO_CONTENT};

/// A room page's 401, 403, 404, 400 or 503 page.
#[component]
pub fn RoomDenied(error: ClearanceError, next: String) -> impl IntoView {
    view! {
        <Denied
            title="Launch rooms"
            error
            next
            not_found="No such launch room, or not one your account may open."
        />
    }
}

#[component]
pub fn RoomsPage() -> impl IntoView {
    let rooms = Resource::new(|| (), |()| get_rooms());
    with_clearance(SKIP_TO_CONTENT, move |_live| {
        view! {
            <Title text="Launch rooms · Clearance"/>
            <Meta
                name="description"
                content="The tenants' launch rooms: each room's state, the launch motion's status for the tenant, and whether its signed launch acceptance still matches readiness."
            />
            <Suspense fallback=|| view! { <p class="loading">"Loading the launch rooms…"</p> }>
                {move || Suspend::new(async move {
                    match rooms.await {
                        Ok(view) => view! { <RoomsBody view/> }.into_any(),
                        Err(error) => view! { <RoomDenied error next="/rooms".to_owned()/> }.into_any(),
                    }
                })}
            </Suspense>
        }
    })
}

#[component]
fn RoomsBody(view: RoomsView) -> impl IntoView {
    let RoomsView {
        rooms,
        can_create,
        motions,
    } = view;
    let live = rooms.iter().filter(|room| room.live).count();
    let total = rooms.len();
    view! {
        <main class="page" id="content" data-live>
            <nav class="breadcrumb" aria-label="Breadcrumb"><a href="/">"Launch clearance"</a> " › Launch rooms"</nav>
            <h1>"Launch rooms"</h1>
            <div id="messages"><FormMessage testid="form"/></div>
            <p data-testid="live-tenants">
                {format!("{live} of {total} tenant{} live (signed launch acceptance matching readiness now).", if total == 1 { "" } else { "s" })}
            </p>
            {if rooms.is_empty() {
                view! { <p>"No tenant yet."</p> }.into_any()
            } else {
                view! { <RoomsTable rooms/> }.into_any()
            }}
            {can_create.then(|| view! { <NewTenantForm motions/> })}
        </main>
    }
    .into_any()
}

#[component]
fn RoomsTable(rooms: Vec<RoomSummary>) -> impl IntoView {
    view! {
        <table class="table" data-testid="rooms">
            <thead>
                <tr>
                    <th scope="col">"Tenant"</th>
                    <th scope="col">"Motion"</th>
                    <th scope="col">"Billing route"</th>
                    <th scope="col">"Room"</th>
                    <th scope="col">"Status for the tenant"</th>
                    <th scope="col">"Live"</th>
                </tr>
            </thead>
            <tbody>
                {rooms.into_iter().map(|room| view! {
                    <tr data-testid="room-row" data-slug=room.slug.clone()>
                        <td><a href=format!("/rooms/{}", room.slug)>{room.name}</a></td>
                        <td>{room.motion_name.unwrap_or_else(|| "not chosen".to_owned())}</td>
                        <td>{room.billing_route.label()}</td>
                        <td><StatusBadge status=room.state.as_str() label=room.state.label()/></td>
                        <td>{room.motion_status.map(|status| view! { <StatusBadge status=status.as_str()/> })}</td>
                        <td>{if room.live { "✓ live" } else { "not live" }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The motion and billing-route choices, shared by the new-tenant and profile forms.
#[component]
pub fn TenantChoices(
    motions: Vec<(String, String)>,
    motion: String,
    billing_route: BillingRoute,
    prefix: &'static str,
) -> impl IntoView {
    view! {
        <label for=format!("{prefix}-motion")>"Launch motion"</label>
        <select id=format!("{prefix}-motion") name="motion">
            {motions.into_iter().map(|(id, name)| {
                let selected = id == motion;
                view! { <option value=id selected=selected>{name}</option> }
            }).collect_view()}
        </select>
        <label for=format!("{prefix}-billing")>"Billing route"</label>
        <select id=format!("{prefix}-billing") name="billing_route">
            {BillingRoute::ALL.into_iter().map(|route| view! {
                <option value=route.as_str() selected=route == billing_route>{route.label()}</option>
            }).collect_view()}
        </select>
    }
    .into_any()
}

#[component]
fn NewTenantForm(motions: Vec<(String, String)>) -> impl IntoView {
    view! {
        <form method="post" action="/admin/tenants" class="form" data-testid="new-tenant">
            <h2>"New tenant"</h2>
            <label for="tenant-name">"Name"</label>
            <input id="tenant-name" name="name" required maxlength="200"/>
            <label for="tenant-slug">"Slug (lower-case letters, digits, hyphens)"</label>
            // Browsers compile `pattern` with the `v` flag, under which a `-` in a
            // class must be escaped; unescaped, the pattern is ignored.
            <input id="tenant-slug" name="slug" required maxlength="63" pattern=r"[a-z0-9][a-z0-9\-]*"/>
            <TenantChoices motions motion=String::new() billing_route=BillingRoute::InvoiceOnly prefix="tenant"/>
            <button type="submit" class="button">"Create tenant"</button>
        </form>
    }
    .into_any()
}
