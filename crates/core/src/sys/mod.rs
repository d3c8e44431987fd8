//! The platform layer: every call into the operating system that `socket2`,
//! `std` and tokio do not make portably, behind the one interface this file
//! states (quinn-udp's layout). The rest of the crate holds no `libc` and no
//! `cfg` of a platform.
//!
//! | file | compiled for | holds |
//! |---|---|---|
//! | `unix.rs` | every Unix | what they share: file descriptors, errno numbers (libuv's are their negatives), the receive slots' memory (`mmap`), readiness through tokio's `AsyncFd`, socket options by number, control messages, the `recvmsg` loop |
//! | `linux.rs` | Linux, Android | `recvmmsg` / `sendmmsg`, UDP GSO (`UDP_SEGMENT`), `IP_PKTINFO` / `IPV6_PKTINFO` both ways, `SO_RXQ_OVFL`, `SO_REUSEPORT`, `IP_MTU_DISCOVER` |
//! | `bsd.rs` | macOS, FreeBSD | one `recvmsg` per datagram, destinations from `IP_RECVDSTADDR` / `IPV6_RECVPKTINFO`, `SO_REUSEPORT_LB` (FreeBSD) |
//! | `windows.rs` | Windows | Winsock through socket2 and `windows-sys`: one datagram per call (sends: UDP send offload, `UDP_SEND_MSG_SIZE`, where probed), `WSARecvMsg` / `WSASendMsg` for packet info, `IP_DONTFRAGMENT`, libuv's Windows error numbers, symbols from node.exe; its `os` holds the basics |
//! | `fallback.rs` | every other target | socket2 only, one datagram per call |
//! | `readiness.rs` | every non-Unix target | readiness through a tokio `UdpSocket` of a duplicate |
//!
//! Builds for checking can choose an implementation on Linux with
//! `RUSTFLAGS='--cfg fastdgram_sys="message"'` (Linux's options, received
//! and sent one message at a time as on macOS and FreeBSD) or
//! `--cfg fastdgram_sys="fallback"` (what Windows compiles now);
//! `scripts/check-fallbacks.sh` runs the core's tests on both.

use std::io;
use std::net::{IpAddr, SocketAddr};

use socket2::{SockAddr, Socket};

use crate::address::Family;
use crate::handle_type::HandleType;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows::os;
#[cfg(any(not(unix), fastdgram_imp = "fallback"))]
mod readiness;

// Which one: build.rs.
#[cfg(fastdgram_imp = "linux")]
#[path = "linux.rs"]
mod imp;
#[cfg(fastdgram_imp = "bsd")]
#[path = "bsd.rs"]
mod imp;
#[cfg(fastdgram_imp = "windows")]
use windows as imp;
#[cfg(fastdgram_imp = "fallback")]
#[path = "fallback.rs"]
mod imp;

/// Datagrams one receive call takes at most; more wait for the next call.
pub const BATCH_CAPACITY: usize = 64;
/// One receive slot: large enough for any UDP datagram.
pub(crate) const SLOT_SIZE: usize = 65_536;

/// The operating system's handle of a socket: a file descriptor on Unix, a
/// `SOCKET` on Windows.
pub type RawSocket = os::RawSocket;

/// One datagram to send: its bytes, where to (`None` on a connected
/// socket) and, optionally, the local address it leaves from (where
/// [`Capabilities::source_address`] says so; elsewhere such a datagram
/// fails with `EOPNOTSUPP`). Without `from` the kernel chooses the source.
#[derive(Clone, Copy, Debug)]
pub struct Outgoing<'a> {
    pub data: &'a [u8],
    pub to: Option<SocketAddr>,
    pub from: Option<IpAddr>,
}

/// What one receive call learned about one datagram of its slots.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecvMeta {
    pub len: u32,
    pub source: SocketAddr,
    /// The local address it was sent to, when asked for (`set_receive_destination`).
    pub local: Option<IpAddr>,
    /// With receive offload, the kernel's segment size of a coalesced
    /// buffer: `len` holds datagrams of this size, the last possibly
    /// shorter. 0: the slot holds one datagram.
    pub segment_size: u32,
}

