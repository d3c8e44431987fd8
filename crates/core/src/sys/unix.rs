//! What every Unix shares: file descriptors, errno numbers (libuv's are
//! their negatives), the receive slots' memory, readiness through tokio's
//! `AsyncFd`, socket options by number, control messages, and the
//! message-at-a-time receive loop that platforms without `recvmmsg` use.

// A `fastdgram_sys="fallback"` build uses the basics only.
#![cfg_attr(fastdgram_imp = "fallback", allow(dead_code))]

use std::ffi::{c_int, c_void, CStr, CString};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, RawFd};
use std::ptr::NonNull;

use socket2::{SockAddr, Socket};
use tokio::io::unix::{AsyncFd, AsyncFdReadyGuard};
use tokio::io::Interest;

use super::{Errno, LibuvRules, Received, RecvMeta, BATCH_CAPACITY, SLOT_SIZE};
use crate::handle_type::HandleType;

pub type RawSocket = RawFd;

// Errors.

pub(super) const fn raw_errno(code: Errno) -> i32 {
    match code {
        Errno::EADDRINUSE => libc::EADDRINUSE,
        Errno::EADDRNOTAVAIL => libc::EADDRNOTAVAIL,
        Errno::EAFNOSUPPORT => libc::EAFNOSUPPORT,
        Errno::EAGAIN => libc::EAGAIN,
        Errno::EBADF => libc::EBADF,
        Errno::ECANCELED => libc::ECANCELED,
        Errno::ECONNREFUSED => libc::ECONNREFUSED,
        Errno::EDESTADDRREQ => libc::EDESTADDRREQ,
        Errno::EEXIST => libc::EEXIST,
        Errno::EINVAL => libc::EINVAL,
        Errno::EIO => libc::EIO,
        Errno::EISCONN => libc::EISCONN,
        Errno::EMSGSIZE => libc::EMSGSIZE,
        Errno::ENETUNREACH => libc::ENETUNREACH,
        Errno::ENOBUFS => libc::ENOBUFS,
        Errno::ENOPROTOOPT => libc::ENOPROTOOPT,
        Errno::ENOTCONN => libc::ENOTCONN,
        Errno::ENOTSUP => libc::ENOTSUP,
        Errno::EOPNOTSUPP => libc::EOPNOTSUPP,
    }
}

/// libuv on Unix: `UV_E* = -E*`.
pub(super) const fn uv_errno(code: Errno) -> i32 {
    -raw_errno(code)
}

pub(super) fn uv_error_code(err: &io::Error) -> i32 {
    -err.raw_os_error().unwrap_or(libc::EINVAL)
}

pub(super) fn error_from_uv(code: i32) -> io::Error {
    io::Error::from_raw_os_error(-code)
}

// Handles.

pub(super) fn raw_socket(socket: &Socket) -> RawFd {
    socket.as_raw_fd()
}

/// # Safety
/// `fd` must be an open socket that nothing else owns or closes.
pub(super) unsafe fn adopt(fd: RawFd) -> Socket {
    // SAFETY: guaranteed by the caller.
    unsafe { Socket::from_raw_fd(fd) }
}

pub(super) fn duplicate(fd: RawFd) -> io::Result<Socket> {
    if fd < 0 {
        return Err(Errno::EBADF.error());
    }
    // SAFETY: fd is only borrowed for the duplication; an fd that is not
    // open makes the dup fail with EBADF.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    Ok(Socket::from(borrowed.try_clone_to_owned()?))
}

/// On Unix a descriptor is the socket's handle (whether it is open and a
/// socket at all is for the calls that use it to find out).
pub(super) fn raw_socket_from_descriptor(descriptor: i32) -> Option<RawFd> {
    Some(descriptor)
}

pub(super) fn descriptor_of(fd: RawFd) -> Option<i32> {
    Some(fd)
}

pub(super) const LIBUV_RULES: LibuvRules = LibuvRules {
    buffer_size_without_socket: -libc::EBADF,
    lowest_multicast_ttl: 0,
    reuse_port_refused: false,
    rebind_is_noop: false,
    membership_of_socket_family_only: false,
    peer_of_either_family: false,
};

pub(super) fn guess_descriptor_type(descriptor: i32) -> HandleType {
    guess_handle_type(descriptor)
}

