//! Freshness that warns before it lapses: where each proof stands against its
//! freshness window, whether a readiness source has gone quiet, and the events a
//! change between two such readings makes (for a later notification to send).
//!
//! Every function takes "now" as an argument, so expiry is tested without waiting.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::document::Staleness;
use super::proof_run::ProofRun;
use super::register::Register;

/// Where a proof stands against its freshness window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreshnessState {
    /// The latest run passed and the window has more than the warning margin left.
    Fresh,
    /// The latest run passed; the window ends within the warning margin.
    Expiring,
    /// The latest run passed, but longer ago than the window: it has gone quiet.
    Expired,
    /// The latest run failed.
    Failing,
    /// No run is recorded.
    NeverRun,
}

impl FreshnessState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fresh => "fresh",
            Self::Expiring => "expiring",
            Self::Expired => "expired",
            Self::Failing => "failing",
            Self::NeverRun => "never_run",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Fresh,
            Self::Expiring,
            Self::Expired,
            Self::Failing,
            Self::NeverRun,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// One proof's freshness at a given "now".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofFreshness {
    pub state: FreshnessState,
    /// When the latest run ran (passed or failed): the proof's last sign of life.
    pub last_run_at: Option<DateTime<Utc>>,
    /// When the latest run's pass stops counting (`ran_at` + the window); set
    /// while the latest run passed.
    pub expires_at: Option<DateTime<Utc>>,
    /// [`freshness_words`] at that "now": coarse (hours, minutes only in the
    /// last hour), so a published state changes at most that often.
    pub warning: Option<String>,
}

/// The register's freshness window and warning margin.
fn window_and_margin(register: &Register) -> (Duration, Duration) {
    (
        Duration::days(i64::from(register.readiness.proof_freshness_days)),
        Duration::hours(i64::from(register.readiness.proof_warning_hours)),
    )
}

/// Each declared proof's freshness at `now`, from the latest run of each proof.
/// Agrees with [`crate::domain::evaluation`]'s inputs: a proof is passing exactly
/// while its state is [`FreshnessState::Fresh`] or [`FreshnessState::Expiring`].
pub fn proof_freshness(
    register: &Register,
    latest: &BTreeMap<String, ProofRun>,
    now: DateTime<Utc>,
) -> BTreeMap<String, ProofFreshness> {
    let (window, margin) = window_and_margin(register);
    register
        .proofs
        .iter()
        .map(|proof| {
            let freshness = match latest.get(&proof.id) {
                None => ProofFreshness {
                    state: FreshnessState::NeverRun,
                    last_run_at: None,
                    expires_at: None,
                    warning: None,
                },
                Some(run) if !run.passed => ProofFreshness {
                    state: FreshnessState::Failing,
                    last_run_at: Some(run.ran_at),
                    expires_at: None,
                    warning: None,
                },
                Some(run) => {
                    let expires_at = run.ran_at + window;
                    let state = if now > expires_at {
                        FreshnessState::Expired
                    } else if expires_at - now <= margin {
                        FreshnessState::Expiring
                    } else {
                        FreshnessState::Fresh
                    };
                    let mut freshness = ProofFreshness {
                        state,
                        last_run_at: Some(run.ran_at),
                        expires_at: Some(expires_at),
                        warning: None,
                    };
                    freshness.warning = freshness_words(&freshness, now);
                    freshness
                }
            };
            (proof.id.clone(), freshness)
        })
        .collect()
}

/// "expires in 5 h" / "expired 2 days 1 h ago; no passing run since …" for one
/// proof at `now`; `None` when there is nothing to warn about.
pub fn freshness_words(freshness: &ProofFreshness, now: DateTime<Utc>) -> Option<String> {
    match (freshness.state, freshness.expires_at) {
        (FreshnessState::Expiring, Some(expires_at)) => Some(format!(
            "expires in {}",
            describe_duration(expires_at - now)
        )),
        (FreshnessState::Expired, Some(expires_at)) => Some(format!(
            "expired {} ago; no passing run since {}",
            describe_duration(now - expires_at),
            freshness.last_run_at.map_or_else(String::new, |at| at
                .format("%Y-%m-%d %H:%M UTC")
                .to_string())
        )),
        _ => None,
    }
}

