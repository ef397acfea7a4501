//! The blocker filter: each facet, combinations, counts, paging and the URL form.

use super::super::triage::{
    clip_value, BlockerFilter, DependencyFilter, FilterProblem, StateFilter, Triage,
    MAX_SEARCH_CHARS, MAX_VALUE_CHARS, PAGE_SIZE,
};
use super::*;
use crate::domain::register::Blocker;

fn query(pairs: &[(&str, &str)]) -> (BlockerFilter, Vec<FilterProblem>) {
    BlockerFilter::from_query(|key| {
        pairs
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| (*value).to_owned())
    })
}

/// Nothing configured except Resend's key: support email is live only by its proof.
fn triage() -> (Register, Triage) {
    let register = thesmios();
    let evaluation = evaluate(&register, &inputs_with(&register, &["RESEND_API_KEY"]));
    let triage = Triage::new(&register, &evaluation);
    (register, triage)
}

fn titles(register: &Register, triage: &Triage, pairs: &[(&str, &str)]) -> Vec<String> {
    let result = triage.apply(&query(pairs).0);
    result
        .matches
        .iter()
        .map(|&index| register.blockers[index].title.clone())
        .collect()
}

fn count(values: &[super::super::triage::FacetValue], value: Option<&str>) -> usize {
    values
        .iter()
        .find(|facet| facet.value.as_deref() == value)
        .unwrap()
        .count
}

#[test]
fn the_default_filter_shows_every_live_blocker_in_register_order() {
    let (register, triage) = triage();
    let all: Vec<String> = register.blockers.iter().map(|b| b.title.clone()).collect();
    assert_eq!(titles(&register, &triage, &[]), all);
    assert!(!query(&[]).0.is_active());
}

#[test]
fn scope_motion_state_dependency_and_text_each_narrow_the_rows() {
    let (register, triage) = triage();
    assert_eq!(
        titles(&register, &triage, &[("scope", "private-beta")]),
        ["Authenticated smoke fixture records", "Support email"]
    );
    // Private beta is held back by its conditional scope only.
    assert_eq!(
        titles(&register, &triage, &[("motion", "managed-private-beta")]),
        ["Authenticated smoke fixture records", "Support email"]
    );
    // Self-serve needs strict readiness: every live blocker stands in its way.
    assert_eq!(
        titles(&register, &triage, &[("motion", "self-serve-paid-launch")]).len(),
        7
    );
    assert_eq!(
        titles(&register, &triage, &[("dependency", "configured")]),
        ["Support email"]
    );
    assert_eq!(
        titles(&register, &triage, &[("dependency", "missing")]).len(),
        6
    );
    assert!(titles(&register, &triage, &[("state", "cleared")]).is_empty());
    assert_eq!(titles(&register, &triage, &[("state", "all")]).len(), 7);
    // Free text matches titles, dependency names and proof names, case-insensitively.
    assert_eq!(
        titles(&register, &triage, &[("q", "stripe_price")]),
        ["Stripe self-serve billing"]
    );
    assert_eq!(
        titles(&register, &triage, &[("q", "saml")]),
        ["Enterprise SAML IdP config"]
    );
    assert_eq!(
        titles(&register, &triage, &[("q", "SCIM")]).len(),
        4,
        "the SCIM proof's name matches its four blockers"
    );
    assert_eq!(
        titles(&register, &triage, &[("q", "scim workday")]),
        ["HRIS connector credentials"],
        "every word must match"
    );
}

#[test]
fn filters_combine() {
    let (register, triage) = triage();
    assert_eq!(
        titles(
            &register,
            &triage,
            &[("scope", "private-beta"), ("dependency", "missing")]
        ),
        ["Authenticated smoke fixture records"]
    );
    assert!(titles(
        &register,
        &triage,
        &[("scope", "enterprise"), ("motion", "managed-private-beta")]
    )
    .is_empty());
}

#[test]
fn cleared_blockers_leave_the_live_view_and_appear_under_cleared() {
    let register = thesmios();
    let inputs = with_passing_proofs(
        inputs_with(&register, &["RESEND_API_KEY"]),
        &["support-status-notification"],
    );
    let triage = Triage::new(&register, &evaluate(&register, &inputs));
    assert_eq!(titles(&register, &triage, &[]).len(), 6);
    assert_eq!(
        titles(&register, &triage, &[("state", "cleared")]),
        ["Support email"]
    );
    let result = triage.apply(&BlockerFilter::default());
    assert_eq!(count(&result.facets.state, Some("live")), 6);
    assert_eq!(count(&result.facets.state, Some("cleared")), 1);
    assert_eq!(count(&result.facets.state, Some("all")), 7);
}

