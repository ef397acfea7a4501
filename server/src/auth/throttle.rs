//! Slowing and refusing repeated sign-in attempts, per account and per address,
//! and repeated invitation-link attempts per address, with governor's keyed rate
//! limiters (GCRA). A refused attempt is told when it may try again.
//!
//! Addresses are keyed by client: an IPv4 address, or an IPv6 address's /64
//! (one subscriber's usual allocation). The address is checked before the
//! account, and a refused check spends nothing, so a client refused for its own
//! address cannot use up, and so lock, someone else's account.
//!
//! Bounded: keys whose allowance has fully come back are dropped every
//! [`PRUNE_EVERY`] ([`SignInThrottle::prune`]); a limiter that still holds
//! [`MAX_KEYS`] keys is pruned at once and, if still full, started over
//! (logged): memory stays bounded, and the most an attacker holding that many
//! addresses at once gains is a fresh allowance for each.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
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

/// Most keys one limiter tracks (about 100 bytes each).
pub const MAX_KEYS: usize = 100_000;
/// How often keys with their whole allowance back are dropped.
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Which limit refused an attempt, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Too many attempts from this address (or IPv6 /64).
    Address(Duration),
    /// Too many attempts on this account.
    Account(Duration),
}

impl Refused {
    pub fn wait(self) -> Duration {
        match self {
            Self::Address(wait) | Self::Account(wait) => wait,
        }
    }
}

/// The sign-in and invitation limiters, shared by every request.
#[derive(Clone)]
pub struct SignInThrottle {
    accounts: Arc<BoundedLimiter>,
    addresses: Arc<BoundedLimiter>,
    invitations: Arc<BoundedLimiter>,
    bearers: Arc<BoundedLimiter>,
}

/// A keyed limiter that never tracks more than [`MAX_KEYS`] keys: governor has
/// no way to empty one, so a full one is replaced.
struct BoundedLimiter {
    quota: Quota,
    limiter: RwLock<Arc<DefaultKeyedRateLimiter<String>>>,
}

impl BoundedLimiter {
    fn new(burst: u32, period: Duration) -> Arc<Self> {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Arc::new(Self {
            quota,
            limiter: RwLock::new(Arc::new(RateLimiter::keyed(quota))),
        })
    }

    fn current(&self) -> Arc<DefaultKeyedRateLimiter<String>> {
        Arc::clone(
            &self
                .limiter
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Counts one attempt under `key`.
    fn check(&self, key: String) -> Result<(), Duration> {
        let mut limiter = self.current();
        if limiter.len() >= MAX_KEYS {
            limiter.retain_recent();
            if limiter.len() >= MAX_KEYS {
                tracing::warn!(
                    keys = limiter.len(),
                    "a sign-in throttle is full of clients still limited; starting it over"
                );
                let fresh = Arc::new(RateLimiter::keyed(self.quota));
                *self
                    .limiter
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::clone(&fresh);
                limiter = fresh;
            }
        }
        limiter
            .check_key(&key)
            .map_err(|wait| wait.wait_time_from(DefaultClock::default().now()))
    }

    fn prune(&self) {
        let limiter = self.current();
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.current().len()
    }
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self {
            accounts: BoundedLimiter::new(ACCOUNT_BURST, ACCOUNT_PERIOD),
            addresses: BoundedLimiter::new(ADDRESS_BURST, ADDRESS_PERIOD),
            invitations: BoundedLimiter::new(INVITATION_BURST, INVITATION_PERIOD),
            bearers: BoundedLimiter::new(BEARER_BURST, BEARER_PERIOD),
        }
    }
}

/// The key an address is throttled under: an IPv4 address as it is, an IPv6
/// address's /64 (`2001:db8:1:2::/64`); anything else (`unknown`) as given.
pub fn address_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & (u128::MAX << 64);
                format!("{}/64", std::net::Ipv6Addr::from(prefix))
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

impl SignInThrottle {
    /// Counts an invitation-link attempt from `address` (its own limiter, so
    /// probing for links does not lock the address out of signing in, nor the
    /// other way round); `Err` with the wait when it has made too many.
    pub fn invitation_attempt(&self, address: &str) -> Result<(), Duration> {
        self.invitations.check(address_key(address))
    }

    /// Counts a wrong bearer token from `address` (its own limiter); `Err` with
    /// the wait when it has presented too many.
    pub fn bearer_failure(&self, address: &str) -> Result<(), Duration> {
        self.bearers.check(address_key(address))
    }

    /// Counts an attempt for `account` from `address`: the address first, and
    /// the account only when the address may still try, so a refused address
    /// spends none of the account's allowance.
    pub fn attempt(&self, account: &str, address: &str) -> Result<(), Refused> {
        self.addresses
            .check(address_key(address))
            .map_err(Refused::Address)?;
        self.accounts
            .check(account.trim().to_lowercase())
            .map_err(Refused::Account)
    }

    /// Drops the keys whose allowance has fully come back, and the memory
    /// they held.
    pub fn prune(&self) {
        for limiter in [
            &self.accounts,
            &self.addresses,
            &self.invitations,
            &self.bearers,
        ] {
            limiter.prune();
        }
    }

    /// Keys tracked, over every limiter.
    pub fn tracked_keys(&self) -> usize {
        [
            &self.accounts,
            &self.addresses,
            &self.invitations,
            &self.bearers,
        ]
        .iter()
        .map(|limiter| limiter.len())
        .sum()
    }

    /// Prunes every [`PRUNE_EVERY`] until `stop` is cancelled.
    pub fn spawn_pruning(&self, stop: tokio_util::sync::CancellationToken) {
        let throttle = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PRUNE_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => throttle.prune(),
                    () = stop.cancelled() => return,
                }
            }
        });
    }
}
