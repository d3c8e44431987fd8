//! Draining every ready datagram of a socket in one go.

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;

use crate::block_list::BlockList;

/// Datagrams read in one receive call at most; more wait for the next wake-up.
pub const BATCH_CAPACITY: usize = 64;
/// One receive slot: large enough for any UDP datagram.
const SLOT_SIZE: usize = 65_536;

/// One datagram of a [`Batch`]: its length, who sent it and (when asked
/// for with `set_receive_destination`) the local address it was sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram {
    pub len: u32,
    pub source: SocketAddr,
    pub local: Option<IpAddr>,
}

/// One received datagram where it was received.
#[derive(Clone, Copy, Debug)]
pub struct Received<'a> {
    pub payload: &'a [u8],
    pub source: SocketAddr,
    pub local: Option<IpAddr>,
}

/// The datagrams one wake-up delivered. `data` holds their payloads back to
/// back in an allocation of exactly their total size, so whoever keeps one
/// datagram keeps only this batch's bytes alive, not a receive area.
#[derive(Debug, Default)]
pub struct Batch {
    pub data: Vec<u8>,
    pub datagrams: Vec<Datagram>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.datagrams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.datagrams.is_empty()
    }

    /// The payloads, in arrival order.
    pub fn payloads(&self) -> impl Iterator<Item = &[u8]> {
        let mut offset = 0;
        self.datagrams.iter().map(move |d| {
            let start = offset;
            offset += d.len as usize;
            &self.data[start..offset]
        })
    }

    /// Each datagram with its payload, in arrival order.
    pub fn received(&self) -> impl Iterator<Item = Received<'_>> {
        self.payloads()
            .zip(&self.datagrams)
            .map(|(payload, datagram)| Received {
                payload,
                source: datagram.source,
                local: datagram.local,
            })
    }
}

/// The datagrams of one receive call, still in the thread's receive slots:
/// read them (or copy them out) before the next receive on this thread.
///
/// Datagrams whose source a block list matched are left out of the view.
pub struct BatchView<'a> {
    scratch: &'a Scratch,
    /// Datagrams the receive call returned, kept or not.
    received: usize,
}

impl BatchView<'_> {
    /// The datagrams kept.
    pub fn len(&self) -> usize {
        self.scratch.kept_count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the receive call took as many datagrams as it could: more may be waiting.
    pub fn is_full(&self) -> bool {
        self.received == BATCH_CAPACITY
    }

    /// Datagrams left out because a block list matched their source.
    pub fn blocked(&self) -> usize {
        self.received - self.len()
    }

    /// The kernel's count of datagrams it dropped for this socket, when the
    /// batch carried one (Linux reports it only once there were drops).
    pub fn kernel_drops(&self) -> Option<u32> {
        self.scratch.kernel_drops
    }

    fn kept(&self) -> impl Iterator<Item = usize> + '_ {
        self.scratch.kept[..self.len()]
            .iter()
            .map(|&index| usize::from(index))
    }

    /// Sum of the payload lengths.
    pub fn total_len(&self) -> usize {
        self.kept()
            .map(|index| self.scratch.lens[index] as usize)
            .sum()
    }

    /// Each datagram in arrival order.
    pub fn datagrams(&self) -> impl Iterator<Item = Received<'_>> {
        self.kept().map(move |index| {
            let start = index * SLOT_SIZE;
            Received {
                payload: &self.scratch.slots[start..start + self.scratch.lens[index] as usize],
                source: self.scratch.sources[index],
                local: self.scratch.locals[index],
            }
        })
    }

    /// Copies the datagrams into an owned batch of exactly their size.
    pub fn to_batch(&self) -> Batch {
        let mut data = Vec::with_capacity(self.total_len());
        let mut datagrams = Vec::with_capacity(self.len());
        for received in self.datagrams() {
            data.extend_from_slice(received.payload);
            datagrams.push(Datagram {
                len: received.payload.len() as u32,
                source: received.source,
                local: received.local,
            });
        }
        Batch { data, datagrams }
    }
}

/// Receive slots and their bookkeeping, shared by every socket served by one
/// thread. Allocated on first use; the pages a small datagram never touches
/// stay unbacked.
struct Scratch {
    slots: Slots,
    lens: [u32; BATCH_CAPACITY],
    sources: [SocketAddr; BATCH_CAPACITY],
    locals: [Option<IpAddr>; BATCH_CAPACITY],
    kernel_drops: Option<u32>,
    /// Indices of the datagrams not blocked, in order.
    kept: [u8; BATCH_CAPACITY],
    kept_count: usize,
    platform: platform::Headers,
}