impl Default for RecvMeta {
    fn default() -> Self {
        RecvMeta {
            len: 0,
            source: SocketAddr::from(([0, 0, 0, 0], 0)),
            local: None,
            segment_size: 0,
        }
    }
}

/// The outcome of one receive call: how many slots it filled, and the
/// kernel's count of datagrams it dropped for the socket, when one came.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Received {
    pub count: usize,
    pub kernel_drops: Option<u32>,
}

/// What this build does on this machine, probed once at run time where the
/// kernel decides (quinn-udp's way): a feature the kernel refuses is off
/// here, and the calls that need it fail as documented instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// One system call receives up to [`BATCH_CAPACITY`] datagrams (`recvmmsg`).
    pub batched_receive: bool,
    /// One system call sends several datagrams (`sendmmsg`).
    pub batched_send: bool,
    /// Most equal-sized datagrams one send hands the kernel as one UDP GSO
    /// buffer (Linux `UDP_SEGMENT`, Windows `UDP_SEND_MSG_SIZE`); 1 when
    /// there is no GSO (or after the kernel refused it, or with
    /// `FASTDGRAM_NO_GSO` set).
    pub gso_segments: u16,
    /// Sends can choose their local source address (`Outgoing::from`).
    pub source_address: bool,
    /// Received datagrams can carry their local destination address
    /// (`set_receive_destination`).
    pub destination_address: bool,
    /// The kernel reports the datagrams it dropped for a socket whose
    /// receive buffer was full (`SO_RXQ_OVFL`); elsewhere that count stays 0.
    pub kernel_drops: bool,
    /// Path-MTU discovery with the don't-fragment bit, and reading the path
    /// MTU (`set_dont_fragment`, `path_mtu`); elsewhere both fail with `ENOTSUP`.
    pub dont_fragment: bool,
    /// `reuse_port` binds several sockets to one port and the kernel spreads
    /// datagrams over them (Linux `SO_REUSEPORT`, FreeBSD `SO_REUSEPORT_LB`);
    /// elsewhere such a bind fails with `ENOTSUP`.
    pub reuse_port_balancing: bool,
    /// Receive offload (Linux `UDP_GRO`): the kernel may hand over several
    /// datagrams of one sender as one buffer, which the crate splits again
    /// (off with `FASTDGRAM_NO_GRO` set, or where the kernel refuses it).
    pub gro: bool,
}

/// What this build does here (see [`Capabilities`]).
pub fn capabilities() -> Capabilities {
    imp::capabilities()
}

/// Where libuv's own checks differ by platform, for the wrapper, which
/// makes them before a socket exists (libuv creates it at bind, too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LibuvRules {
    /// libuv's number for a buffer-size call on a socket not created yet:
    /// `EBADF` on Unix (fd −1), `ENOTSOCK` on Windows (`INVALID_SOCKET`).
    pub buffer_size_without_socket: i32,
    /// The lowest TTL `uv_udp_set_multicast_ttl` accepts: 0 on Unix, −1 on
    /// Windows (src/win/udp.c `VALIDATE_MULTICAST_TTL`; −1 asks for the
    /// system's default).
    pub lowest_multicast_ttl: i32,
    /// libuv refuses a bind with `UV_UDP_REUSEPORT` with `ENOTSUP` before
    /// it creates the socket (Windows: src/win/udp.c), which stays unmade.
    pub reuse_port_refused: bool,
    /// A bind of a socket already bound succeeds and changes nothing
    /// (Windows: `uv__udp_maybe_bind` returns 0 for a bound handle); on
    /// Unix it reaches bind(2), which fails with `EINVAL`.
    pub rebind_is_noop: bool,
    /// A membership change for a group of the other family than the
    /// socket's is `EINVAL` before anything is asked of the kernel
    /// (Windows: `uv__udp_set_membership4` refuses an IPv6 socket, `…6` a
    /// bound IPv4 one); on Unix the kernel answers.
    pub membership_of_socket_family_only: bool,
    /// A destination (or the address to connect to) of the other family
    /// than the socket's reaches the system, which answers: on Windows the
    /// socket's family can differ from the handle's, whose family node
    /// checked the address against (an IPv4 membership on an unbound udp6
    /// handle makes libuv create an IPv4 socket, and a later bind is a
    /// no-op, so the send gets as far as Winsock). On Unix that bind fails
    /// first (`EINVAL`, the parity test in peer-family.spec), so such an
    /// address is never a node:dgram socket's: it is `EINVAL` there, what
    /// `send()` reports for it, for `sendMany` too.
    pub peer_of_either_family: bool,
}

