//! Where a webhook may be sent: http(s) URLs without credentials, never to
//! loopback, private, link-local or other non-public addresses unless the
//! operator allows them (`CLEARANCE_WEBHOOK_ALLOW_PRIVATE`). The check runs
//! when an endpoint is saved and again on every delivery, after DNS (a
//! resolver that drops forbidden addresses), so a name that later resolves to
//! an internal address is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why a destination is refused, in words an operator can act on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DestinationError {
    #[error("not a URL: {0}")]
    Malformed(String),
    #[error("only http and https URLs can receive webhooks")]
    Scheme,
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("the URL has no host")]
    NoHost,
    #[error("{0} is a loopback, private or otherwise non-public address; set CLEARANCE_WEBHOOK_ALLOW_PRIVATE=true to allow it")]
    Private(IpAddr),
}

/// Parses and checks a destination URL as an operator typed it.
pub fn check_url(url: &str, allow_private: bool) -> Result<Url, DestinationError> {
    let parsed =
        Url::parse(url.trim()).map_err(|error| DestinationError::Malformed(error.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(DestinationError::Scheme);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(DestinationError::Credentials);
    }
    let ip = match parsed.host() {
        None => return Err(DestinationError::NoHost),
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(Host::Domain(domain)) => (domain.eq_ignore_ascii_case("localhost")
            || domain.ends_with(".localhost"))
        .then_some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    };
    match ip {
        Some(ip) if !allow_private && !is_public(ip) => Err(DestinationError::Private(ip)),
        _ => Ok(parsed),
    }
}

/// Whether `ip` is an ordinary public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(mapped) => is_public_v4(mapped),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || first == 0x0064) // NAT64 (may reach IPv4 private space)
}

/// A resolver that answers only public addresses (or every address when
/// private destinations are allowed): the check after DNS.
#[derive(Clone, Copy, Debug)]
pub struct PublicOnly {
    pub allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_internal_destinations_unless_allowed() {
        for url in [
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
        ] {
            assert!(
                matches!(check_url(url, false), Err(DestinationError::Private(_))),
                "{url} must be refused"
            );
            assert!(
                check_url(url, true).is_ok(),
                "{url} is allowed when private is"
            );
        }
    }

    #[test]
    fn accepts_public_http_and_https_only() {
        assert!(check_url("https://hooks.example.com/clearance", false).is_ok());
        assert!(check_url("http://203.0.113.9/", false).is_err()); // documentation range
        assert!(check_url("https://8.8.8.8/", false).is_ok());
        assert_eq!(
            check_url("ftp://example.com/", false),
            Err(DestinationError::Scheme)
        );
        assert_eq!(
            check_url("https://user:pass@example.com/", false),
            Err(DestinationError::Credentials)
        );
        assert!(matches!(
            check_url("not a url", false),
            Err(DestinationError::Malformed(_))
        ));
    }
}
