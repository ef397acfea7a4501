//! The event catalogue: stable names, payloads as documented, links on the
//! public address.

use chrono::{TimeZone, Utc};

use crate::domain::evaluation::MotionStatus;
use crate::domain::events::{self, Event, EventType};

#[test]
fn every_type_name_is_stable_and_parses_back() {
    let names: Vec<&str> = EventType::ALL.iter().map(|kind| kind.as_str()).collect();
    assert_eq!(
        names,
        [
            "motion.status_changed",
            "blocker.live",
            "blocker.cleared",
            "proof.failed",
            "proof.expiring",
            "proof.expired",
            "proof.recovered",
            "source.stale",
            "source.recovered",
            "evidence.changed",
            "acceptance.signed",
            "acceptance.revoked",
            "acceptance.stale",
        ]
    );
    for kind in EventType::ALL {
        assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::json!(kind.as_str())
        );
    }
    assert_eq!(EventType::parse("motion.deleted"), None);
}

#[test]
fn a_motion_change_is_a_standard_webhooks_payload_with_an_absolute_link() {
    let register = super::thesmios();
    let motion = &register.motions[0];
    let at = Utc.with_ymd_and_hms(2026, 12, 3, 9, 30, 0).unwrap();
    let new = events::motion_status_changed(
        &register,
        &motion.id,
        Some(MotionStatus::Blocked),
        Some(MotionStatus::Clear),
        &[],
        at,
    );
    assert_eq!(new.path, format!("/motions/{}", motion.id));
    let event = Event {
        id: "evt_1".to_owned(),
        kind: new.kind,
        tenant_id: new.tenant_id,
        motion: new.motion,
        occurred_at: new.occurred_at,
        path: new.path,
        data: new.data,
    };
    let payload = event.payload("https://clearance.example");
    assert_eq!(payload["type"], "motion.status_changed");
    assert_eq!(payload["timestamp"], "2026-12-03T09:30:00Z");
    assert_eq!(payload["data"]["event_id"], "evt_1");
    assert_eq!(payload["data"]["from"], "blocked");
    assert_eq!(payload["data"]["to"], "clear");
    assert_eq!(payload["data"]["title"], motion.name.as_str());
    assert_eq!(
        payload["data"]["url"],
        format!("https://clearance.example/motions/{}", motion.id)
    );
    assert_eq!(
        event.summary(),
        format!("{} is now clear (was blocked)", motion.name)
    );
}

#[test]
fn a_blocker_event_names_its_dependencies_never_their_values() {
    let register = super::thesmios();
    let blocker = &register.blockers[0];
    let new = events::blocker_changed(&register, &blocker.id, true, Utc::now());
    assert_eq!(new.kind, EventType::BlockerLive);
    assert!(!new.kind.is_tenant_event());
    assert_eq!(
        new.data["dependencies"],
        serde_json::json!(blocker.dependencies)
    );
    assert_eq!(new.data["fallback"], blocker.if_missing.as_str());
    assert_eq!(new.tenant_id, None);
}
