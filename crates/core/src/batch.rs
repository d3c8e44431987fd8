//! Draining every ready datagram of a socket in one go.

use std::cell::RefCell;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Datagrams read in one receive call at most; more wait for the next wake-up.
pub const BATCH_CAPACITY: usize = 64;
/// One receive slot: large enough for any UDP datagram.
const SLOT_SIZE: usize = 65_536;

/// One datagram of a [`Batch`]: its length and who sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram {
    pub len: u32,
    pub source: SocketAddr,
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
}

/// Receive slots shared by every socket served by one thread. Allocated on
/// first use; the pages a small datagram never touches stay unbacked.
struct Scratch {
    buffer: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Reads every datagram that is ready on the non-blocking socket `fd`, up to
/// [`BATCH_CAPACITY`]. Returns `WouldBlock` when none is ready.
pub(crate) fn receive_batch(fd: RawFd) -> io::Result<Batch> {
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        let scratch = slot.get_or_insert_with(|| Scratch {
            buffer: vec![0; BATCH_CAPACITY * SLOT_SIZE],
        });
        platform::receive_into(fd, &mut scratch.buffer)
    })
}

fn to_socket_addr(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
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

fn copy_out(slots: &[u8], lens: &[usize], sources: Vec<SocketAddr>) -> Batch {
    let total = lens.iter().sum();
    let mut data = Vec::with_capacity(total);
    let mut datagrams = Vec::with_capacity(lens.len());
    for ((index, &len), source) in lens.iter().enumerate().zip(sources) {
        let start = index * SLOT_SIZE;
        data.extend_from_slice(&slots[start..start + len]);
        datagrams.push(Datagram {
            len: len as u32,
            source,
        });
    }
    Batch { data, datagrams }
}

#[cfg(target_os = "linux")]
mod platform {
    use super::*;

    /// One `recvmmsg` call fills up to BATCH_CAPACITY slots.
    pub(super) fn receive_into(fd: RawFd, slots: &mut [u8]) -> io::Result<Batch> {
        // SAFETY: all-zero sockaddr_storage values are valid.
        let mut addrs: [libc::sockaddr_storage; BATCH_CAPACITY] = unsafe { std::mem::zeroed() };
        let mut iovecs: [libc::iovec; BATCH_CAPACITY] = std::array::from_fn(|index| libc::iovec {
            iov_base: slots[index * SLOT_SIZE..].as_mut_ptr().cast(),
            iov_len: SLOT_SIZE,
        });
        // SAFETY: all-zero mmsghdr values are valid; the pointers are set below.
        let mut headers: [libc::mmsghdr; BATCH_CAPACITY] = unsafe { std::mem::zeroed() };
        for (index, header) in headers.iter_mut().enumerate() {
            header.msg_hdr.msg_name = (&mut addrs[index] as *mut libc::sockaddr_storage).cast();
            header.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
            header.msg_hdr.msg_iov = &mut iovecs[index];
            header.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: every header points at live iovecs, slots and address storage
        // owned by this frame or by `slots`, each large enough for what it describes.
        let count = unsafe {
            libc::recvmmsg(
                fd,
                headers.as_mut_ptr(),
                BATCH_CAPACITY as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if count < 0 {
            return Err(io::Error::last_os_error());
        }
        let count = count as usize;
        let lens: Vec<usize> = headers[..count]
            .iter()
            .map(|h| h.msg_len as usize)
            .collect();
        let sources = headers[..count]
            .iter()
            .zip(addrs.iter())
            .map(|(_, storage)| to_socket_addr(storage))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(copy_out(slots, &lens, sources))
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use super::*;
    use std::mem::MaybeUninit;
    use std::os::fd::BorrowedFd;

    /// Portable fallback: one `recvfrom` per datagram until the socket is empty.
    pub(super) fn receive_into(fd: RawFd, slots: &mut [u8]) -> io::Result<Batch> {
        // SAFETY: fd is open for the duration of this call (the caller holds the socket).
        let socket = socket2::SockRef::from(unsafe { &BorrowedFd::borrow_raw(fd) });
        let mut lens = Vec::new();
        let mut sources = Vec::new();
        while lens.len() < BATCH_CAPACITY {
            let slot = &mut slots[lens.len() * SLOT_SIZE..(lens.len() + 1) * SLOT_SIZE];
            // SAFETY: u8 and MaybeUninit<u8> have the same layout; recv only writes.
            let slot: &mut [MaybeUninit<u8>] =
                unsafe { &mut *(slot as *mut [u8] as *mut [MaybeUninit<u8>]) };
            match socket.recv_from(slot) {
                Ok((len, addr)) => {
                    lens.push(len);
                    sources.push(
                        addr.as_socket()
                            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?,
                    );
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock && !lens.is_empty() => break,
                Err(err) => return Err(err),
            }
        }
        Ok(copy_out(slots, &lens, sources))
    }
}