/// libuv's platform-dependent checks here (see [`LibuvRules`]).
pub fn libuv_rules() -> LibuvRules {
    os::LIBUV_RULES
}

/// Which implementation this build uses: `"linux"`, `"linux, one message
/// at a time"`, `"bsd"`, `"windows"` or `"fallback"`.
pub fn implementation() -> &'static str {
    imp::NAME
}

/// The errors the crate reports by name. Each has this platform's OS error
/// number ([`raw_os_error`](Errno::raw_os_error), the number inside an
/// `io::Error`) and libuv's number for it ([`uv`](Errno::uv), what Node.js
/// reports: `-errno` on Unix, libuv's own table on Windows).
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    EADDRINUSE,
    EADDRNOTAVAIL,
    EAFNOSUPPORT,
    EAGAIN,
    EBADF,
    ECANCELED,
    ECONNREFUSED,
    EDESTADDRREQ,
    EEXIST,
    EINVAL,
    EIO,
    EISCONN,
    EMSGSIZE,
    ENETUNREACH,
    ENOBUFS,
    ENOPROTOOPT,
    ENOTCONN,
    ENOTSUP,
    EOPNOTSUPP,
}

impl Errno {
    pub const ALL: [Errno; 19] = [
        Errno::EADDRINUSE,
        Errno::EADDRNOTAVAIL,
        Errno::EAFNOSUPPORT,
        Errno::EAGAIN,
        Errno::EBADF,
        Errno::ECANCELED,
        Errno::ECONNREFUSED,
        Errno::EDESTADDRREQ,
        Errno::EEXIST,
        Errno::EINVAL,
        Errno::EIO,
        Errno::EISCONN,
        Errno::EMSGSIZE,
        Errno::ENETUNREACH,
        Errno::ENOBUFS,
        Errno::ENOPROTOOPT,
        Errno::ENOTCONN,
        Errno::ENOTSUP,
        Errno::EOPNOTSUPP,
    ];

    /// The OS's number for this error (what `io::Error::raw_os_error` holds).
    pub const fn raw_os_error(self) -> i32 {
        os::raw_errno(self)
    }

    /// libuv's (negative) number for this error on this platform.
    pub const fn uv(self) -> i32 {
        os::uv_errno(self)
    }

    /// An `io::Error` carrying this error's OS number.
    pub fn error(self) -> io::Error {
        io::Error::from_raw_os_error(self.raw_os_error())
    }

    /// Whether `err` is this error.
    pub fn is(self, err: &io::Error) -> bool {
        err.raw_os_error() == Some(self.raw_os_error())
    }