pub(super) fn set_unicast_hops_v6(socket: &Socket, hops: u32) -> io::Result<()> {
    socket.set_unicast_hops_v6(hops)
}

pub(super) fn guess_handle_type(fd: RawFd) -> HandleType {
    if fd < 0 {
        return HandleType::Unknown;
    }
    // SAFETY: an all-zero stat is a valid value; fstat only writes into it.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: stat is valid for writing.
    if unsafe { libc::fstat(fd, &mut stat) } != 0 {
        return HandleType::Unknown;
    }
    match stat.st_mode & libc::S_IFMT {
        libc::S_IFREG | libc::S_IFCHR if unsafe { libc::isatty(fd) } == 1 => HandleType::Tty,
        libc::S_IFREG | libc::S_IFCHR => HandleType::File,
        libc::S_IFIFO => HandleType::Pipe,
        libc::S_IFSOCK => classify_socket(fd),
        _ => HandleType::Unknown,
    }
}

fn classify_socket(fd: RawFd) -> HandleType {
    let Ok(kind) = int_option_of(fd, libc::SOL_SOCKET, libc::SO_TYPE) else {
        return HandleType::Unknown;
    };
    match socket_family(fd) {
        Some(libc::AF_INET | libc::AF_INET6) if kind == libc::SOCK_DGRAM => HandleType::Udp,
        Some(libc::AF_INET | libc::AF_INET6) if kind == libc::SOCK_STREAM => HandleType::Tcp,
        Some(libc::AF_UNIX) if kind == libc::SOCK_STREAM => HandleType::Pipe,
        _ => HandleType::Unknown,
    }
}

fn socket_family(fd: RawFd) -> Option<c_int> {
    // SAFETY: an all-zero sockaddr_storage is a valid value; len matches its size.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: storage and len are valid for writing.
    let rc = unsafe {
        libc::getsockname(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(c_int::from(storage.ss_family))
}

pub(super) fn find_symbol(name: &CStr) -> Option<NonNull<c_void>> {
    // SAFETY: dlsym with RTLD_DEFAULT searches the images already loaded.
    NonNull::new(unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) })
}

// Socket options by number.

pub(super) fn set_int_option(
    socket: &Socket,
    level: c_int,
    name: c_int,
    value: c_int,
) -> io::Result<()> {
    // SAFETY: value is a c_int and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const c_int).cast(),
            std::mem::size_of::<c_int>() as libc::socklen_t,
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

pub(super) fn set_flag(socket: &Socket, level: c_int, name: c_int, on: bool) -> io::Result<()> {
    set_int_option(socket, level, name, c_int::from(on))
}

pub(super) fn int_option_of(fd: RawFd, level: c_int, name: c_int) -> io::Result<c_int> {
    let mut value: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: value and len are valid for writing, len holds value's size.
    let rc =
        unsafe { libc::getsockopt(fd, level, name, (&mut value as *mut c_int).cast(), &mut len) };
    match rc {
        0 => Ok(value),
        _ => Err(io::Error::last_os_error()),
    }
}

/// A throwaway IPv4 UDP socket, for probing what the kernel accepts.
pub(super) fn probe_socket() -> Option<Socket> {
    Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).ok()
}

pub(super) fn set_traffic_class_v6(socket: &Socket, tclass: u32) -> io::Result<()> {
    socket.set_tclass_v6(tclass)
}

pub(super) fn traffic_class_v6(socket: &Socket) -> io::Result<u32> {
    socket.tclass_v6()
}

pub(super) fn disconnect(socket: &Socket) -> io::Result<()> {
    // SAFETY: an all-zero sockaddr with family AF_UNSPEC is what
    // connect(2) documents for dissolving a datagram association.
    let mut unspec: libc::sockaddr = unsafe { std::mem::zeroed() };
    unspec.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
    let len = std::mem::size_of::<libc::sockaddr>() as libc::socklen_t;
    // SAFETY: unspec is a valid sockaddr of `len` bytes.
    let rc = unsafe { libc::connect(socket.as_raw_fd(), &unspec, len) };
    match rc {
        0 => Ok(()),
        _ => match io::Error::last_os_error() {
            err if Errno::EAFNOSUPPORT.is(&err) => Ok(()),
            err => Err(err),
        },
    }
}

