//! How webhooks are delivered: timeouts, retries, when a failing endpoint is
//! disabled, and whether private destinations are allowed.

use std::time::Duration;

/// `serve`'s webhook options (docs/configuration.md, "Webhooks").
#[derive(clap::Args, Clone, Debug)]
pub struct WebhookArgs {
    /// Allow webhook destinations on loopback and private ranges (for a
    /// receiver on the same host or network; off on the open internet).
    #[arg(long, env = "CLEARANCE_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_private: bool,

    /// Seconds one delivery attempt may take (connect, send, answer).
    #[arg(long, env = "CLEARANCE_WEBHOOK_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub webhook_timeout_secs: u64,

    /// Milliseconds before the first retry; each next one waits twice as long
    /// (with jitter), up to CLEARANCE_WEBHOOK_RETRY_MAX_SECS.
    #[arg(long, env = "CLEARANCE_WEBHOOK_RETRY_BASE_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub webhook_retry_base_ms: u64,

    /// The longest wait between two attempts, in seconds.
    #[arg(long, env = "CLEARANCE_WEBHOOK_RETRY_MAX_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub webhook_retry_max_secs: u64,

    /// Seconds of nothing but failures after which an endpoint is disabled
    /// (its pending deliveries marked failed; an operator re-enables it and
    /// redelivers). Default: 5 days.
    #[arg(long, env = "CLEARANCE_WEBHOOK_DISABLE_AFTER_SECS", default_value_t = 432_000, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub webhook_disable_after_secs: u64,
}

/// The settings the delivery worker and the endpoint checks use.
#[derive(Clone, Copy, Debug)]
pub struct WebhookSettings {
    pub allow_private: bool,
    pub timeout: Duration,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub disable_after: Duration,
}

impl WebhookSettings {
    /// How long a claimed delivery is held before another process may take it
    /// over: well beyond one attempt, so a live sender is never doubled.
    pub fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(10)
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(600),
            disable_after: Duration::from_secs(432_000),
        }
    }
}

impl From<&WebhookArgs> for WebhookSettings {
    fn from(args: &WebhookArgs) -> Self {
        Self {
            allow_private: args.webhook_allow_private,
            timeout: Duration::from_secs(args.webhook_timeout_secs),
            retry_base: Duration::from_millis(args.webhook_retry_base_ms),
            retry_max: Duration::from_secs(args.webhook_retry_max_secs),
            disable_after: Duration::from_secs(args.webhook_disable_after_secs),
        }
    }
}

/// The wait before attempt `attempts + 1`: exponential from `base`, capped at
/// `max`, with "equal jitter" (between half and all of it) from `unit` in [0, 1).
pub fn backoff(base: Duration, max: Duration, attempts: u32, unit: f64) -> Duration {
    let exponent = attempts.saturating_sub(1).min(30);
    let full = base.saturating_mul(1_u32 << exponent).min(max);
    full.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(600);
        assert_eq!(backoff(base, max, 1, 0.999_999).as_secs(), 4);
        assert_eq!(backoff(base, max, 1, 0.0), Duration::from_millis(2_500));
        assert_eq!(backoff(base, max, 3, 1.0), Duration::from_secs(20));
        assert_eq!(backoff(base, max, 20, 1.0), max);
        assert_eq!(backoff(base, max, 20, 0.0), max / 2);
    }
}
