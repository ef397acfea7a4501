//! `/admin`: accounts, tenants, invitations and the access log. Operators change
//! them with plain form posts; commercial owners see the same, read-only. Anyone
//! else gets 401/403 (and the denial is logged by the server).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};

use crate::domain::access::Role;
use crate::domain::tenant::{InvitationState, Tenant};
use crate::page_data::admin::{get_admin, AccessEvent, AccountRow, AdminView, InvitationRow};
use crate::pages::shared::{
    datetime_value, format_time, with_account, Denied, FormMessage, StatusBadge, SKIP_TO_CONTENT,
};

#[component]
pub fn AdminPage() -> impl IntoView {
    let admin = Resource::new(|| (), |()| get_admin());
    with_account(SKIP_TO_CONTENT, move |_live| {
        view! {
            <Title text="Administration · Clearance"/>
            <Meta
                name="description"
                content="Administration of Clearance: accounts and their roles, tenants, buyer-sponsor invitations and the access log."
            />
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match admin.await {
                        Ok(view) => view! { <AdminBody view/> }.into_any(),
                        Err(error) => view! { <Denied title="Administration" error next="/admin".to_owned()/> }.into_any(),
                    }
                })}
            </Suspense>
        }
    })
}

#[component]
fn AdminBody(view: AdminView) -> impl IntoView {
    let AdminView {
        can_change,
        accounts,
        tenants,
        invitations,
        events,
        new_link,
    } = view;
    let tenant_options = tenants.clone();
    view! {
        <main class="page" id="content">
            <nav class="breadcrumb" aria-label="Breadcrumb"><a href="/">"Launch clearance"</a> " › Administration"</nav>
            <h1>"Administration"</h1>
            {(!can_change).then(|| view! { <p class="notice" role="status">"Read-only: only operators change accounts, tenants and invitations."</p> })}
            <FormMessage testid="admin"/>
            {new_link.map(|link| view! {
                <section class="notice" id="new-invitation" aria-labelledby="new-invitation-heading" data-testid="new-invitation">
                    <h2 id="new-invitation-heading">"Invitation link"</h2>
                    <p>"Send this link to the sponsor. It is shown only now and works once."</p>
                    <pre class="command"><code data-testid="invitation-link">{link}</code></pre>
                </section>
            })}

            <AccountsSection accounts can_change/>
            <TenantsSection tenants can_change/>
            <InvitationsSection invitations tenants=tenant_options can_change/>
            {can_change.then(|| view! {
                <section aria-labelledby="webhooks-heading">
                    <h2 id="webhooks-heading">"Webhooks"</h2>
                    <p><a href="/admin/webhooks">"Manage webhook endpoints and see their deliveries"</a></p>
                </section>
            })}
            <LogSection events/>
        </main>
    }
    .into_any()
}

