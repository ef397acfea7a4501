//! The settings that bound what one client, or many, can hold of the server:
//! which proxies are believed about the client's address, how long a
//! connection may take to send its headers and body or sit idle, and how many
//! connections and event streams are served at once.

use std::time::Duration;

use crate::client_addr::TrustedProxies;

/// Limits at the edge of the server; [`Default`] gives the documented defaults.
#[derive(Clone, Debug)]
pub struct EdgeSettings {
    pub trusted_proxies: TrustedProxies,
    /// A connection must deliver a request's headers within this long.
    pub header_timeout: Duration,
    /// A request's body must arrive within this long of its headers.
    pub body_timeout: Duration,
    /// A connection with no bytes either way for this long is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; further ones wait in the kernel's queue.
    pub max_connections: usize,
    /// Live event streams open at once (beyond it: 503).
    pub max_event_streams: usize,
    /// Live event streams open at once per client address (beyond it: 429).
    pub max_event_streams_per_address: usize,
}

pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
pub const DEFAULT_MAX_EVENT_STREAMS: usize = 2048;
pub const DEFAULT_MAX_EVENT_STREAMS_PER_ADDRESS: usize = 64;

impl Default for EdgeSettings {
    fn default() -> Self {
        Self {
            trusted_proxies: TrustedProxies::default(),
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECS),
            body_timeout: Duration::from_secs(DEFAULT_BODY_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_event_streams: DEFAULT_MAX_EVENT_STREAMS,
            max_event_streams_per_address: DEFAULT_MAX_EVENT_STREAMS_PER_ADDRESS,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use crate::config::Cli;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_bad_trusted_proxy_list_stops_the_server_naming_the_entry() {
        let error =
            Cli::try_parse_from(["server", "--trusted-proxies", "10.0.0.0/8,proxy.example"])
                .err()
                .expect("refused");
        assert!(error.to_string().contains("proxy.example"), "{error}");
        let Ok(cli) = Cli::try_parse_from(["server", "--trusted-proxies", "10.0.0.0/8, ::1"])
        else {
            panic!("a list of a block and an address is accepted");
        };
        assert!(cli
            .serve
            .edge
            .edge_settings()
            .trusted_proxies
            .trusts("::1".parse().expect("address")));
    }
}