/// A duration, coarsely: `2 days 4 h`, `5 h`, `12 min`, `less than a minute`
/// (whole units, rounded down; minutes only under an hour).
pub fn describe_duration(duration: Duration) -> String {
    let minutes = duration.num_minutes().max(0);
    let (days, hours, minutes) = (minutes / 1_440, minutes / 60 % 24, minutes % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => "less than a minute".to_owned(),
        (0, 0, minutes) => format!("{minutes} min"),
        (0, hours, _) => format!("{hours} h"),
        (1, 0, _) => "1 day".to_owned(),
        (1, hours, _) => format!("1 day {hours} h"),
        (days, 0, _) => format!("{days} days"),
        (days, hours, _) => format!("{days} days {hours} h"),
    }
}

/// Whether a readiness source is answering or has gone quiet (stopped answering
/// for longer than its staleness window).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    Answering,
    Quiet,
}

impl SourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answering => "answering",
            Self::Quiet => "quiet",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Answering, Self::Quiet]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

/// A source is quiet once it has not answered for `stale_after` since it was last
/// seen (a source without a staleness window, such as this server's own
/// environment, is always answering).
pub fn source_state(
    stale: Option<&Staleness>,
    stale_after: Option<Duration>,
    now: DateTime<Utc>,
) -> SourceState {
    match (stale, stale_after) {
        (Some(stale), Some(window)) if now - stale.since >= window => SourceState::Quiet,
        _ => SourceState::Answering,
    }
}

/// What a notification can be about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ProofExpiring,
    ProofExpired,
    ProofRecovered,
    SourceStale,
    SourceRecovered,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProofExpiring => "proof_expiring",
            Self::ProofExpired => "proof_expired",
            Self::ProofRecovered => "proof_recovered",
            Self::SourceStale => "source_stale",
            Self::SourceRecovered => "source_recovered",
        }
    }
}

/// The event a proof's change of state makes, if any. `previous` is `None` for a
/// proof never watched before: only a warning is worth an event then.
pub fn proof_event(previous: Option<FreshnessState>, current: FreshnessState) -> Option<EventKind> {
    use FreshnessState::{Expired, Expiring, Fresh};
    if previous == Some(current) {
        return None;
    }
    match (previous, current) {
        (_, Expiring) => Some(EventKind::ProofExpiring),
        (_, Expired) => Some(EventKind::ProofExpired),
        (Some(Expiring | Expired), Fresh) => Some(EventKind::ProofRecovered),
        _ => None,
    }
}

/// The event a source's change of state makes, if any (`previous` as in
/// [`proof_event`]).
pub fn source_event(previous: Option<SourceState>, current: SourceState) -> Option<EventKind> {
    match (previous, current) {
        (Some(SourceState::Quiet), SourceState::Answering) => Some(EventKind::SourceRecovered),
        (None | Some(SourceState::Answering), SourceState::Quiet) => Some(EventKind::SourceStale),
        _ => None,
    }
}

