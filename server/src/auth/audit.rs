//! The access log: sign-ins (successful, failed, refused), sign-outs, refused
//! invitation links and account changes, with who, what, when (UTC) and from
//! where. Rows are never changed (the serving role may only read and insert
//! them). A refusal repeating one recorded less than [`BURST_WINDOW_SECS`] ago
//! (same action, actor, subject and account, from any address) adds to that
//! event's count in `access_event_repeats` instead of adding a row, so a flood
//! of refusals stays a few rows and never buries the real events. The database
//! lets a repeat only count up; the log is read through the `access_log` view.

use app::domain::ledger::{canonical_time, storable_time};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use app::domain::access::Viewer;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    SignInSucceeded,
    SignInFailed,
    SignInRefused,
    SignedOut,
    AccountCreated,
    AccountDisabled,
    RoleChanged,
    InvitationCreated,
    InvitationUsed,
    InvitationRefused,
    InvitationRevoked,
    AccessDenied,
    TokenCreated,
    TokenRevoked,
    TenantCreated,
    TenantChanged,
    EvidenceAttached,
    EvidenceDetached,
    AcceptanceSigned,
    AcceptanceRevoked,
    WebhookCreated,
    WebhookChanged,
    WebhookSecretRotated,
    WebhookDeleted,
    WebhookRedelivered,
}

/// How long after a refusal's first row identical ones add to its count.
pub const BURST_WINDOW_SECS: i32 = 60;

impl Action {
    /// Refusals repeat in bursts; they are counted, not logged one by one.
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            Self::SignInRefused | Self::InvitationRefused | Self::AccessDenied
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignInSucceeded => "sign_in_succeeded",
            Self::SignInFailed => "sign_in_failed",
            Self::SignInRefused => "sign_in_refused",
            Self::SignedOut => "signed_out",
            Self::AccountCreated => "account_created",
            Self::AccountDisabled => "account_disabled",
            Self::RoleChanged => "role_changed",
            Self::InvitationCreated => "invitation_created",
            Self::InvitationUsed => "invitation_used",
            Self::InvitationRefused => "invitation_refused",
            Self::InvitationRevoked => "invitation_revoked",
            Self::AccessDenied => "access_denied",
            Self::TokenCreated => "token_created",
            Self::TokenRevoked => "token_revoked",
            Self::TenantCreated => "tenant_created",
            Self::TenantChanged => "tenant_changed",
            Self::EvidenceAttached => "evidence_attached",
            Self::EvidenceDetached => "evidence_detached",
            Self::AcceptanceSigned => "acceptance_signed",
            Self::AcceptanceRevoked => "acceptance_revoked",
            Self::WebhookCreated => "webhook_created",
            Self::WebhookChanged => "webhook_changed",
            Self::WebhookSecretRotated => "webhook_secret_rotated",
            Self::WebhookDeleted => "webhook_deleted",
            Self::WebhookRedelivered => "webhook_redelivered",
        }
    }
}

/// One event to record.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub account_id: Option<i64>,
    /// Who: an e-mail address, `command line` or `anonymous`.
    pub actor: &'a str,
    pub action: Action,
    pub subject: Option<&'a str>,
    pub remote_addr: Option<&'a str>,
}

pub(crate) fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Records `action` on `subject` by `viewer` (an account, or `anonymous`) from
/// `address`.
pub async fn record_by(
    pool: &PgPool,
    viewer: &Viewer,
    action: Action,
    subject: &str,
    address: &str,
) {
    let (account_id, actor) = match viewer {
        Viewer::Account(account) => (Some(account.id), account.email.as_str()),
        Viewer::Public => (None, "anonymous"),
    };
    record(
        pool,
        &Event {
            account_id,
            actor,
            action,
            subject: Some(subject),
            remote_addr: Some(address),
        },
    )
    .await;
}

/// Records an event. A failure is logged, not raised: losing an audit row must
/// not lock people out, and the log says it happened.
pub async fn record(pool: &PgPool, event: &Event<'_>) {
    record_repeated(pool, event, 1, false).await;
}

