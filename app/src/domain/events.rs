//! The event catalogue: every change Clearance tells people about, each with a
//! stable type name and a documented JSON payload (`docs/events.md`). Payloads
//! carry names, ids, statuses and a link: never a dependency value.
//!
//! The server writes a [`NewEvent`] in the same transaction as the change that
//! causes it; webhooks and e-mail send it from there.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::evaluation::{MotionStatus, Reason};
use crate::domain::freshness::EventKind;
use crate::domain::ledger::{AcceptanceRecord, EvidenceChange};
use crate::domain::register::Register;
use crate::domain::tenant::Tenant;

/// Every event type, by its stable name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "motion.status_changed")]
    MotionStatusChanged,
    #[serde(rename = "blocker.live")]
    BlockerLive,
    #[serde(rename = "blocker.cleared")]
    BlockerCleared,
    #[serde(rename = "proof.failed")]
    ProofFailed,
    #[serde(rename = "proof.expiring")]
    ProofExpiring,
    #[serde(rename = "proof.expired")]
    ProofExpired,
    #[serde(rename = "proof.recovered")]
    ProofRecovered,
    #[serde(rename = "source.stale")]
    SourceStale,
    #[serde(rename = "source.recovered")]
    SourceRecovered,
    #[serde(rename = "evidence.changed")]
    EvidenceChanged,
    #[serde(rename = "acceptance.signed")]
    AcceptanceSigned,
    #[serde(rename = "acceptance.revoked")]
    AcceptanceRevoked,
    #[serde(rename = "acceptance.stale")]
    AcceptanceStale,
}

impl EventType {
    pub const ALL: [Self; 13] = [
        Self::MotionStatusChanged,
        Self::BlockerLive,
        Self::BlockerCleared,
        Self::ProofFailed,
        Self::ProofExpiring,
        Self::ProofExpired,
        Self::ProofRecovered,
        Self::SourceStale,
        Self::SourceRecovered,
        Self::EvidenceChanged,
        Self::AcceptanceSigned,
        Self::AcceptanceRevoked,
        Self::AcceptanceStale,
    ];

    /// The stable type name receivers switch on.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MotionStatusChanged => "motion.status_changed",
            Self::BlockerLive => "blocker.live",
            Self::BlockerCleared => "blocker.cleared",
            Self::ProofFailed => "proof.failed",
            Self::ProofExpiring => "proof.expiring",
            Self::ProofExpired => "proof.expired",
            Self::ProofRecovered => "proof.recovered",
            Self::SourceStale => "source.stale",
            Self::SourceRecovered => "source.recovered",
            Self::EvidenceChanged => "evidence.changed",
            Self::AcceptanceSigned => "acceptance.signed",
            Self::AcceptanceRevoked => "acceptance.revoked",
            Self::AcceptanceStale => "acceptance.stale",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// What happened, for a person choosing what to be told about.
    pub fn label(self) -> &'static str {
        match self {
            Self::MotionStatusChanged => "A launch motion's status changed",
            Self::BlockerLive => "A blocker went live",
            Self::BlockerCleared => "A blocker cleared",
            Self::ProofFailed => "A proof run failed",
            Self::ProofExpiring => "A proof is about to expire",
            Self::ProofExpired => "A proof expired",
            Self::ProofRecovered => "A proof is passing again",
            Self::SourceStale => "A deployment or remote source went quiet",
            Self::SourceRecovered => "A deployment or remote source answers again",
            Self::EvidenceChanged => "A tenant's evidence changed",
            Self::AcceptanceSigned => "A launch acceptance was signed",
            Self::AcceptanceRevoked => "A launch acceptance was revoked",
            Self::AcceptanceStale => "A signed acceptance went stale",
        }
    }

    /// Whether events of this type belong to one tenant, and so reach only
    /// those allowed to see it.
    pub fn is_tenant_event(self) -> bool {
        matches!(
            self,
            Self::EvidenceChanged
                | Self::AcceptanceSigned
                | Self::AcceptanceRevoked
                | Self::AcceptanceStale
        )
    }
}