pub(super) fn set_source_membership_v6(
    socket: &Socket,
    source: IpAddr,
    group: IpAddr,
    interface: u32,
    join: bool,
) -> io::Result<()> {
    // SAFETY: an all-zero group_source_req is valid; fields are set below.
    let mut request: libc::group_source_req = unsafe { std::mem::zeroed() };
    request.gsr_interface = interface;
    // macOS packs the struct (its sockaddr_storage fields are unaligned):
    // they are written through raw pointers, never through references.
    write_storage(
        std::ptr::addr_of_mut!(request.gsr_group).cast(),
        SocketAddr::new(group, 0),
    );
    write_storage(
        std::ptr::addr_of_mut!(request.gsr_source).cast(),
        SocketAddr::new(source, 0),
    );
    let option = match join {
        true => libc::MCAST_JOIN_SOURCE_GROUP,
        false => libc::MCAST_LEAVE_SOURCE_GROUP,
    };
    // SAFETY: request is a valid group_source_req of the size given.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IPV6,
            option,
            (&request as *const libc::group_source_req).cast(),
            std::mem::size_of::<libc::group_source_req>() as libc::socklen_t,
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Copies `addr` as a sockaddr into the `sockaddr_storage` at `storage`.
fn write_storage(storage: *mut u8, addr: SocketAddr) {
    let addr = SockAddr::from(addr);
    let len = (addr.len() as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: `storage` points at a sockaddr_storage (any alignment: bytes
    // are copied), the source is `len` valid bytes, and they do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(addr.as_ptr().cast::<u8>(), storage, len) };
}

pub(super) fn interface_index(name: &str) -> u32 {
    match CString::new(name) {
        // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
        Ok(name) => unsafe { libc::if_nametoindex(name.as_ptr()) },
        Err(_) => 0,
    }
}

pub(super) fn interface_name(index: u32) -> Option<String> {
    let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `name` has room for IF_NAMESIZE bytes, as if_indextoname requires.
    let found = unsafe { libc::if_indextoname(index, name.as_mut_ptr()) };
    if found.is_null() {
        return None;
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name into `name`.
    let name = unsafe { CStr::from_ptr(name.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

/// The IP address and port in a `sockaddr_storage` the kernel filled.
#[inline]
pub(super) fn to_socket_addr(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6 = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            let port = u16::from_be(sin6.sin6_port);
            Ok(SocketAddr::V6(SocketAddrV6::new(
                ip,
                port,
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "datagram source is not an IP address",
        )),
    }
}

// The receive slots' memory.

/// Mapped straight from the kernel rather than taken from malloc: pages a
/// datagram never touched cost nothing, and when a thread (a worker, say)
/// ends they go back to the kernel at once. A 4 MiB malloc block freed by
/// one thread raises glibc's mmap threshold, so the next thread's block came
/// from a malloc arena, zeroed page by page, and stayed resident after that
/// thread ended (8-10 MiB more RSS under worker churn, reliability-lifecycle's
/// workers test).
pub(crate) struct ReceiveMemory {
    memory: NonNull<u8>,
}

const RECEIVE_MEMORY_LEN: usize = BATCH_CAPACITY * SLOT_SIZE;

impl ReceiveMemory {
    pub(crate) fn new() -> ReceiveMemory {
        // SAFETY: an anonymous private mapping, owned by this value.
        let memory = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                RECEIVE_MEMORY_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        match NonNull::new(memory.cast::<u8>()) {
            Some(memory) if memory.as_ptr().cast::<c_void>() != libc::MAP_FAILED => {
                ReceiveMemory { memory }
            }
            _ => std::alloc::handle_alloc_error(
                std::alloc::Layout::from_size_align(RECEIVE_MEMORY_LEN, 4096)
                    .unwrap_or(std::alloc::Layout::new::<u8>()),
            ),
        }
    }
}

impl std::ops::Deref for ReceiveMemory {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the mapping is readable (zero until written) for as long as self lives.
        unsafe { std::slice::from_raw_parts(self.memory.as_ptr(), RECEIVE_MEMORY_LEN) }
    }
}

impl std::ops::DerefMut for ReceiveMemory {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in deref, and &mut self makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.memory.as_ptr(), RECEIVE_MEMORY_LEN) }
    }
}

impl Drop for ReceiveMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping made in new, unmapped once.
        unsafe { libc::munmap(self.memory.as_ptr().cast(), RECEIVE_MEMORY_LEN) };
    }
}

// Readiness.

/// The socket's descriptor registered with tokio's reactor; it does not own
/// the descriptor, which must stay open until this is dropped.
#[derive(Debug)]
pub(crate) struct Registration(AsyncFd<RawFd>);

pub(crate) struct Ready<'a>(AsyncFdReadyGuard<'a, RawFd>);

