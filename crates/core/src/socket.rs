//! A UDP socket: creation, options, and sending from the caller's thread.

use std::io::{self, IoSlice};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::io::Interest;

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use crate::address::{parse_ip, parse_socket_addr, Family};
use crate::batch::{with_received, Batch, BatchView, BATCH_CAPACITY};
use crate::block_list::BlockList;
use crate::runtime::runtime;
use crate::stats::{BatchCounts, SocketStats, StatsSnapshot};
use crate::sys::{self, Errno, RawSocket, Registration};

pub use crate::sys::Outgoing;

/// How to bind: the flags of Node's `socket.bind()` and `createSocket()`.
#[derive(Clone, Copy, Debug, Default)]
pub struct BindFlags {
    pub reuse_addr: bool,
    pub reuse_port: bool,
    pub ipv6_only: bool,
}

/// A non-blocking UDP socket. It is registered with the I/O runtime only
/// when something needs to wait on it there (an asynchronous send, the
/// I/O-thread receiver), so that a socket whose readiness comes from another
/// event loop does not also wake the runtime's thread.
#[derive(Debug)]
pub struct UdpSocket {
    /// Declared before `socket`: dropped (deregistered) before it closes.
    reactor: OnceLock<Registration>,
    registering: Mutex<()>,
    socket: Socket,
    family: Family,
    stats: SocketStats,
    /// Sources whose datagrams are dropped on receipt.
    receive_block_list: Mutex<Option<Arc<BlockList>>>,
}

fn as_socket_addr(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket().ok_or_else(einval)
}

fn einval() -> io::Error {
    Errno::EINVAL.error()
}

impl UdpSocket {
    /// Creates an unbound socket of `family`.
    pub fn new(family: Family) -> io::Result<UdpSocket> {
        let domain = match family {
            Family::V4 => Domain::IPV4,
            Family::V6 => Domain::IPV6,
        };
        let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
        // Only on sockets made here: a socket adopted from a descriptor may
        // also be read by another process (a cluster primary's, say) that
        // does not expect coalesced buffers.
        sys::enable_gro(&socket);
        UdpSocket::register(socket, family)
    }

    /// Creates a socket of `family` and binds it to `ip:port`.
    pub fn bound(family: Family, ip: &str, port: u16, flags: BindFlags) -> io::Result<UdpSocket> {
        let socket = UdpSocket::new(family)?;
        socket.bind(ip, port, flags)?;
        Ok(socket)
    }

    /// Binds to `ip:port`. As with libuv, a failed bind leaves the socket
    /// open and unbound, ready for another try; a bound socket cannot be bound
    /// again (`EINVAL`), except on Windows, where that bind does nothing.
    pub fn bind(&self, ip: &str, port: u16, flags: BindFlags) -> io::Result<()> {
        let socket = self.sock();
        // libuv on Windows (`uv__udp_maybe_bind`) returns before it looks at
        // the address or the flags: even an IPv6 bind of the IPv4 socket a
        // membership call made succeeds. Only a bound socket has a local
        // address on Windows.
        if sys::libuv_rules().rebind_is_noop && socket.local_addr().is_ok() {
            return Ok(());
        }
        if flags.ipv6_only && self.family != Family::V6 {
            return Err(einval());
        }
        let addr = parse_socket_addr(ip, port, self.family)?;
        if flags.reuse_addr {
            socket.set_reuse_address(true)?;
        }
        if flags.reuse_port {
            sys::set_reuse_port(&socket)?;
        }
        if flags.ipv6_only {
            socket.set_only_v6(true)?;
        } else if self.family == Family::V6 {
            sys::dual_stack_as_libuv(&socket);
        }
        socket.bind(&SockAddr::from(addr))
    }

    /// Binds a new socket of `family` to the wildcard address and a random
    /// port: what libuv does before joining a group on a socket not yet bound.
    pub fn bind_any(family: Family) -> io::Result<UdpSocket> {
        let flags = BindFlags {
            reuse_addr: true,
            ..BindFlags::default()
        };
        let any = match family {
            Family::V4 => "0.0.0.0",
            Family::V6 => "::",
        };
        UdpSocket::bound(family, any, 0, flags)
    }

