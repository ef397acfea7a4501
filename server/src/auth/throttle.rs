//! Slowing and refusing repeated sign-in attempts, per account and per address,
//! and repeated invitation-link attempts per address, with governor's keyed rate
//! limiters (GCRA). A refused attempt is told when it may try again.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Attempts per account: a burst of 5, then one more every 30 seconds.
const ACCOUNT_BURST: u32 = 5;
const ACCOUNT_PERIOD: Duration = Duration::from_secs(30);
/// Attempts per address: a burst of 20, then one more every 6 seconds.
const ADDRESS_BURST: u32 = 20;
const ADDRESS_PERIOD: Duration = Duration::from_secs(6);
/// Invitation-link attempts (opening a link or using it) per address: a burst of
/// 10, then one more every 30 seconds. A sponsor needs two or three; guessing a
/// 256-bit token needs far more, so this only slows someone probing for links.
const INVITATION_BURST: u32 = 10;
const INVITATION_PERIOD: Duration = Duration::from_secs(30);

/// Wrong bearer tokens per address: a burst of 20, then one more every 6 seconds.
const BEARER_BURST: u32 = 20;
const BEARER_PERIOD: Duration = Duration::from_secs(6);

/// How long a failed attempt waits before it is answered.
pub const FAILURE_DELAY: Duration = Duration::from_millis(400);

/// The sign-in and invitation limiters, shared by every request.
#[derive(Clone)]
pub struct SignInThrottle {
    accounts: Arc<DefaultKeyedRateLimiter<String>>,
    addresses: Arc<DefaultKeyedRateLimiter<String>>,
    invitations: Arc<DefaultKeyedRateLimiter<String>>,
    bearers: Arc<DefaultKeyedRateLimiter<String>>,
}

fn limiter(burst: u32, period: Duration) -> Arc<DefaultKeyedRateLimiter<String>> {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst);
    Arc::new(RateLimiter::keyed(quota))
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self {
            accounts: limiter(ACCOUNT_BURST, ACCOUNT_PERIOD),
            addresses: limiter(ADDRESS_BURST, ADDRESS_PERIOD),
            invitations: limiter(INVITATION_BURST, INVITATION_PERIOD),
            bearers: limiter(BEARER_BURST, BEARER_PERIOD),
        }
    }
}

impl SignInThrottle {
    /// Counts an invitation-link attempt from `address` (its own limiter, so
    /// probing for links does not lock the address out of signing in, nor the
    /// other way round); `Err` with the wait when it has made too many.
    pub fn invitation_attempt(&self, address: &str) -> Result<(), Duration> {
        self.invitations
            .check_key(&address.to_owned())
            .map_err(|wait| wait.wait_time_from(DefaultClock::default().now()))
    }

    /// Counts a wrong bearer token from `address` (its own limiter); `Err` with
    /// the wait when it has presented too many.
    pub fn bearer_failure(&self, address: &str) -> Result<(), Duration> {
        self.bearers
            .check_key(&address.to_owned())
            .map_err(|wait| wait.wait_time_from(DefaultClock::default().now()))
    }

    /// Counts an attempt for `account` from `address`; `Err` with the wait when
    /// either has made too many.
    pub fn attempt(&self, account: &str, address: &str) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        let account = self.accounts.check_key(&account.trim().to_lowercase());
        let address = self.addresses.check_key(&address.to_owned());
        match (account, address) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(wait), _) | (_, Err(wait)) => Err(wait.wait_time_from(clock.now())),
        }
    }
}
