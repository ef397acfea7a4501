//! The client's address behind proxies. `Forwarded` (RFC 7239) and
//! `X-Forwarded-For` are believed only when the socket peer is a trusted proxy
//! (`CLEARANCE_TRUSTED_PROXIES`); then the hops are walked from the right,
//! skipping trusted proxies, and the right-most untrusted hop is the client.
//! Otherwise the client is the socket peer. The answer is resolved once per
//! request, by [`attach`], and stored in the request's extensions as a
//! [`ClientAddr`](crate::auth::ClientAddr) for the throttles, the access log and
//! the request span.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderMap;
use ipnet::IpNet;

use crate::auth::ClientAddr;

/// The proxies whose forwarding headers are believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

/// A `CLEARANCE_TRUSTED_PROXIES` entry that is not an address or a CIDR block.
#[derive(Debug, thiserror::Error)]
#[error("“{0}” is not an IP address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32, 127.0.0.1)")]
pub struct BadProxy(String);

impl FromStr for TrustedProxies {
    type Err = BadProxy;

    /// A comma-separated list of CIDR blocks or single addresses; empty trusts
    /// no one.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| BadProxy(entry.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|nets| Self(Arc::new(nets)))
    }
}

impl TrustedProxies {
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client of a request from `peer` carrying `headers`.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_hops(headers);
        // From the right: the hop each trusted proxy saw, until one it saw is
        // not a trusted proxy itself. A hop that is not an address (`unknown`,
        // an obfuscated name) ends the walk at the last proxy that named it.
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(address) = hop else {
                return client;
            };
            client = canonical(*address);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) as the IPv4 addresses they are.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The hops the proxies reported, left (client) to right (nearest proxy): the
/// `for=` parameters of `Forwarded` when present, else `X-Forwarded-For`. `None`
/// for a hop that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|value| value.to_str().map(str::to_owned).unwrap_or_default())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node))
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .flat_map(|value| value.split(','))
        .map(parse_node)
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or_else(|| {
            node.strip_prefix('[')
                .and_then(|rest| rest.split_once(']'))
                .and_then(|(inside, _)| inside.parse().ok())
        })
}

/// Middleware: resolves the client's address once and stores it in the
/// request's extensions. Without connection info (tests that set none) the
/// address is `unknown`.
pub async fn attach(
    State(proxies): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let client = match peer {
        Some(peer) => proxies.resolve(peer, request.headers()).to_string(),
        None => "unknown".to_owned(),
    };
    request.extensions_mut().insert(ClientAddr(client));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("test header"));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn forwarding_headers_from_an_untrusted_peer_change_nothing() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().expect("list");
        let spoofed = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=198.51.100.8"),
        ]);
        assert_eq!(
            proxies.resolve(ip("203.0.113.9"), &spoofed),
            ip("203.0.113.9")
        );
        let nobody = TrustedProxies::default();
        assert_eq!(nobody.resolve(ip("10.0.0.1"), &spoofed), ip("10.0.0.1"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies: TrustedProxies = "10.0.0.0/8, 192.0.2.1".parse().expect("list");
        // The client prepended a spoofed hop; the proxies appended the real one.
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 192.0.2.1")]);
        assert_eq!(proxies.resolve(ip("10.1.2.3"), &chain), ip("203.0.113.9"));
        let split = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(proxies.resolve(ip("10.1.2.3"), &split), ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_is_read_before_x_forwarded_for() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().expect("list");
        let both = headers(&[
            (
                "forwarded",
                r#"for=198.51.100.1;proto=https, For="[2001:db8:cafe::17]:4711";by=10.0.0.2"#,
            ),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(
            proxies.resolve(ip("10.0.0.2"), &both),
            ip("2001:db8:cafe::17")
        );
        let with_port = headers(&[("forwarded", "for=198.51.100.1:8080")]);
        assert_eq!(
            proxies.resolve(ip("10.0.0.2"), &with_port),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn a_hop_that_is_not_an_address_stops_at_the_proxy_that_named_it() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().expect("list");
        let hidden = headers(&[("forwarded", "for=unknown, for=10.0.0.5")]);
        assert_eq!(proxies.resolve(ip("10.0.0.2"), &hidden), ip("10.0.0.5"));
        let only_proxies = headers(&[("x-forwarded-for", "10.0.0.7, 10.0.0.5")]);
        assert_eq!(
            proxies.resolve(ip("10.0.0.2"), &only_proxies),
            ip("10.0.0.7")
        );
        assert_eq!(
            proxies.resolve(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_bad_proxy_list_is_refused_with_the_bad_entry_named() {
        let error = "10.0.0.0/8, example.com"
            .parse::<TrustedProxies>()
            .expect_err("a name is not a block");
        assert!(error.to_string().contains("example.com"), "{error}");
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("".parse::<TrustedProxies>().expect("empty").is_empty());
        let mapped: TrustedProxies = "127.0.0.1".parse().expect("list");
        assert!(mapped.trusts(ip("::ffff:127.0.0.1")));
    }
}