#[component]
fn AccountsSection(accounts: Vec<AccountRow>, can_change: bool) -> impl IntoView {
    view! {
    <section aria-labelledby="accounts-heading">
        <h2 id="accounts-heading">"Accounts"</h2>
        <div class="table-wrap">
            <table data-testid="accounts">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"E-mail"</th><th scope="col">"Role"</th><th scope="col">"Tenant"</th><th scope="col">"State"</th></tr></thead>
                <tbody>
                    {accounts.into_iter().map(|row| {
                        let email = row.account.email.clone();
                        view! {
                            <tr>
                                <th scope="row">{row.account.name}</th>
                                <td>{row.account.email}</td>
                                <td><RoleCell email=email.clone() role=row.account.role can_change=can_change && !row.disabled/></td>
                                <td>{row.tenant_name.unwrap_or_default()}</td>
                                <td>
                                    <StatusBadge status=if row.disabled { "disabled" } else { "enabled" }/>
                                    {(can_change && !row.disabled).then(|| view! {
                                        <form method="post" action="/admin/accounts/disable" class="inline-form">
                                            <input type="hidden" name="email" value=email.clone()/>
                                            <button type="submit" class="button button--secondary" aria-label=format!("Disable {email}")>"Disable"</button>
                                        </form>
                                    }.into_any())}
                                </td>
                            </tr>
                        }.into_any()
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {can_change.then(|| view! {
            <form method="post" action="/admin/accounts" class="form" data-testid="new-account">
                <h3>"New account"</h3>
                <label for="account-name">"Name"</label>
                <input id="account-name" name="name" required maxlength="200"/>
                <label for="account-email">"E-mail address"</label>
                <input id="account-email" name="email" type="email" required/>
                <label for="account-role">"Role"</label>
                <select id="account-role" name="role">
                    <option value=Role::Operator.as_str()>"operator"</option>
                    <option value=Role::CommercialOwner.as_str() selected=true>"commercial owner"</option>
                </select>
                <label for="account-password">"Initial password (at least 12 characters)"</label>
                <input id="account-password" name="password" type="password" required minlength="12" autocomplete="new-password"/>
                <button type="submit" class="button">"Create account"</button>
            </form>
        }.into_any())}
    </section>
    }
    .into_any()
}

#[component]
fn TenantsSection(tenants: Vec<Tenant>, can_change: bool) -> impl IntoView {
    view! {
    <section aria-labelledby="tenants-heading">
        <h2 id="tenants-heading">"Tenants"</h2>
        {if tenants.is_empty() {
            view! { <p>"No tenant yet."</p> }.into_any()
        } else {
            view! {
                <ul data-testid="tenants">
                    {tenants.into_iter().map(|tenant| view! { <li><a href=format!("/rooms/{}", tenant.slug)>{tenant.name}</a> " (" <code>{tenant.slug}</code> ")"</li> }).collect_view()}
                </ul>
            }.into_any()
        }}
        <p>
            <a href="/rooms">{if can_change { "Create tenants and prepare their launch rooms" } else { "See the tenants’ launch rooms" }}</a>
        </p>
    </section>
    }
    .into_any()
}

#[component]
fn InvitationsSection(
    invitations: Vec<InvitationRow>,
    tenants: Vec<Tenant>,
    can_change: bool,
) -> impl IntoView {
    view! {
    <section aria-labelledby="invitations-heading">
        <h2 id="invitations-heading">"Invitations"</h2>
        <div class="table-wrap">
            <table data-testid="invitations">
                <thead><tr><th scope="col">"Sponsor"</th><th scope="col">"Tenant"</th><th scope="col">"Created"</th><th scope="col">"Expires"</th><th scope="col">"State"</th></tr></thead>
                <tbody>
                    {invitations.into_iter().map(|row| {
                        let id = row.invitation.id;
                        let pending = row.state == InvitationState::Pending;
                        view! {
                            <tr>
                                <th scope="row">{row.invitation.email}</th>
                                <td>{row.invitation.tenant_name}</td>
                                <td>{format_time(row.invitation.created_at)}</td>
                                <td>{format_time(row.invitation.expires_at)}</td>
                                <td>
                                    <StatusBadge status=row.state.as_str()/>
                                    {(can_change && pending).then(|| view! {
                                        <form method="post" action=format!("/admin/invitations/{id}/revoke") class="inline-form">
                                            <button type="submit" class="button button--secondary">"Revoke"</button>
                                        </form>
                                    }.into_any())}
                                </td>
                            </tr>
                        }.into_any()
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(can_change && !tenants.is_empty()).then(|| view! {
            <form method="post" action="/admin/invitations" class="form" data-testid="new-invitation-form">
                <h3>"Invite a buyer sponsor"</h3>
                <label for="invite-tenant">"Tenant"</label>
                <select id="invite-tenant" name="tenant">
                    {tenants.into_iter().map(|tenant| view! { <option value=tenant.id.to_string()>{tenant.name}</option> }).collect_view()}
                </select>
                <label for="invite-email">"Sponsor's e-mail address"</label>
                <input id="invite-email" name="email" type="email" required/>
                <label for="invite-days">"Valid for (days)"</label>
                <input id="invite-days" name="days" type="number" min="1" max="30" value="7" required/>
                <button type="submit" class="button">"Create invitation link"</button>
            </form>
        }.into_any())}
    </section>
    }
    .into_any()
}

#[component]
fn LogSection(events: Vec<AccessEvent>) -> impl IntoView {
    view! {
    <section aria-labelledby="log-heading">
        <h2 id="log-heading">"Access log"</h2>
        <div class="table-wrap">
            <table data-testid="access-log">
                <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Subject"</th><th scope="col">"From"</th></tr></thead>
                <tbody>
                    {events.into_iter().map(|event| {
                        // A burst of identical refusals is one row with a count.
                        let repeats = (event.count > 1).then(|| {
                            let last = event.last_at.map(format_time).unwrap_or_default();
                            view! {
                                " "
                                <span class="repeat-count" data-testid="event-count" title=format!("{} times, the last at {last}", event.count)>
                                    {format!("×{}", event.count)}
                                </span>
                            }
                        });
                        let from = match (event.remote_addr, event.several_addresses) {
                            (Some(addr), true) => format!("{addr} and others"),
                            (Some(addr), false) => addr,
                            (None, _) => String::new(),
                        };
                        view! {
                            <tr>
                                <td><time datetime=datetime_value(event.at)>{format_time(event.at)}</time></td>
                                <td>{event.actor}</td>
                                <td>{event.action.replace('_', " ")}{repeats}</td>
                                <td>{event.subject.unwrap_or_default()}</td>
                                <td>{from}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    </section>
    }
    .into_any()
}

/// The role, and for operators and commercial owners a form to switch between the
/// two (buyer sponsors belong to a tenant and keep their role).
#[component]
fn RoleCell(email: String, role: Role, can_change: bool) -> impl IntoView {
    let other = match role {
        Role::Operator => Some(Role::CommercialOwner),
        Role::CommercialOwner => Some(Role::Operator),
        Role::BuyerSponsor => None,
    };
    view! {
        {role.label()}
        {other.filter(|_| can_change).map(|other| view! {
            <form method="post" action="/admin/accounts/role" class="inline-form">
                <input type="hidden" name="email" value=email.clone()/>
                <input type="hidden" name="role" value=other.as_str()/>
                <button type="submit" class="button button--secondary" aria-label=format!("Make {email} a {other}")>
                    {format!("Make {other}")}
                </button>
            </form>
        }.into_any())}
    }
    .into_any()
}
