//! The register page's "Health checks" section: each declared check, its verdict,
//! its public-safe detail, where it is read from, and since when.

use std::sync::Arc;

use leptos::prelude::*;

use crate::domain::health_check::{CheckVerdict, HealthCheckResult};
use crate::live_state::LiveState;
use crate::pages::shared::{datetime_value, format_time, StatusBadge};

/// Nothing when the register declares no check.
#[component]
pub fn HealthChecks(live: Arc<LiveState>) -> impl IntoView {
    let checks = live.health_checks.clone();
    if checks.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="health" aria-labelledby="health-heading" data-testid="health-checks">
            <h2 id="health-heading">"Health checks"</h2>
            <p class="lead">
                "Health endpoints the deployment already has, read as public checks: \
                 one failing makes readiness not_ready and blocks the motions that \
                 require public checks; a warning passes."
            </p>
            <table class="table health__table">
                <thead>
                    <tr>
                        <th scope="col">"Check"</th>
                        <th scope="col">"Verdict"</th>
                        <th scope="col">"Detail"</th>
                        <th scope="col">"Since"</th>
                    </tr>
                </thead>
                <tbody>
                    {checks.into_iter().map(|check| view! { <CheckRow check/> }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn CheckRow(check: HealthCheckResult) -> impl IntoView {
    let verdict = check.outcome.verdict;
    let (status, label) = match verdict {
        CheckVerdict::Pass => ("passed", "pass"),
        CheckVerdict::Warn => ("degraded", "warn"),
        CheckVerdict::Fail => ("failed", "fail"),
        CheckVerdict::Pending => ("pending", "pending"),
    };
    let name = check.name.clone();
    view! {
        <tr data-testid="health-check" data-check=name data-verdict=verdict.as_str()>
            <th scope="row">
                {check.name}
                <span class="health__source">
                    {check.kind.as_str()} " · " <code>{check.source}</code>
                </span>
            </th>
            <td><StatusBadge status label/></td>
            <td>{check.outcome.detail}</td>
            <td>
                {check.since.map(|since| view! {
                    <time datetime=datetime_value(since)>{format_time(since)}</time>
                })}
            </td>
        </tr>
    }
    .into_any()
}
