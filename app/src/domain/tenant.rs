//! Tenants and the invitations that bring their buyer sponsors in.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::access::FieldError;
use super::launch_room::BillingRoute;

/// How long an invitation link stays valid unless the operator says otherwise.
pub const INVITATION_DAYS: i64 = 7;

/// A customer organisation with its own launch room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// The launch motion (id) the tenant pursues; empty until chosen.
    pub motion: String,
    pub billing_route: BillingRoute,
    pub created_at: DateTime<Utc>,
}

/// A tenant slug: 1–63 characters of `a-z`, `0-9` and `-`, starting with a letter
/// or digit.
pub fn check_slug(slug: &str) -> Result<String, FieldError> {
    let slug = slug.trim().to_lowercase();
    let valid = !slug.is_empty()
        && slug.len() <= 63
        && slug.starts_with(|c: char| c.is_ascii_alphanumeric())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(slug)
    } else {
        Err(FieldError::new(
            "slug",
            "use 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit",
        ))
    }
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    Pending,
    Used,
    Revoked,
    Expired,
}

impl InvitationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Used => "used",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// An invitation as operators see it: never its token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: i64,
    pub tenant_id: i64,
    pub tenant_name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Invitation {
    pub fn state(&self, now: DateTime<Utc>) -> InvitationState {
        if self.used_at.is_some() {
            InvitationState::Used
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if now >= self.expires_at {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

/// When an invitation made `now` for `days` days expires: 1–30 days.
pub fn invitation_expiry(now: DateTime<Utc>, days: i64) -> Result<DateTime<Utc>, FieldError> {
    if (1..=30).contains(&days) {
        Ok(now + Duration::days(days))
    } else {
        Err(FieldError::new("days", "an invitation lasts 1 to 30 days"))
    }
}