impl From<EventKind> for EventType {
    fn from(kind: EventKind) -> Self {
        match kind {
            EventKind::ProofExpiring => Self::ProofExpiring,
            EventKind::ProofExpired => Self::ProofExpired,
            EventKind::ProofRecovered => Self::ProofRecovered,
            EventKind::SourceStale => Self::SourceStale,
            EventKind::SourceRecovered => Self::SourceRecovered,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event as it is written to the outbox.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewEvent {
    pub kind: EventType,
    /// The tenant a tenant event belongs to.
    pub tenant_id: Option<i64>,
    /// The launch motion it concerns, for receivers that want one motion.
    pub motion: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// Where on the site it is seen (an absolute link is built on the public URL).
    pub path: String,
    pub data: Value,
}

/// A stored event, as deliveries send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The stable id (`evt_…`) a receiver deduplicates on.
    pub id: String,
    pub kind: EventType,
    pub tenant_id: Option<i64>,
    pub motion: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub path: String,
    pub data: Value,
}

impl Event {
    /// The Standard Webhooks payload: `type`, `timestamp`, and `data` with the
    /// event's id and its absolute `url` on `public_url` (no trailing slash).
    pub fn payload(&self, public_url: &str) -> Value {
        let mut data = self.data.clone();
        if let Value::Object(fields) = &mut data {
            fields.insert("event_id".to_owned(), json!(self.id));
            fields.insert("url".to_owned(), json!(self.url(public_url)));
        }
        json!({
            "type": self.kind.as_str(),
            "timestamp": self.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": data,
        })
    }

    pub fn url(&self, public_url: &str) -> String {
        format!("{}{}", public_url.trim_end_matches('/'), self.path)
    }

    /// One line for a person: Slack messages and e-mail subjects.
    pub fn summary(&self) -> String {
        let text = |key: &str| self.data.get(key).and_then(Value::as_str).unwrap_or("");
        match self.kind {
            EventType::MotionStatusChanged => format!(
                "{} is now {} (was {})",
                text("title"),
                text("to"),
                self.data
                    .get("from")
                    .and_then(Value::as_str)
                    .unwrap_or("not evaluated")
            ),
            EventType::BlockerLive => format!("Blocker live: {}", text("title")),
            EventType::BlockerCleared => format!("Blocker cleared: {}", text("title")),
            EventType::ProofFailed => format!("Proof failed: {}", text("title")),
            EventType::ProofExpiring => {
                format!(
                    "Proof about to expire: {} ({})",
                    text("title"),
                    text("detail")
                )
            }
            EventType::ProofExpired => format!("Proof expired: {}", text("title")),
            EventType::ProofRecovered => format!("Proof passing again: {}", text("title")),
            EventType::SourceStale => {
                format!(
                    "Readiness source quiet: {} ({})",
                    text("source"),
                    text("detail")
                )
            }
            EventType::SourceRecovered => {
                format!("Readiness source answering again: {}", text("source"))
            }
            EventType::EvidenceChanged => format!(
                "{}: evidence {} on {} / {}",
                text("tenant_name"),
                text("action"),
                text("gate"),
                text("item")
            ),
            EventType::AcceptanceSigned => format!(
                "{}: launch acceptance signed by {}",
                text("tenant_name"),
                text("signer_name")
            ),
            EventType::AcceptanceRevoked => format!(
                "{}: launch acceptance revoked by {}",
                text("tenant_name"),
                text("signer_name")
            ),
            EventType::AcceptanceStale => format!(
                "{}: launch acceptance went stale: {}",
                text("tenant_name"),
                text("reason")
            ),
        }
    }
}

fn status_name(status: Option<MotionStatus>) -> Value {
    status.map_or(Value::Null, |status| json!(status.as_str()))
}

/// A motion's status changed; `reasons` are its reasons now.
pub fn motion_status_changed(
    register: &Register,
    motion: &str,
    from: Option<MotionStatus>,
    to: Option<MotionStatus>,
    reasons: &[Reason],
    at: DateTime<Utc>,
) -> NewEvent {
    let title = register
        .motion(motion)
        .map_or(motion, |motion| motion.name.as_str());
    NewEvent {
        kind: EventType::MotionStatusChanged,
        tenant_id: None,
        motion: Some(motion.to_owned()),
        occurred_at: at,
        path: format!("/motions/{motion}"),
        data: json!({
            "motion": motion,
            "title": title,
            "from": status_name(from),
            "to": status_name(to),
            "reasons": reasons.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }),
    }
}

/// A blocker went live (`live`) or cleared.
pub fn blocker_changed(
    register: &Register,
    blocker: &str,
    live: bool,
    at: DateTime<Utc>,
) -> NewEvent {
    let found = register.blocker(blocker);
    NewEvent {
        kind: if live {
            EventType::BlockerLive
        } else {
            EventType::BlockerCleared
        },
        tenant_id: None,
        motion: None,
        occurred_at: at,
        path: format!("/blockers/{blocker}"),
        data: json!({
            "blocker": blocker,
            "title": found.map_or(blocker, |found| found.title.as_str()),
            "scope": found.map(|found| found.scope.clone()),
            "dependencies": found.map(|found| found.dependencies.clone()).unwrap_or_default(),
            "proof": found.map(|found| found.proof.clone()),
            "fallback": found.map(|found| found.if_missing.clone()),
        }),
    }
}

/// A proof's freshness or verdict changed: failed, expiring, expired, recovered.
pub fn proof_event(
    register: &Register,
    kind: EventType,
    proof: &str,
    detail: &str,
    at: DateTime<Utc>,
) -> NewEvent {
    let title = register
        .proof(proof)
        .map_or(proof, |proof| proof.name.as_str());
    NewEvent {
        kind,
        tenant_id: None,
        motion: None,
        occurred_at: at,
        path: "/".to_owned(),
        data: json!({ "proof": proof, "title": title, "detail": detail }),
    }
}

/// A readiness source (a deployment or a remote document) went quiet or answers again.
pub fn source_event(kind: EventType, source: &str, detail: &str, at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        kind,
        tenant_id: None,
        motion: None,
        occurred_at: at,
        path: "/".to_owned(),
        data: json!({ "source": source, "detail": detail }),
    }
}

fn tenant_fields(tenant: &Tenant) -> Value {
    json!({
        "tenant": tenant.slug,
        "tenant_name": tenant.name,
        "motion": tenant.motion,
    })
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    base
}

/// An operator attached or detached evidence in a tenant's launch room.
pub fn evidence_changed(tenant: &Tenant, change: &EvidenceChange) -> NewEvent {
    NewEvent {
        kind: EventType::EvidenceChanged,
        tenant_id: Some(tenant.id),
        motion: Some(tenant.motion.clone()),
        occurred_at: change.at,
        path: format!("/rooms/{}", tenant.slug),
        data: merge(
            tenant_fields(tenant),
            json!({
                "action": change.action.as_str(),
                "gate": change.gate_id,
                "item": change.item,
                "reference": change.reference,
                "actor": change.actor,
                "seq": change.seq,
            }),
        ),
    }
}

/// A tenant's buyer sponsor signed or revoked its launch acceptance.
pub fn acceptance_recorded(tenant: &Tenant, record: &AcceptanceRecord) -> NewEvent {
    use crate::domain::ledger::AcceptanceKind;
    NewEvent {
        kind: match record.kind {
            AcceptanceKind::Accepted => EventType::AcceptanceSigned,
            AcceptanceKind::Revoked => EventType::AcceptanceRevoked,
        },
        tenant_id: Some(tenant.id),
        motion: Some(record.motion.clone()),
        occurred_at: record.signed_at,
        path: format!("/rooms/{}", tenant.slug),
        data: merge(
            tenant_fields(tenant),
            json!({
                "seq": record.seq,
                "signer_name": record.signer_name,
                "signer_role": record.signer_role,
                "approval_reference": record.approval_reference,
                "exclusions": record.exclusions,
                "digest": record.digest,
            }),
        ),
    }
}

/// A signed acceptance no longer matches readiness: `reason` says what changed.
pub fn acceptance_stale(tenant: &Tenant, reason: &str, at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        kind: EventType::AcceptanceStale,
        tenant_id: Some(tenant.id),
        motion: Some(tenant.motion.clone()),
        occurred_at: at,
        path: format!("/rooms/{}", tenant.slug),
        data: merge(tenant_fields(tenant), json!({ "reason": reason })),
    }
}