    /// Takes over a socket made with the standard library.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::adopt(Socket::from(socket))
    }

    /// Adopts a duplicate of the socket `handle`, which stays open and owned
    /// by its owner.
    pub fn from_duplicate(handle: RawSocket) -> io::Result<UdpSocket> {
        UdpSocket::adopt(sys::duplicate(handle)?)
    }

    /// Takes ownership of the socket `handle`.
    ///
    /// # Safety
    /// `handle` must be an open socket that nothing else owns or closes.
    pub unsafe fn from_raw_socket(handle: RawSocket) -> io::Result<UdpSocket> {
        // SAFETY: guaranteed by the caller.
        UdpSocket::adopt(unsafe { sys::adopt(handle) })
    }

    fn adopt(socket: Socket) -> io::Result<UdpSocket> {
        let family = match socket.local_addr()?.as_socket() {
            Some(addr) => Family::of(&addr),
            None => return Err(einval()),
        };
        UdpSocket::register(socket, family)
    }

    fn register(socket: Socket, family: Family) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        // Best effort: without it the drop count merely stays 0.
        let _ = sys::report_kernel_drops(&socket);
        Ok(UdpSocket {
            reactor: OnceLock::new(),
            registering: Mutex::new(()),
            socket,
            family,
            stats: SocketStats::default(),
            receive_block_list: Mutex::new(None),
        })
    }

    /// The socket's registration with the I/O runtime, made on first use
    /// with `interest` (later callers get the first registration).
    pub(crate) fn reactor(&self, interest: Interest) -> io::Result<&Registration> {
        if let Some(reactor) = self.reactor.get() {
            return Ok(reactor);
        }
        let _registering = self
            .registering
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(reactor) = self.reactor.get() {
            return Ok(reactor);
        }
        let _context = runtime()?.enter();
        // SAFETY: the socket stays open as long as the registration: it is
        // closed by `socket`, which is declared (so dropped) after `reactor`.
        let reactor = unsafe { Registration::new(&self.socket, interest) }?;
        Ok(self.reactor.get_or_init(|| reactor))
    }

    pub fn family(&self) -> Family {
        self.family
    }

    pub(crate) fn sock(&self) -> SockRef<'_> {
        SockRef::from(&self.socket)
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        as_socket_addr(self.socket.local_addr()?)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        as_socket_addr(self.socket.peer_addr()?)
    }

    pub fn connect(&self, ip: &str, port: u16) -> io::Result<()> {
        let addr = self.peer_address(ip, port)?;
        self.sock().connect(&SockAddr::from(addr))
    }

    /// `ip:port` as a peer of this socket (a destination, or the address to
    /// connect to), parsed in the socket's family; in the other one too
    /// where [`sys::LibuvRules::peer_of_either_family`] says so (Windows),
    /// and then the system answers, as it answers libuv.
    pub fn peer_address(&self, ip: &str, port: u16) -> io::Result<SocketAddr> {
        let parsed = parse_socket_addr(ip, port, self.family);
        match parsed {
            Err(_) if sys::libuv_rules().peer_of_either_family => {
                parse_socket_addr(ip, port, self.family.other())
            }
            _ => parsed,
        }
    }

    /// Dissolves the association made by [`connect`](Self::connect).
    pub fn disconnect(&self) -> io::Result<()> {
        sys::disconnect(&self.socket)
    }

    /// Sends one datagram made of `parts` straight from the calling thread,
    /// without waiting: `WouldBlock` means the caller should use [`send`](Self::send).
    /// `to` is `None` on a connected socket.
    pub fn try_send(&self, parts: &[&[u8]], to: Option<(&str, u16)>) -> io::Result<usize> {
        let to = match to {
            Some((ip, port)) => Some(SockAddr::from(self.peer_address(ip, port)?)),
            None => None,
        };
        let sock = self.sock();
        // One part (every send from JavaScript): `sendto`/`send`, which spare
        // the kernel copying in a message header and an iovec array.
        let sent = match (parts, &to) {
            ([data], Some(addr)) => sock.send_to(data, addr),
            ([data], None) => sock.send(data),
            (_, to) => {
                let slices: Vec<IoSlice<'_>> =
                    parts.iter().map(|part| IoSlice::new(part)).collect();
                match to {
                    Some(addr) => sock.send_to_vectored(&slices, addr),
                    None => sock.send_vectored(&slices),
                }
            }
        };
        self.note_send(sent.map_err(sys::no_buffer_space_is_would_block))
    }

    /// Counts a send's outcome (a send that would block is not one yet).
    fn note_send(&self, result: io::Result<usize>) -> io::Result<usize> {
        match &result {
            Ok(bytes) => self.stats.note_sent(*bytes),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => self.stats.note_send_error(),
        }
        result
    }

    /// Sends `datagrams` in order without waiting, with as few system calls
    /// as the platform allows (`sendmmsg` on Linux). Returns one result per
    /// datagram, in order, up to the first that would block: that one and
    /// the rest are left out, for the caller to send with [`send`](Self::send).
    pub fn try_send_batch(&self, datagrams: &[Outgoing<'_>]) -> Vec<io::Result<usize>> {
        self.send_batch_now(datagrams, false)
    }

    /// Like [`try_send_batch`](Self::try_send_batch), but nothing after the
    /// first failure is sent: that failure, if any, is the last result.
    pub fn try_send_batch_until_failure(
        &self,
        datagrams: &[Outgoing<'_>],
    ) -> Vec<io::Result<usize>> {
        self.send_batch_now(datagrams, true)
    }

    fn send_batch_now(
        &self,
        datagrams: &[Outgoing<'_>],
        stop_at_failure: bool,
    ) -> Vec<io::Result<usize>> {
        let mut results = Vec::with_capacity(datagrams.len());
        while results.len() < datagrams.len() {
            match sys::send_batch(&self.socket, &datagrams[results.len()..]) {
                Ok(sent) => {
                    self.stats.note_sent_many(sent.len(), sent.iter().sum());
                    results.extend(sent.into_iter().map(Ok));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) => {
                    // The first datagram of the call failed.
                    self.stats.note_send_error();
                    results.push(Err(err));
                    if stop_at_failure {
                        break;
                    }
                }
            }
        }
        results
    }

    /// Reads every datagram ready now (up to one batch) without waiting:
    /// `WouldBlock` when none is. For callers that learn of readiness from
    /// their own event loop rather than from [`Receiver`](crate::Receiver).
    /// The batch is empty when a block list matched every datagram's source.
    pub fn try_receive_batch(&self) -> io::Result<Batch> {
        self.try_receive_with(|view| view.to_batch())
    }

    /// Like [`try_receive_batch`](Self::try_receive_batch), but hands `f` the
    /// datagrams where they were received, for callers that copy them
    /// somewhere of their own (one copy instead of two). `f` must not receive
    /// on this thread again.
    pub fn try_receive_with<R>(&self, f: impl FnOnce(&BatchView<'_>) -> R) -> io::Result<R> {
        self.try_receive_up_to(BATCH_CAPACITY, f)
    }

    /// Like [`try_receive_with`](Self::try_receive_with), but takes at most
    /// `limit` messages from the kernel (1 to [`BATCH_CAPACITY`]): for a
    /// socket whose queue other processes also read, where a datagram read
    /// and then not delivered (its receiver closed meanwhile) would be lost
    /// to them.
    pub fn try_receive_up_to<R>(
        &self,
        limit: usize,
        f: impl FnOnce(&BatchView<'_>) -> R,
    ) -> io::Result<R> {
        let block_list = self.receive_block_list();
        let received = with_received(&self.socket, block_list.as_deref(), limit, |view| {
            self.note_batch(view);
            f(view)
        });
        if let Err(err) = &received {
            if err.kind() != io::ErrorKind::WouldBlock {
                self.stats.note_receive_error();
            }
        }
        received
    }

    fn note_batch(&self, view: &BatchView<'_>) {
        self.stats.note_batch(BatchCounts {
            datagrams: view.len(),
            bytes: view.total_len(),
            blocked: view.blocked(),
            coalesced: view.coalesced(),
        });
        if let Some(drops) = view.kernel_drops() {
            self.stats.note_kernel_drops(drops);
        }
    }

    fn receive_block_list(&self) -> Option<Arc<BlockList>> {
        let list = self
            .receive_block_list
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        list.clone()
    }

    /// Drops datagrams from sources that `list` matches as they are received
    /// (`None`, or an empty list: keep all).
    pub fn set_receive_block_list(&self, list: Option<BlockList>) {
        let list = list.filter(|list| !list.is_empty()).map(Arc::new);
        *self
            .receive_block_list
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = list;
    }

    /// What this socket has received and sent so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Asks the kernel for each datagram's destination address (Linux
    /// `IP_PKTINFO` / `IPV6_RECVPKTINFO`, macOS and FreeBSD `IP_RECVDSTADDR`
    /// / `IPV6_RECVPKTINFO`): received datagrams then carry it. `ENOTSUP`
    /// where [`Capabilities::destination_address`](crate::Capabilities) is false.
    pub fn set_receive_destination(&self, on: bool) -> io::Result<()> {
        sys::set_receive_destination(&self.socket, self.family, on)
    }

    /// Sends one datagram, waiting (on the I/O runtime) until the socket can take it.
    pub async fn send(&self, datagram: Outgoing<'_>) -> io::Result<usize> {
        let reactor = self.reactor(Interest::WRITABLE)?;
        loop {
            let mut ready = reactor.ready(Interest::WRITABLE).await?;
            let sent = ready.try_io(|| sys::send_one(&self.socket, &datagram));
            if let Ok(result) = sent {
                return self.note_send(result);
            }
        }
    }

    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.sock().set_broadcast(on)
    }

    /// `IP_TTL` / `IPV6_UNICAST_HOPS` (`IPV6_HOPLIMIT` on Windows, as
    /// libuv); 1 to 255 as libuv allows.
    pub fn set_ttl(&self, ttl: i32) -> io::Result<()> {
        let ttl = u32::try_from(ttl)
            .ok()
            .filter(|t| (1..=255).contains(t))
            .ok_or_else(einval)?;
        match self.family {
            Family::V4 => self.sock().set_ttl_v4(ttl),
            Family::V6 => sys::set_unicast_hops_v6(&self.sock(), ttl),
        }
    }

    /// `IP_MULTICAST_TTL` / `IPV6_MULTICAST_HOPS`; 0 to 255 (−1 to 255 on
    /// Windows, as libuv: [`LibuvRules`](sys::LibuvRules)).
    pub fn set_multicast_ttl(&self, ttl: i32) -> io::Result<()> {
        if ttl < sys::libuv_rules().lowest_multicast_ttl || ttl > 255 {
            return Err(einval());
        }
        // −1 reaches the kernel as libuv passes it, a DWORD of all ones.
        let ttl = ttl as u32;
        match self.family {
            Family::V4 => self.sock().set_multicast_ttl_v4(ttl),
            Family::V6 => self.sock().set_multicast_hops_v6(ttl),
        }
    }

    pub fn set_multicast_loopback(&self, on: i32) -> io::Result<()> {
        let on = byte_option(on)? != 0;
        match self.family {
            Family::V4 => self.sock().set_multicast_loop_v4(on),
            Family::V6 => self.sock().set_multicast_loop_v6(on),
        }
    }

    /// `IP_MULTICAST_IF` from an IPv4 interface address, or
    /// `IPV6_MULTICAST_IF` from the zone of an IPv6 address (`::%eth1`). As in
    /// libuv the address decides which, whatever the socket's family.
    pub fn set_multicast_interface(&self, interface: &str) -> io::Result<()> {
        match parse_any_ip(interface)? {
            (IpAddr::V4(ip), _) => self.sock().set_multicast_if_v4(&ip),
            (IpAddr::V6(_), scope_id) => self.sock().set_multicast_if_v6(scope_id),
        }
    }

    /// Joins (`join == true`) or leaves a multicast group.
    pub fn set_membership(
        &self,
        group: &str,
        interface: Option<&str>,
        join: bool,
    ) -> io::Result<()> {
        let (group, _) = parse_any_ip(group)?;
        self.check_membership_family(&group)?;
        match group {
            IpAddr::V4(group) => {
                let interface = interface_v4(interface)?;
                match join {
                    true => self.sock().join_multicast_v4(&group, &interface),
                    false => self.sock().leave_multicast_v4(&group, &interface),
                }
            }
            IpAddr::V6(group) => {
                let index = interface_index_v6(interface)?;
                match join {
                    true => self.sock().join_multicast_v6(&group, index),
                    false => self.sock().leave_multicast_v6(&group, index),
                }
            }
        }
    }

    /// Joins or leaves a source-specific multicast channel.
    pub fn set_source_membership(
        &self,
        source: &str,
        group: &str,
        interface: Option<&str>,
        join: bool,
    ) -> io::Result<()> {
        let (group, _) = parse_any_ip(group)?;
        let (source, _) = parse_ip(source, Family::of_ip(&group))?;
        self.check_membership_family(&group)?;
        match (group, source) {
            (IpAddr::V4(group), IpAddr::V4(source)) => {
                let interface = interface_v4(interface)?;
                match join {
                    true => self.sock().join_ssm_v4(&source, &group, &interface),
                    false => self.sock().leave_ssm_v4(&source, &group, &interface),
                }
            }
            _ => self.set_source_membership_v6(source, group, interface, join),
        }
    }

    /// See [`sys::LibuvRules::membership_of_socket_family_only`].
    fn check_membership_family(&self, group: &IpAddr) -> io::Result<()> {
        if sys::libuv_rules().membership_of_socket_family_only
            && Family::of_ip(group) != self.family
        {
            return Err(einval());
        }
        Ok(())
    }

    fn set_source_membership_v6(
        &self,
        source: IpAddr,
        group: IpAddr,
        interface: Option<&str>,
        join: bool,
    ) -> io::Result<()> {
        let index = interface_index_v6(interface)?;
        sys::set_source_membership_v6(&self.socket, source, group, index, join)
    }

    /// Reads `SO_RCVBUF` when `size` is 0, otherwise sets it.
    pub fn recv_buffer_size(&self, size: u32) -> io::Result<u32> {
        if size > 0 {
            self.sock().set_recv_buffer_size(size as usize)?;
            return Ok(size);
        }
        self.sock().recv_buffer_size().map(|s| s as u32)
    }

    /// Reads `SO_SNDBUF` when `size` is 0, otherwise sets it.
    pub fn send_buffer_size(&self, size: u32) -> io::Result<u32> {
        if size > 0 {
            self.sock().set_send_buffer_size(size as usize)?;
            return Ok(size);
        }
        self.sock().send_buffer_size().map(|s| s as u32)
    }

    /// The socket's OS handle (still owned by this socket).
    pub fn raw_socket(&self) -> RawSocket {
        sys::raw_socket(&self.socket)
    }

    /// The socket's descriptor number, `None` where sockets have none (Windows).
    pub fn descriptor(&self) -> Option<i32> {
        sys::descriptor_of(self.raw_socket())
    }
}

/// Group addresses decide the protocol themselves, as in libuv: IPv4 first.
fn parse_any_ip(text: &str) -> io::Result<(IpAddr, u32)> {
    parse_ip(text, Family::V4).or_else(|_| parse_ip(text, Family::V6))
}

/// Options stored in a byte by the kernel: libuv accepts 0 to 255.
fn byte_option(value: i32) -> io::Result<u32> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v <= 255)
        .ok_or_else(einval)
}

fn interface_v4(interface: Option<&str>) -> io::Result<Ipv4Addr> {
    match interface {
        Some(text) => text.parse().map_err(|_| einval()),
        None => Ok(Ipv4Addr::UNSPECIFIED),
    }
}

fn interface_index_v6(interface: Option<&str>) -> io::Result<u32> {
    match interface {
        Some(text) => parse_ip(text, Family::V6).map(|(_, scope_id)| scope_id),
        None => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::test_facts;
    use crate::test_support::{loopback, receive_all, skipped_under_wine, WINE_LOOPBACK_SOURCES};
    use crate::BlockList;

    #[test]
    fn binds_and_reports_its_address() {
        let socket = loopback(Family::V4);
        let addr = socket.local_addr().unwrap();
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
        assert!(addr.port() > 0);
    }

    #[test]
    fn second_bind_without_reuse_is_refused() {
        let first = loopback(Family::V4);
        let port = first.local_addr().unwrap().port();
        let err =
            UdpSocket::bound(Family::V4, "127.0.0.1", port, BindFlags::default()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::EADDRINUSE.raw_os_error()));
    }

    #[test]
    fn reuse_addr_lets_two_sockets_share_a_port() {
        let flags = BindFlags {
            reuse_addr: true,
            ..BindFlags::default()
        };
        let first = UdpSocket::bound(Family::V4, "127.0.0.1", 0, flags).unwrap();
        let port = first.local_addr().unwrap().port();
        assert!(UdpSocket::bound(Family::V4, "127.0.0.1", port, flags).is_ok());
    }

    #[test]
    fn reuse_port_shares_a_port_where_the_kernel_balances_and_is_refused_elsewhere() {
        let reuse_port = BindFlags {
            reuse_port: true,
            ..BindFlags::default()
        };
        if !sys::capabilities().reuse_port_balancing {
            let err = UdpSocket::bound(Family::V4, "127.0.0.1", 0, reuse_port).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(Errno::ENOTSUP.raw_os_error()));
            return;
        }
        let first = UdpSocket::bound(Family::V6, "::1", 0, reuse_port).unwrap();
        let port = first.local_addr().unwrap().port();
        assert!(UdpSocket::bound(Family::V6, "::1", port, reuse_port).is_ok());
        let err = UdpSocket::bound(Family::V6, "::1", port, BindFlags::default()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::EADDRINUSE.raw_os_error()));
    }

    #[test]
    fn ipv6_only_needs_ipv6() {
        let flags = BindFlags {
            ipv6_only: true,
            ..BindFlags::default()
        };
        let err = UdpSocket::bound(Family::V4, "127.0.0.1", 0, flags).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::EINVAL.raw_os_error()));
        assert!(UdpSocket::bound(Family::V6, "::1", 0, flags).is_ok());
    }

    #[test]
    fn ttl_range_is_checked() {
        let socket = loopback(Family::V4);
        assert!(socket.set_ttl(64).is_ok());
        assert_eq!(
            socket.set_ttl(0).unwrap_err().raw_os_error(),
            Some(Errno::EINVAL.raw_os_error())
        );
        assert_eq!(
            socket.set_ttl(256).unwrap_err().raw_os_error(),
            Some(Errno::EINVAL.raw_os_error())
        );
        assert!(socket.set_multicast_ttl(0).is_ok());
        assert!(socket.set_multicast_ttl(256).is_err());
    }

    #[test]
    fn buffer_sizes_round_trip_through_the_kernel() {
        let socket = loopback(Family::V6);
        // Linux doubles the value it is given for bookkeeping (131,072).
        let reported = test_facts::reported_buffer_size(65_536);
        socket.recv_buffer_size(65_536).unwrap();
        assert_eq!(socket.recv_buffer_size(0).unwrap(), reported);
        socket.send_buffer_size(65_536).unwrap();
        assert_eq!(socket.send_buffer_size(0).unwrap(), reported);
    }

    #[test]
    fn rebinding_is_refused_or_changes_nothing() {
        let socket = loopback(Family::V4);
        if sys::libuv_rules().rebind_is_noop {
            return rebinding_changes_nothing(socket);
        }
        let err = socket
            .bind("127.0.0.1", 0, BindFlags::default())
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::EINVAL.raw_os_error()));
    }

    /// Windows: libuv's `uv__udp_maybe_bind` returns 0 for a bound handle.
    fn rebinding_changes_nothing(socket: UdpSocket) {
        let bound = socket.local_addr().unwrap();
        socket.bind("127.0.0.1", 0, BindFlags::default()).unwrap();
        socket.bind("::1", 0, BindFlags::default()).unwrap();
        assert_eq!(socket.local_addr().unwrap(), bound);
    }

    #[test]
    fn a_failed_bind_leaves_the_socket_open_for_another_try() {
        let taken = loopback(Family::V4);
        let port = taken.local_addr().unwrap().port();
        let socket = UdpSocket::new(Family::V4).unwrap();
        let err = socket
            .bind("127.0.0.1", port, BindFlags::default())
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::EADDRINUSE.raw_os_error()));
        if test_facts::UNBOUND_SOCKET_HAS_AN_ADDRESS {
            assert_eq!(socket.local_addr().unwrap().port(), 0);
        } else {
            let err = socket.local_addr().unwrap_err();
            assert_eq!(err.raw_os_error(), Some(Errno::EINVAL.raw_os_error()));
        }
        socket.bind("127.0.0.1", 0, BindFlags::default()).unwrap();
        assert!(socket.local_addr().unwrap().port() > 0);
    }

    #[test]
    fn try_send_reaches_a_peer_and_connect_fixes_the_destination() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = receiver.local_addr().unwrap().port();
        let sender = loopback(Family::V4);
        assert_eq!(
            sender
                .try_send(&[b"ab", b"cd"], Some(("127.0.0.1", port)))
                .unwrap(),
            4
        );
        sender.connect("127.0.0.1", port).unwrap();
        assert_eq!(sender.peer_addr().unwrap().port(), port);
        assert_eq!(sender.try_send(&[b"e"], None).unwrap(), 1);
        let mut buf = [0u8; 16];
        let (n, _) = receiver.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"abcd");
        let (n, _) = receiver.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"e");
        sender.disconnect().unwrap();
        assert!(sender.peer_addr().is_err());
    }

    #[test]
    fn try_receive_batch_drains_what_is_ready_then_would_block() {
        let socket = loopback(Family::V6);
        let port = socket.local_addr().unwrap().port();
        let sender = std::net::UdpSocket::bind("[::1]:0").unwrap();
        for payload in [&b"one"[..], b"", b"three"] {
            sender.send_to(payload, ("::1", port)).unwrap();
        }
        let mut received = Vec::new();
        for _ in 0..100 {
            match socket.try_receive_batch() {
                Ok(batch) => received.extend(batch.payloads().map(<[u8]>::to_vec)),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock && received.len() == 3 => break,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                Err(err) => panic!("{err}"),
            }
        }
        assert_eq!(received, vec![b"one".to_vec(), vec![], b"three".to_vec()]);
        assert_eq!(
            socket.try_receive_batch().unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    }

    #[test]
    fn received_datagrams_carry_their_destination_when_asked() {
        let socket = loopback(Family::V4);
        if !sys::capabilities().destination_address {
            let err = socket.set_receive_destination(true).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(Errno::ENOTSUP.raw_os_error()));
            return;
        }
        let port = socket.local_addr().unwrap().port();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.send_to(b"before", ("127.0.0.1", port)).unwrap();
        assert_eq!(receive_all(&socket, 1)[0].1.local, None);
        socket.set_receive_destination(true).unwrap();
        sender.send_to(b"after", ("127.0.0.1", port)).unwrap();
        let local = receive_all(&socket, 1)[0].1.local;
        assert_eq!(local, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }

    #[test]
    fn a_receive_block_list_drops_and_counts_matching_sources() {
        if skipped_under_wine(WINE_LOOPBACK_SOURCES) {
            return;
        }
        let socket = loopback(Family::V4);
        let port = socket.local_addr().unwrap().port();
        let blocked = BlockList::from_rules(&["Address: IPv4 127.0.0.2"]).unwrap();
        socket.set_receive_block_list(Some(blocked));
        let good = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let bad = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
        for _ in 0..10 {
            bad.send_to(b"bad", ("127.0.0.1", port)).unwrap();
            good.send_to(b"good", ("127.0.0.1", port)).unwrap();
        }
        let received = receive_all(&socket, 10);
        assert_eq!(received.len(), 10);
        assert!(received
            .iter()
            .all(|(_, d)| d.source.ip() == good.local_addr().unwrap().ip()));
        let stats = socket.stats();
        assert_eq!(
            (stats.received_datagrams, stats.blocked_datagrams),
            (10, 10)
        );
    }

    /// Where the kernel does not report drops, the count stays 0.
    #[test]
    fn the_kernel_drop_count_arrives_with_the_next_datagram() {
        let socket = loopback(Family::V4);
        socket.recv_buffer_size(4096).unwrap();
        let port = socket.local_addr().unwrap().port();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let sent = 500;
        for _ in 0..sent {
            sender.send_to(&[1u8; 100], ("127.0.0.1", port)).unwrap();
        }
        let first = receive_all(&socket, sent).len();
        sender.send_to(b"probe", ("127.0.0.1", port)).unwrap();
        receive_all(&socket, 1);
        let stats = socket.stats();
        assert!(first < sent, "a 4 KiB buffer cannot hold {sent} datagrams");
        match sys::capabilities().kernel_drops {
            true => assert_eq!(first as u64 + stats.kernel_drops, sent as u64),
            false => assert_eq!(stats.kernel_drops, 0),
        }
        assert_eq!(stats.received_datagrams, first as u64 + 1);
    }

    #[test]
    fn try_send_batch_sends_each_in_order_and_reports_each_failure() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = receiver.local_addr().unwrap();
        let sender = loopback(Family::V4);
        let big = vec![7u8; 70_000];
        let payloads: Vec<Vec<u8>> = (0..150u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let mut datagrams: Vec<Outgoing<'_>> = payloads
            .iter()
            .map(|p| Outgoing {
                data: p,
                to: Some(to),
                from: None,
            })
            .collect();
        datagrams.insert(
            100,
            Outgoing {
                data: &big,
                to: Some(to),
                from: None,
            },
        );
        let results = sender.try_send_batch(&datagrams);
        assert_eq!(
            results.len(),
            151,
            "more than one sendmmsg call's worth, none would block"
        );
        assert_eq!(
            results[100].as_ref().unwrap_err().raw_os_error(),
            Some(Errno::EMSGSIZE.raw_os_error())
        );
        assert!(results
            .iter()
            .enumerate()
            .all(|(i, r)| i == 100 || *r.as_ref().unwrap() == 4));
        let mut buf = [0u8; 16];
        for i in 0..150u32 {
            let (n, _) = receiver.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], &i.to_be_bytes());
        }
    }

    #[test]
    fn try_send_batch_until_failure_sends_nothing_after_the_first_failure() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(std::time::Duration::from_millis(200)))
            .unwrap();
        let to = Some(receiver.local_addr().unwrap());
        let sender = loopback(Family::V4);
        let big = vec![7u8; 70_000];
        let payloads: Vec<&[u8]> = vec![b"a", b"b", &big, b"c", b"d"];
        let datagrams: Vec<Outgoing<'_>> = payloads
            .iter()
            .map(|data| Outgoing {
                data,
                to,
                from: None,
            })
            .collect();
        let results = sender.try_send_batch_until_failure(&datagrams);
        assert_eq!(results.len(), 3, "two sent, then the failure, then nothing");
        assert_eq!(
            results[2].as_ref().unwrap_err().raw_os_error(),
            Some(Errno::EMSGSIZE.raw_os_error())
        );
        let mut buf = [0u8; 16];
        for expected in [b"a", b"b"] {
            let (n, _) = receiver.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], expected);
        }
        let err = receiver.recv_from(&mut buf).unwrap_err();
        assert_eq!(
            err.kind(),
            test_facts::READ_TIMEOUT,
            "c and d were not sent"
        );
    }

    #[test]
    fn async_send_honours_from_where_the_platform_can_do_it() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let sender = UdpSocket::bound(Family::V4, "0.0.0.0", 0, BindFlags::default()).unwrap();
        let datagram = Outgoing {
            data: b"later",
            to: Some(receiver.local_addr().unwrap()),
            from: Some("127.0.0.4".parse().unwrap()),
        };
        if !sys::capabilities().source_address {
            let results = sender.try_send_batch(&[datagram]);
            let err = results[0].as_ref().unwrap_err();
            assert_eq!(err.raw_os_error(), Some(Errno::EOPNOTSUPP.raw_os_error()));
            let err = runtime()
                .unwrap()
                .block_on(sender.send(datagram))
                .unwrap_err();
            assert_eq!(err.raw_os_error(), Some(Errno::EOPNOTSUPP.raw_os_error()));
            return;
        }
        if skipped_under_wine(
            "Wine ignores WSASendMsg's control messages: the IP_PKTINFO source is not used",
        ) {
            return;
        }
        let sent = runtime().unwrap().block_on(sender.send(datagram)).unwrap();
        assert_eq!(sent, 5);
        let mut buf = [0u8; 16];
        let (n, source) = receiver.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"later");
        assert_eq!(source.ip().to_string(), "127.0.0.4");
    }

    #[test]
    fn bad_interface_addresses_are_einval() {
        let socket = loopback(Family::V4);
        let err = socket.set_multicast_interface("not-an-ip").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::EINVAL.raw_os_error()));
        let err = socket.set_membership("bogus", None, true).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::EINVAL.raw_os_error()));
    }

    #[test]
    fn adopts_a_socket_or_a_duplicate_of_one() {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = std_socket.local_addr().unwrap().port();
        let adopted = UdpSocket::from_std(std_socket).unwrap();
        assert_eq!(adopted.local_addr().unwrap().port(), port);
        assert_eq!(adopted.family(), Family::V4);
        let duplicate = UdpSocket::from_duplicate(adopted.raw_socket()).unwrap();
        assert_ne!(duplicate.raw_socket(), adopted.raw_socket());
        assert_eq!(duplicate.local_addr().unwrap().port(), port);
    }

    #[test]
    fn the_descriptor_number_names_the_socket_where_there_is_one() {
        let socket = loopback(Family::V4);
        if let Some(fd) = socket.descriptor() {
            let named = sys::raw_socket_from_descriptor(fd);
            assert_eq!(named, Some(socket.raw_socket()));
        }
    }
}