    pub fn name(self) -> &'static str {
        match self {
            Errno::EADDRINUSE => "EADDRINUSE",
            Errno::EADDRNOTAVAIL => "EADDRNOTAVAIL",
            Errno::EAFNOSUPPORT => "EAFNOSUPPORT",
            Errno::EAGAIN => "EAGAIN",
            Errno::EBADF => "EBADF",
            Errno::ECANCELED => "ECANCELED",
            Errno::ECONNREFUSED => "ECONNREFUSED",
            Errno::EDESTADDRREQ => "EDESTADDRREQ",
            Errno::EEXIST => "EEXIST",
            Errno::EINVAL => "EINVAL",
            Errno::EIO => "EIO",
            Errno::EISCONN => "EISCONN",
            Errno::EMSGSIZE => "EMSGSIZE",
            Errno::ENETUNREACH => "ENETUNREACH",
            Errno::ENOBUFS => "ENOBUFS",
            Errno::ENOPROTOOPT => "ENOPROTOOPT",
            Errno::ENOTCONN => "ENOTCONN",
            Errno::ENOTSUP => "ENOTSUP",
            Errno::EOPNOTSUPP => "EOPNOTSUPP",
        }
    }
}

/// libuv's (negative) error number for `err`, as Node.js reports it here;
/// `EINVAL`'s for the few errors that carry no OS number (unparsable input).
pub fn uv_error_code(err: &io::Error) -> i32 {
    os::uv_error_code(err)
}

/// The `io::Error` for a negative error number a libuv call returned.
pub fn error_from_uv(code: i32) -> io::Error {
    os::error_from_uv(code)
}

/// As libuv does on Unix: `ENOBUFS` (no room in the send buffer for this
/// datagram) means "try again when writable", like `EAGAIN`. libuv on
/// Windows has no such wait: there it stays an error.
pub(crate) fn no_buffer_space_is_would_block(err: io::Error) -> io::Error {
    match !cfg!(windows) && Errno::ENOBUFS.is(&err) {
        true => Errno::EAGAIN.error(),
        false => err,
    }
}

/// An IPv6 socket bound without `ipv6Only` takes IPv4 too: libuv on Windows
/// turns `IPV6_V6ONLY` off first (Windows has it on by default), ignoring
/// an error; on Unix it leaves the system's default, and so does this.
pub(crate) fn dual_stack_as_libuv(socket: &Socket) {
    if cfg!(windows) {
        let _ = socket.set_only_v6(false);
    }
}

// Handles.

/// The OS handle of `socket` (still owned by it).
pub(crate) fn raw_socket(socket: &Socket) -> RawSocket {
    os::raw_socket(socket)
}

/// Takes ownership of an open socket handle.
///
/// # Safety
/// `handle` must be an open socket that nothing else owns or closes.
pub(crate) unsafe fn adopt(handle: RawSocket) -> Socket {
    // SAFETY: guaranteed by the caller.
    unsafe { os::adopt(handle) }
}

/// A new handle of the socket `handle` (which stays open, owned by its owner).
pub(crate) fn duplicate(handle: RawSocket) -> io::Result<Socket> {
    os::duplicate(handle)
}

/// The socket handle a descriptor number stands for (as JavaScript passes
/// one to `bind({ fd })`), or `None` where descriptors are not sockets.
pub fn raw_socket_from_descriptor(descriptor: i32) -> Option<RawSocket> {
    os::raw_socket_from_descriptor(descriptor)
}

/// The descriptor number of a socket handle, as Node.js's `handle.fd`
/// reports it, or `None` where sockets have none (Windows: there Node.js
/// reports `EBADF`).
pub(crate) fn descriptor_of(handle: RawSocket) -> Option<i32> {
    os::descriptor_of(handle)
}

/// Classifies a descriptor number from JavaScript the way libuv's
/// `uv_guess_handle` does.
pub fn guess_descriptor_type(descriptor: i32) -> HandleType {
    os::guess_descriptor_type(descriptor)
}

/// `IPV6_UNICAST_HOPS` on Unix; what libuv sets on Windows (`IPV6_HOPLIMIT`).
pub(crate) fn set_unicast_hops_v6(socket: &Socket, hops: u32) -> io::Result<()> {
    os::set_unicast_hops_v6(socket, hops)
}

/// Classifies `handle` the way libuv's `uv_guess_handle` does.
pub fn guess_handle_type(handle: RawSocket) -> HandleType {
    os::guess_handle_type(handle)
}

