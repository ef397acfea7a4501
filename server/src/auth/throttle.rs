//! Slowing and refusing repeated sign-in attempts, per account and per address,
//! with governor's keyed rate limiters (GCRA). A refused attempt is told when it
//! may try again.

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

/// How long a failed attempt waits before it is answered.
pub const FAILURE_DELAY: Duration = Duration::from_millis(400);

/// The sign-in limiters, shared by every request.
#[derive(Clone)]
pub struct SignInThrottle {
    accounts: Arc<DefaultKeyedRateLimiter<String>>,
    addresses: Arc<DefaultKeyedRateLimiter<String>>,
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
        }
    }
}

impl SignInThrottle {
    /// Counts an attempt from `address` alone (invitation links).
    pub fn address_attempt(&self, address: &str) -> Result<(), Duration> {
        self.addresses
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
