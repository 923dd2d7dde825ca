//! Which addresses an outbound request a tenant aims may reach: pure rules, no I/O.
//!
//! A tenant chooses the URL of its webhook; without these rules it could make the service
//! talk to the operator's own network (a database on loopback, the cloud metadata service
//! on 169.254.169.254, an intranet). Every address in a special-purpose range of the IANA
//! registries (RFC 6890 and its updates) is refused — loopback, private (RFC 1918, ULA),
//! shared (CGN), link-local, multicast, broadcast, unspecified, documentation,
//! benchmarking and the other reserved blocks — and, for IPv6, everything outside global
//! unicast (`2000::/3`). An IPv4 address written as IPv6 (IPv4-mapped `::ffff:a.b.c.d`,
//! or behind the NAT64 well-known prefix `64:ff9b::/96`) is judged as the IPv4 address
//! it reaches. The operator can allow ranges (`--outbound-allow CIDR`: tests, intranets);
//! an allowed range wins over every rule.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Why an address is refused: the special-purpose range it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `0.0.0.0`, `::` (Linux connects them to the local host).
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), IPv6 ULA (`fc00::/7`), the
    /// deprecated site-local `fec0::/10` and local-use NAT64 `64:ff9b:1::/48`.
    Private,
    /// `100.64.0.0/10`, carrier-grade NAT (RFC 6598).
    SharedAddressSpace,
    /// `169.254.0.0/16` (where cloud metadata services answer), `fe80::/10`.
    LinkLocal,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15` (RFC 2544).
    Benchmarking,
    /// Any other special-purpose or unallocated block: `0.0.0.0/8`, `192.0.0.0/24`,
    /// `192.88.99.0/24`, `240.0.0.0/4`; IPv6 outside `2000::/3`, `100::/64`,
    /// `2001::/23`, 6to4 `2002::/16`, `5f00::/16`.
    Reserved,
}

impl Rule {
    /// A stable name for problem details and traces (`loopback`, `private`, …).
    pub fn name(self) -> &'static str {
        match self {
            Rule::Unspecified => "unspecified",
            Rule::Loopback => "loopback",
            Rule::Private => "private",
            Rule::SharedAddressSpace => "shared-address-space",
            Rule::LinkLocal => "link-local",
            Rule::Multicast => "multicast",
            Rule::Broadcast => "broadcast",
            Rule::Documentation => "documentation",
            Rule::Benchmarking => "benchmarking",
            Rule::Reserved => "reserved",
        }
    }

    /// What the range is, in words (`a loopback address`).
    pub fn describe(self) -> &'static str {
        match self {
            Rule::Unspecified => "the unspecified address",
            Rule::Loopback => "a loopback address",
            Rule::Private => "a private-network address",
            Rule::SharedAddressSpace => "a shared (carrier-grade NAT) address",
            Rule::LinkLocal => "a link-local address",
            Rule::Multicast => "a multicast address",
            Rule::Broadcast => "the broadcast address",
            Rule::Documentation => "a documentation address",
            Rule::Benchmarking => "a benchmarking address",
            Rule::Reserved => "a reserved special-purpose address",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The special-purpose range `ip` belongs to, or `None` for a public address.
pub fn rule_of(ip: IpAddr) -> Option<Rule> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => rule_of_v4(v4),
        IpAddr::V6(v6) => rule_of_v6(v6),
    }
}

fn rule_of_v4(ip: Ipv4Addr) -> Option<Rule> {
    let n = u32::from(ip);
    let within = |net: [u8; 4], len: u32| {
        let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
        n & mask == u32::from(Ipv4Addr::from(net)) & mask
    };
    let rule = if n == 0 {
        Rule::Unspecified
    } else if n == u32::MAX {
        Rule::Broadcast
    } else if within([127, 0, 0, 0], 8) {
        Rule::Loopback
    } else if within([10, 0, 0, 0], 8)
        || within([172, 16, 0, 0], 12)
        || within([192, 168, 0, 0], 16)
    {
        Rule::Private
    } else if within([100, 64, 0, 0], 10) {
        Rule::SharedAddressSpace
    } else if within([169, 254, 0, 0], 16) {
        Rule::LinkLocal
    } else if within([224, 0, 0, 0], 4) {
        Rule::Multicast
    } else if within([192, 0, 2, 0], 24)
        || within([198, 51, 100, 0], 24)
        || within([203, 0, 113, 0], 24)
    {
        Rule::Documentation
    } else if within([198, 18, 0, 0], 15) {
        Rule::Benchmarking
    } else if within([0, 0, 0, 0], 8)
        || within([192, 0, 0, 0], 24)
        || within([192, 88, 99, 0], 24)
        || within([240, 0, 0, 0], 4)
    {
        Rule::Reserved
    } else {
        return None;
    };
    Some(rule)
}

fn rule_of_v6(ip: Ipv6Addr) -> Option<Rule> {
    let n = u128::from(ip);
    let within = |net: u128, len: u32| {
        let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
        n & mask == net & mask
    };
    // NAT64 (RFC 6052): the translator reaches the IPv4 address in the last 32 bits.
    if within(0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96) {
        let v4 = Ipv4Addr::from((n & 0xffff_ffff) as u32);
        return rule_of_v4(v4);
    }
    let rule = if n == 0 {
        Rule::Unspecified
    } else if n == 1 {
        Rule::Loopback
    } else if within(0xfc00 << 112, 7)
        || within(0xfec0 << 112, 10)
        || within(0x0064_ff9b_0001 << 80, 48)
    {
        Rule::Private
    } else if within(0xfe80 << 112, 10) {
        Rule::LinkLocal
    } else if within(0xff00 << 112, 8) {
        Rule::Multicast
    } else if within(0x2001_0db8 << 96, 32) || within(0x3fff << 112, 20) {
        Rule::Documentation
    } else if !within(0x2000 << 112, 3)
        || within(0x2001 << 112, 23)
        || within(0x2002 << 112, 16)
        || within(0x5f00 << 112, 16)
    {
        // Outside global unicast: the IPv4-compatible and -translated forms, discard-only
        // 100::/64, ULA and the rest not matched above; inside it, the IETF protocol
        // assignments (Teredo among them), 6to4 (which embeds an IPv4 address), SRv6.
        Rule::Reserved
    } else {
        return None;
    };
    Some(rule)
}

/// An address range, `ADDRESS/LENGTH` (a bare address is one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    len: u8,
}

/// Why a range does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The part before `/` is not an IP address.
    #[error("{0:?} is not an IP address")]
    Address(String),
    /// The prefix length is not a number within the family's bits.
    #[error("{0:?} is not a prefix length (0-32 for IPv4, 0-128 for IPv6)")]
    Length(String),
    /// Bits are set after the prefix: the range meant is ambiguous.
    #[error("{given} has bits set after the prefix; the range is {canonical}")]
    HostBits {
        /// What was given.
        given: String,
        /// The range with those bits cleared.
        canonical: String,
    },
}

impl Cidr {
    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address counts as its IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| CidrError::Address(addr.to_owned()))?;
        let bits: u8 = if net.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => bits,
            // Digits only: `u8`'s parser would take `+8`.
            Some(l) => l
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| l.parse::<u8>().ok())
                .flatten()
                .filter(|l| *l <= bits)
                .ok_or_else(|| CidrError::Length(l.to_owned()))?,
        };
        let cleared = match net {
            IpAddr::V4(v4) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        };
        let cidr = Cidr { net: cleared, len };
        if cleared != net {
            return Err(CidrError::HostBits {
                given: s.to_owned(),
                canonical: cidr.to_string(),
            });
        }
        Ok(cidr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.len)
    }
}

/// The rules plus the operator's allowed ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allow: Vec<Cidr>,
}

impl AddressPolicy {
    /// The rules, with `allow` exempted.
    pub fn new(allow: Vec<Cidr>) -> AddressPolicy {
        AddressPolicy { allow }
    }

    /// The ranges the operator allowed.
    pub fn allowed(&self) -> &[Cidr] {
        &self.allow
    }

    /// `Ok` if an outbound request may connect to `ip`; else the rule it breaks.
    pub fn check(&self, ip: IpAddr) -> Result<(), Rule> {
        if self.allow.iter().any(|c| c.contains(ip)) {
            return Ok(());
        }
        match rule_of(ip) {
            Some(rule) => Err(rule),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_special_purpose_range_is_refused_with_its_rule() {
        let cases = [
            ("0.0.0.0", Rule::Unspecified),
            ("0.1.2.3", Rule::Reserved),
            ("10.0.0.1", Rule::Private),
            ("10.255.255.255", Rule::Private),
            ("100.64.0.1", Rule::SharedAddressSpace),
            ("100.127.255.254", Rule::SharedAddressSpace),
            ("127.0.0.1", Rule::Loopback),
            ("127.8.9.10", Rule::Loopback),
            ("169.254.169.254", Rule::LinkLocal),
            ("172.16.0.1", Rule::Private),
            ("172.31.255.255", Rule::Private),
            ("192.0.0.8", Rule::Reserved),
            ("192.0.2.1", Rule::Documentation),
            ("192.88.99.1", Rule::Reserved),
            ("192.168.1.1", Rule::Private),
            ("198.18.0.1", Rule::Benchmarking),
            ("198.19.255.255", Rule::Benchmarking),
            ("198.51.100.7", Rule::Documentation),
            ("203.0.113.9", Rule::Documentation),
            ("224.0.0.1", Rule::Multicast),
            ("239.255.255.250", Rule::Multicast),
            ("240.0.0.1", Rule::Reserved),
            ("255.255.255.255", Rule::Broadcast),
            ("::", Rule::Unspecified),
            ("::1", Rule::Loopback),
            ("::7f00:1", Rule::Reserved),
            ("::ffff:0:7f00:1", Rule::Reserved),
            ("100::1", Rule::Reserved),
            ("2001::1", Rule::Reserved),
            ("2001:db8::1", Rule::Documentation),
            ("2002:7f00:1::1", Rule::Reserved),
            ("3fff::1", Rule::Documentation),
            ("5f00::1", Rule::Reserved),
            ("fc00::1", Rule::Private),
            ("fd12:3456::1", Rule::Private),
            ("fec0::1", Rule::Private),
            ("fe80::1", Rule::LinkLocal),
            ("febf::1", Rule::LinkLocal),
            ("ff02::1", Rule::Multicast),
            ("64:ff9b:1::1", Rule::Private),
            ("4000::1", Rule::Reserved),
        ];
        let policy = AddressPolicy::default();
        for (addr, rule) in cases {
            assert_eq!(policy.check(ip(addr)), Err(rule), "{addr}");
        }
    }

    #[test]
    fn public_addresses_and_range_edges_pass() {
        let policy = AddressPolicy::default();
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.255",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2001:4860:4860::8888",
            "2a00:1450:4007:80e::200e",
            "2600::1",
            "3ffe:ffff::1",
            "64:ff9b::808:808",
        ] {
            assert_eq!(policy.check(ip(addr)), Ok(()), "{addr}");
        }
    }

    #[test]
    fn ipv4_written_as_ipv6_is_judged_as_ipv4() {
        let policy = AddressPolicy::default();
        for (addr, rule) in [
            ("::ffff:127.0.0.1", Rule::Loopback),
            ("::ffff:10.1.2.3", Rule::Private),
            ("::ffff:169.254.169.254", Rule::LinkLocal),
            ("::ffff:0.0.0.0", Rule::Unspecified),
            ("::ffff:224.0.0.1", Rule::Multicast),
            ("64:ff9b::7f00:1", Rule::Loopback),
            ("64:ff9b::a9fe:a9fe", Rule::LinkLocal),
            ("64:ff9b::c0a8:101", Rule::Private),
        ] {
            assert_eq!(policy.check(ip(addr)), Err(rule), "{addr}");
        }
        assert_eq!(policy.check(ip("::ffff:8.8.8.8")), Ok(()));
    }

    #[test]
    fn allowed_ranges_win_over_the_rules_and_only_their_own_addresses() {
        let policy = AddressPolicy::new(vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.20.0.0/16".parse().unwrap(),
            "fd00:1::/32".parse().unwrap(),
        ]);
        assert_eq!(policy.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(
            policy.check(ip("::ffff:127.0.0.1")),
            Ok(()),
            "IPv4-mapped form of an allowed address"
        );
        assert_eq!(policy.check(ip("127.0.0.2")), Err(Rule::Loopback));
        assert_eq!(policy.check(ip("::1")), Err(Rule::Loopback));
        assert_eq!(policy.check(ip("10.20.255.1")), Ok(()));
        assert_eq!(policy.check(ip("10.21.0.1")), Err(Rule::Private));
        assert_eq!(policy.check(ip("fd00:1:ffff::1")), Ok(()));
        assert_eq!(policy.check(ip("fd00:2::1")), Err(Rule::Private));
        assert_eq!(policy.check(ip("169.254.169.254")), Err(Rule::LinkLocal));
        let everything = AddressPolicy::new(vec!["0.0.0.0/0".parse().unwrap()]);
        assert_eq!(everything.check(ip("169.254.169.254")), Ok(()));
        assert_eq!(
            everything.check(ip("fe80::1")),
            Err(Rule::LinkLocal),
            "an IPv4 range allows no IPv6 address"
        );
    }

    #[test]
    fn ranges_parse_strictly() {
        assert_eq!(
            "127.0.0.1".parse::<Cidr>().unwrap().to_string(),
            "127.0.0.1/32"
        );
        assert_eq!("::1".parse::<Cidr>().unwrap().to_string(), "::1/128");
        assert_eq!("fd00::/8".parse::<Cidr>().unwrap().to_string(), "fd00::/8");
        assert_eq!(
            "10.1.2.3/8".parse::<Cidr>(),
            Err(CidrError::HostBits {
                given: "10.1.2.3/8".into(),
                canonical: "10.0.0.0/8".into()
            })
        );
        assert!(matches!(
            "10.0.0.0/33".parse::<Cidr>(),
            Err(CidrError::Length(_))
        ));
        assert!(matches!(
            "10.0.0.0/".parse::<Cidr>(),
            Err(CidrError::Length(_))
        ));
        assert!(matches!(
            "::/129".parse::<Cidr>(),
            Err(CidrError::Length(_))
        ));
        assert!(matches!(
            "localhost/8".parse::<Cidr>(),
            Err(CidrError::Address(_))
        ));
        assert!(matches!(
            "10.0.0.0/+8".parse::<Cidr>(),
            Err(CidrError::Length(_))
        ));
    }
}