/// The address of a function the running process exports (Node.js exports
/// libuv's), or `None` (not there, or no lookup on this platform).
pub fn find_symbol(name: &std::ffi::CStr) -> Option<std::ptr::NonNull<std::ffi::c_void>> {
    os::find_symbol(name)
}

// Readiness: a socket's registration with the I/O runtime.

/// Made (inside the runtime's context) with `Registration::new(&socket,
/// interest)`; `registration.ready(interest).await` waits for readiness and
/// gives a [`Ready`] whose `try_io(f)` runs `f` and, when `f` would block,
/// clears the readiness for the next wait (tokio's `AsyncFd` contract).
pub(crate) use imp::Registration;

// Receiving.

#[cfg(test)]
pub(crate) use os::test_facts;
/// The receive slots' memory: `BATCH_CAPACITY * SLOT_SIZE` bytes that cost
/// nothing until written (`ReceiveMemory::new()`, then `&mut [u8]` via deref).
pub(crate) use os::ReceiveMemory;

/// Whatever a platform's receive call needs beside the slots, made once per
/// thread with `ReceiveHeaders::new(&mut slots)` (it may point into them).
pub(crate) use imp::ReceiveHeaders;

/// Reads the datagrams ready on the non-blocking `socket` into `slots` (one
/// per `SLOT_SIZE` bytes) and `meta`, up to `limit` messages (1 to
/// [`BATCH_CAPACITY`]): `WouldBlock` when none is ready.
#[inline]
pub(crate) fn receive(
    socket: &Socket,
    headers: &mut ReceiveHeaders,
    slots: &mut [u8],
    meta: &mut [RecvMeta; BATCH_CAPACITY],
    limit: usize,
) -> io::Result<Received> {
    imp::receive(socket, headers, slots, meta, limit.clamp(1, BATCH_CAPACITY))
}

// Sending.

/// Sends a prefix of `datagrams` (at least one, or an error for the first)
/// with as few system calls as the platform allows: the byte count of each
/// datagram sent, in order. `WouldBlock` when the first would block.
#[inline]
pub(crate) fn send_batch(socket: &Socket, datagrams: &[Outgoing<'_>]) -> io::Result<Vec<usize>> {
    imp::send_batch(socket, datagrams)
}

/// Sends one datagram now: its byte count, or an error (`WouldBlock` too).
#[inline]
pub(crate) fn send_one(socket: &Socket, datagram: &Outgoing<'_>) -> io::Result<usize> {
    imp::send_one(socket, datagram)
}

/// A datagram without a chosen source address, sent the way every platform
/// can (for the implementations that have nothing better).
#[cfg_attr(
    all(fastdgram_imp = "linux", not(fastdgram_sys = "message")),
    allow(dead_code)
)]
fn send_plain(socket: &Socket, datagram: &Outgoing<'_>) -> io::Result<usize> {
    let sent = match datagram.to {
        Some(to) => socket.send_to(datagram.data, &SockAddr::from(to)),
        None => socket.send(datagram.data),
    };
    sent.map_err(no_buffer_space_is_would_block)
}

/// `send_one` of the implementations that cannot choose a source address.
#[cfg(any(fastdgram_imp = "bsd", fastdgram_imp = "fallback"))]
fn send_one_without_source(socket: &Socket, datagram: &Outgoing<'_>) -> io::Result<usize> {
    match datagram.from {
        None => send_plain(socket, datagram),
        Some(_) => Err(Errno::EOPNOTSUPP.error()),
    }
}

