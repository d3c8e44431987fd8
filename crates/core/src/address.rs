use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::sys::{self, Errno};

/// The address family of a socket: `udp4` or `udp6`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: &SocketAddr) -> Family {
        match addr {
            SocketAddr::V4(_) => Family::V4,
            SocketAddr::V6(_) => Family::V6,
        }
    }

    pub fn of_ip(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    pub fn other(self) -> Family {
        match self {
            Family::V4 => Family::V6,
            Family::V6 => Family::V4,
        }
    }
}

fn invalid_input() -> io::Error {
    Errno::EINVAL.error()
}

/// Parses an IP literal of the given family. An IPv6 literal may carry a zone
/// (`fe80::1%eth0` or `fe80::1%2`); the zone becomes the scope id.
pub fn parse_ip(text: &str, family: Family) -> io::Result<(IpAddr, u32)> {
    match family {
        Family::V4 => text
            .parse::<Ipv4Addr>()
            .map(|ip| (IpAddr::V4(ip), 0))
            .map_err(|_| invalid_input()),
        Family::V6 => {
            let (ip_text, zone) = match text.split_once('%') {
                Some((ip, zone)) => (ip, Some(zone)),
                None => (text, None),
            };
            let ip = ip_text.parse::<Ipv6Addr>().map_err(|_| invalid_input())?;
            let scope_id = zone.map(zone_to_scope_id).unwrap_or(0);
            Ok((IpAddr::V6(ip), scope_id))
        }
    }
}

/// Like libuv, an unknown zone name gives scope 0 rather than an error.
fn zone_to_scope_id(zone: &str) -> u32 {
    match zone.parse::<u32>() {
        Ok(index) => index,
        Err(_) => sys::interface_index(zone),
    }
}

/// Parses `ip` as the given family and joins it with `port`.
pub fn parse_socket_addr(ip: &str, port: u16, family: Family) -> io::Result<SocketAddr> {
    Ok(match parse_ip(ip, family)? {
        (IpAddr::V4(ip), _) => SocketAddr::V4(SocketAddrV4::new(ip, port)),
        (IpAddr::V6(ip), scope_id) => SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope_id)),
    })
}

/// The address as Node prints it: link-local IPv6 addresses carry their
/// interface as a `%zone`.
pub fn display_address(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(addr) => addr.ip().to_string(),
        SocketAddr::V6(addr) if addr.scope_id() != 0 && addr.ip().is_unicast_link_local() => {
            format!("{}%{}", addr.ip(), interface_name(addr.scope_id()))
        }
        SocketAddr::V6(addr) => addr.ip().to_string(),
    }
}

fn interface_name(index: u32) -> String {
    sys::interface_name(index).unwrap_or_else(|| index.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::test_facts;

    #[test]
    fn parses_each_family_strictly() {
        assert!(parse_ip("127.0.0.1", Family::V4).is_ok());
        assert!(parse_ip("::1", Family::V4).is_err());
        assert!(parse_ip("127.0.0.1", Family::V6).is_err());
        assert_eq!(
            parse_ip("::1", Family::V6).unwrap(),
            (IpAddr::V6(Ipv6Addr::LOCALHOST), 0)
        );
    }

    #[test]
    fn ipv6_zone_becomes_scope_id() {
        let (_, scope) = parse_ip("fe80::1%1", Family::V6).unwrap();
        assert_eq!(scope, 1);
        let (_, scope) = parse_ip("fe80::1%lo", Family::V6).unwrap();
        if test_facts::ZONES_ARE_NAMES {
            assert_eq!(scope, 1, "lo is interface 1 on Linux");
        } else {
            assert_eq!(scope, 0, "a zone is a number on Windows: lo reads as 0");
        }
        let (_, scope) = parse_ip("fe80::1%no-such-if", Family::V6).unwrap();
        assert_eq!(scope, 0);
    }

    #[test]
    fn displays_link_local_sources_with_their_zone() {
        let link_local = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 9, 0, 1));
        let zone = test_facts::INTERFACE_1;
        assert_eq!(display_address(&link_local), format!("fe80::1%{zone}"));
        let global = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 9, 0, 1));
        assert_eq!(display_address(&global), "::1");
        let mapped = SocketAddr::V6(SocketAddrV6::new(
            "::ffff:127.0.0.1".parse().unwrap(),
            9,
            0,
            0,
        ));
        assert_eq!(display_address(&mapped), "::ffff:127.0.0.1");
    }

    #[test]
    fn rejects_garbage() {
        let err = parse_socket_addr("not an ip", 1, Family::V4).unwrap_err();
        assert!(Errno::EINVAL.is(&err));
    }
}
