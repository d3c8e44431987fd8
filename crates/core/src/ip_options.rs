//! Per-socket IP options that `node:dgram` does not offer: the TOS byte (IPv4)
//! or traffic class (IPv6) of sent datagrams, and path-MTU discovery with the
//! "don't fragment" bit, so that a datagram larger than the path MTU fails
//! with `EMSGSIZE` instead of leaving in fragments.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use crate::address::Family;
use crate::socket::UdpSocket;

/// Whether [`UdpSocket::set_dont_fragment`] and [`UdpSocket::path_mtu`] work
/// here; elsewhere they fail with `ENOTSUP`.
#[cfg(target_os = "linux")]
pub const DONT_FRAGMENT_SUPPORTED: bool = true;
#[cfg(not(target_os = "linux"))]
pub const DONT_FRAGMENT_SUPPORTED: bool = false;

impl UdpSocket {
    /// Sets the TOS byte (`IP_TOS`) or traffic class (`IPV6_TCLASS`) of the
    /// datagrams this socket sends: DSCP in the upper six bits, ECN in the
    /// lower two. 0 to 255; anything else is `EINVAL`.
    pub fn set_tos(&self, tos: i32) -> io::Result<()> {
        let tos = u32::try_from(tos)
            .ok()
            .filter(|tos| *tos <= 255)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        match self.family() {
            Family::V4 => self.sock().set_tos_v4(tos),
            Family::V6 => set_traffic_class_v6(&self.sock(), tos),
        }
    }

    /// The TOS byte or traffic class set by [`set_tos`](Self::set_tos) (0 by default).
    pub fn tos(&self) -> io::Result<u32> {
        match self.family() {
            Family::V4 => self.sock().tos_v4(),
            Family::V6 => traffic_class_v6(&self.sock()),
        }
    }

    /// Turns path-MTU discovery on: datagrams leave with the "don't
    /// fragment" bit (IPv4) or unfragmented (IPv6), and one larger than the
    /// path MTU fails with `EMSGSIZE`.
    pub fn set_dont_fragment(&self) -> io::Result<()> {
        set_dont_fragment(&self.sock(), self.family())
    }

    /// The path MTU the kernel knows: to `to`, or to the peer of a connected
    /// socket when `to` is `None`.
    pub fn path_mtu(&self, to: Option<SocketAddr>) -> io::Result<u32> {
        match to {
            None => connected_path_mtu(&self.sock(), self.family()),
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
    let probe_ref = SockRef::from(&probe);
    set_dont_fragment(&probe_ref, family)?;
    // The same source address as the sender: the route may depend on it.
    if let Some(mut local) = local.filter(|addr| !addr.ip().is_unspecified()) {
        local.set_port(0);
        probe.bind(&SockAddr::from(local))?;
    }
    probe.connect(&SockAddr::from(to))?;
    connected_path_mtu(&probe_ref, family)
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "freebsd"
))]
fn set_traffic_class_v6(socket: &SockRef<'_>, tclass: u32) -> io::Result<()> {
    socket.set_tclass_v6(tclass)
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "freebsd"
))]
fn traffic_class_v6(socket: &SockRef<'_>) -> io::Result<u32> {
    socket.tclass_v6()
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "freebsd"
)))]
fn set_traffic_class_v6(_socket: &SockRef<'_>, _tclass: u32) -> io::Result<()> {
    Err(not_supported())
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "freebsd"
)))]
fn traffic_class_v6(_socket: &SockRef<'_>) -> io::Result<u32> {
    Err(not_supported())
}

/// `IP_MTU_DISCOVER` = `IP_PMTUDISC_DO` on every socket (on an IPv6 socket it
/// governs the IPv4-mapped traffic), and for IPv6 `IPV6_MTU_DISCOVER` =
/// `IPV6_PMTUDISC_DO` plus `IPV6_DONTFRAG`.
#[cfg(target_os = "linux")]
fn set_dont_fragment(socket: &SockRef<'_>, family: Family) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = socket.as_raw_fd();
    set_int_option(
        fd,
        libc::IPPROTO_IP,
        libc::IP_MTU_DISCOVER,
        libc::IP_PMTUDISC_DO,
    )?;
    if family == Family::V6 {
        set_int_option(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU_DISCOVER,
            libc::IPV6_PMTUDISC_DO,
        )?;
        set_int_option(fd, libc::IPPROTO_IPV6, libc::IPV6_DONTFRAG, 1)?;
    }
    Ok(())
}

