//! Per-socket IP options that `node:dgram` does not offer: the TOS byte (IPv4)
//! or traffic class (IPv6) of sent datagrams, and path-MTU discovery with the
//! "don't fragment" bit, so that a datagram larger than the path MTU fails
//! with `EMSGSIZE` instead of leaving in fragments.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::address::Family;
use crate::socket::UdpSocket;
use crate::sys::{self, Errno};

impl UdpSocket {
    /// Sets the TOS byte (`IP_TOS`) or traffic class (`IPV6_TCLASS`) of the
    /// datagrams this socket sends: DSCP in the upper six bits, ECN in the
    /// lower two. 0 to 255; anything else is `EINVAL`.
    pub fn set_tos(&self, tos: i32) -> io::Result<()> {
        let tos = u32::try_from(tos)
            .ok()
            .filter(|tos| *tos <= 255)
            .ok_or_else(|| Errno::EINVAL.error())?;
        match self.family() {
            Family::V4 => self.sock().set_tos_v4(tos),
            Family::V6 => sys::set_traffic_class_v6(&self.sock(), tos),
        }
    }

    /// The TOS byte or traffic class set by [`set_tos`](Self::set_tos) (0 by default).
    pub fn tos(&self) -> io::Result<u32> {
        match self.family() {
            Family::V4 => self.sock().tos_v4(),
            Family::V6 => sys::traffic_class_v6(&self.sock()),
        }
    }

    /// Turns path-MTU discovery on: datagrams leave with the "don't
    /// fragment" bit (IPv4) or unfragmented (IPv6), and one larger than the
    /// path MTU fails with `EMSGSIZE`. `ENOTSUP` where
    /// [`Capabilities::dont_fragment`](crate::Capabilities) is false.
    pub fn set_dont_fragment(&self) -> io::Result<()> {
        sys::set_dont_fragment(&self.sock(), self.family())
    }

    /// The path MTU the kernel knows: to `to`, or to the peer of a connected
    /// socket when `to` is `None`.
    pub fn path_mtu(&self, to: Option<SocketAddr>) -> io::Result<u32> {
        match to {
            None => sys::connected_path_mtu(&self.sock(), self.family()),
            Some(to) => path_mtu_to(self.family(), self.local_addr().ok(), to),
        }
    }
}

/// The path MTU the kernel knows from `local`'s address (its port does not
/// matter; any address if `None`) to `to`, read from a throwaway socket of
/// `family` connected there: connecting a UDP socket sends nothing, it only
/// looks up the route.
pub fn path_mtu_to(family: Family, local: Option<SocketAddr>, to: SocketAddr) -> io::Result<u32> {
    let domain = match family {
        Family::V4 => Domain::IPV4,
        Family::V6 => Domain::IPV6,
    };
    let probe = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    sys::set_dont_fragment(&probe, family)?;
    // The same source address as the sender: the route may depend on it.
    if let Some(mut local) = local.filter(|addr| !addr.ip().is_unspecified()) {
        local.set_port(0);
        probe.bind(&SockAddr::from(local))?;
    }
    probe.connect(&SockAddr::from(to))?;
    sys::connected_path_mtu(&probe, family)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::test_facts;
    use crate::test_support::{loopback, skipped_under_wine};

    #[test]
    fn tos_round_trips_and_its_range_is_checked() {
        for family in [Family::V4, Family::V6] {
            let socket = loopback(family);
            if family == Family::V6 && !test_facts::TRAFFIC_CLASS_V6 {
                the_traffic_class_is_not_supported(&socket);
                continue;
            }
            assert_eq!(socket.tos().unwrap(), 0);
            socket.set_tos(0xb8).unwrap();
            assert_eq!(socket.tos().unwrap(), 0xb8);
            socket.set_tos(255).unwrap();
            assert_eq!(socket.tos().unwrap(), 255);
            for bad in [-1, 256, i32::MIN, i32::MAX] {
                let err = socket.set_tos(bad).unwrap_err();
                assert!(Errno::EINVAL.is(&err), "{family:?} {bad}");
            }
            assert_eq!(
                socket.tos().unwrap(),
                255,
                "a refused value changes nothing"
            );
        }
    }

    fn the_traffic_class_is_not_supported(socket: &UdpSocket) {
        assert!(Errno::ENOTSUP.is(&socket.tos().unwrap_err()));
        assert!(Errno::ENOTSUP.is(&socket.set_tos(0xb8).unwrap_err()));
        for bad in [-1, 256, i32::MIN, i32::MAX] {
            assert!(Errno::EINVAL.is(&socket.set_tos(bad).unwrap_err()), "{bad}");
        }
    }

    #[test]
    fn path_mtu_is_the_loopback_mtu_connected_or_not() {
        if !sys::capabilities().dont_fragment {
            return without_path_mtu_discovery_the_options_are_not_supported();
        }
        if skipped_under_wine(
            "Wine 8 answers getsockopt(IP_MTU) with WSAENOPROTOOPT (Winsock on Windows 10 documents IP_MTU)",
        ) {
            return;
        }
        for family in [Family::V4, Family::V6] {
            let receiver = loopback(family);
            let to = receiver.local_addr().unwrap();
            let sender = loopback(family);
            let unconnected = sender.path_mtu(Some(to)).unwrap();
            if let Some(expected) = expected_loopback_mtu(family) {
                assert_eq!(unconnected, expected, "{family:?}");
            }
            let err = sender.path_mtu(None).unwrap_err();
            assert!(Errno::ENOTCONN.is(&err), "{family:?}");
            sender.connect(&to.ip().to_string(), to.port()).unwrap();
            assert_eq!(sender.path_mtu(None).unwrap(), unconnected, "{family:?}");
        }
        let unbound = UdpSocket::new(Family::V4).unwrap();
        let to = "127.0.0.1:9".parse().unwrap();
        let expected = expected_loopback_mtu(Family::V4);
        let mtu = unbound.path_mtu(Some(to)).unwrap();
        assert_eq!(expected.unwrap_or(mtu), mtu);
        // The smallest MTU IPv4 allows (RFC 791).
        assert!(mtu >= 576);
    }

    /// The loopback MTU where the system tells it (else `None`).
    fn expected_loopback_mtu(family: Family) -> Option<u32> {
        let lo_mtu = test_facts::loopback_mtu()?;
        // IPv4 routes cap the MTU at 65,535 (IP_MAX_MTU); IPv6 ones do not.
        Some(match family {
            Family::V4 => lo_mtu.min(65_535),
            Family::V6 => lo_mtu,
        })
    }

    fn without_path_mtu_discovery_the_options_are_not_supported() {
        let socket = loopback(Family::V4);
        let err = socket.set_dont_fragment().unwrap_err();
        assert!(Errno::ENOTSUP.is(&err));
        let to = socket.local_addr().unwrap();
        assert!(Errno::ENOTSUP.is(&socket.path_mtu(Some(to)).unwrap_err()));
    }
}