impl Scratch {
    fn new() -> Box<Scratch> {
        let mut scratch = Box::new(Scratch {
            slots: Slots::new(BATCH_CAPACITY * SLOT_SIZE),
            lens: [0; BATCH_CAPACITY],
            sources: [SocketAddr::from(([0, 0, 0, 0], 0)); BATCH_CAPACITY],
            locals: [None; BATCH_CAPACITY],
            kernel_drops: None,
            kept: [0; BATCH_CAPACITY],
            kept_count: 0,
            platform: platform::Headers::default(),
        });
        let Scratch {
            slots, platform, ..
        } = &mut *scratch;
        platform.point_at(slots);
        scratch
    }

    /// Leaves out the first `received` datagrams whose source `blocked` matches.
    fn keep_unblocked(&mut self, received: usize, blocked: Option<&BlockList>) {
        let mut count = 0;
        for index in 0..received {
            let source = self.sources[index].ip();
            if blocked.is_some_and(|list| list.blocks(&source)) {
                continue;
            }
            self.kept[count] = index as u8;
            count += 1;
        }
        self.kept_count = count;
    }
}

/// The receive slots' memory, mapped straight from the kernel rather than
/// taken from malloc: pages a datagram never touched cost nothing, and when
/// a thread (a worker, say) ends they go back to the kernel at once. A 4 MiB
/// malloc block freed by one thread raises glibc's mmap threshold, so the
/// next thread's block came from a malloc arena, zeroed page by page, and
/// stayed resident after that thread ended (8-10 MiB more RSS under worker
/// churn, reliability-lifecycle's workers test).
struct Slots {
    memory: std::ptr::NonNull<u8>,
    len: usize,
}

impl Slots {
    fn new(len: usize) -> Slots {
        // SAFETY: an anonymous private mapping of `len` bytes, owned by this value.
        let memory = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        match std::ptr::NonNull::new(memory.cast::<u8>()) {
            Some(memory) if memory.as_ptr() as *mut libc::c_void != libc::MAP_FAILED => {
                Slots { memory, len }
            }
            _ => std::alloc::handle_alloc_error(
                std::alloc::Layout::from_size_align(len, 4096)
                    .unwrap_or(std::alloc::Layout::new::<u8>()),
            ),
        }
    }
}

impl std::ops::Deref for Slots {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes (zero until written) for as long as self lives.
        unsafe { std::slice::from_raw_parts(self.memory.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for Slots {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in deref, and &mut self makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.memory.as_ptr(), self.len) }
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        // SAFETY: the mapping made in new, unmapped once.
        unsafe { libc::munmap(self.memory.as_ptr().cast(), self.len) };
    }
}

thread_local! {
    static SCRATCH: RefCell<Option<Box<Scratch>>> = const { RefCell::new(None) };
}

/// Reads every datagram that is ready on the non-blocking socket `fd`, up to
/// [`BATCH_CAPACITY`], and hands them to `f` in place, without those from
/// sources that `blocked` matches. `WouldBlock` when none is ready. `f` must
/// not receive on this thread again.
pub(crate) fn with_received<R>(
    fd: RawFd,
    blocked: Option<&BlockList>,
    f: impl FnOnce(&BatchView<'_>) -> R,
) -> io::Result<R> {
    SCRATCH.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| io::Error::from(io::ErrorKind::ResourceBusy))?;
        let scratch = slot.get_or_insert_with(Scratch::new);
        let received = platform::receive_into(fd, scratch)?;
        scratch.keep_unblocked(received, blocked);
        Ok(f(&BatchView { scratch, received }))
    })
}

