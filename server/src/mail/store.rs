//! Subscriptions and the mail queue. Mail is queued inside the transaction of
//! its cause (an invitation's creation, an event's fan-out), so a mail exists
//! exactly when its cause does; [`super::send`] sends it at least once.
//! Every mail carries an unsubscribe token of its own, stored as its SHA-256.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use app::domain::access::{AccountSummary, Role, Viewer};
use app::domain::events::{Event, EventType};
use app::page_data::notifications::{Subscription, UnsubscribeLink};

use super::render::{self, Rendered};
use crate::auth::invitations::token_hash;
use crate::tenancy::{self, Acting};

/// A fresh unsubscribe token and its stored form.
fn unsubscribe_token() -> (String, String) {
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

fn unsubscribe_url(public_url: &str, token: &str) -> String {
    format!("{}/unsubscribe/{token}", public_url.trim_end_matches('/'))
}

/// What a mail to queue is.
struct Queued<'a> {
    kind: &'static str,
    recipient: &'a str,
    rendered: Rendered,
    unsubscribe_url: &'a str,
    unsubscribe_hash: &'a str,
    event_id: Option<i64>,
    subscription_id: Option<i64>,
    invitation_id: Option<i64>,
}

async fn insert(conn: &mut PgConnection, mail: &Queued<'_>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        r#"INSERT INTO mail_outbox (kind, recipient, subject, text_body, html_body, unsubscribe_url,
                                    unsubscribe_hash, event_id, subscription_id, invitation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (event_id, subscription_id) DO NOTHING"#,
        mail.kind,
        mail.recipient,
        mail.rendered.subject,
        mail.rendered.text,
        mail.rendered.html,
        mail.unsubscribe_url,
        mail.unsubscribe_hash,
        mail.event_id,
        mail.subscription_id,
        mail.invitation_id,
    )
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Queues the mail of a just-created invitation, inside its transaction.
/// Answers false (nothing queued) when the address asked for no more
/// invitation mail.
pub async fn queue_invitation(
    conn: &mut PgConnection,
    public_url: &str,
    invitation_id: i64,
    recipient: &str,
    tenant_name: &str,
    link: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let suppressed = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM mail_suppressions WHERE email = $1) AS "suppressed!""#,
        recipient
    )
    .fetch_one(&mut *conn)
    .await?;
    if suppressed {
        return Ok(false);
    }
    let (token, hash) = unsubscribe_token();
    let url = unsubscribe_url(public_url, &token);
    insert(
        conn,
        &Queued {
            kind: "invitation",
            recipient,
            rendered: render::invitation_mail(tenant_name, link, expires_at, &url),
            unsubscribe_url: &url,
            unsubscribe_hash: &hash,
            event_id: None,
            subscription_id: None,
            invitation_id: Some(invitation_id),
        },
    )
    .await
}

