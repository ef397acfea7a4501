//! The readiness history: a chart of live blockers over time, drawn as SVG, and
//! the list of changes, each linking to what changed.

use std::sync::Arc;

use leptos::prelude::*;

use crate::domain::register::RegisterOutline;
use crate::domain::ReadinessChange;
use crate::live_state::HistoryEntry;
use crate::live_state::{HistoryPoint, LiveState};
use crate::pages::shared::{datetime_value, format_time};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 140.0;
const PAD: f64 = 28.0;

#[component]
pub fn History(outline: Arc<RegisterOutline>, live: Arc<LiveState>) -> impl IntoView {
    let total = outline.blocker_count;
    let changes: Vec<_> = live
        .changes
        .iter()
        .map(|entry| (entry.at, describe(&outline, entry)))
        .collect();
    view! {
        <section class="history" aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            <Chart points=live.points.clone() total/>
            {if changes.is_empty() {
                view! { <p class="muted">"No change recorded yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="history__changes" data-testid="changes" reversed=true>
                        {changes
                            .into_iter()
                            .map(|(at, (text, href))| {
                                view! {
                                    <li>
                                        <time datetime=datetime_value(at)>{format_time(at)}</time>
                                        " "
                                        {match href {
                                            Some(href) => view! { <a href=href>{text}</a> }.into_any(),
                                            None => view! { <span>{text}</span> }.into_any(),
                                        }}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                    .into_any()
            }}
        </section>
    }
    .into_any()
}

/// A step chart of the live-blocker count, one step per stored snapshot.
#[component]
fn Chart(points: Vec<HistoryPoint>, total: usize) -> impl IntoView {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return view! { <p class="muted">"No readiness recorded yet."</p> }.into_any();
    };
    let start = first.at.timestamp_millis() as f64;
    let span = (last.at.timestamp_millis() as f64 - start).max(1.0);
    let top = total.max(1) as f64;
    let x = |at: chrono::DateTime<chrono::Utc>| {
        PAD + (at.timestamp_millis() as f64 - start) / span * (WIDTH - 2.0 * PAD)
    };
    let y = |count: u32| HEIGHT - PAD - f64::from(count) / top * (HEIGHT - 2.0 * PAD);
    let mut path = format!("M {:.1} {:.1}", x(first.at), y(first.live_blockers));
    for point in &points[1..] {
        path.push_str(&format!(
            " H {:.1} V {:.1}",
            x(point.at),
            y(point.live_blockers)
        ));
    }
    path.push_str(&format!(" H {:.1}", WIDTH - PAD));
    let label = format!(
        "Live blockers over time: {} snapshots from {} to {}, now {} of {}",
        points.len(),
        format_time(first.at),
        format_time(last.at),
        last.live_blockers,
        total
    );
    view! {
        <figure class="history__chart">
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label=label.clone()
                data-testid="history-chart"
                preserveAspectRatio="none"
            >
                <line class="axis" x1=PAD y1=HEIGHT - PAD x2=WIDTH - PAD y2=HEIGHT - PAD></line>
                <line class="axis" x1=PAD y1=PAD x2=PAD y2=HEIGHT - PAD></line>
                <text class="tick" x=PAD - 6.0 y=PAD + 4.0 text-anchor="end">{total}</text>
                <text class="tick" x=PAD - 6.0 y=HEIGHT - PAD + 4.0 text-anchor="end">"0"</text>
                <path class="line" d=path></path>
                {points
                    .iter()
                    .map(|point| {
                        view! {
                            <circle class="dot" cx=x(point.at) cy=y(point.live_blockers) r="3">
                                <title>
                                    {format!("{}: {} live blockers ({})", format_time(point.at), point.live_blockers, point.advisory)}
                                </title>
                            </circle>
                        }
                    })
                    .collect_view()}
            </svg>
            <figcaption>{label}</figcaption>
        </figure>
    }
    .into_any()
}

/// A sentence for a change, and the anchor of what changed.
fn describe(outline: &RegisterOutline, entry: &HistoryEntry) -> (String, Option<String>) {
    let blocker_title = |id: &str| entry.title.clone().unwrap_or_else(|| id.to_owned());
    match &entry.change {
        ReadinessChange::AdvisoryChanged { from, to } => {
            (format!("Advisory readiness {from} → {to}"), None)
        }
        ReadinessChange::StrictChanged { from, to } => {
            (format!("Strict readiness {from} → {to}"), None)
        }
        ReadinessChange::BlockerWentLive { blocker } => (
            format!("{} went live", blocker_title(blocker)),
            Some(format!("/blockers/{blocker}")),
        ),
        ReadinessChange::BlockerCleared { blocker } => (
            format!("{} cleared", blocker_title(blocker)),
            Some(format!("/blockers/{blocker}")),
        ),
        ReadinessChange::MotionChanged { motion, from, to } => {
            let name = outline
                .motions
                .iter()
                .find(|candidate| &candidate.id == motion)
                .map_or_else(|| motion.clone(), |found| found.name.clone());
            let state = |status: &Option<crate::domain::MotionStatus>| {
                status.map_or("absent", |status| status.as_str())
            };
            (
                format!("{name}: {} → {}", state(from), state(to)),
                Some(format!("/motions/{motion}")),
            )
        }
    }
}
