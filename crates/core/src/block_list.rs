//! Source addresses whose datagrams are dropped before anyone sees them: the
//! rules of a Node.js `net.BlockList`, applied where datagrams are received.
//!
//! Every rule becomes an inclusive range in one 128-bit space where an IPv4
//! address is its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so an IPv4 rule
//! also matches the mapped notation and the other way round, as `check` does.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockList {
    ranges: Vec<(u128, u128)>,
}

impl BlockList {
    /// Reads rules as `BlockList.prototype.rules` prints them:
    /// `Address: IPv4 1.2.3.4`, `Range: IPv6 ::1-::5`, `Subnet: IPv4 10.0.0.0/8`.
    pub fn from_rules<S: AsRef<str>>(rules: &[S]) -> io::Result<BlockList> {
        let ranges = rules
            .iter()
            .map(|rule| parse_rule(rule.as_ref()).ok_or_else(|| invalid_rule(rule.as_ref())))
            .collect::<io::Result<_>>()?;
        Ok(BlockList { ranges })
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn blocks(&self, ip: &IpAddr) -> bool {
        let value = mapped(ip);
        self.ranges
            .iter()
            .any(|&(first, last)| first <= value && value <= last)
    }
}

fn invalid_rule(rule: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a block list rule: {rule}"),
    )
}

fn parse_rule(rule: &str) -> Option<(u128, u128)> {
    let (kind, rest) = rule.split_once(": ")?;
    let (family, body) = rest.split_once(' ')?;
    let is_v6 = match family {
        "IPv4" => false,
        "IPv6" => true,
        _ => return None,
    };
    let ip = |text: &str| parse_ip_of(text, is_v6);
    match kind {
        "Address" => {
            let value = ip(body)?;
            Some((value, value))
        }
        "Range" => {
            let (start, end) = body.split_once('-')?;
            Some((ip(start)?, ip(end)?))
        }
        "Subnet" => {
            let (network, prefix) = body.split_once('/')?;
            let prefix: u32 = prefix.parse().ok()?;
            let bits = if is_v6 { prefix } else { prefix + 96 };
            subnet_range(ip(network)?, bits)
        }
        _ => None,
    }
}

fn parse_ip_of(text: &str, is_v6: bool) -> Option<u128> {
    let ip = match is_v6 {
        true => IpAddr::V6(text.parse::<Ipv6Addr>().ok()?),
        false => IpAddr::V4(text.parse::<Ipv4Addr>().ok()?),
    };
    Some(mapped(&ip))
}

fn subnet_range(network: u128, prefix_bits: u32) -> Option<(u128, u128)> {
    if prefix_bits > 128 {
        return None;
    }
    let host_mask = u128::MAX.checked_shr(prefix_bits).unwrap_or(0);
    Some((network & !host_mask, network | host_mask))
}

fn mapped(ip: &IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(*v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(rules: &[&str]) -> BlockList {
        BlockList::from_rules(rules).expect("valid rules")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an IP literal")
    }

    #[test]
    fn matches_addresses_ranges_and_subnets() {
        let rules = list(&[
            "Address: IPv4 1.2.3.4",
            "Range: IPv4 10.0.0.1-10.0.0.10",
            "Subnet: IPv6 8592:757c:efae:4e45::/64",
        ]);
        assert!(rules.blocks(&ip("1.2.3.4")));
        assert!(!rules.blocks(&ip("1.2.3.5")));
        assert!(rules.blocks(&ip("10.0.0.10")));
        assert!(!rules.blocks(&ip("10.0.0.11")));
        assert!(rules.blocks(&ip("8592:757c:efae:4e45::1")));
        assert!(!rules.blocks(&ip("8592:757c:efae:4e46::1")));
    }

    #[test]
    fn ipv4_rules_match_the_mapped_notation_and_back() {
        let rules = list(&["Subnet: IPv4 1.2.0.0/16", "Address: IPv6 ::ffff:9.9.9.9"]);
        assert!(rules.blocks(&ip("::ffff:1.2.200.1")));
        assert!(rules.blocks(&ip("9.9.9.9")));
        assert!(!rules.blocks(&ip("1.3.0.0")));
    }

    #[test]
    fn whole_space_subnets() {
        assert!(list(&["Subnet: IPv4 0.0.0.0/0"]).blocks(&ip("255.255.255.255")));
        assert!(!list(&["Subnet: IPv4 0.0.0.0/0"]).blocks(&ip("::1")));
        assert!(list(&["Subnet: IPv6 ::/0"]).blocks(&ip("::1")));
    }

    #[test]
    fn refuses_what_is_not_a_rule() {
        assert!(BlockList::from_rules(&["Address: IPv4 nope"]).is_err());
        assert!(BlockList::from_rules(&["Subnet: IPv4 1.0.0.0/40"]).is_err());
        assert!(BlockList::from_rules(&["Whatever"]).is_err());
    }
}