#[cfg(target_os = "linux")]
fn to_socket_addr(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    match storage.ss_family as libc::c_int {
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

#[cfg(target_os = "linux")]
mod platform {
    use super::*;

    /// Room for the control messages one datagram may carry: its
    /// destination (`in6_pktinfo`, the larger) and the drop count.
    const CONTROL_WORDS: usize = 12;

    /// `recvmmsg` headers pointing into the slots, built once per thread.
    pub(super) struct Headers {
        addrs: Vec<libc::sockaddr_storage>,
        iovecs: Vec<libc::iovec>,
        /// u64 words: control messages must be aligned like `cmsghdr`.
        controls: Vec<[u64; CONTROL_WORDS]>,
        headers: Vec<libc::mmsghdr>,
        /// How many headers the last call filled (their name lengths changed).
        used: usize,
    }

    impl Default for Headers {
        fn default() -> Self {
            // SAFETY: all-zero sockaddr_storage, iovec and mmsghdr values are valid.
            let zeroed = || unsafe { std::mem::zeroed() };
            Headers {
                addrs: (0..BATCH_CAPACITY).map(|_| zeroed()).collect(),
                iovecs: (0..BATCH_CAPACITY)
                    .map(|_| unsafe { std::mem::zeroed() })
                    .collect(),
                controls: vec![[0; CONTROL_WORDS]; BATCH_CAPACITY],
                headers: (0..BATCH_CAPACITY)
                    .map(|_| unsafe { std::mem::zeroed() })
                    .collect(),
                used: BATCH_CAPACITY,
            }
        }
    }

    impl Headers {
        pub(super) fn point_at(&mut self, slots: &mut [u8]) {
            for index in 0..BATCH_CAPACITY {
                self.iovecs[index] = libc::iovec {
                    iov_base: slots[index * SLOT_SIZE..].as_mut_ptr().cast(),
                    iov_len: SLOT_SIZE,
                };
                let header = &mut self.headers[index].msg_hdr;
                header.msg_name = (&mut self.addrs[index] as *mut libc::sockaddr_storage).cast();
                header.msg_iov = &mut self.iovecs[index];
                header.msg_iovlen = 1;
                header.msg_control = self.controls[index].as_mut_ptr().cast();
            }
        }
    }

    /// One `recvmmsg` call fills up to BATCH_CAPACITY slots.
    pub(super) fn receive_into(fd: RawFd, scratch: &mut Scratch) -> io::Result<usize> {
        let platform = &mut scratch.platform;
        for header in &mut platform.headers[..platform.used] {
            header.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
            header.msg_hdr.msg_controllen = CONTROL_WORDS * 8;
        }
        // SAFETY: every header points at this scratch's iovecs, slots and
        // address storage (set up by point_at, never moved since: all live in
        // heap allocations owned by the boxed scratch).
        let count = unsafe {
            libc::recvmmsg(
                fd,
                platform.headers.as_mut_ptr(),
                BATCH_CAPACITY as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if count < 0 {
            return Err(io::Error::last_os_error());
        }
        let count = count as usize;
        platform.used = count.max(1);
        scratch.kernel_drops = None;
        for index in 0..count {
            scratch.lens[index] = platform.headers[index].msg_len;
            scratch.sources[index] = to_socket_addr(&platform.addrs[index])?;
            let control = read_control(&platform.headers[index].msg_hdr);
            scratch.locals[index] = control.local;
            if control.drops.is_some() {
                scratch.kernel_drops = control.drops;
            }
        }
        Ok(count)
    }

    #[derive(Default)]
    struct Control {
        local: Option<IpAddr>,
        drops: Option<u32>,
    }

    /// The control messages the kernel attached to one received datagram.
    fn read_control(header: &libc::msghdr) -> Control {
        let mut control = Control::default();
        if header.msg_controllen == 0 {
            return control;
        }
        // SAFETY: the kernel filled msg_control with msg_controllen bytes of
        // well-formed control messages; CMSG_* stay within them, and each
        // payload read is the size its (level, type) defines.
        unsafe {
            let mut message = libc::CMSG_FIRSTHDR(header);
            while !message.is_null() {
                let data = libc::CMSG_DATA(message);
                match ((*message).cmsg_level, (*message).cmsg_type) {
                    (libc::SOL_SOCKET, libc::SO_RXQ_OVFL) => {
                        control.drops = Some(std::ptr::read_unaligned(data.cast::<u32>()));
                    }
                    (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                        let info = std::ptr::read_unaligned(data.cast::<libc::in_pktinfo>());
                        let ip = std::net::Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr));
                        control.local = Some(IpAddr::V4(ip));
                    }
                    (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                        let info = std::ptr::read_unaligned(data.cast::<libc::in6_pktinfo>());
                        let ip = std::net::Ipv6Addr::from(info.ipi6_addr.s6_addr);
                        control.local = Some(IpAddr::V6(ip));
                    }
                    _ => {}
                }
                message = libc::CMSG_NXTHDR(header, message);
            }
        }
        control
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use super::*;
    use std::mem::MaybeUninit;
    use std::os::fd::BorrowedFd;

    #[derive(Default)]
    pub(super) struct Headers;

    impl Headers {
        pub(super) fn point_at(&mut self, _slots: &mut [u8]) {}
    }

    /// Portable fallback: one `recvfrom` per datagram until the socket is empty.
    pub(super) fn receive_into(fd: RawFd, scratch: &mut Scratch) -> io::Result<usize> {
        // SAFETY: fd is open for the duration of this call (the caller holds the socket).
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        let mut count = 0;
        while count < BATCH_CAPACITY {
            let slot = &mut scratch.slots[count * SLOT_SIZE..(count + 1) * SLOT_SIZE];
            // SAFETY: u8 and MaybeUninit<u8> have the same layout; recv only writes.
            let slot: &mut [MaybeUninit<u8>] =
                unsafe { &mut *(slot as *mut [u8] as *mut [MaybeUninit<u8>]) };
            match socket.recv_from(slot) {
                Ok((len, addr)) => {
                    scratch.lens[count] = len as u32;
                    scratch.locals[count] = None;
                    scratch.sources[count] = addr
                        .as_socket()
                        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?;
                    count += 1;
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock && count > 0 => break,
                Err(err) => return Err(err),
            }
        }
        Ok(count)
    }
}