#[test]
fn each_facet_counts_what_choosing_it_would_show_under_the_other_filters() {
    let (_, triage) = triage();
    let result = triage.apply(&query(&[("scope", "enterprise"), ("q", "config")]).0);
    assert_eq!(result.matches.len(), 2, "OIDC and SAML config");
    // Scope counts ignore the scope filter but keep the text filter.
    assert_eq!(count(&result.facets.scope, None), 2);
    assert_eq!(count(&result.facets.scope, Some("enterprise")), 2);
    assert_eq!(count(&result.facets.scope, Some("private-beta")), 0);
    // The other facets keep the scope filter.
    assert_eq!(
        count(&result.facets.motion, Some("broad-enterprise-expansion")),
        2
    );
    assert_eq!(
        count(&result.facets.motion, Some("managed-private-beta")),
        0
    );
    assert_eq!(count(&result.facets.dependency, Some("missing")), 2);
    assert_eq!(count(&result.facets.dependency, Some("configured")), 0);
    let selected: Vec<_> = result
        .facets
        .scope
        .iter()
        .filter(|facet| facet.selected)
        .map(|facet| facet.value.clone())
        .collect();
    assert_eq!(selected, [Some("enterprise".to_owned())]);
}

#[test]
fn facet_links_keep_the_other_filters_and_return_to_page_one() {
    let (_, triage) = triage();
    let result = triage.apply(&query(&[("scope", "enterprise"), ("q", "hris data")]).0);
    let private = result
        .facets
        .scope
        .iter()
        .find(|facet| facet.value.as_deref() == Some("private-beta"))
        .unwrap();
    assert_eq!(private.href, "/?scope=private-beta&q=hris+data");
    let all = &result.facets.scope[0];
    assert_eq!(all.href, "/?q=hris+data");
    let cleared = result
        .facets
        .state
        .iter()
        .find(|facet| facet.value.as_deref() == Some("cleared"))
        .unwrap();
    assert_eq!(cleared.href, "/?scope=enterprise&state=cleared&q=hris+data");
}

/// The browser rebuilds a facet link on the filter the person asked for last
/// (which may be newer than the page the link came with): it must land where
/// the link itself points when nothing is newer.
#[test]
fn a_facet_set_by_name_lands_where_its_link_points() {
    let (_, triage) = triage();
    let filter = query(&[("motion", "managed-private-beta"), ("q", "smoke")]).0;
    let result = triage.apply(&filter);
    let facets = &result.facets;
    let groups = [
        ("scope", &facets.scope),
        ("motion", &facets.motion),
        ("state", &facets.state),
        ("dependency", &facets.dependency),
    ];
    for (name, values) in groups {
        assert!(!values.is_empty(), "{name} has values");
        for facet in values {
            let value = facet.value.clone().unwrap_or_default();
            let rebuilt = filter.with_facet(name, &value).unwrap().href();
            assert_eq!(rebuilt, facet.href, "{name}={value}");
        }
    }
}

#[test]
fn a_facet_set_on_a_newer_filter_keeps_that_filter() {
    let asked = query(&[("scope", "enterprise"), ("page", "3")]).0;
    let next = asked.with_facet("dependency", "configured").unwrap();
    assert_eq!(next.href(), "/?scope=enterprise&dependency=configured");
    let any_motion = next.with_facet("motion", "").unwrap();
    assert_eq!(
        any_motion.href(),
        "/?scope=enterprise&dependency=configured"
    );
    let live = query(&[("state", "all")])
        .0
        .with_facet("state", "")
        .unwrap();
    assert_eq!(live.href(), "/");
    assert_eq!(asked.with_facet("colour", "red"), None);
    assert_eq!(asked.with_facet("state", "gone"), None);
    assert_eq!(asked.with_facet("dependency", "some"), None);
}

#[test]
fn the_query_string_round_trips_in_canonical_order() {
    let (filter, problems) = query(&[
        ("q", "  stripe & <sso>  "),
        ("dependency", "missing"),
        ("state", "all"),
        ("motion", "self-serve-paid-launch"),
        ("scope", "paid-launch"),
        ("page", "2"),
    ]);
    assert!(problems.is_empty());
    assert_eq!(filter.text, "stripe & <sso>");
    assert_eq!(filter.state, StateFilter::All);
    assert_eq!(filter.dependency, Some(DependencyFilter::Missing));
    let text = filter.to_query();
    assert_eq!(
        text,
        "scope=paid-launch&motion=self-serve-paid-launch&state=all&dependency=missing&q=stripe+%26+%3Csso%3E&page=2"
    );
    let pairs: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect();
    let (again, _) = BlockerFilter::from_query(|key| {
        pairs
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
    });
    assert_eq!(again, filter);
    assert_eq!(BlockerFilter::default().href(), "/");
}