/// `IP_MTU` / `IPV6_MTU`: only a connected socket has a route to ask about.
#[cfg(target_os = "linux")]
fn connected_path_mtu(socket: &SockRef<'_>, family: Family) -> io::Result<u32> {
    use std::os::fd::AsRawFd;
    let (level, name) = match family {
        Family::V4 => (libc::IPPROTO_IP, libc::IP_MTU),
        Family::V6 => (libc::IPPROTO_IPV6, libc::IPV6_MTU),
    };
    let mtu = int_option(socket.as_raw_fd(), level, name)?;
    u32::try_from(mtu).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

#[cfg(not(target_os = "linux"))]
fn set_dont_fragment(_socket: &SockRef<'_>, _family: Family) -> io::Result<()> {
    Err(not_supported())
}

#[cfg(not(target_os = "linux"))]
fn connected_path_mtu(_socket: &SockRef<'_>, _family: Family) -> io::Result<u32> {
    Err(not_supported())
}

#[cfg(target_os = "linux")]
pub(crate) fn set_int_option(
    fd: std::os::fd::RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: value is a c_int and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

#[cfg(target_os = "linux")]
fn int_option(
    fd: std::os::fd::RawFd,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len are valid for writing, len holds value's size.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    match rc {
        0 => Ok(value),
        _ => Err(io::Error::last_os_error()),
    }
}

#[allow(dead_code)] // only the platforms without an option use it
fn not_supported() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOTSUP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::BindFlags;

    fn loopback(family: Family) -> UdpSocket {
        let ip = match family {
            Family::V4 => "127.0.0.1",
            Family::V6 => "::1",
        };
        UdpSocket::bound(family, ip, 0, BindFlags::default()).unwrap()
    }

    #[test]
    fn tos_round_trips_and_its_range_is_checked() {
        for family in [Family::V4, Family::V6] {
            let socket = loopback(family);
            assert_eq!(socket.tos().unwrap(), 0);
            socket.set_tos(0xb8).unwrap();
            assert_eq!(socket.tos().unwrap(), 0xb8);
            socket.set_tos(255).unwrap();
            assert_eq!(socket.tos().unwrap(), 255);
            for bad in [-1, 256, i32::MIN, i32::MAX] {
                let err = socket.set_tos(bad).unwrap_err();
                assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{family:?} {bad}");
            }
            assert_eq!(
                socket.tos().unwrap(),
                255,
                "a refused value changes nothing"
            );
        }
    }

    /// Receives one datagram on `receiver` (which asked for the TOS /
    /// traffic class ancillary data) and returns its payload and the byte
    /// from the control message. Bounded: the socket has a read timeout.
    #[cfg(target_os = "linux")]
    fn receive_with_traffic_class(receiver: &Socket, family: Family) -> (Vec<u8>, Option<u8>) {
        use std::os::fd::AsRawFd;
        let mut payload = [0u8; 64];
        let mut control = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: payload.as_mut_ptr().cast(),
            iov_len: payload.len(),
        };
        // SAFETY: an all-zero msghdr is valid; its pointers are set below.
        let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
        header.msg_iov = &mut iov;
        header.msg_iovlen = 1;
        header.msg_control = control.as_mut_ptr().cast();
        header.msg_controllen = std::mem::size_of_val(&control);
        // SAFETY: header points at buffers that live through the call.
        let n = unsafe { libc::recvmsg(receiver.as_raw_fd(), &mut header, 0) };
        assert!(n >= 0, "recvmsg: {}", io::Error::last_os_error());
        let (level, kind) = match family {
            Family::V4 => (libc::IPPROTO_IP, libc::IP_TOS),
            Family::V6 => (libc::IPPROTO_IPV6, libc::IPV6_TCLASS),
        };
        let mut found = None;
        // SAFETY: the CMSG_* macros walk the control buffer the kernel filled,
        // within msg_controllen.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&header);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == level && (*cmsg).cmsg_type == kind {
                    // IP_TOS comes as one byte, IPV6_TCLASS as an int.
                    found = Some(match family {
                        Family::V4 => *libc::CMSG_DATA(cmsg),
                        Family::V6 => {
                            (libc::CMSG_DATA(cmsg) as *const libc::c_int).read_unaligned() as u8
                        }
                    });
                }
                cmsg = libc::CMSG_NXTHDR(&header, cmsg);
            }
        }
        (payload[..n as usize].to_vec(), found)
    }

    /// A plain blocking socket on `ip` that asks for the TOS byte / traffic
    /// class of what it receives; reads give up after 2 s.
    #[cfg(target_os = "linux")]
    fn blocking_receiver(family: Family, ip: &str) -> Socket {
        let domain = match family {
            Family::V4 => Domain::IPV4,
            Family::V6 => Domain::IPV6,
        };
        let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        let addr: std::net::IpAddr = ip.parse().unwrap();
        socket
            .bind(&SockAddr::from(SocketAddr::new(addr, 0)))
            .unwrap();
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        match family {
            Family::V4 => socket.set_recv_tos_v4(true).unwrap(),
            Family::V6 => socket.set_recv_tclass_v6(true).unwrap(),
        }
        socket
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_tos_byte_is_on_the_wire() {
        for (family, ip) in [(Family::V4, "127.0.0.1"), (Family::V6, "::1")] {
            let receiver = blocking_receiver(family, ip);
            let port = receiver.local_addr().unwrap().as_socket().unwrap().port();
            let sender = loopback(family);
            for (tos, payload) in [(0xb8, &b"ef"[..]), (0x02, b"ect0"), (0, b"default")] {
                sender.set_tos(tos).unwrap();
                sender.try_send(&[payload], Some((ip, port))).unwrap();
                let (received, class) = receive_with_traffic_class(&receiver, family);
                assert_eq!(received, payload, "{family:?}");
                assert_eq!(class, Some(tos as u8), "{family:?} TOS {tos:#x}");
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn dont_fragment_turns_path_mtu_discovery_on() {
        for family in [Family::V4, Family::V6] {
            let socket = loopback(family);
            let fd = socket.as_raw_fd();
            let before = int_option(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER).unwrap();
            assert_ne!(before, libc::IP_PMTUDISC_DO);
            socket.set_dont_fragment().unwrap();
            let ip = int_option(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER).unwrap();
            assert_eq!(ip, libc::IP_PMTUDISC_DO, "{family:?}");
            if family == Family::V6 {
                let v6 = int_option(fd, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER).unwrap();
                assert_eq!(v6, libc::IPV6_PMTUDISC_DO);
                let dontfrag = int_option(fd, libc::IPPROTO_IPV6, libc::IPV6_DONTFRAG).unwrap();
                assert_eq!(dontfrag, 1);
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn path_mtu_is_the_loopback_mtu_connected_or_not() {
        let lo_mtu: u32 = std::fs::read_to_string("/sys/class/net/lo/mtu")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        for family in [Family::V4, Family::V6] {
            // IPv4 routes cap the MTU at 65,535 (IP_MAX_MTU); IPv6 ones do not.
            let expected = match family {
                Family::V4 => lo_mtu.min(65_535),
                Family::V6 => lo_mtu,
            };
            let receiver = loopback(family);
            let to = receiver.local_addr().unwrap();
            let sender = loopback(family);
            assert_eq!(sender.path_mtu(Some(to)).unwrap(), expected, "{family:?}");
            let err = sender.path_mtu(None).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::ENOTCONN), "{family:?}");
            sender.connect(&to.ip().to_string(), to.port()).unwrap();
            assert_eq!(sender.path_mtu(None).unwrap(), expected, "{family:?}");
        }
        let unbound = UdpSocket::new(Family::V4).unwrap();
        let to = "127.0.0.1:9".parse().unwrap();
        assert_eq!(unbound.path_mtu(Some(to)).unwrap(), lo_mtu.min(65_535));
    }

    #[cfg(not(target_os = "linux"))]
    #[test]
    fn without_path_mtu_discovery_the_options_are_not_supported() {
        let socket = loopback(Family::V4);
        let err = socket.set_dont_fragment().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOTSUP));
        let to = socket.local_addr().unwrap();
        assert_eq!(
            socket.path_mtu(Some(to)).unwrap_err().raw_os_error(),
            Some(libc::ENOTSUP)
        );
        assert!(!DONT_FRAGMENT_SUPPORTED);
    }
}