impl Registration {
    /// # Safety
    /// `socket` must stay open until the registration is dropped.
    pub(crate) unsafe fn new(socket: &Socket, interest: Interest) -> io::Result<Registration> {
        // SAFETY: the descriptor stays open as long as the registration (the caller's promise).
        unsafe { AsyncFd::register_with_interest(socket.as_raw_fd(), interest) }
            .map(Registration)
            .map_err(io::Error::from)
    }

    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready<'_>> {
        self.0.ready(interest).await.map(Ready)
    }
}

impl Ready<'_> {
    /// `Err` when `f` would block (the readiness is then cleared).
    pub(crate) fn try_io<R>(
        &mut self,
        f: impl FnOnce() -> io::Result<R>,
    ) -> Result<io::Result<R>, WouldBlock> {
        self.0.try_io(|_| f()).map_err(|_| WouldBlock)
    }
}

/// The operation would have blocked: wait for readiness again.
#[derive(Debug)]
pub(crate) struct WouldBlock;

// Control messages.

/// Where one kind of information sits in received control messages: the
/// message's level and type, and the byte offset in its payload of the
/// value (an IPv4 or IPv6 address in network order, or a native u32).
#[derive(Clone, Copy, Debug)]
pub(super) struct ControlKind {
    pub level: c_int,
    pub kind: c_int,
    pub offset: usize,
}

/// The control messages a platform reports a datagram's destination, the
/// socket's drops and (receive offload) the segment size of a coalesced
/// buffer in.
#[derive(Clone, Copy, Debug)]
pub(super) struct ControlKinds {
    pub v4_destination: ControlKind,
    pub v6_destination: ControlKind,
    pub kernel_drops: Option<ControlKind>,
    pub segment_size: Option<ControlKind>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Control {
    pub local: Option<IpAddr>,
    pub drops: Option<u32>,
    /// The size of each datagram but the last in a coalesced buffer.
    pub segment_size: Option<u32>,
}

/// Room for the control messages one datagram may carry: its destination
/// (`in6_pktinfo`, the largest), the drop count and the segment size; u64
/// words, for the alignment `cmsghdr` needs.
pub(super) const CONTROL_WORDS: usize = 12;
pub(super) type ControlBuffer = [u64; CONTROL_WORDS];

/// The control messages the kernel attached to one received datagram.
///
/// # Safety
/// `msg_control` of `header` must hold `msg_controllen` bytes of control
/// messages as the kernel writes them.
pub(super) unsafe fn read_control(header: &libc::msghdr, kinds: &ControlKinds) -> Control {
    let mut control = Control::default();
    if header.msg_controllen == 0 {
        return control;
    }
    // SAFETY: CMSG_FIRSTHDR / CMSG_NXTHDR stay within msg_controllen (the
    // caller's promise); each payload is `cmsg_len - CMSG_LEN(0)` bytes
    // after CMSG_DATA, which the kernel wrote within the buffer.
    unsafe {
        let header_len = libc::CMSG_LEN(0) as usize;
        let mut message = libc::CMSG_FIRSTHDR(header);
        while !message.is_null() {
            let payload_len = ((*message).cmsg_len as usize).saturating_sub(header_len);
            let payload = std::slice::from_raw_parts(libc::CMSG_DATA(message), payload_len);
            decode(
                (*message).cmsg_level,
                (*message).cmsg_type,
                payload,
                kinds,
                &mut control,
            );
            message = libc::CMSG_NXTHDR(header, message);
        }
    }
    control
}

/// Reads one control message's payload into `control` if `kinds` names it;
/// a payload too short for its value is ignored.
fn decode(level: c_int, kind: c_int, payload: &[u8], kinds: &ControlKinds, control: &mut Control) {
    let at = |place: &ControlKind, len: usize| -> Option<&[u8]> {
        (place.level == level && place.kind == kind)
            .then(|| payload.get(place.offset..place.offset + len))
            .flatten()
    };
    if let Some(bytes) = at(&kinds.v4_destination, 4) {
        let octets: [u8; 4] = bytes.try_into().unwrap_or_default();
        control.local = Some(IpAddr::V4(Ipv4Addr::from(octets)));
    } else if let Some(bytes) = at(&kinds.v6_destination, 16) {
        let octets: [u8; 16] = bytes.try_into().unwrap_or_default();
        control.local = Some(IpAddr::V6(Ipv6Addr::from(octets)));
    } else if let Some(bytes) = kinds.kernel_drops.as_ref().and_then(|place| at(place, 4)) {
        control.drops = Some(u32::from_ne_bytes(bytes.try_into().unwrap_or_default()));
    } else if let Some(bytes) = kinds.segment_size.as_ref().and_then(|place| at(place, 4)) {
        control.segment_size = Some(u32::from_ne_bytes(bytes.try_into().unwrap_or_default()));
    }
}

// The message-at-a-time receive loop.

/// One `recvmsg` header's worth of room, reused for every datagram.
/// Linux uses this loop only in tests and in `fastdgram_sys="message"` builds.
#[cfg_attr(
    all(
        any(target_os = "linux", target_os = "android"),
        not(fastdgram_sys = "message")
    ),
    allow(dead_code)
)]
pub(crate) struct MessageHeaders {
    control: ControlBuffer,
}