/// What a subscription asks for, in words (mails say why they were sent).
pub fn describe(event_types: &[String], motions: &[String]) -> String {
    let kinds = if event_types.is_empty() {
        "every event you may see".to_owned()
    } else {
        event_types
            .iter()
            .map(|kind| {
                EventType::parse(kind)
                    .map_or_else(|| kind.clone(), |kind| format!("“{}”", kind.label()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if motions.is_empty() {
        kinds
    } else {
        format!("{kinds} for {}", motions.join(", "))
    }
}

/// Queues, inside the fan-out's transaction (acting as the system), one mail
/// per event and subscription that wants it and may see it: the account is
/// enabled, its filters match, and a tenant event reaches only an account that
/// may read the tenant ([`Viewer::reads_tenant`]). Answers how many were queued.
pub async fn queue_for_events(
    conn: &mut PgConnection,
    public_url: &str,
    ids: &[i64],
) -> Result<usize, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT e.id AS row_id, e.event_id, e.type AS kind, e.tenant_id, e.motion,
                  e.occurred_at, e.path, e.data,
                  s.id AS subscription_id, s.event_types, s.motions,
                  a.id AS account_id, a.email, a.name, a.role, a.tenant_id AS account_tenant
           FROM events e
           JOIN mail_subscriptions s
             ON (cardinality(s.event_types) = 0 OR e.type = ANY (s.event_types))
            AND (cardinality(s.motions) = 0 OR e.motion IS NULL OR e.motion = ANY (s.motions))
           JOIN accounts a ON a.id = s.account_id AND a.disabled_at IS NULL
           WHERE e.id = ANY ($1)
           ORDER BY e.id, s.id"#,
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut queued = 0;
    for row in rows {
        let Some(kind) = EventType::parse(&row.kind) else {
            continue;
        };
        let Some(role) = Role::parse(&row.role) else {
            continue;
        };
        let viewer = Viewer::Account(AccountSummary {
            id: row.account_id,
            email: row.email.clone(),
            name: row.name,
            role,
            tenant_id: row.account_tenant,
        });
        if row
            .tenant_id
            .is_some_and(|tenant| !viewer.reads_tenant(tenant))
        {
            continue;
        }
        let event = Event {
            id: row.event_id,
            kind,
            tenant_id: row.tenant_id,
            motion: row.motion,
            occurred_at: row.occurred_at,
            path: row.path,
            data: row.data,
        };
        let (token, hash) = unsubscribe_token();
        let url = unsubscribe_url(public_url, &token);
        let because = describe(&row.event_types, &row.motions);
        let mail = Queued {
            kind: if kind == EventType::AcceptanceStale {
                "stale_acceptance"
            } else {
                "event"
            },
            recipient: &row.email,
            rendered: render::event_mail(&event, public_url, &url, &because),
            unsubscribe_url: &url,
            unsubscribe_hash: &hash,
            event_id: Some(row.row_id),
            subscription_id: Some(row.subscription_id),
            invitation_id: None,
        };
        if insert(&mut *conn, &mail).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Subscribes a new buyer sponsor to its tenant's acceptance going stale,
/// inside the transaction that creates the account.
pub async fn subscribe_sponsor(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO mail_subscriptions (account_id, event_types, automatic)
           VALUES ($1, ARRAY['acceptance.stale'], true)"#,
        account_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An account's subscriptions, oldest first.
pub async fn list(pool: &PgPool, account_id: i64) -> Result<Vec<Subscription>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, event_types, motions, automatic, created_at
           FROM mail_subscriptions WHERE account_id = $1 ORDER BY id"#,
        account_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Subscription {
            id: row.id,
            description: describe(&row.event_types, &row.motions),
            event_types: row.event_types,
            motions: row.motions,
            automatic: row.automatic,
            created_at: row.created_at,
        })
        .collect())
}

/// Adds a subscription for `account_id` (already checked by the caller).
pub async fn add(
    pool: &PgPool,
    account_id: i64,
    event_types: &[String],
    motions: &[String],
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO mail_subscriptions (account_id, event_types, motions)
           VALUES ($1, $2, $3) RETURNING id"#,
        account_id,
        event_types,
        motions
    )
    .fetch_one(pool)
    .await
}

/// Removes one of `account_id`'s subscriptions; answers whether it existed.
pub async fn remove(pool: &PgPool, account_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query!(
        "DELETE FROM mail_subscriptions WHERE id = $1 AND account_id = $2",
        id,
        account_id
    )
    .execute(pool)
    .await?;
    Ok(removed.rows_affected() == 1)
}

/// What an unsubscribe token would stop, without stopping it.
pub async fn preview(pool: &PgPool, token: &str) -> Result<UnsubscribeLink, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT m.kind, m.recipient, s.event_types AS "event_types?", s.motions AS "motions?",
                  EXISTS (SELECT 1 FROM mail_suppressions x WHERE x.email = m.recipient) AS "suppressed!"
           FROM mail_outbox m LEFT JOIN mail_subscriptions s ON s.id = m.subscription_id
           WHERE m.unsubscribe_hash = $1"#,
        token_hash(token)
    )
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        None => UnsubscribeLink::Unknown,
        Some(row) if row.kind == "invitation" => {
            if row.suppressed {
                UnsubscribeLink::Done
            } else {
                UnsubscribeLink::Invitations {
                    email: row.recipient,
                }
            }
        }
        Some(row) => match (row.event_types, row.motions) {
            (Some(kinds), Some(motions)) => UnsubscribeLink::Subscription {
                email: row.recipient,
                description: describe(&kinds, &motions),
            },
            _ => UnsubscribeLink::Done,
        },
    })
}

/// Follows an unsubscribe link: removes the subscription the mail was sent
/// for (its pending mail is then never sent), or for an invitation mail stops
/// invitation mail to the address. Answers what it stopped (`Done` if it was
/// stopped already, `Unknown` for a token no mail carried).
pub async fn unsubscribe(pool: &PgPool, token: &str) -> Result<UnsubscribeLink, sqlx::Error> {
    let before = preview(pool, token).await?;
    let mut tx = tenancy::begin(pool, Acting::System).await?;
    let row = sqlx::query!(
        "SELECT kind, recipient, subscription_id FROM mail_outbox WHERE unsubscribe_hash = $1",
        token_hash(token)
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = row {
        if row.kind == "invitation" {
            sqlx::query!(
                "INSERT INTO mail_suppressions (email) VALUES ($1) ON CONFLICT DO NOTHING",
                row.recipient.to_lowercase()
            )
            .execute(&mut *tx)
            .await?;
        } else if let Some(id) = row.subscription_id {
            sqlx::query!("DELETE FROM mail_subscriptions WHERE id = $1", id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(before)
}
