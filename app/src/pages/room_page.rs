//! `/rooms/{slug}`: a tenant's launch room — its state, the motion's status for
//! this tenant, the evidence gates with each item attached or outstanding, the
//! launch acceptance (and the sponsor's form to sign it), and every change.
//!
//! Every form is a plain post that works before the WASM loads; once hydrated,
//! the acceptance form checks each field as it is typed, and the evidence and
//! revocation forms call their server functions (`crate::islands::room_forms`).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::domain::launch_room::{GateStatus, RoomState};
use crate::domain::ledger::{AcceptanceKind, EvidenceAction};
use crate::domain::register::EvidenceGate;
use crate::islands::{
    AcceptanceFields, AttachEvidenceForm, DetachEvidenceForm, EvidenceTarget, FieldValues,
    RevocationForm,
};
use crate::page_data::rooms::{get_room, AcceptanceEntry, RoomPages, RoomView};
use crate::page_data::ClearanceError;
use crate::pages::rooms_page::{RoomDenied, TenantChoices};
use crate::pages::shared::{
    format_time, with_clearance, FormMessage, StatusBadge, SKIP_TO_CONTENT,
};

#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    // Which page of each chain: `?before=` and `?evidence_before=`, newest when absent.
    let pages = move || {
        let query = query.read();
        RoomPages::parse(query.get_str("before"), query.get_str("evidence_before"))
    };
    let room = Resource::new(
        move || (slug(), pages()),
        |(slug, pages)| async move {
            match pages {
                Ok(pages) => get_room(slug, pages).await,
                Err(error) => Err(ClearanceError::BadRequest(error.to_string())),
            }
        },
    );
    with_clearance(SKIP_TO_CONTENT, move |_live| {
        view! {
            <Meta name="description" content="A tenant's launch room: its evidence gates, the launch motion's status for the tenant, and its signed launch acceptance."/>
            <Suspense fallback=|| view! { <p class="loading">"Loading the launch room…"</p> }>
                {move || Suspend::new(async move {
                    match room.await {
                        Ok(view) => view! { <RoomBody view/> }.into_any(),
                        Err(error) => view! { <RoomDenied error next=format!("/rooms/{}", slug())/> }.into_any(),
                    }
                })}
            </Suspense>
        }
    })
}

#[component]
fn RoomBody(view: RoomView) -> impl IntoView {
    let title = format!("{} launch room · Clearance", view.tenant.name);
    let view = StoredValue::new(view);
    let tenant = view.with_value(|view| view.tenant.clone());
    view! {
        <Title text=title/>
        <main class="page" id="content">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">"Launch clearance"</a> " › " <a href="/rooms">"Launch rooms"</a> " › " {tenant.name.clone()}
            </nav>
            <h1>{tenant.name.clone()} " launch room"</h1>
            <div id="messages"><FormMessage testid="form"/></div>
            <div id="room-summary" data-live><RoomSummaryBlock view/></div>
            <div id="room-gates" data-live><GatesSection view/></div>
            <div id="room-acceptance" data-live><AcceptanceSection view/></div>
            <div id="room-history" data-live><HistorySection view/></div>
            {view.with_value(|view| view.can_change).then(|| view! { <ProfileForm view/> })}
        </main>
    }
    .into_any()
}

