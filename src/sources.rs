//! The source-address allowlist (`ALLOWED_SOURCES`): IPs and CIDR ranges,
//! IPv4 and IPv6, checked against `CF-Connecting-IP`.
//!
//! ```text
//! ALLOWED_SOURCES = "217.116.118.254, 212.9.46.32, 2001:db8::/32"
//! ```
//!
//! `X-Forwarded-For` is never consulted: whoever sends a request writes it.

use std::fmt;
use std::net::IpAddr;

/// One address or range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// `192.0.2.1`, `192.0.2.0/24`, `2001:db8::1`, `2001:db8::/32`.
    pub fn parse(text: &str) -> Result<Network, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR range"))?;
        let width = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| format!("{text:?} has a prefix length outside 0..={width}"))?,
        };
        Ok(Network { address, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

/// `::ffff:192.0.2.1` is the IPv4 address it carries.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// The allowlist; empty means the check is off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist(Vec<Network>);

impl Allowlist {
    /// Comma- or whitespace-separated entries; every entry must parse.
    pub fn parse(text: &str) -> Result<Allowlist, String> {
        text.split([',', ' ', '\n', '\t'])
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Allowlist)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `client` (the `CF-Connecting-IP` header) is allowed.
    pub fn allows(&self, client: Option<&str>) -> bool {
        let Some(address) = client.and_then(|client| client.trim().parse::<IpAddr>().ok()) else {
            return false;
        };
        self.0.iter().any(|network| network.contains(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sipgates_addresses_and_ranges() {
        let list = Allowlist::parse("217.116.118.254, 212.9.46.32,217.10.77.112/30\n2001:db8::/32")
            .unwrap();
        assert!(list.allows(Some("217.116.118.254")));
        assert!(list.allows(Some("212.9.46.32")));
        assert!(!list.allows(Some("212.9.46.33")));
        assert!(list.allows(Some("217.10.77.113")));
        assert!(list.allows(Some("217.10.77.115")));
        assert!(!list.allows(Some("217.10.77.116")));
        assert!(list.allows(Some("2001:db8:1234::1")));
        assert!(!list.allows(Some("2001:db9::1")));
        assert!(
            list.allows(Some("::ffff:217.116.118.254")),
            "IPv4-mapped IPv6"
        );
        assert!(!list.allows(None));
        assert!(
            !list.allows(Some("217.116.118.254, 1.2.3.4")),
            "one address only"
        );
        assert!(!list.allows(Some("localhost")));
    }

    #[test]
    fn edges_of_prefixes() {
        assert!(Network::parse("0.0.0.0/0")
            .unwrap()
            .contains("203.0.113.9".parse().unwrap()));
        assert!(Network::parse("::/0")
            .unwrap()
            .contains("2001:db8::1".parse().unwrap()));
        assert!(!Network::parse("::/0")
            .unwrap()
            .contains("203.0.113.9".parse().unwrap()));
        assert!(Network::parse("203.0.113.9/32")
            .unwrap()
            .contains("203.0.113.9".parse().unwrap()));
        assert!(Allowlist::parse("").unwrap().is_empty());
        assert!(Allowlist::parse(" , ").unwrap().is_empty());
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in [
            "217.116.118",
            "217.116.118.254/33",
            "2001:db8::/129",
            "10.0.0.0/",
            "10.0.0.0/x",
            "example.com",
        ] {
            assert!(Allowlist::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Allowlist::parse("1.2.3.4, 1.2.3.400").unwrap_err(),
            "\"1.2.3.400\" is not an IP address or CIDR range"
        );
    }
}
