//! Sending queued mail, at least once. A worker claims due mail (`FOR UPDATE
//! SKIP LOCKED`, held by a lease), so any number of server processes share the
//! queue; a process that dies mid-attempt leaves its lease to run out and
//! another tries again. Each mail keeps one `Message-ID` across attempts, so a
//! mail sent twice (a crash after the relay took it) is recognisably the same.
//!
//! A mail the relay refuses or cannot take is retried with exponential backoff
//! and jitter; one still unsent [`MailSettings::give_up_after`] after it was
//! queued is marked failed. Sent or failed, its bodies are erased.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use sqlx::PgPool;

use super::settings::{MailSettings, MailSettingsError};
use crate::tenancy::{self, Acting};
use crate::webhooks::settings::backoff;

/// Mail claimed at once by one process.
const BATCH: i64 = 16;
/// The longest error text kept.
const ERROR_CHARS: usize = 300;

/// The transport mail is sent with.
pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The SMTP transport for `settings`: TLS as the URL says, the attempt's timeout.
pub fn transport(settings: &MailSettings) -> Result<Transport, MailSettingsError> {
    // The error is not passed on: it could quote the URL.
    Ok(Transport::from_url(settings.smtp_url.expose_secret())
        .map_err(|_| MailSettingsError::BadUrl)?
        .timeout(Some(settings.timeout))
        .build())
}

/// `List-Unsubscribe: <url>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(value: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(value.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// A claimed mail with what sending it needs.
struct Claimed {
    id: i64,
    attempts: i32,
    recipient: String,
    subject: String,
    text: String,
    html: String,
    unsubscribe_url: String,
    /// Whether it is still wanted: its subscription stands and its account is
    /// enabled, or its invitation is still pending.
    wanted: bool,
    /// Whether it has waited past the give-up period.
    too_old: bool,
}

/// Claims due mail, sends it one by one and records each outcome. Answers how
/// many were attempted.
pub async fn run_once(
    pool: &PgPool,
    transport: &Transport,
    settings: &MailSettings,
) -> Result<usize, sqlx::Error> {
    let claimed = claim(pool, settings).await?;
    for mail in &claimed {
        let outcome = if mail.wanted {
            attempt(transport, settings, mail).await
        } else {
            Outcome::Gone
        };
        record(pool, settings, mail, outcome).await?;
    }
    Ok(claimed.len())
}

async fn claim(pool: &PgPool, settings: &MailSettings) -> Result<Vec<Claimed>, sqlx::Error> {
    let mut tx = tenancy::begin(pool, Acting::System).await?;
    let rows = sqlx::query!(
        r#"WITH due AS (
               SELECT id FROM mail_outbox
               WHERE status = 'pending' AND next_attempt_at <= now()
                 AND (leased_until IS NULL OR leased_until <= now())
               ORDER BY next_attempt_at, id
               LIMIT $1
               FOR UPDATE SKIP LOCKED),
           claimed AS (
               UPDATE mail_outbox m
               SET leased_until = now() + make_interval(secs => $2),
                   attempts = m.attempts + 1, last_attempt_at = now()
               FROM due WHERE m.id = due.id
               RETURNING m.*)
           SELECT c.id AS "id!", c.attempts AS "attempts!", c.recipient AS "recipient!",
                  c.subject AS "subject!", c.text_body, c.html_body, c.unsubscribe_url,
                  CASE WHEN c.kind = 'invitation'
                       THEN i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()
                       ELSE a.id IS NOT NULL AND a.disabled_at IS NULL END AS "wanted!",
                  c.created_at + make_interval(secs => $3) <= now() AS "too_old!"
           FROM claimed c
           LEFT JOIN invitations i ON i.id = c.invitation_id
           LEFT JOIN mail_subscriptions s ON s.id = c.subscription_id
           LEFT JOIN accounts a ON a.id = s.account_id
           ORDER BY c.id"#,
        BATCH,
        settings.lease().as_secs_f64(),
        settings.give_up_after.as_secs_f64(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|row| Claimed {
            id: row.id,
            attempts: row.attempts,
            recipient: row.recipient,
            subject: row.subject,
            wanted: row.wanted && row.text_body.is_some(),
            text: row.text_body.unwrap_or_default(),
            html: row.html_body.unwrap_or_default(),
            unsubscribe_url: row.unsubscribe_url.unwrap_or_default(),
            too_old: row.too_old,
        })
        .collect())
}