#[component]
fn RoomSummaryBlock(view: StoredValue<RoomView>) -> impl IntoView {
    let view = view.get_value();
    let status = view.status.clone();
    let motion_link = view.motion_name.clone().map(|name| {
        view! { <a href=format!("/motions/{}", view.tenant.motion)>{name}</a> }
    });
    view! {
        <section aria-labelledby="summary-heading" class="room-summary">
            <h2 id="summary-heading" class="visually-hidden">"Summary"</h2>
            <dl class="facts">
                <div><dt>"Room"</dt><dd data-testid="room-state" data-state=status.state.as_str()><StatusBadge status=status.state.as_str() label=status.state.label()/></dd></div>
                <div><dt>"Motion pursued"</dt><dd data-testid="room-motion">{motion_link.map_or_else(|| "not chosen yet".into_any(), IntoAny::into_any)}</dd></div>
                <div><dt>"Billing route"</dt><dd data-testid="room-billing">{view.tenant.billing_route.label()}</dd></div>
                <div><dt>"Live"</dt><dd data-testid="room-live">{if status.is_live() { "✓ live" } else { "not live" }}</dd></div>
            </dl>
            {status.motion.clone().map(|motion| view! {
                <div class="room-status">
                    <p data-testid="tenant-status">"Status for this tenant: " <StatusBadge status=motion.status.as_str()/></p>
                    {(!motion.reasons.is_empty()).then(|| view! {
                        <ul class="reasons" data-testid="tenant-reasons">
                            {motion.reasons.iter().map(|reason| {
                                let class = if reason.is_hard() { "reason reason--hard" } else { "reason" };
                                view! { <li class=class>{reason.to_string()}</li> }
                            }).collect_view()}
                        </ul>
                    })}
                </div>
            })}
            {(status.state == RoomState::Stale).then(|| view! {
                <div class="notice notice--warning" role="status" data-testid="changed-since">
                    <p><strong>"Changed since acceptance."</strong> " Readiness is no longer what was signed, so the tenant does not count as live until the acceptance is signed again. What changed:"</p>
                    <ul>
                        {status.changed_since_acceptance.iter().map(|change| view! { <li>{change.to_string()}</li> }).collect_view()}
                    </ul>
                </div>
            })}
            {(!status.outstanding.is_empty()).then(|| view! {
                <div class="outstanding" data-testid="outstanding">
                    <p>"Before launch acceptance can be signed:"</p>
                    <ul>{status.outstanding.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}</ul>
                </div>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn GatesSection(view: StoredValue<RoomView>) -> impl IntoView {
    let (gates, statuses, can_change, slug) = view.with_value(|view| {
        (
            view.gates.clone(),
            view.status.gates.clone(),
            view.can_change,
            view.tenant.slug.clone(),
        )
    });
    view! {
        <section aria-labelledby="gates-heading">
            <h2 id="gates-heading">"Customer evidence gates"</h2>
            <div class="gates">
                {gates.into_iter().zip(statuses).map(|(gate, status)| {
                    view! { <RoomGate gate status can_change slug=slug.clone()/> }
                }).collect_view()}
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn RoomGate(
    gate: EvidenceGate,
    status: GateStatus,
    can_change: bool,
    slug: String,
) -> impl IntoView {
    let state = if status.satisfied {
        "met"
    } else {
        "outstanding"
    };
    view! {
        <article class="gate card" id=format!("gate-{}", gate.id) data-testid="room-gate" data-gate=gate.id.clone() data-satisfied=status.satisfied.to_string()>
            <h3>{gate.name.clone()}</h3>
            <p class="gate__meta">
                <StatusBadge status=state/>
                {if status.required { " · required for this motion" } else { " · not required for this motion" }}
                " · Owner: " {gate.owner.clone()}
            </p>
            {if status.by_acceptance {
                view! { <p class="hint">"Satisfied by the tenant’s signed launch acceptance, while it matches readiness."</p> }.into_any()
            } else {
                view! {
                    <ul class="evidence-items">
                        {status.items.into_iter().map(|item| {
                            let gate_id = gate.id.clone();
                            let slug = slug.clone();
                            view! { <EvidenceItem gate_id item can_change slug/> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!status.satisfied).then(|| view! { <p class="gate__consequence"><span class="label">"If missing: "</span>{gate.if_missing.clone()}</p> })}
        </article>
    }
    .into_any()
}

#[component]
fn EvidenceItem(
    gate_id: String,
    item: crate::domain::launch_room::ItemStatus,
    can_change: bool,
    slug: String,
) -> impl IntoView {
    let name = item.item.clone();
    let target = EvidenceTarget {
        slug,
        gate_id: gate_id.clone(),
        item: name.clone(),
        id: format!("ref-{gate_id}-{}", name.len()),
    };
    match item.attached {
        Some(attached) => {
            let reference = if attached.reference.starts_with("https://")
                || attached.reference.starts_with("http://")
            {
                view! { <a href=attached.reference.clone() rel="noopener noreferrer">{attached.reference.clone()}</a> }.into_any()
            } else {
                view! { <code>{attached.reference.clone()}</code> }.into_any()
            };
            view! {
                <li class="evidence-item evidence-item--attached" data-testid="evidence-item" data-attached="true">
                    <StatusBadge status="met"/> " " <strong>{name.clone()}</strong>
                    <p>{reference} {(!attached.note.is_empty()).then(|| view! { <span class="evidence-note">" — " {attached.note.clone()}</span> })}</p>
                    <p class="hint">"Attached by " {attached.actor.clone()} " at " {format_time(attached.at)}</p>
                    {can_change.then(|| view! { <DetachEvidenceForm target=target.clone()/> })}
                </li>
            }.into_any()
        }
        None => {
            view! {
                <li class="evidence-item" data-testid="evidence-item" data-attached="false">
                    <StatusBadge status="outstanding"/> " " <strong>{name.clone()}</strong>
                    {can_change.then(|| view! { <AttachEvidenceForm target=target.clone()/> })}
                </li>
            }.into_any()
        }
    }
    .into_any()
}

#[component]
fn AcceptanceSection(view: StoredValue<RoomView>) -> impl IntoView {
    let view = view.get_value();
    let current = view.latest.clone();
    let standing = matches!(view.status.state, RoomState::Accepted | RoomState::Stale);
    view! {
        <section aria-labelledby="acceptance-heading" id="acceptance">
            <h2 id="acceptance-heading">"Launch acceptance"</h2>
            {match current {
                Some(record) => view! { <CurrentAcceptance record/> }.into_any(),
                None => view! { <p data-testid="no-acceptance">"Not signed yet."</p> }.into_any(),
            }}
            {view.can_sign.then(|| {
                let form = if view.status.accepts_signature() {
                    view! { <AcceptanceFields values=acceptance_values(&view)/> }.into_any()
                } else {
                    view! { <p class="hint">"The form opens once everything above is in place."</p> }.into_any()
                };
                view! {
                    {form}
                    {standing.then(|| view! { <RevocationForm slug=view.tenant.slug.clone()/> })}
                }
            })}
            {(!view.can_sign).then(|| view! {
                <p class="hint">"Only the tenant’s buyer sponsor signs or revokes its launch acceptance."</p>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn CurrentAcceptance(record: AcceptanceEntry) -> impl IntoView {
    let revoked = record.kind == AcceptanceKind::Revoked;
    view! {
        <div class="card" data-testid="current-acceptance" data-kind=record.kind.as_str()>
            {if revoked {
                view! { <p><strong>"Revoked"</strong> " by " {record.signer_name.clone()} " (" {record.signer_role.clone()} ") at " {format_time(record.signed_at)} ": " {record.residual_risks.clone()}</p> }.into_any()
            } else {
                view! {
                    <dl class="facts">
                        <div><dt>"Signed by"</dt><dd data-testid="signer">{record.signer_name.clone()} " (" {record.signer_role.clone()} ")"</dd></div>
                        <div><dt>"Approval reference"</dt><dd>{record.approval_reference.clone()}</dd></div>
                        <div><dt>"Signed at"</dt><dd>{format_time(record.signed_at)}</dd></div>
                        <div><dt>"Scoped exclusions"</dt><dd data-testid="exclusions">{if record.exclusions.is_empty() { "none".to_owned() } else { record.exclusions.join(", ") }}</dd></div>
                        <div><dt>"Residual risks"</dt><dd>{if record.residual_risks.is_empty() { "none stated".to_owned() } else { record.residual_risks.clone() }}</dd></div>
                        <div><dt>"Readiness accepted"</dt><dd><code class="digest">{record.readiness_digest.clone()}</code></dd></div>
                    </dl>
                }.into_any()
            }}
        </div>
    }
    .into_any()
}

/// What the sponsor's acceptance form starts from: their entries so far (kept
/// by the server when it refused them) and the blockers they may scope out.
fn acceptance_values(view: &RoomView) -> FieldValues {
    let draft = view.draft.clone().unwrap_or_default();
    FieldValues {
        action: format!("/rooms/{}/draft", view.tenant.slug),
        form: draft.form,
        errors: draft.errors,
        scopable: view
            .status
            .scopable
            .iter()
            .map(|id| (id.clone(), view.blocker_title(id)))
            .collect(),
    }
}

#[component]
fn HistorySection(view: StoredValue<RoomView>) -> impl IntoView {
    let (acceptances, evidence, slug, total) = view.with_value(|view| {
        (
            view.acceptances.clone(),
            view.evidence_log.clone(),
            view.tenant.slug.clone(),
            view.latest.as_ref().map_or(0, |latest| latest.seq),
        )
    });
    let pages = RoomPages {
        before: acceptances.before,
        evidence_before: evidence.before,
    };
    let receipt_href = {
        let slug = slug.clone();
        move |seq: i32| format!("/api/platform/launch-receipt?tenant={slug}&seq={seq}&download=1")
    };
    let href = move |pages: RoomPages| format!("/rooms/{slug}{}#records-heading", pages.query());
    let acceptance_links = PageLinks {
        older: acceptances.older.map(|older| {
            href(RoomPages {
                before: Some(older),
                ..pages
            })
        }),
        newest: acceptances.before.map(|_| {
            href(RoomPages {
                before: None,
                ..pages
            })
        }),
    };
    let evidence_links = PageLinks {
        older: evidence.older.map(|older| {
            href(RoomPages {
                evidence_before: Some(older),
                ..pages
            })
        }),
        newest: evidence.before.map(|_| {
            href(RoomPages {
                evidence_before: None,
                ..pages
            })
        }),
    };
    let shown = match (acceptances.records.first(), acceptances.records.last()) {
        (Some(newest), Some(oldest)) if total > 0 => Some(format!(
            "Showing records {} to {} of {total}, newest first.",
            newest.seq, oldest.seq
        )),
        _ => None,
    };
    view! {
        <section aria-labelledby="records-heading">
            <h2 id="records-heading">"Records"</h2>
            <p class="hint">"Append-only and hash-chained: nothing here is ever changed or deleted. Each acceptance record is also in the transparency log: its receipt proves it, offline, with the log's public key ("<code>"server receipt verify FILE --key KEY"</code>")."</p>
            <h3>"Acceptance records"</h3>
            {shown.map(|shown| view! { <p class="hint" data-testid="acceptance-records-shown">{shown}</p> })}
            {if acceptances.records.is_empty() {
                view! { <p>{if acceptances.before.is_some() { "No older records." } else { "None yet." }}</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="acceptance-records">
                        <thead><tr><th scope="col">"#"</th><th scope="col">"Record"</th><th scope="col">"Signer"</th><th scope="col">"When"</th><th scope="col">"Digest"</th><th scope="col">"Receipt"</th></tr></thead>
                        <tbody>
                            {acceptances.records.into_iter().map(|record| view! {
                                <tr>
                                    <td>{record.seq}</td>
                                    <td>{record.kind.as_str()}</td>
                                    <td>{record.signer_name} " (" {record.signer_role} ")"</td>
                                    <td>{format_time(record.signed_at)}</td>
                                    <td><code class="digest" title=record.digest.clone()>{record.digest.chars().take(12).collect::<String>()}</code></td>
                                    <td><a href=receipt_href(record.seq) download="" data-testid="receipt-link">"Download receipt"</a></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <PagerNav links=acceptance_links label="Acceptance records pages" older="Older acceptance records" newest="Newest acceptance records" testid="acceptance-pages"/>
            <h3>"Evidence changes"</h3>
            {if evidence.records.is_empty() {
                view! { <p>{if evidence.before.is_some() { "No older changes." } else { "None yet." }}</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="evidence-log">
                        <thead><tr><th scope="col">"#"</th><th scope="col">"Change"</th><th scope="col">"Item"</th><th scope="col">"Reference"</th><th scope="col">"Who"</th><th scope="col">"When"</th></tr></thead>
                        <tbody>
                            {evidence.records.into_iter().map(|change| view! {
                                <tr>
                                    <td>{change.seq}</td>
                                    <td>{match change.action { EvidenceAction::Attached => "attached", EvidenceAction::Detached => "detached" }}</td>
                                    <td>{change.item}</td>
                                    <td>{change.reference}</td>
                                    <td>{change.actor}</td>
                                    <td>{format_time(change.at)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <PagerNav links=evidence_links label="Evidence changes pages" older="Older evidence changes" newest="Newest evidence changes" testid="evidence-pages"/>
        </section>
    }
    .into_any()
}

/// Where a chain's pager leads: the next older page and back to the newest.
struct PageLinks {
    older: Option<String>,
    newest: Option<String>,
}

#[component]
fn PagerNav(
    links: PageLinks,
    label: &'static str,
    older: &'static str,
    newest: &'static str,
    testid: &'static str,
) -> impl IntoView {
    (links.older.is_some() || links.newest.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label=label data-testid=testid>
                {links.newest.map(|href| view! { <a href=href rel="first" data-testid="newest">{newest}</a> " " })}
                {links.older.map(|href| view! { <a href=href rel="next" data-testid="older">{older}</a> })}
            </nav>
        }
    })
}

#[component]
fn ProfileForm(view: StoredValue<RoomView>) -> impl IntoView {
    let (tenant, motions) = view.with_value(|view| (view.tenant.clone(), view.motions.clone()));
    view! {
        <section aria-labelledby="profile-heading" id="profile">
            <h2 id="profile-heading">"Tenant profile"</h2>
            <form method="post" action=format!("/rooms/{}/profile", tenant.slug) class="form" data-testid="profile-form">
                <label for="profile-name">"Name"</label>
                <input id="profile-name" name="name" required maxlength="200" value=tenant.name.clone()/>
                <TenantChoices motions motion=tenant.motion.clone() billing_route=tenant.billing_route prefix="profile"/>
                <button type="submit" class="button">"Save profile"</button>
            </form>
        </section>
    }
    .into_any()
}
