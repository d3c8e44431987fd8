//! The portable implementation: socket2 and tokio only, one datagram per
//! call, no option that needs the OS's own calls (those fail with
//! `ENOTSUP`, sources chosen per datagram with `EOPNOTSUPP`). Windows
//! compiles against it until it has `windows.rs` (issue 13); on Linux a
//! `fastdgram_sys="fallback"` build runs the core's tests on it. For an OS
//! without a file of its own (Windows), `os` below holds the basics.

use std::io;
use std::mem::MaybeUninit;

use socket2::Socket;
use tokio::io::Interest;

use super::{Capabilities, Errno, Outgoing, Received, RecvMeta, BATCH_CAPACITY, SLOT_SIZE};
use crate::address::Family;

pub(super) const NAME: &str = "fallback";

// Readiness: a duplicate of the socket registered as a tokio UdpSocket (the
// one portable way to wait on a socket tokio did not create), so that the
// socket itself stays owned where it is and is registered only when needed.

#[derive(Debug)]
pub(crate) struct Registration(tokio::net::UdpSocket);

pub(crate) struct Ready<'a> {
    socket: &'a tokio::net::UdpSocket,
    interest: Interest,
}

/// The operation would have blocked: wait for readiness again.
#[derive(Debug)]
pub(crate) struct WouldBlock;

impl Registration {
    /// # Safety
    /// None needed here (the duplicate is owned); `unsafe` to match the
    /// platforms whose registration borrows the socket's descriptor.
    pub(crate) unsafe fn new(socket: &Socket, _interest: Interest) -> io::Result<Registration> {
        let duplicate = socket.try_clone()?;
        duplicate.set_nonblocking(true)?;
        tokio::net::UdpSocket::from_std(duplicate.into()).map(Registration)
    }

    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready<'_>> {
        let ready = self.0.ready(interest).await?;
        // tokio's try_io takes one interest (a combined one never runs the
        // operation): the one that is ready.
        let interest = if interest.is_readable() && ready.is_readable() {
            Interest::READABLE
        } else if interest.is_writable() && ready.is_writable() {
            Interest::WRITABLE
        } else {
            Interest::ERROR
        };
        Ok(Ready {
            socket: &self.0,
            interest,
        })
    }
}

impl Ready<'_> {
    /// `Err` when `f` would block (the readiness is then cleared).
    pub(crate) fn try_io<R>(
        &mut self,
        f: impl FnOnce() -> io::Result<R>,
    ) -> Result<io::Result<R>, WouldBlock> {
        match self.socket.try_io(self.interest, f) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Err(WouldBlock),
            result => Ok(result),
        }
    }
}

// Receiving: one recv_from per datagram until the socket is empty.

pub(crate) struct ReceiveHeaders;

impl ReceiveHeaders {
    pub(crate) fn new(_slots: &mut [u8]) -> ReceiveHeaders {
        ReceiveHeaders
    }
}