#[cfg_attr(
    all(
        any(target_os = "linux", target_os = "android"),
        not(fastdgram_sys = "message")
    ),
    allow(dead_code)
)]
impl MessageHeaders {
    pub(crate) fn new(_slots: &mut [u8]) -> MessageHeaders {
        MessageHeaders {
            control: [0; CONTROL_WORDS],
        }
    }

    /// One `recvmsg` per datagram until the socket is empty or `limit` are read.
    pub(super) fn receive(
        &mut self,
        socket: &Socket,
        slots: &mut [u8],
        meta: &mut [RecvMeta; BATCH_CAPACITY],
        kinds: &ControlKinds,
        limit: usize,
    ) -> io::Result<Received> {
        let mut received = Received::default();
        while received.count < limit {
            let slot = &mut slots[received.count * SLOT_SIZE..][..SLOT_SIZE];
            match self.receive_one(socket, slot, kinds) {
                Ok((datagram, control)) => {
                    meta[received.count] = datagram;
                    if control.drops.is_some() {
                        received.kernel_drops = control.drops;
                    }
                    received.count += 1;
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock && received.count > 0 => break,
                Err(err) => return Err(err),
            }
        }
        Ok(received)
    }

    fn receive_one(
        &mut self,
        socket: &Socket,
        slot: &mut [u8],
        kinds: &ControlKinds,
    ) -> io::Result<(RecvMeta, Control)> {
        // SAFETY: all-zero sockaddr_storage and msghdr values are valid.
        let mut source: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut iovec = libc::iovec {
            iov_base: slot.as_mut_ptr().cast(),
            iov_len: slot.len(),
        };
        let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
        header.msg_name = (&mut source as *mut libc::sockaddr_storage).cast();
        header.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as _;
        header.msg_iov = &mut iovec;
        header.msg_iovlen = 1;
        header.msg_control = self.control.as_mut_ptr().cast();
        header.msg_controllen = std::mem::size_of::<ControlBuffer>() as _;
        // SAFETY: every pointer in header refers to locals and self, which
        // outlive the call; the lengths are theirs.
        let len = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut header, libc::MSG_DONTWAIT) };
        if len < 0 {
            return Err(io::Error::last_os_error());
        }
        let source = to_socket_addr(&source)?;
        // SAFETY: the kernel filled msg_control with msg_controllen bytes.
        let control = unsafe { read_control(&header, kinds) };
        let datagram = RecvMeta {
            len: len as u32,
            source,
            local: control.local,
            segment_size: control.segment_size.unwrap_or(0),
        };
        Ok((datagram, control))
    }
}

