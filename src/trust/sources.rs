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
    /// `192.0.2.1`, `192.0.2.0/24`, `2001:db8::1`, `2001:db8::/32`; an
    /// IPv4-mapped entry (`::ffff:192.0.2.1`, `::ffff:192.0.2.0/120`) is the
    /// IPv4 network it carries, as client addresses are compared.
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
            Some(prefix) => decimal(prefix)
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| {
                    format!("{text:?} has a prefix length that is not a number in 0..={width}")
                })?,
        };
        match canonical(address) {
            IpAddr::V4(v4) if address.is_ipv6() => {
                // The mapping takes the first 96 bits: a shorter prefix would
                // cover addresses that are not IPv4 at all.
                let prefix = prefix.checked_sub(96).ok_or_else(|| {
                    format!("{text:?} is an IPv4-mapped range wider than IPv4: use /96 or longer")
                })?;
                Ok(Network {
                    address: IpAddr::V4(v4),
                    prefix,
                })
            }
            _ => Ok(Network { address, prefix }),
        }
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

/// A prefix length as written in CIDR notation: plain decimal digits, no
/// sign, no leading zero (`/24`, not `/+24` or `/024`).
fn decimal(text: &str) -> Option<u8> {
    let digits = !text.is_empty() && text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = text.len() > 1 && text.starts_with('0');
    (digits && !leading_zero)
        .then(|| text.parse().ok())
        .flatten()
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
    /// Comma- or whitespace-separated entries; every entry must parse. An
    /// empty setting turns the check off; one that holds only separators
    /// (`", ,"`) is an error, not an open door.
    pub fn parse(text: &str) -> Result<Allowlist, String> {
        let networks = text
            .split([',', ' ', '\n', '\t', '\r'])
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if networks.is_empty() && !text.trim().is_empty() {
            return Err("lists no address: leave it empty to turn the check off".to_owned());
        }
        Ok(Allowlist(networks))
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
    }

    #[test]
    fn an_ipv4_mapped_entry_is_the_ipv4_address_it_carries() {
        let list = Allowlist::parse("::ffff:212.9.46.32, ::ffff:217.10.77.112/126").unwrap();
        assert!(list.allows(Some("212.9.46.32")));
        assert!(list.allows(Some("::ffff:212.9.46.32")));
        assert!(!list.allows(Some("212.9.46.33")));
        assert!(list.allows(Some("217.10.77.115")));
        assert!(!list.allows(Some("217.10.77.116")));
        assert_eq!(
            Network::parse("::ffff:212.9.46.32").unwrap().to_string(),
            "212.9.46.32/32"
        );
        // A mapped range shorter than the mapping itself spans non-IPv4 space.
        assert!(Network::parse("::ffff:0.0.0.0/95").is_err());
    }

    #[test]
    fn prefix_lengths_are_plain_decimal() {
        for bad in [
            "10.0.0.0/+24",
            "10.0.0.0/024",
            "10.0.0.0/ 24",
            "2001:db8::/032",
            "10.0.0.0/-0",
        ] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
        assert!(Network::parse("10.0.0.0/0").is_ok());
        assert!(Network::parse("10.0.0.0/8").is_ok());
    }

    #[test]
    fn a_list_of_separators_only_is_an_error_not_an_open_door() {
        for empty in ["", "   ", "\n"] {
            assert!(Allowlist::parse(empty).unwrap().is_empty(), "{empty:?}");
        }
        for separators in [",", ", ,", " ,\t, "] {
            assert_eq!(
                Allowlist::parse(separators).unwrap_err(),
                "lists no address: leave it empty to turn the check off",
                "{separators:?}"
            );
        }
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
