//! What a request says about its client: its address, and whether a POST comes from a
//! page of another site.
//!
//! **The client's address** ([`ClientIp`]) is the one value per-client limits count under
//! and logs name. It is the peer's address, unless the peer is a reverse proxy the
//! operator trusts (`--trusted-proxy CIDR`, [`TrustedProxies`]): then the proxies'
//! forwarding headers say who the client is. Those headers are written by whoever sends
//! them, so only the part that trusted proxies appended counts: the address list is read
//! from the right (nearest hop first) and the first address that is not itself a trusted
//! proxy is the client ([`client_address`]). A client that forges `X-Forwarded-For: 1.2.3.4`
//! only adds an entry to the *left* of the one its proxy appends, which is never read.
//!
//! `Forwarded` (RFC 7239) and `X-Forwarded-For` are both read. A trusted proxy's header
//! that cannot be read safely falls back to the nearest trusted hop (usually the proxy
//! itself), never to a value the client may have written: an entry that is not an address
//! (`unknown`, an obfuscated `_name`, garbage), and the two headers naming different
//! clients (a proxy that writes one of them and lets a forged other through). Those
//! clients then share the proxy's bucket — stricter, never looser.
//!
//! **Limits key on [`limit_key`]**: an IPv4 address, or the /64 of an IPv6 address (one
//! subscriber's network: a host picks any address in it at will).

use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The client's address (see the module's doc): the peer's, or the one trusted proxies
/// forwarded. `None` when the server does not know the peer (router tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The key per-client limits count this client under ([`limit_key`]).
    pub fn limit_key(&self) -> Option<String> {
        self.0.map(limit_key)
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| client_address(c.0.ip(), &parts.headers, &state.config.trusted_proxies)),
        ))
    }
}

/// The key per-client limits count `ip` under: an IPv4 address as it is (an IPv4-mapped
/// IPv6 address as its IPv4 address), an IPv6 address as its /64 (`2001:db8:1:2::/64`).
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4
/// peers) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Address ranges are the ledger's, the type the outbound allow-list uses too: one parser
/// (strict: digits only, no bits after the prefix) for every range an operator writes.
pub use consentry_ledger::outbound::{Cidr, CidrError};

/// The reverse proxies whose forwarding headers are believed (`--trusted-proxy`, none by
/// default: then the peer's address is the client's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<Cidr>);

impl TrustedProxies {
    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }
}

/// The client's address: `peer` if it is not a trusted proxy; otherwise, reading the
/// forwarded addresses right to left, the first that is not a trusted proxy (or the
/// left-most, when every hop is trusted). See the module's doc for what is refused.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let forwarded = headers.contains_key(header::FORWARDED).then(|| {
        let values = headers.get_all(header::FORWARDED).iter();
        walk(peer, forwarded_for(values), trusted)
    });
    let x_forwarded = headers.contains_key("x-forwarded-for").then(|| {
        let values = headers.get_all("x-forwarded-for").iter();
        walk(peer, x_forwarded_for(values), trusted)
    });
    match (forwarded, x_forwarded) {
        (Some(a), Some(b)) if a != b => peer,
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => peer,
    }
}

/// Walks `hops` (left to right as sent; `None` for an entry that is not an address) from
/// the right, starting after `peer`: the first untrusted address, else the last trusted
/// one reached (at an unreadable entry, or at the left end).
fn walk(peer: IpAddr, hops: Vec<Option<IpAddr>>, trusted: &TrustedProxies) -> IpAddr {
    let mut nearest = peer;
    for hop in hops.into_iter().rev() {
        let Some(ip) = hop else {
            return nearest;
        };
        let ip = canonical(ip);
        if !trusted.contains(ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

/// The `for=` addresses of `Forwarded` headers (RFC 7239 §4), in order; an element with
/// no `for=`, or one whose value is not an address (`unknown`, `_hidden`), is `None`. A
/// header that is not text makes one `None`.
fn forwarded_for<'a>(values: impl Iterator<Item = &'a header::HeaderValue>) -> Vec<Option<IpAddr>> {
    let mut out = Vec::new();
    for value in values {
        let Ok(text) = value.to_str() else {
            out.push(None);
            continue;
        };
        for element in split_unquoted(text, ',') {
            let found = split_unquoted(element, ';').into_iter().find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim())
            });
            out.push(found.and_then(|v| node_address(v.trim_matches('"'))));
        }
    }
    out
}

/// The addresses of `X-Forwarded-For` headers, in order (`None` for an entry that is not
/// an address).
fn x_forwarded_for<'a>(
    values: impl Iterator<Item = &'a header::HeaderValue>,
) -> Vec<Option<IpAddr>> {
    let mut out = Vec::new();
    for value in values {
        let Ok(text) = value.to_str() else {
            out.push(None);
            continue;
        };
        out.extend(text.split(',').map(|v| node_address(v.trim())));
    }
    out
}

