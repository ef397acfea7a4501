//! Slowing and refusing repeated sign-in attempts, per account and per address,
//! repeated invitation-link attempts per address and wrong bearer tokens per
//! address: a generic cell rate algorithm (GCRA) kept in PostgreSQL
//! (`throttle_buckets`), so the limits hold across every server on the database.
//! A refused attempt is told when it may try again.
//!
//! Addresses are keyed by client: an IPv4 address, or an IPv6 address's /64
//! (one subscriber's usual allocation). The address is checked before the
//! account, and a refused check spends nothing, so a client refused for its own
//! address cannot use up, and so lock, someone else's account.
//!
//! Each check is one statement. A row whose allowance has fully come back is
//! deleted every [`PRUNE_EVERY`] by any server. If PostgreSQL cannot be asked,
//! the attempt is let through (and the error logged): every step after the
//! throttle needs the database too, and fails there with its own answer.

use std::net::IpAddr;
use std::time::Duration;

use sqlx::PgPool;

/// How long a failed attempt waits before it is answered.
pub const FAILURE_DELAY: Duration = Duration::from_millis(400);

/// How often rows with their whole allowance back are deleted.
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Longest key kept: longer ones (no valid e-mail address is) are cut.
const MAX_KEY_CHARS: usize = 320;

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

/// One limit: its name in `throttle_buckets`, burst and period.
#[derive(Clone, Copy, Debug)]
struct Limit {
    name: &'static str,
    burst: u32,
    period: Duration,
}

/// Attempts per account: a burst of 5, then one more every 30 seconds.
const ACCOUNTS: Limit = Limit {
    name: "account",
    burst: 5,
    period: Duration::from_secs(30),
};
/// Attempts per address: a burst of 20, then one more every 6 seconds.
const ADDRESSES: Limit = Limit {
    name: "address",
    burst: 20,
    period: Duration::from_secs(6),
};
/// Invitation-link attempts (opening a link or using it) per address: a burst of
/// 10, then one more every 30 seconds. A sponsor needs two or three; guessing a
/// 256-bit token needs far more, so this only slows someone probing for links.
const INVITATIONS: Limit = Limit {
    name: "invitation",
    burst: 10,
    period: Duration::from_secs(30),
};
/// Wrong bearer tokens per address: a burst of 20, then one more every 6 seconds.
const BEARERS: Limit = Limit {
    name: "bearer",
    burst: 20,
    period: Duration::from_secs(6),
};

/// The sign-in, invitation and bearer limits, shared by every request and
/// every server on the database.
#[derive(Clone, Debug)]
pub struct SignInThrottle {
    pool: PgPool,
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
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Counts an invitation-link attempt from `address` (its own limit, so
    /// probing for links does not lock the address out of signing in, nor the
    /// other way round); `Err` with the wait when it has made too many.
    pub async fn invitation_attempt(&self, address: &str) -> Result<(), Duration> {
        self.spend(INVITATIONS, &address_key(address)).await
    }

    /// Counts a wrong bearer token from `address` (its own limit); `Err` with
    /// the wait when it has presented too many.
    pub async fn bearer_failure(&self, address: &str) -> Result<(), Duration> {
        self.spend(BEARERS, &address_key(address)).await
    }

    /// Counts an attempt for `account` from `address`: the address first, and
    /// the account only when the address may still try, so a refused address
    /// spends none of the account's allowance.
    pub async fn attempt(&self, account: &str, address: &str) -> Result<(), Refused> {
        self.spend(ADDRESSES, &address_key(address))
            .await
            .map_err(Refused::Address)?;
        self.spend(ACCOUNTS, &account.trim().to_lowercase())
            .await
            .map_err(Refused::Account)
    }

    /// One attempt under `key`: spent when the limit allows it (`Ok`), else
    /// nothing is spent and the wait is answered.
    async fn spend(&self, limit: Limit, key: &str) -> Result<(), Duration> {
        let key: String = key.chars().take(MAX_KEY_CHARS).collect();
        let period = limit.period.as_secs_f64();
        let tolerance = period * f64::from(limit.burst.saturating_sub(1));
        // GCRA: the attempt is allowed when the theoretical arrival time is no
        // further ahead than the tolerance; it then moves one period on. The
        // wait is read from the row as it was before the statement.
        let checked = sqlx::query!(
            r#"WITH spent AS (
                   INSERT INTO throttle_buckets AS b (limiter, key, tat)
                   VALUES ($1, $2, now() + make_interval(secs => $3))
                   ON CONFLICT (limiter, key) DO UPDATE
                       SET tat = greatest(b.tat, now()) + make_interval(secs => $3)
                       WHERE greatest(b.tat, now()) <= now() + make_interval(secs => $4)
                   RETURNING 1 AS spent
               )
               SELECT EXISTS (SELECT 1 FROM spent) AS "allowed!",
                      (SELECT extract(epoch FROM b.tat - now())::float8 - $4
                         FROM throttle_buckets b WHERE b.limiter = $1 AND b.key = $2) AS wait"#,
            limit.name,
            key,
            period,
            tolerance
        )
        .fetch_one(&self.pool)
        .await;
        match checked {
            Ok(row) if row.allowed => Ok(()),
            Ok(row) => Err(Duration::from_secs_f64(row.wait.unwrap_or(period).max(0.0))),
            Err(error) => {
                tracing::error!(%error, limit = limit.name, "could not check a throttle; letting the attempt through");
                Ok(())
            }
        }
    }

    /// Deletes the rows whose allowance has fully come back.
    pub async fn prune(&self) -> Result<u64, sqlx::Error> {
        let deleted = sqlx::query!("DELETE FROM throttle_buckets WHERE tat < now()")
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected())
    }

    /// Prunes every [`PRUNE_EVERY`] until `stop` is cancelled.
    pub fn spawn_pruning(&self, stop: tokio_util::sync::CancellationToken) {
        let throttle = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PRUNE_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => {
                        if let Err(error) = throttle.prune().await {
                            tracing::warn!(%error, "could not prune the throttles");
                        }
                    }
                    () = stop.cancelled() => return,
                }
            }
        });
    }
}
