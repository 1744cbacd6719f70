//! The client's address, for the per-address attempt limits: the TCP peer, or — when the peer is
//! one of the configured trusted proxies (`ApiConfig::trusted_proxies`) — the address that proxy
//! forwarded in `Forwarded` (RFC 7239) or `X-Forwarded-For`. Anyone can send those headers, so
//! from any other peer they are ignored. IPv6 addresses count by their /64, the block one
//! subscriber is usually given, so an attacker cannot step through the addresses of its block.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::Api;

/// The client's address as the limits key it, or `None` when the server did not say who the
/// peer is (a router served without connect info); then only the per-target limits apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub Option<String>);

impl ClientAddress {
    /// A per-target limit's key for this client: `target` and the address (the target alone
    /// when the address is unknown).
    pub fn with(&self, target: &str) -> String {
        match &self.0 {
            Some(address) => format!("{target} {address}"),
            None => target.to_owned(),
        }
    }
}

impl FromRequestParts<Arc<Api>> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        Ok(ClientAddress(peer.map(|peer| {
            limit_key(client_ip(peer, &parts.headers, &api.config.trusted_proxies))
        })))
    }
}

/// The client's IP: `peer`, or what a chain of trusted proxies ending at `peer` forwarded (the
/// rightmost address that is not itself a trusted proxy). `Forwarded` wins over
/// `X-Forwarded-For`; an entry that is no IP address (`unknown`, an obfuscated name) stops the
/// walk at the proxy that added it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<Option<IpAddr>> = if headers.contains_key("forwarded") {
        headers
            .get_all("forwarded")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(forwarded_for)
            .collect()
    } else {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|entry| parse_node(entry.trim()))
            .collect()
    };
    let mut client = peer;
    for hop in forwarded.into_iter().rev() {
        if !trusted.contains(&client) {
            break;
        }
        match hop {
            Some(address) => client = address,
            None => break,
        }
    }
    client
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.60;proto=https`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| parse_node(value.trim().trim_matches('"')))?
    })
}

/// An address with or without a port: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`,
/// `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(address) = node.parse::<SocketAddr>() {
        return Some(address.ip());
    }
    node.strip_prefix('[')?.split(']').next()?.parse().ok()
}

/// The key an address is limited by: IPv4 as it is, IPv6 by its /64.
pub fn limit_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    /// (what, request headers, trusted proxies, the client address expected).
    type Case<'a> = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'a [IpAddr],
        &'static str,
    );

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy = ip("10.0.0.2");
        let inner = ip("10.0.0.3");
        let trusted = [proxy, inner];
        let cases: [Case; 11] = [
            (
                "untrusted peer",
                &[("x-forwarded-for", "1.2.3.4")],
                &[],
                "10.0.0.2",
            ),
            (
                "xff",
                &[("x-forwarded-for", "1.2.3.4")],
                &trusted,
                "1.2.3.4",
            ),
            (
                "the client's own claims are left of the proxy's",
                &[("x-forwarded-for", "6.6.6.6, 1.2.3.4")],
                &trusted,
                "1.2.3.4",
            ),
            (
                "a chain of trusted proxies",
                &[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.3")],
                &trusted,
                "1.2.3.4",
            ),
            (
                "forwarded wins",
                &[
                    ("forwarded", "for=5.6.7.8;proto=https"),
                    ("x-forwarded-for", "1.2.3.4"),
                ],
                &trusted,
                "5.6.7.8",
            ),
            (
                "forwarded with a port and quotes",
                &[("forwarded", "for=\"[2001:db8::1]:4711\"")],
                &trusted,
                "2001:db8::1",
            ),
            (
                "forwarded, several elements",
                &[("forwarded", "for=6.6.6.6, for=5.6.7.8;by=10.0.0.2")],
                &trusted,
                "5.6.7.8",
            ),
            (
                "unknown stops at the proxy",
                &[("forwarded", "for=unknown")],
                &trusted,
                "10.0.0.2",
            ),
            ("no header", &[], &trusted, "10.0.0.2"),
            (
                "garbage",
                &[("x-forwarded-for", "not an address")],
                &trusted,
                "10.0.0.2",
            ),
            (
                "ipv4 with a port",
                &[("x-forwarded-for", "1.2.3.4:5555")],
                &trusted,
                "1.2.3.4",
            ),
        ];
        for (name, headers, trusted, expected) in cases {
            let mut map = HeaderMap::new();
            for (header, value) in headers {
                map.append(*header, value.parse().expect("a header value"));
            }
            assert_eq!(client_ip(proxy, &map, trusted), ip(expected), "{name}");
        }
    }

    #[test]
    fn ipv6_counts_by_its_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff::1")), "2001:db8:1:2::/64");
        assert_eq!(limit_key(ip("::ffff:1.2.3.4")), "1.2.3.4");
        assert_eq!(limit_key(ip("1.2.3.4")), "1.2.3.4");
    }
}