#[cfg(all(test, feature = "ssr"))]
#[expect(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;
    use crate::domain::register_file::{parse_register, DEFAULT_REGISTER};

    fn run(proof: &str, passed: bool, ran_at: DateTime<Utc>) -> ProofRun {
        ProofRun {
            id: 1,
            proof_id: proof.to_owned(),
            passed,
            ran_at,
            recorded_at: ran_at,
            actor: "ci".to_owned(),
            output_digest: None,
            excerpt: String::new(),
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_pass_warns_within_the_margin_before_the_window_ends_and_lapses_after() {
        // 30-day window, 24-hour margin (the defaults).
        let register = parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap();
        let proof = register.proofs[0].id.clone();
        let ran_at = at("2026-01-01T12:00:00Z");
        let latest = BTreeMap::from([(proof.clone(), run(&proof, true, ran_at))]);
        let state_at = |now: &str| proof_freshness(&register, &latest, at(now))[&proof].clone();

        assert_eq!(
            state_at("2026-01-30T11:59:00Z").state,
            FreshnessState::Fresh
        );
        let expiring = state_at("2026-01-30T12:00:00Z");
        assert_eq!(expiring.state, FreshnessState::Expiring);
        assert_eq!(expiring.expires_at, Some(at("2026-01-31T12:00:00Z")));
        assert_eq!(
            freshness_words(&expiring, at("2026-01-31T06:40:00Z")).unwrap(),
            "expires in 5 h"
        );
        assert_eq!(expiring.warning.as_deref(), Some("expires in 1 day"));
        assert_eq!(
            state_at("2026-01-31T12:00:00Z").state,
            FreshnessState::Expiring
        );
        let expired = state_at("2026-02-02T13:00:00Z");
        assert_eq!(expired.state, FreshnessState::Expired);
        assert_eq!(expired.last_run_at, Some(ran_at));
        assert_eq!(
            freshness_words(&expired, at("2026-02-02T13:00:00Z")).unwrap(),
            "expired 2 days 1 h ago; no passing run since 2026-01-01 12:00 UTC"
        );
    }

    #[test]
    fn a_configured_margin_moves_the_warning() {
        let mut register = parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap();
        register.readiness.proof_warning_hours = 72;
        let proof = register.proofs[0].id.clone();
        let latest =
            BTreeMap::from([(proof.clone(), run(&proof, true, at("2026-01-01T12:00:00Z")))]);
        let state = proof_freshness(&register, &latest, at("2026-01-28T13:00:00Z"))[&proof].state;
        assert_eq!(state, FreshnessState::Expiring);
        register.readiness.proof_warning_hours = 0;
        let state = proof_freshness(&register, &latest, at("2026-01-31T11:00:00Z"))[&proof].state;
        assert_eq!(state, FreshnessState::Fresh);
    }

    #[test]
    fn failing_and_never_run_proofs_do_not_expire() {
        let register = parse_register("thesmios.toml", DEFAULT_REGISTER).unwrap();
        let (first, second) = (register.proofs[0].id.clone(), register.proofs[1].id.clone());
        let latest = BTreeMap::from([(
            first.clone(),
            run(&first, false, at("2026-01-01T12:00:00Z")),
        )]);
        let states = proof_freshness(&register, &latest, at("2026-03-01T00:00:00Z"));
        assert_eq!(states[&first].state, FreshnessState::Failing);
        assert_eq!(states[&first].expires_at, None);
        assert_eq!(states[&second].state, FreshnessState::NeverRun);
        assert_eq!(freshness_words(&states[&first], Utc::now()), None);
        assert_eq!(states[&first].warning, None);
    }

    #[test]
    fn events_come_from_transitions_only() {
        use EventKind::{
            ProofExpired, ProofExpiring, ProofRecovered, SourceRecovered, SourceStale,
        };
        use FreshnessState::{Expired, Expiring, Failing, Fresh, NeverRun};
        assert_eq!(proof_event(None, Fresh), None);
        assert_eq!(proof_event(None, Expiring), Some(ProofExpiring));
        assert_eq!(proof_event(Some(Fresh), Expiring), Some(ProofExpiring));
        assert_eq!(proof_event(Some(Expiring), Expiring), None);
        assert_eq!(proof_event(Some(Expiring), Expired), Some(ProofExpired));
        assert_eq!(proof_event(Some(Expired), Fresh), Some(ProofRecovered));
        assert_eq!(proof_event(Some(Fresh), Failing), None);
        assert_eq!(proof_event(Some(NeverRun), Fresh), None);
        assert_eq!(source_event(None, SourceState::Answering), None);
        assert_eq!(
            source_event(Some(SourceState::Answering), SourceState::Quiet),
            Some(SourceStale)
        );
        assert_eq!(
            source_event(Some(SourceState::Quiet), SourceState::Quiet),
            None
        );
        assert_eq!(
            source_event(Some(SourceState::Quiet), SourceState::Answering),
            Some(SourceRecovered)
        );
    }

    #[test]
    fn a_source_goes_quiet_after_its_window_since_last_seen() {
        let stale = Staleness {
            since: at("2026-01-01T12:00:00Z"),
            error: "timed out".to_owned(),
        };
        let window = Some(Duration::seconds(30));
        assert_eq!(
            source_state(Some(&stale), window, at("2026-01-01T12:00:29Z")),
            SourceState::Answering
        );
        assert_eq!(
            source_state(Some(&stale), window, at("2026-01-01T12:00:30Z")),
            SourceState::Quiet
        );
        assert_eq!(
            source_state(None, window, at("2026-01-02T00:00:00Z")),
            SourceState::Answering
        );
        assert_eq!(
            source_state(Some(&stale), None, at("2026-01-02T00:00:00Z")),
            SourceState::Answering
        );
    }

    #[test]
    fn durations_read_in_their_two_largest_units() {
        assert_eq!(
            describe_duration(Duration::seconds(30)),
            "less than a minute"
        );
        assert_eq!(describe_duration(Duration::minutes(12)), "12 min");
        assert_eq!(describe_duration(Duration::hours(5)), "5 h");
        assert_eq!(describe_duration(Duration::minutes(119)), "1 h");
        assert_eq!(describe_duration(Duration::hours(25)), "1 day 1 h");
        assert_eq!(describe_duration(Duration::days(3)), "3 days");
        assert_eq!(
            describe_duration(Duration::seconds(-5)),
            "less than a minute"
        );
    }
}