/// `send_batch` of the implementations that send one datagram per call.
#[cfg(any(fastdgram_imp = "bsd", fastdgram_imp = "fallback"))]
fn send_first_only(socket: &Socket, datagrams: &[Outgoing<'_>]) -> io::Result<Vec<usize>> {
    Ok(vec![send_one_without_source(socket, &datagrams[0])?])
}

/// How many datagrams from the first can go as one segmented send (Linux
/// GSO, Windows USO): the same destination and source address, the same
/// size (the last may be shorter, not empty), at most `max_segments` of
/// them and `max_bytes` in all. 1 when the first cannot start a run.
#[cfg(any(fastdgram_imp = "linux", fastdgram_imp = "windows"))]
fn segment_run_length(datagrams: &[Outgoing<'_>], max_segments: usize, max_bytes: usize) -> usize {
    let Some(first) = datagrams.first() else {
        return 0;
    };
    let size = first.data.len();
    if size == 0 || size > u16::MAX as usize {
        return 1;
    }
    let mut count = 1;
    let mut bytes = size;
    for next in &datagrams[1..] {
        let len = next.data.len();
        if next.to != first.to
            || next.from != first.from
            || len == 0
            || len > size
            || count == max_segments
            || bytes + len > max_bytes
        {
            break;
        }
        count += 1;
        bytes += len;
        if len < size {
            break;
        }
    }
    count
}

// Socket options that need the OS's own calls.

/// Asks the kernel to report drops with received datagrams (best effort:
/// without it the drop count stays 0).
pub(crate) fn report_kernel_drops(socket: &Socket) -> io::Result<()> {
    imp::report_kernel_drops(socket)
}

/// Turns receive offload on for a socket that only this process reads (see
/// [`Capabilities::gro`]): whether it is on.
pub(crate) fn enable_gro(socket: &Socket) -> bool {
    imp::enable_gro(socket)
}

/// Asks for (or stops asking for) each datagram's local destination address.
pub(crate) fn set_receive_destination(socket: &Socket, family: Family, on: bool) -> io::Result<()> {
    imp::set_receive_destination(socket, family, on)
}

/// Lets sockets share a port with the kernel spreading datagrams over them;
/// `ENOTSUP` where it would not spread them.
pub(crate) fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    imp::set_reuse_port(socket)
}

/// Path-MTU discovery on, the don't-fragment bit set (`ENOTSUP` where not).
pub(crate) fn set_dont_fragment(socket: &Socket, family: Family) -> io::Result<()> {
    imp::set_dont_fragment(socket, family)
}

/// The path MTU of a connected socket (`ENOTSUP` where it cannot be read).
pub(crate) fn connected_path_mtu(socket: &Socket, family: Family) -> io::Result<u32> {
    imp::connected_path_mtu(socket, family)
}

/// `IPV6_TCLASS`, set and read.
pub(crate) fn set_traffic_class_v6(socket: &Socket, tclass: u32) -> io::Result<()> {
    os::set_traffic_class_v6(socket, tclass)
}

pub(crate) fn traffic_class_v6(socket: &Socket) -> io::Result<u32> {
    os::traffic_class_v6(socket)
}

/// Dissolves a datagram socket's association with its peer.
pub(crate) fn disconnect(socket: &Socket) -> io::Result<()> {
    os::disconnect(socket)
}

/// Joins or leaves an IPv6 source-specific multicast channel
/// (`MCAST_JOIN_SOURCE_GROUP`), which socket2 does not offer.
pub(crate) fn set_source_membership_v6(
    socket: &Socket,
    source: IpAddr,
    group: IpAddr,
    interface: u32,
    join: bool,
) -> io::Result<()> {
    os::set_source_membership_v6(socket, source, group, interface, join)
}

/// The index of the network interface called `name`, 0 if there is none.
pub(crate) fn interface_index(name: &str) -> u32 {
    os::interface_index(name)
}

/// The name of network interface `index`, `None` if there is none.
pub(crate) fn interface_name(index: u32) -> Option<String> {
    os::interface_name(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scripts/check-fallbacks.sh` sets FASTDGRAM_SYS_EXPECTED, so that a
    /// build that did not switch implementation fails instead of testing
    /// the usual one again.
    #[test]
    fn the_implementation_is_the_one_asked_for() {
        println!("sys implementation: {}", implementation());
        if let Ok(expected) = std::env::var("FASTDGRAM_SYS_EXPECTED") {
            assert_eq!(implementation(), expected);
        }
    }
}