/// Records `event` as having happened `times` times (a refusal burst counted in
/// memory, see [`super::refusals`]); `several_addresses` when they came from
/// more than one address. A refusal adds to its burst's row when one started
/// within [`BURST_WINDOW_SECS`]; anything else is a row of its own.
pub async fn record_repeated(
    pool: &PgPool,
    event: &Event<'_>,
    times: i32,
    several_addresses: bool,
) {
    let actor = clip(event.actor, 300);
    let subject = event.subject.map(|subject| clip(subject, 300));
    let remote_addr = event.remote_addr.map(|addr| clip(addr, 100));
    let times = times.max(1);
    let result = async {
        if event.action.is_refusal() {
            let repeated = sqlx::query_scalar!(
                r#"WITH burst AS (
                       SELECT id, remote_addr FROM access_events
                       WHERE action = $3 AND actor = $2
                         AND subject IS NOT DISTINCT FROM $4
                         AND account_id IS NOT DISTINCT FROM $1
                         AND at > now() - make_interval(secs => $6)
                       ORDER BY id DESC LIMIT 1
                   )
                   INSERT INTO access_event_repeats AS r (event_id, count, last_at, several_addresses)
                   SELECT id, 1 + $7, now(), $8 OR remote_addr IS DISTINCT FROM $5 FROM burst
                   ON CONFLICT (event_id) DO UPDATE
                       SET count = r.count + $7,
                           last_at = now(),
                           several_addresses = r.several_addresses OR excluded.several_addresses
                   RETURNING event_id"#,
                event.account_id,
                actor,
                event.action.as_str(),
                subject,
                remote_addr,
                f64::from(BURST_WINDOW_SECS),
                times,
                several_addresses,
            )
            .fetch_optional(pool)
            .await?;
            if repeated.is_some() {
                return Ok(());
            }
        }
        // The event, when it already happened more than once (a burst counted
        // in memory) its count, and its leaf for the transparency log, in one
        // statement.
        let at = storable_time(Utc::now());
        let leaf = crate::log::leaf::access(&crate::log::leaf::AccessFields {
            at: canonical_time(at),
            account_id: event.account_id,
            actor: &actor,
            action: event.action.as_str(),
            subject: subject.as_deref(),
            remote_addr: remote_addr.as_deref(),
        });
        sqlx::query!(
            r#"WITH event AS (
                   INSERT INTO access_events (at, account_id, actor, action, subject, remote_addr)
                   VALUES ($8, $1, $2, $3, $4, $5)
                   RETURNING id
               ), repeats AS (
                   INSERT INTO access_event_repeats (event_id, count, last_at, several_addresses)
                   SELECT id, $6, now(), $7 FROM event WHERE $6 > 1
               )
               INSERT INTO log_pending (kind, ref_id, leaf) SELECT 'access', id, $9 FROM event"#,
            event.account_id,
            actor,
            event.action.as_str(),
            subject,
            remote_addr,
            times,
            several_addresses,
            at,
            leaf,
        )
        .execute(pool)
        .await
        .map(drop)
    }
    .await;
    if let Err(error) = result {
        tracing::error!(%error, action = event.action.as_str(), "could not record an access event");
    }
}

/// A recorded event, as operators see it.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub remote_addr: Option<String>,
    /// How many times it happened in its burst (1 for most events).
    pub count: i32,
    /// When the last of the burst happened, if it repeated.
    pub last_at: Option<DateTime<Utc>>,
    /// Whether the burst came from more than one address.
    pub several_addresses: bool,
}

/// The newest `limit` events.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<Recorded>, sqlx::Error> {
    sqlx::query_as!(
        Recorded,
        r#"SELECT at AS "at!", actor AS "actor!", action AS "action!", subject, remote_addr,
                  count AS "count!", last_at, several_addresses AS "several_addresses!"
           FROM access_log
           ORDER BY id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(pool)
    .await
}