#[test]
fn unusable_values_are_reported_and_ignored() {
    let (register, triage) = triage();
    let (filter, problems) = query(&[
        ("state", "sideways"),
        ("dependency", "maybe"),
        ("page", "zero"),
    ]);
    assert_eq!(
        problems,
        [
            FilterProblem::UnknownState("sideways".to_owned()),
            FilterProblem::UnknownDependencyState("maybe".to_owned()),
            FilterProblem::BadPage("zero".to_owned()),
        ]
    );
    assert_eq!(
        filter,
        BlockerFilter {
            page: 1,
            ..BlockerFilter::default()
        }
    );
    let result = triage.apply(&query(&[("scope", "no-such-scope"), ("motion", "nope")]).0);
    assert_eq!(
        result.problems,
        [
            FilterProblem::UnknownScope("no-such-scope".to_owned()),
            FilterProblem::UnknownMotion("nope".to_owned()),
        ]
    );
    assert_eq!(result.matches.len(), register.blockers.len());
    assert_eq!(result.filter.scope, None);
    assert_eq!(
        result.problems[0].to_string(),
        "No scope called “no-such-scope”; not filtering by scope."
    );
}

#[test]
fn long_search_text_is_cut_and_pages_are_clamped() {
    let (_, triage) = triage();
    let long = "x".repeat(1_000);
    let (filter, _) = query(&[("q", &long), ("page", "9")]);
    assert_eq!(filter.text.chars().count(), 200);
    let result = triage.apply(&query(&[("page", "9")]).0);
    assert_eq!((result.page, result.pages), (1, 1));
    assert_eq!(result.shown_range(), Some((1, 7)));
    let none = triage.apply(&query(&[("q", "no such words")]).0);
    assert_eq!(none.shown_range(), None);
    assert!(none.page_rows().is_empty());
}

#[test]
fn a_large_register_pages_its_rows() {
    let mut register = thesmios();
    let template = register.blockers[0].clone();
    register.blockers = (0..250)
        .map(|index| Blocker {
            id: format!("blocker-{index}"),
            title: format!("Blocker {index}"),
            ..template.clone()
        })
        .collect();
    let evaluation = evaluate(&register, &inputs_with(&register, &[]));
    let triage = Triage::new(&register, &evaluation);
    assert_eq!(triage.len(), 250);
    let result = triage.apply(&query(&[("page", "3")]).0);
    assert_eq!(result.pages, 3);
    assert_eq!(result.page_rows().len(), 250 - 2 * PAGE_SIZE);
    assert_eq!(result.shown_range(), Some((201, 250)));
    assert_eq!(result.page_href(2), "/?page=2");
}

#[test]
fn unknown_values_are_cut_to_their_limit_before_they_are_echoed() {
    let (_, triage) = triage();
    let long = "x".repeat(50_000);
    let (filter, problems) = query(&[
        ("scope", &long),
        ("motion", &long),
        ("state", &long),
        ("dependency", &long),
        ("page", &long),
        ("q", &long),
    ]);
    let cut = "x".repeat(MAX_VALUE_CHARS);
    assert_eq!(
        problems,
        [
            FilterProblem::UnknownState(cut.clone()),
            FilterProblem::UnknownDependencyState(cut.clone()),
            FilterProblem::BadPage(cut.clone()),
        ]
    );
    assert_eq!(filter.text.chars().count(), MAX_SEARCH_CHARS);
    let result = triage.apply(&filter);
    assert_eq!(
        result.problems,
        [
            FilterProblem::UnknownScope(cut.clone()),
            FilterProblem::UnknownMotion(cut),
        ]
    );
    let echoed: usize = problems
        .iter()
        .chain(&result.problems)
        .map(|problem| problem.to_string().len())
        .sum();
    assert!(
        echoed < 5 * (MAX_VALUE_CHARS + 100),
        "{echoed} bytes echoed"
    );
    assert_eq!(
        clip_value("q", &format!("  {long}")).len(),
        MAX_SEARCH_CHARS
    );
}
