//! How mail is sent: the SMTP relay (`CLEARANCE_SMTP_URL`, a secret: it may
//! carry a user name and password), the sender address, timeouts and retries.
//! Without an SMTP URL nothing is mailed and nothing is queued.

use std::fmt;
use std::time::Duration;

use lettre::message::Mailbox;
use secrecy::{ExposeSecret, SecretString};

/// `serve`'s e-mail options (docs/configuration.md, "E-mail").
// No `Debug`: the SMTP URL may carry the relay's password.
#[derive(clap::Args, Clone)]
pub struct MailArgs {
    /// The SMTP relay: `smtp://host:587?tls=required` (STARTTLS),
    /// `smtps://host:465` (TLS from the start) or `smtp://host:25` (plain, for
    /// a relay on the same host), with `user:password@` before the host when
    /// the relay wants them. Unset: nothing is mailed.
    #[arg(
        long,
        env = "CLEARANCE_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub smtp_url: Option<SecretString>,

    /// The sender, `clearance@example.com` or `Clearance <clearance@example.com>`.
    /// Required with CLEARANCE_SMTP_URL.
    #[arg(long, env = "CLEARANCE_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,

    /// Seconds one sending attempt may take (connect, TLS, send).
    #[arg(long, env = "CLEARANCE_MAIL_TIMEOUT_SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub mail_timeout_secs: u64,

    /// Milliseconds before the first retry; each next one waits twice as long
    /// (with jitter), up to CLEARANCE_MAIL_RETRY_MAX_SECS.
    #[arg(long, env = "CLEARANCE_MAIL_RETRY_BASE_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub mail_retry_base_ms: u64,

    /// The longest wait between two attempts, in seconds.
    #[arg(long, env = "CLEARANCE_MAIL_RETRY_MAX_SECS", default_value_t = 1_800, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub mail_retry_max_secs: u64,

    /// Seconds after it was queued at which a mail that could not be sent is
    /// given up (marked failed, its body erased). Default: 3 days.
    #[arg(long, env = "CLEARANCE_MAIL_GIVE_UP_AFTER_SECS", default_value_t = 259_200, value_parser = clap::value_parser!(u64).range(60..=2_592_000))]
    pub mail_give_up_after_secs: u64,
}

/// Why the mail options cannot be used, without their values.
#[derive(Debug, thiserror::Error)]
pub enum MailSettingsError {
    #[error("CLEARANCE_MAIL_FROM is required when CLEARANCE_SMTP_URL is set")]
    NoSender,
    #[error("CLEARANCE_MAIL_FROM is not an e-mail address (`name@example.com` or `Name <name@example.com>`)")]
    BadSender,
    #[error("CLEARANCE_SMTP_URL is not an SMTP URL (smtp://host:port?tls=required, smtps://host:465 or smtp://host:port)")]
    BadUrl,
}

/// The settings the worker sends with, and the pages read to say whether
/// e-mail is configured.
#[derive(Clone)]
pub struct MailSettings {
    /// The relay URL, credentials included: never logged, never shown.
    pub smtp_url: SecretString,
    pub from: Mailbox,
    pub timeout: Duration,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub give_up_after: Duration,
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &"[redacted]")
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .field("retry_base", &self.retry_base)
            .field("retry_max", &self.retry_max)
            .field("give_up_after", &self.give_up_after)
            .finish()
    }
}

impl MailSettings {
    /// Settings with the default timeout and retries; checks both values.
    pub fn new(smtp_url: SecretString, from: &str) -> Result<Self, MailSettingsError> {
        let from = from
            .trim()
            .parse::<Mailbox>()
            .map_err(|_| MailSettingsError::BadSender)?;
        let settings = Self {
            smtp_url,
            from,
            timeout: Duration::from_secs(20),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(1_800),
            give_up_after: Duration::from_secs(259_200),
        };
        // Checked once at start-up, so the worker never meets a bad URL.
        super::send::transport(&settings)?;
        Ok(settings)
    }

    /// How long a claimed mail is held before another process may take it
    /// over: well beyond one attempt, so a live sender is never doubled.
    pub fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(10)
    }

    /// The host part of the relay URL, for a log line that says where mail goes
    /// (never the credentials).
    pub fn relay_host(&self) -> String {
        url::Url::parse(self.smtp_url.expose_secret())
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl MailArgs {
    /// The settings, or `None` when no SMTP URL is set.
    pub fn settings(&self) -> Result<Option<MailSettings>, MailSettingsError> {
        let Some(url) = &self.smtp_url else {
            return Ok(None);
        };
        let from = self
            .mail_from
            .as_deref()
            .ok_or(MailSettingsError::NoSender)?;
        let mut settings = MailSettings::new(url.clone(), from)?;
        settings.timeout = Duration::from_secs(self.mail_timeout_secs);
        settings.retry_base = Duration::from_millis(self.mail_retry_base_ms);
        settings.retry_max = Duration::from_secs(self.mail_retry_max_secs);
        settings.give_up_after = Duration::from_secs(self.mail_give_up_after_secs);
        Ok(Some(settings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_url_and_bad_values_are_named_without_them() {
        let settings = MailSettings::new(
            SecretString::from("smtp://user:hunter2-secret@127.0.0.1:2525"),
            "Clearance <clearance@example.com>",
        )
        .expect("valid settings");
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert_eq!(settings.relay_host(), "127.0.0.1");
        let error = MailSettings::new(SecretString::from("http://x:hunter2@h"), "a@b.example")
            .expect_err("not smtp");
        assert!(!error.to_string().contains("hunter2"));
        assert!(matches!(
            MailSettings::new(SecretString::from("smtp://h:25"), "not an address"),
            Err(MailSettingsError::BadSender)
        ));
    }
}