/// What one round did with a mail.
enum Outcome {
    Sent,
    Failed(String),
    /// No longer wanted (unsubscribed, account disabled, invitation no longer
    /// pending): given up without an attempt.
    Gone,
}

fn message(settings: &MailSettings, mail: &Claimed) -> Result<Message, String> {
    let to: Mailbox = mail
        .recipient
        .parse()
        .map_err(|_| "the recipient is not a valid address".to_owned())?;
    let domain = settings.from.email.domain().to_owned();
    Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<clearance-mail-{}@{domain}>", mail.id)))
        .header(ListUnsubscribe(mail.unsubscribe_url.clone()))
        .header(ListUnsubscribePost)
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|error| format!("could not build the message: {error}"))
}

/// Sends one mail: `Sent` once the relay took it. A transport error names what
/// went wrong (connection, TLS, the relay's answer), never the relay's URL.
async fn attempt(transport: &Transport, settings: &MailSettings, mail: &Claimed) -> Outcome {
    let message = match message(settings, mail) {
        Ok(message) => message,
        Err(error) => return Outcome::Failed(error),
    };
    match transport.send(message).await {
        Ok(_) => Outcome::Sent,
        Err(error) => {
            let mut text = error.to_string();
            if let Some(source) = std::error::Error::source(&error) {
                text = format!("{text}: {source}");
            }
            Outcome::Failed(text.chars().take(ERROR_CHARS).collect())
        }
    }
}

async fn record(
    pool: &PgPool,
    settings: &MailSettings,
    mail: &Claimed,
    outcome: Outcome,
) -> Result<(), sqlx::Error> {
    match outcome {
        Outcome::Sent => {
            sqlx::query!(
                r#"UPDATE mail_outbox SET status = 'sent', sent_at = now(), last_error = NULL,
                          leased_until = NULL, text_body = NULL, html_body = NULL,
                          unsubscribe_url = NULL
                   WHERE id = $1"#,
                mail.id
            )
            .execute(pool)
            .await?;
        }
        Outcome::Gone => {
            give_up(
                pool,
                mail.id,
                "no longer wanted: unsubscribed, account disabled or invitation no longer pending",
            )
            .await?;
        }
        Outcome::Failed(error) if mail.too_old => {
            tracing::warn!(mail = mail.id, attempts = mail.attempts, %error, "mail given up");
            give_up(pool, mail.id, &error).await?;
        }
        Outcome::Failed(error) => {
            let attempts = u32::try_from(mail.attempts).unwrap_or(1);
            let unit = f64::from(OsRng.next_u32()) / f64::from(u32::MAX);
            let wait = backoff(settings.retry_base, settings.retry_max, attempts, unit);
            tracing::info!(
                mail = mail.id,
                attempts,
                %error,
                retry_in_ms = wait.as_millis() as u64,
                "mail not sent; will retry"
            );
            sqlx::query!(
                r#"UPDATE mail_outbox SET next_attempt_at = now() + make_interval(secs => $2),
                          last_error = $3, leased_until = NULL
                   WHERE id = $1"#,
                mail.id,
                wait.as_secs_f64(),
                error
            )
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// Marks a mail failed and erases its bodies.
async fn give_up(pool: &PgPool, id: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE mail_outbox SET status = 'failed', last_error = $2, leased_until = NULL,
                  text_body = NULL, html_body = NULL, unsubscribe_url = NULL
           WHERE id = $1"#,
        id,
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}