/// What the unit tests expect of the system where Unix and Windows answer
/// differently. These are Linux's answers: the unit tests run on Linux
/// (natively and under qemu); a BSD would differ (`lo0`, no doubling).
#[cfg(test)]
pub(crate) mod test_facts {
    use std::io;

    /// A zone is an interface name (`uv_ip6_addr`: `if_nametoindex`), and
    /// a scope is written as its interface's name.
    pub(crate) const ZONES_ARE_NAMES: bool = true;
    /// The name of interface 1: Linux's loopback.
    pub(crate) const INTERFACE_1: &str = "lo";
    /// Linux doubles a buffer size it is given, for its bookkeeping
    /// (socket(7), `SO_RCVBUF`).
    pub(crate) fn reported_buffer_size(set: u32) -> u32 {
        2 * set
    }
    /// getsockname of a socket never bound: the wildcard address, port 0.
    pub(crate) const UNBOUND_SOCKET_HAS_AN_ADDRESS: bool = true;
    /// What a read past `set_read_timeout` fails with (std's docs: Unix
    /// typically `WouldBlock`).
    pub(crate) const READ_TIMEOUT: io::ErrorKind = io::ErrorKind::WouldBlock;
    /// A port-unreachable answer to a connected socket's send comes back
    /// as `ECONNREFUSED` on a later receive, which libuv reports.
    pub(crate) const REPORTS_CONNECTION_REFUSED: bool = true;
    /// `IPV6_TCLASS` sets and reads the IPv6 traffic class.
    pub(crate) const TRAFFIC_CLASS_V6: bool = true;

    /// The loopback interface's MTU, as the kernel says.
    pub(crate) fn loopback_mtu() -> Option<u32> {
        let mtu = std::fs::read_to_string("/sys/class/net/lo/mtu").unwrap();
        Some(mtu.trim().parse().unwrap())
    }

    pub(crate) fn under_wine() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A control buffer holding messages of (level, type, payload), laid
    /// out by this platform's CMSG_* macros, and a msghdr pointing at it.
    struct Built {
        /// What `header` points into.
        _buffer: Vec<u64>,
        header: libc::msghdr,
    }

    fn build(messages: &[(c_int, c_int, &[u8])]) -> Built {
        let mut buffer = vec![0u64; 64];
        // SAFETY: an all-zero msghdr is valid; CMSG_* write within buffer
        // (its 512 bytes hold every message these tests build).
        unsafe {
            let mut header: libc::msghdr = std::mem::zeroed();
            header.msg_control = buffer.as_mut_ptr().cast();
            header.msg_controllen = std::mem::size_of_val(&buffer[..]) as _;
            let mut used = 0;
            let mut message = libc::CMSG_FIRSTHDR(&header);
            for (level, kind, payload) in messages {
                (*message).cmsg_level = *level;
                (*message).cmsg_type = *kind;
                (*message).cmsg_len = libc::CMSG_LEN(payload.len() as _) as _;
                let data = libc::CMSG_DATA(message);
                std::ptr::copy_nonoverlapping(payload.as_ptr(), data, payload.len());
                used += libc::CMSG_SPACE(payload.len() as _) as usize;
                message = libc::CMSG_NXTHDR(&header, message);
            }
            header.msg_controllen = used as _;
            Built {
                _buffer: buffer,
                header,
            }
        }
    }

    fn read(built: &Built, kinds: &ControlKinds) -> Control {
        // SAFETY: build laid out well-formed messages within msg_controllen.
        unsafe { read_control(&built.header, kinds) }
    }

    /// macOS's and FreeBSD's numbers (<netinet/in.h>, <netinet6/in6.h>):
    /// IP_RECVDSTADDR (7) carries an in_addr, IPV6_PKTINFO (46) an
    /// in6_pktinfo (address first); IPPROTO_IP is 0, IPPROTO_IPV6 41.
    /// bsd.rs asserts at compile time that its CONTROL is exactly this.
    const BSD: ControlKinds = ControlKinds {
        v4_destination: ControlKind {
            level: 0,
            kind: 7,
            offset: 0,
        },
        v6_destination: ControlKind {
            level: 41,
            kind: 46,
            offset: 0,
        },
        kernel_drops: None,
        segment_size: None,
    };