pub(super) fn receive(
    socket: &Socket,
    _headers: &mut ReceiveHeaders,
    slots: &mut [u8],
    meta: &mut [RecvMeta; BATCH_CAPACITY],
) -> io::Result<Received> {
    let mut count = 0;
    while count < BATCH_CAPACITY {
        let slot = &mut slots[count * SLOT_SIZE..][..SLOT_SIZE];
        // SAFETY: u8 and MaybeUninit<u8> have the same layout; recv only writes.
        let slot: &mut [MaybeUninit<u8>] =
            unsafe { &mut *(slot as *mut [u8] as *mut [MaybeUninit<u8>]) };
        match socket.recv_from(slot) {
            Ok((len, addr)) => {
                meta[count] = RecvMeta {
                    len: len as u32,
                    source: addr
                        .as_socket()
                        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?,
                    local: None,
                    segment_size: 0,
                };
                count += 1;
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock && count > 0 => break,
            Err(err) => return Err(err),
        }
    }
    Ok(Received {
        count,
        kernel_drops: None,
    })
}

// Sending: one datagram per call.

pub(super) fn send_batch(socket: &Socket, datagrams: &[Outgoing<'_>]) -> io::Result<Vec<usize>> {
    Ok(vec![send_one(socket, &datagrams[0])?])
}

pub(super) fn send_one(socket: &Socket, datagram: &Outgoing<'_>) -> io::Result<usize> {
    match datagram.from {
        None => super::send_plain(socket, datagram),
        Some(_) => Err(Errno::EOPNOTSUPP.error()),
    }
}

// Options: none of those that need raw calls.

pub(super) fn report_kernel_drops(_socket: &Socket) -> io::Result<()> {
    Err(Errno::ENOTSUP.error())
}

pub(super) fn set_receive_destination(_: &Socket, _: Family, _: bool) -> io::Result<()> {
    Err(Errno::ENOTSUP.error())
}

pub(super) fn set_reuse_port(_socket: &Socket) -> io::Result<()> {
    Err(Errno::ENOTSUP.error())
}

pub(super) fn set_dont_fragment(_socket: &Socket, _family: Family) -> io::Result<()> {
    Err(Errno::ENOTSUP.error())
}

pub(super) fn connected_path_mtu(_socket: &Socket, _family: Family) -> io::Result<u32> {
    Err(Errno::ENOTSUP.error())
}

pub(super) fn capabilities() -> Capabilities {
    Capabilities {
        batched_receive: false,
        batched_send: false,
        gso_segments: 1,
        source_address: false,
        destination_address: false,
        kernel_drops: false,
        dont_fragment: false,
        reuse_port_balancing: false,
        gro: false,
    }
}

pub(super) fn enable_gro(_socket: &Socket) -> bool {
    false
}

/// Windows' basics, as far as socket2 and std give them, until `windows.rs`
/// (issue 13) replaces this: no adopting of descriptors from JavaScript
/// and no libuv lookup, and the few raw options fail with `ENOTSUP`.
/// libuv's Windows error numbers (include/uv/errno.h) and the Windows error
/// each of the crate's own errors is made of (the one libuv's
/// `uv_translate_sys_error` maps to it, src/win/error.c); any other
/// Windows error is UV_UNKNOWN here, libuv's full table being issue 13's.
#[cfg(windows)]
pub(super) mod os {
    use std::ffi::{c_void, CStr};
    use std::io;
    use std::net::IpAddr;
    use std::os::windows::io::{AsRawSocket, BorrowedSocket, FromRawSocket};
    use std::ptr::NonNull;

    use socket2::Socket;

    use super::super::{Errno, BATCH_CAPACITY, SLOT_SIZE};
    use crate::handle_type::HandleType;

    pub type RawSocket = std::os::windows::io::RawSocket;

    const UV_UNKNOWN: i32 = -4094;

    /// (Windows error, libuv number) for each of the crate's errors.
    const fn numbers(code: Errno) -> (i32, i32) {
        match code {
            Errno::EADDRINUSE => (10048, -4091),    // WSAEADDRINUSE
            Errno::EADDRNOTAVAIL => (10049, -4090), // WSAEADDRNOTAVAIL
            Errno::EAFNOSUPPORT => (10047, -4089),  // WSAEAFNOSUPPORT
            Errno::EAGAIN => (10035, -4088),        // WSAEWOULDBLOCK
            Errno::EBADF => (6, -4083),             // ERROR_INVALID_HANDLE
            Errno::ECANCELED => (995, -4081),       // ERROR_OPERATION_ABORTED
            Errno::ECONNREFUSED => (10061, -4078),  // WSAECONNREFUSED
            Errno::EDESTADDRREQ => (10039, -4076),  // WSAEDESTADDRREQ
            Errno::EEXIST => (183, -4075),          // ERROR_ALREADY_EXISTS
            Errno::EINVAL => (10022, -4071),        // WSAEINVAL
            Errno::EIO => (1117, -4070),            // ERROR_IO_DEVICE
            Errno::EISCONN => (10056, -4069),       // WSAEISCONN
            Errno::EMSGSIZE => (10040, -4065),      // WSAEMSGSIZE
            Errno::ENETUNREACH => (10051, -4062),   // WSAENETUNREACH
            Errno::ENOBUFS => (10055, -4060),       // WSAENOBUFS
            Errno::ENOPROTOOPT => (10042, -4035),   // WSAENOPROTOOPT
            Errno::ENOTCONN => (10057, -4053),      // WSAENOTCONN
            Errno::ENOTSUP => (50, -4049),          // ERROR_NOT_SUPPORTED
            Errno::EOPNOTSUPP => (10045, -4049),    // WSAEOPNOTSUPP: libuv has only ENOTSUP
        }
    }

    pub(in super::super) const fn raw_errno(code: Errno) -> i32 {
        numbers(code).0
    }

    pub(in super::super) const fn uv_errno(code: Errno) -> i32 {
        numbers(code).1
    }

    pub(in super::super) fn uv_error_code(err: &io::Error) -> i32 {
        let Some(raw) = err.raw_os_error() else {
            return Errno::EINVAL.uv();
        };
        Errno::ALL
            .iter()
            .find(|code| code.raw_os_error() == raw)
            .map_or(UV_UNKNOWN, |code| code.uv())
    }

    pub(in super::super) fn error_from_uv(code: i32) -> io::Error {
        Errno::ALL
            .iter()
            .find(|known| known.uv() == code)
            .map_or_else(
                || io::Error::other(format!("libuv error {code}")),
                |known| known.error(),
            )
    }

    pub(in super::super) fn raw_socket(socket: &Socket) -> RawSocket {
        socket.as_raw_socket()
    }

    /// # Safety
    /// `handle` must be an open socket that nothing else owns or closes.
    pub(in super::super) unsafe fn adopt(handle: RawSocket) -> Socket {
        // SAFETY: guaranteed by the caller.
        unsafe { Socket::from_raw_socket(handle) }
    }

    pub(in super::super) fn duplicate(handle: RawSocket) -> io::Result<Socket> {
        // SAFETY: the handle is only borrowed for the duplication, which
        // fails for a handle that is not an open socket.
        let borrowed = unsafe { BorrowedSocket::borrow_raw(handle) };
        Ok(Socket::from(borrowed.try_clone_to_owned()?))
    }

    pub(in super::super) fn raw_socket_from_descriptor(_descriptor: i32) -> Option<RawSocket> {
        None
    }

    pub(in super::super) fn descriptor_of(_handle: RawSocket) -> Option<i32> {
        None
    }

    pub(in super::super) fn guess_handle_type(_handle: RawSocket) -> HandleType {
        HandleType::Unknown
    }

    pub(in super::super) fn find_symbol(_name: &CStr) -> Option<NonNull<c_void>> {
        None
    }

    pub(in super::super) fn set_traffic_class_v6(_: &Socket, _: u32) -> io::Result<()> {
        Err(Errno::ENOTSUP.error())
    }

    pub(in super::super) fn traffic_class_v6(_: &Socket) -> io::Result<u32> {
        Err(Errno::ENOTSUP.error())
    }

    pub(in super::super) fn disconnect(_socket: &Socket) -> io::Result<()> {
        Err(Errno::ENOTSUP.error())
    }

    pub(in super::super) fn set_source_membership_v6(
        _: &Socket,
        _: IpAddr,
        _: IpAddr,
        _: u32,
        _: bool,
    ) -> io::Result<()> {
        Err(Errno::ENOTSUP.error())
    }

    pub(in super::super) fn interface_index(_name: &str) -> u32 {
        0
    }

    pub(in super::super) fn interface_name(_index: u32) -> Option<String> {
        None
    }

    /// Zeroed on allocation (the system gives large zeroed blocks lazily).
    pub(crate) struct ReceiveMemory(Box<[u8]>);

    impl ReceiveMemory {
        pub(crate) fn new() -> ReceiveMemory {
            ReceiveMemory(vec![0; BATCH_CAPACITY * SLOT_SIZE].into_boxed_slice())
        }
    }

    impl std::ops::Deref for ReceiveMemory {
        type Target = [u8];
        fn deref(&self) -> &[u8] {
            &self.0
        }
    }

    impl std::ops::DerefMut for ReceiveMemory {
        fn deref_mut(&mut self) -> &mut [u8] {
            &mut self.0
        }
    }
}