/// Splits `text` at `sep` outside double quotes (a quoted-string may hold either).
fn split_unquoted(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A node as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711`; anything else is not an address.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        return port_ok
            .then(|| inside.parse::<Ipv6Addr>().ok().map(IpAddr::V6))
            .flatten();
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    let (host, port) = node.split_once(':')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// A POST from a page of another site is refused (login CSRF; the forms' tokens cover
/// the rest). Browsers say where a request comes from in `Sec-Fetch-Site`, and name the
/// page's origin in `Origin` (`null` under this site's `no-referrer` policy, which then
/// tells nothing).
pub fn foreign_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if matches!(site, "cross-site" | "same-site") {
        return true;
    }
    let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
    else {
        return false;
    };
    let public = state.config.public_url.trim_end_matches('/');
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !(origin == public || origin == format!("http://{host}") || origin == format!("https://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        h
    }

    #[test]
    fn ranges_are_read_strictly() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.200.3.4")));
        assert!(c.contains(ip("::ffff:10.1.1.1")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(!c.contains(ip("::a00:1")));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert_eq!(one.to_string(), "192.0.2.7/32");
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0/8",
            "x/8",
            "::/129",
            "10.0.0.0/+8",
        ] {
            assert!(
                matches!(
                    bad.parse::<Cidr>(),
                    Err(CidrError::Address(_) | CidrError::Length(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            "10.0.0.1/8".parse::<Cidr>(),
            Err(CidrError::HostBits { .. })
        ));
    }

    #[test]
    fn ipv6_limits_key_on_the_64_and_ipv4_on_the_address() {
        let a = limit_key(ip("2001:db8:1:2:aaaa::1"));
        let b = limit_key(ip("2001:db8:1:2:ffff:1:2:3"));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, b, "two addresses of one /64 share a bucket");
        assert_ne!(a, limit_key(ip("2001:db8:1:3::1")), "the next /64 does not");
        assert_eq!(limit_key(ip("192.0.2.1")), "192.0.2.1");
        assert_ne!(limit_key(ip("192.0.2.1")), limit_key(ip("192.0.2.2")));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(
            ClientIp(Some(ip("2001:db8:1:2::9"))).limit_key().as_deref(),
            Some("2001:db8:1:2::/64")
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let t = trusted(&["10.0.0.0/8"]);
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=198.51.100.1"),
        ]);
        assert_eq!(client_address(ip("203.0.113.5"), &h, &t), ip("203.0.113.5"));
        // With no trusted proxy at all, neither.
        let none = TrustedProxies::default();
        assert_eq!(client_address(ip("10.0.0.1"), &h, &none), ip("10.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_address_is_the_client() {
        let t = trusted(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        let peer = ip("10.0.0.2");
        // The client forged the first entry; the proxy appended the real one.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7")]);
        assert_eq!(client_address(peer, &h, &t), ip("198.51.100.7"));
        // Two trusted proxies in a row are skipped; several headers are one list.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4, 198.51.100.7"),
            ("x-forwarded-for", "10.1.1.1"),
        ]);
        assert_eq!(client_address(peer, &h, &t), ip("198.51.100.7"));
        // RFC 7239, with ports, quotes, other parameters and IPv6.
        let h = headers(&[(
            "forwarded",
            "for=1.2.3.4, for=\"[2001:db8:1:2::7]:4711\";proto=https;by=10.0.0.2, For=\"10.3.3.3:80\"",
        )]);
        assert_eq!(client_address(peer, &h, &t), ip("2001:db8:1:2::7"));
        // A trusted IPv6 proxy, an IPv4-mapped peer.
        let h = headers(&[("x-forwarded-for", "203.0.113.8, 2001:db8:ffff::1")]);
        assert_eq!(
            client_address(ip("::ffff:10.0.0.2"), &h, &t),
            ip("203.0.113.8")
        );
        // Every hop trusted: the left-most.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.8.8.8")]);
        assert_eq!(client_address(peer, &h, &t), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(client_address(peer, &HeaderMap::new(), &t), peer);
        // Both headers, agreeing.
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=198.51.100.7"),
        ]);
        assert_eq!(client_address(peer, &h, &t), ip("198.51.100.7"));
    }

    #[test]
    fn unreadable_forwarding_falls_back_to_the_nearest_trusted_hop() {
        let t = trusted(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.2");
        for (name, value) in [
            ("x-forwarded-for", "198.51.100.7, garbage"),
            ("x-forwarded-for", ""),
            ("x-forwarded-for", "198.51.100.7,"),
            ("forwarded", "for=unknown"),
            ("forwarded", "for=_hidden"),
            ("forwarded", "proto=https"),
            ("forwarded", "for=\"[2001:db8::1\""),
            ("forwarded", "for=198.51.100.7:"),
        ] {
            let h = headers(&[(name, value)]);
            assert_eq!(client_address(peer, &h, &t), peer, "{name}: {value}");
        }
        // Past a trusted hop, the fallback is that hop.
        let h = headers(&[("x-forwarded-for", "nonsense, 10.7.7.7")]);
        assert_eq!(client_address(peer, &h, &t), ip("10.7.7.7"));
        // But an untrusted address to the right of the garbage is reached first.
        let h = headers(&[("x-forwarded-for", "nonsense, 198.51.100.7")]);
        assert_eq!(client_address(peer, &h, &t), ip("198.51.100.7"));
        // Two headers naming different clients: neither is believed.
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=203.0.113.1"),
        ]);
        assert_eq!(client_address(peer, &h, &t), peer);
        // A header that is not text.
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"198.51.100.\xff").unwrap(),
        );
        assert_eq!(client_address(peer, &h, &t), peer);
    }
}