    /// Linux's: in_pktinfo carries the destination after the interface index
    /// and the "spec_dst" address (offset 8); SO_RXQ_OVFL a u32, UDP_GRO
    /// (SOL_UDP 17, 104) an int.
    const LINUX_LIKE: ControlKinds = ControlKinds {
        v4_destination: ControlKind {
            level: 0,
            kind: 8,
            offset: 8,
        },
        v6_destination: ControlKind {
            level: 41,
            kind: 50,
            offset: 0,
        },
        kernel_drops: Some(ControlKind {
            level: 1,
            kind: 40,
            offset: 0,
        }),
        segment_size: Some(ControlKind {
            level: 17,
            kind: 104,
            offset: 0,
        }),
    };

    fn in6_pktinfo(ip: Ipv6Addr, interface: u32) -> Vec<u8> {
        let mut bytes = ip.octets().to_vec();
        bytes.extend_from_slice(&interface.to_ne_bytes());
        bytes
    }

    #[test]
    fn bsd_destinations_come_as_an_in_addr_or_an_in6_pktinfo() {
        let v4 = build(&[(0, 7, &[127, 0, 0, 9])]);
        assert_eq!(
            read(&v4, &BSD).local,
            Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9)))
        );
        let ip: Ipv6Addr = "fe80::1".parse().unwrap();
        let v6 = build(&[(41, 46, &in6_pktinfo(ip, 3))]);
        assert_eq!(read(&v6, &BSD).local, Some(IpAddr::V6(ip)));
        // An IPv4 datagram on a dual-stack socket: the mapped address.
        let mapped: Ipv6Addr = "::ffff:10.1.2.3".parse().unwrap();
        let v4_on_v6 = build(&[(41, 46, &in6_pktinfo(mapped, 1))]);
        assert_eq!(read(&v4_on_v6, &BSD).local, Some(IpAddr::V6(mapped)));
    }

    #[test]
    fn other_messages_and_short_payloads_are_ignored() {
        // IP_RECVIF (20) carries a sockaddr_dl: not an address we read.
        let other = build(&[(0, 20, &[0u8; 20]), (0, 7, &[10, 0, 0, 1])]);
        assert_eq!(
            read(&other, &BSD),
            Control {
                local: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
                drops: None,
                segment_size: None,
            }
        );
        let short = build(&[(0, 7, &[10, 0])]);
        assert_eq!(read(&short, &BSD), Control::default());
        assert_eq!(read(&build(&[]), &BSD), Control::default());
    }

    #[test]
    fn linux_packet_info_drop_counts_and_segment_sizes() {
        let mut pktinfo = vec![2, 0, 0, 0, 127, 0, 0, 1];
        pktinfo.extend_from_slice(&[127, 0, 0, 5]);
        let built = build(&[
            (1, 40, &7u32.to_ne_bytes()),
            (0, 8, &pktinfo),
            (17, 104, &1_200i32.to_ne_bytes()),
        ]);
        assert_eq!(
            read(&built, &LINUX_LIKE),
            Control {
                local: Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 5))),
                drops: Some(7),
                segment_size: Some(1_200),
            }
        );
        // A drop count where the platform has none is not one.
        assert_eq!(read(&built, &BSD).drops, None);
    }

    #[test]
    fn tells_udp_from_tcp_and_files() {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let file = std::fs::File::open("Cargo.toml").unwrap();
        assert_eq!(guess_handle_type(udp.as_raw_fd()), HandleType::Udp);
        assert_eq!(guess_handle_type(tcp.as_raw_fd()), HandleType::Tcp);
        assert_eq!(guess_handle_type(file.as_raw_fd()), HandleType::File);
        assert_eq!(guess_handle_type(-1), HandleType::Unknown);
        assert_eq!(guess_handle_type(1_000_000), HandleType::Unknown);
    }

    #[test]
    fn errno_numbers_are_libc_and_libuv_negates_them() {
        assert_eq!(Errno::EADDRINUSE.raw_os_error(), libc::EADDRINUSE);
        assert_eq!(Errno::EMSGSIZE.uv(), -libc::EMSGSIZE);
        let err = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(uv_error_code(&err), -libc::ECONNREFUSED);
        assert_eq!(uv_error_code(&io::Error::other("no number")), -libc::EINVAL);
        assert!(Errno::EEXIST.is(&error_from_uv(-libc::EEXIST)));
    }
}
