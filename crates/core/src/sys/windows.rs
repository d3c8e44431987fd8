//! Windows: Winsock through socket2, and `windows-sys` for what socket2
//! does not offer. As libuv 1.51's `src/win/udp.c` does it (the libuv of
//! the Node.js releases that run this; docs/windows-port.md §2 reads it
//! fact by fact): one datagram per call both ways (Windows has no
//! `recvmmsg`/`sendmmsg`), `WSAECONNRESET`/`WSAENETRESET` on receive
//! skipped (ICMP port-unreachable reports of an earlier send, which libuv
//! ignores), `ENOBUFS` on send an error rather than a wait, an unspecified
//! destination sent to loopback, and errors numbered as libuv's
//! `uv_translate_sys_error` numbers them.
//!
//! Destinations of received datagrams come from `WSARecvMsg` with
//! `IP_PKTINFO`/`IPV6_PKTINFO`; sources of sent ones go in a `WSASendMsg`
//! control message. UDP send offload (`UDP_SEND_MSG_SIZE`) is not used
//! here (yet): `gso_segments` is 1.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::windows::io::AsRawSocket;
use std::ptr;
use std::sync::OnceLock;

use socket2::{SockAddr, Socket};
use windows_sys::Win32::Networking::WinSock::{
    WSAIoctl, WSASendMsg, CMSGHDR, IN6_PKTINFO, IN_PKTINFO, IPPROTO_IP, IPPROTO_IPV6,
    IPV6_DONTFRAG, IPV6_MTU, IPV6_PKTINFO, IP_DONTFRAGMENT, IP_MTU, IP_PKTINFO, LPFN_WSARECVMSG,
    LPWSAOVERLAPPED_COMPLETION_ROUTINE, SIO_GET_EXTENSION_FUNCTION_POINTER, SOCKADDR, SOCKET,
    WSABUF, WSAECONNRESET, WSAENETRESET, WSAID_WSARECVMSG, WSAMSG,
};

pub(crate) use super::readiness::Registration;
use super::{Capabilities, Errno, Outgoing, Received, RecvMeta, BATCH_CAPACITY, SLOT_SIZE};
use crate::address::Family;
use windows_sys::Win32::System::IO::OVERLAPPED;

pub(super) const NAME: &str = "windows";

pub(super) fn capabilities() -> Capabilities {
    Capabilities {
        batched_receive: false,
        batched_send: false,
        gso_segments: 1,
        source_address: true,
        destination_address: receive_message_function().is_some(),
        kernel_drops: false,
        dont_fragment: true,
        reuse_port_balancing: false,
        gro: false,
    }
}

/// Windows' receive offload (URO, `UDP_RECV_MAX_COALESCED_SIZE`) stays
/// off, as quinn-udp keeps it (docs/windows-port.md §4 item 3).
pub(super) fn enable_gro(_socket: &Socket) -> bool {
    false
}

// Receiving: one WSARecvMsg (or recvfrom, where the Winsock provider has no
// WSARecvMsg) per datagram until the socket is empty.

pub(crate) struct ReceiveHeaders;

impl ReceiveHeaders {
    pub(crate) fn new(_slots: &mut [u8]) -> ReceiveHeaders {
        ReceiveHeaders
    }
}

/// Calls one receive may make: the batch, plus the reset reports it skips.
const RECEIVE_ATTEMPTS: usize = 2 * BATCH_CAPACITY;

pub(super) fn receive(
    socket: &Socket,
    _headers: &mut ReceiveHeaders,
    slots: &mut [u8],
    meta: &mut [RecvMeta; BATCH_CAPACITY],
) -> io::Result<Received> {
    let mut count = 0;
    for _ in 0..RECEIVE_ATTEMPTS {
        if count == BATCH_CAPACITY {
            break;
        }
        let slot = &mut slots[count * SLOT_SIZE..][..SLOT_SIZE];
        match receive_one(socket, slot) {
            Ok(received) => {
                meta[count] = received;
                count += 1;
            }
            Err(err) if is_reset_report(&err) => continue,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock && count > 0 => break,
            Err(err) => return Err(err),
        }
    }
    Ok(Received {
        count,
        kernel_drops: None,
    })
}

/// An ICMP error about an earlier send, reported on a later receive: libuv
/// skips these (`WSAECONNRESET`, `WSAENETRESET` in `uv__udp_recv`).
fn is_reset_report(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(WSAECONNRESET | WSAENETRESET))
}

fn receive_one(socket: &Socket, slot: &mut [u8]) -> io::Result<RecvMeta> {
    match receive_message_function() {
        Some(recv_msg) => receive_message(socket, recv_msg, slot),
        None => receive_from(socket, slot),
    }
}

fn receive_from(socket: &Socket, slot: &mut [u8]) -> io::Result<RecvMeta> {
    // SAFETY: u8 and MaybeUninit<u8> have the same layout; recv only writes.
    let slot: &mut [MaybeUninit<u8>] =
        unsafe { &mut *(slot as *mut [u8] as *mut [MaybeUninit<u8>]) };
    let (len, source) = socket.recv_from(slot)?;
    Ok(RecvMeta {
        len: len as u32,
        source: socket_addr(&source)?,
        local: None,
        segment_size: 0,
    })
}

type RecvMsgFn = unsafe extern "system" fn(
    SOCKET,
    *mut WSAMSG,
    *mut u32,
    *mut OVERLAPPED,
    LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32;

/// `WSARecvMsg`, an extension function Winsock hands out per provider; the
/// one of the TCP/IP provider, looked up once on a socket of its own.
fn receive_message_function() -> Option<RecvMsgFn> {
    static FUNCTION: OnceLock<Option<RecvMsgFn>> = OnceLock::new();
    *FUNCTION.get_or_init(|| {
        let probe = Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )
        .ok()?;
        let guid = WSAID_WSARECVMSG;
        let mut function: LPFN_WSARECVMSG = None;
        let mut returned = 0u32;
        // SAFETY: the buffers are the GUID and the function pointer, sized as given.
        let status = unsafe {
            WSAIoctl(
                probe.as_raw_socket() as SOCKET,
                SIO_GET_EXTENSION_FUNCTION_POINTER,
                (&guid as *const windows_sys::core::GUID).cast(),
                size_of::<windows_sys::core::GUID>() as u32,
                (&mut function as *mut LPFN_WSARECVMSG).cast(),
                size_of::<LPFN_WSARECVMSG>() as u32,
                &mut returned,
                ptr::null_mut(),
                None,
            )
        };
        if status != 0 {
            return None;
        }
        function
    })
}

/// Room for one `IN6_PKTINFO` control message (the larger of the two),
/// aligned as Winsock's `WSA_CMSG_*` macros expect.
const CONTROL_WORDS: usize = 8;

fn receive_message(socket: &Socket, recv_msg: RecvMsgFn, slot: &mut [u8]) -> io::Result<RecvMeta> {
    let mut control = [0u64; CONTROL_WORDS];
    let mut data = WSABUF {
        len: slot.len() as u32,
        buf: slot.as_mut_ptr(),
    };
    let mut received = 0u32;
    // SAFETY: the header points at the slot, the control buffer and the
    // address storage, all alive and sized as given for the call.
    let (result, source) = unsafe {
        SockAddr::try_init(|storage, storage_len| {
            let mut message = WSAMSG {
                name: storage.cast::<SOCKADDR>(),
                namelen: *storage_len,
                lpBuffers: &mut data,
                dwBufferCount: 1,
                Control: WSABUF {
                    len: size_of::<[u64; CONTROL_WORDS]>() as u32,
                    buf: control.as_mut_ptr().cast(),
                },
                dwFlags: 0,
            };
            let status = recv_msg(
                socket.as_raw_socket() as SOCKET,
                &mut message,
                &mut received,
                ptr::null_mut(),
                None,
            );
            *storage_len = message.namelen;
            match status {
                0 => Ok(message.Control.len as usize),
                _ => Err(last_error()),
            }
        })
    }?;
    Ok(RecvMeta {
        len: received,
        source: socket_addr(&source)?,
        local: packet_destination(&control, result),
        segment_size: 0,
    })
}

/// The calling thread's last Winsock error (`WSAGetLastError` is
/// `GetLastError`). A datagram larger than its slot (`WSAEMSGSIZE`) cannot
/// come, a slot holding any; were one to, it is reported, never half of it.
fn last_error() -> io::Error {
    io::Error::last_os_error()
}

fn socket_addr(addr: &SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))
}

/// Control messages are aligned to a pointer's size (`WSA_CMSGHDR_ALIGN`,
/// `WSA_CMSGDATA_ALIGN` in ws2def.h).
const fn cmsg_align(length: usize) -> usize {
    let align = size_of::<usize>();
    (length + align - 1) & !(align - 1)
}

/// The destination address in the first `IP_PKTINFO`/`IPV6_PKTINFO`
/// message of the `len` bytes of `control`.
fn packet_destination(control: &[u64; CONTROL_WORDS], len: usize) -> Option<IpAddr> {
    // SAFETY: the buffer is plain bytes, read as bytes.
    let bytes: &[u8] = unsafe {
        std::slice::from_raw_parts(control.as_ptr().cast(), size_of::<[u64; CONTROL_WORDS]>())
    };
    let bytes = &bytes[..len.min(bytes.len())];
    let header_len = size_of::<CMSGHDR>();
    let data_offset = cmsg_align(header_len);
    let mut offset = 0;
    while offset + header_len <= bytes.len() {
        // SAFETY: the header lies inside `bytes`; read unaligned.
        let header: CMSGHDR = unsafe { ptr::read_unaligned(bytes[offset..].as_ptr().cast()) };
        if header.cmsg_len < header_len || offset + header.cmsg_len > bytes.len() {
            return None;
        }
        let payload = &bytes[offset + data_offset..offset + header.cmsg_len];
        if let Some(ip) = decode_packet_info(header.cmsg_level, header.cmsg_type, payload) {
            return Some(ip);
        }
        offset += cmsg_align(header.cmsg_len);
    }
    None
}

fn decode_packet_info(level: i32, kind: i32, payload: &[u8]) -> Option<IpAddr> {
    match (level, kind) {
        (IPPROTO_IP, IP_PKTINFO) if payload.len() >= size_of::<IN_PKTINFO>() => {
            let octets: [u8; 4] = payload[..4].try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(octets)))
        }
        (IPPROTO_IPV6, IPV6_PKTINFO) if payload.len() >= size_of::<IN6_PKTINFO>() => {
            let octets: [u8; 16] = payload[..16].try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(octets)))
        }
        _ => None,
    }
}

// Sending: one datagram per call.

pub(super) fn send_batch(socket: &Socket, datagrams: &[Outgoing<'_>]) -> io::Result<Vec<usize>> {
    Ok(vec![send_one(socket, &datagrams[0])?])
}

pub(super) fn send_one(socket: &Socket, datagram: &Outgoing<'_>) -> io::Result<usize> {
    let datagram = Outgoing {
        to: datagram.to.map(localhost_if_unspecified),
        ..*datagram
    };
    match datagram.from {
        None => super::send_plain(socket, &datagram),
        Some(from) => send_from(socket, &datagram, from),
    }
}

/// libuv sends a datagram for `0.0.0.0` or `::` to the loopback address
/// (`uv__convert_to_localhost_if_unspecified`), as Unix kernels do themselves.
fn localhost_if_unspecified(to: SocketAddr) -> SocketAddr {
    match to.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), to.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), to.port())
        }
        _ => to,
    }
}

/// `WSASendMsg` with the source address in an `IP_PKTINFO`/`IPV6_PKTINFO`
/// control message.
fn send_from(socket: &Socket, datagram: &Outgoing<'_>, from: IpAddr) -> io::Result<usize> {
    let mut control = [0u64; CONTROL_WORDS];
    let control_len = write_packet_info(&mut control, from);
    let mut data = WSABUF {
        len: datagram.data.len() as u32,
        buf: datagram.data.as_ptr().cast_mut(),
    };
    let to = datagram.to.map(SockAddr::from);
    let (name, name_len) = match &to {
        Some(to) => (to.as_ptr().cast::<SOCKADDR>().cast_mut(), to.len()),
        None => (ptr::null_mut(), 0),
    };
    let message = WSAMSG {
        name,
        namelen: name_len,
        lpBuffers: &mut data,
        dwBufferCount: 1,
        Control: WSABUF {
            len: control_len as u32,
            buf: control.as_mut_ptr().cast(),
        },
        dwFlags: 0,
    };
    let mut sent = 0u32;
    // SAFETY: the message points at the datagram (only read), the control
    // buffer and the destination, all alive for the call.
    let status = unsafe {
        WSASendMsg(
            socket.as_raw_socket() as SOCKET,
            &message,
            0,
            &mut sent,
            ptr::null_mut(),
            None,
        )
    };
    match status {
        0 => Ok(sent as usize),
        _ => Err(last_error()),
    }
}

/// Writes one packet-info message naming `from` into `control`: its length.
fn write_packet_info(control: &mut [u64; CONTROL_WORDS], from: IpAddr) -> usize {
    let (level, kind, payload): (i32, i32, Vec<u8>) = match from {
        IpAddr::V4(ip) => {
            let mut info = vec![0u8; size_of::<IN_PKTINFO>()];
            info[..4].copy_from_slice(&ip.octets());
            (IPPROTO_IP, IP_PKTINFO, info)
        }
        IpAddr::V6(ip) => {
            let mut info = vec![0u8; size_of::<IN6_PKTINFO>()];
            info[..16].copy_from_slice(&ip.octets());
            (IPPROTO_IPV6, IPV6_PKTINFO, info)
        }
    };
    let data_offset = cmsg_align(size_of::<CMSGHDR>());
    let header = CMSGHDR {
        cmsg_len: data_offset + payload.len(),
        cmsg_level: level,
        cmsg_type: kind,
    };
    // SAFETY: the control buffer is plain bytes, written as bytes.
    let bytes: &mut [u8] = unsafe {
        std::slice::from_raw_parts_mut(
            control.as_mut_ptr().cast(),
            size_of::<[u64; CONTROL_WORDS]>(),
        )
    };
    // SAFETY: the header fits at the start of the buffer; written unaligned.
    unsafe { ptr::write_unaligned(bytes.as_mut_ptr().cast::<CMSGHDR>(), header) };
    bytes[data_offset..][..payload.len()].copy_from_slice(&payload);
    cmsg_align(data_offset + payload.len())
}

// Options.

pub(super) fn report_kernel_drops(_socket: &Socket) -> io::Result<()> {
    // Windows has no SO_RXQ_OVFL: the drop count stays 0.
    Err(Errno::ENOTSUP.error())
}

pub(super) fn set_receive_destination(socket: &Socket, family: Family, on: bool) -> io::Result<()> {
    match family {
        Family::V4 => os::set_int_option(socket, IPPROTO_IP, IP_PKTINFO, on as i32),
        Family::V6 => {
            os::set_int_option(socket, IPPROTO_IPV6, IPV6_PKTINFO, on as i32)?;
            // IPv4 datagrams reach a dual-stack socket too; an ipv6Only
            // socket may refuse this, which changes nothing for it.
            let _ = os::set_int_option(socket, IPPROTO_IP, IP_PKTINFO, on as i32);
            Ok(())
        }
    }
}

pub(super) fn set_reuse_port(_socket: &Socket) -> io::Result<()> {
    // As libuv on Windows: SO_REUSEADDR would let a second socket take the
    // port without any balancing.
    Err(Errno::ENOTSUP.error())
}

pub(super) fn set_dont_fragment(socket: &Socket, family: Family) -> io::Result<()> {
    match family {
        Family::V4 => os::set_int_option(socket, IPPROTO_IP, IP_DONTFRAGMENT, 1),
        Family::V6 => {
            os::set_int_option(socket, IPPROTO_IPV6, IPV6_DONTFRAG, 1)?;
            let _ = os::set_int_option(socket, IPPROTO_IP, IP_DONTFRAGMENT, 1);
            Ok(())
        }
    }
}

pub(super) fn connected_path_mtu(socket: &Socket, family: Family) -> io::Result<u32> {
    let mtu = match family {
        Family::V4 => os::int_option_of(socket, IPPROTO_IP, IP_MTU)?,
        Family::V6 => os::int_option_of(socket, IPPROTO_IPV6, IPV6_MTU)?,
    };
    u32::try_from(mtu).map_err(|_| Errno::EINVAL.error())
}

/// Windows' basics: socket handles, libuv's Windows error numbers, symbol
/// lookup in node.exe, and the options socket2 lacks.
pub(super) mod os {
    use std::ffi::{c_void, CStr};
    use std::io;
    use std::mem::size_of;
    use std::net::{IpAddr, SocketAddr};
    use std::os::windows::io::{AsRawSocket, BorrowedSocket, FromRawSocket};
    use std::ptr::{self, NonNull};

    use socket2::{SockAddr, Socket};
    use windows_sys::Win32::Networking::WinSock::{
        connect, getsockopt, setsockopt, GROUP_SOURCE_REQ, IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP,
        MCAST_LEAVE_SOURCE_GROUP, SOCKADDR, SOCKADDR_STORAGE, SOCKET,
    };
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};

    use super::super::{Errno, LibuvRules, BATCH_CAPACITY, SLOT_SIZE};
    use crate::handle_type::HandleType;

    pub type RawSocket = std::os::windows::io::RawSocket;

    const UV_UNKNOWN: i32 = -4094;

    /// (Windows error, libuv number) for each of the crate's errors: the
    /// Windows error libuv's `uv_translate_sys_error` (src/win/error.c)
    /// maps to it, and libuv's Windows number (include/uv/errno.h).
    const fn numbers(code: Errno) -> (i32, i32) {
        match code {
            Errno::EADDRINUSE => (10048, -4091),       // WSAEADDRINUSE
            Errno::EADDRNOTAVAIL => (10049, -4090),    // WSAEADDRNOTAVAIL
            Errno::EAFNOSUPPORT => (10047, -4089),     // WSAEAFNOSUPPORT
            Errno::EAGAIN => (10035, -4088),           // WSAEWOULDBLOCK
            Errno::EBADF => (6, -4083),                // ERROR_INVALID_HANDLE
            Errno::ECANCELED => (995, -4081),          // ERROR_OPERATION_ABORTED
            Errno::ECONNREFUSED => (10061, -4078),     // WSAECONNREFUSED
            Errno::EDESTADDRREQ => (10039, -4076), // WSAEDESTADDRREQ (libuv: UNKNOWN; made here only)
            Errno::EEXIST => (183, -4075),         // ERROR_ALREADY_EXISTS
            Errno::EINVAL => (10022, -4071),       // WSAEINVAL
            Errno::EIO => (1117, -4070),           // ERROR_IO_DEVICE
            Errno::EISCONN => (10056, -4069),      // WSAEISCONN
            Errno::EMSGSIZE => (10040, -4065),     // WSAEMSGSIZE
            Errno::ENETUNREACH => (10051, -4062),  // WSAENETUNREACH
            Errno::ENOBUFS => (10055, -4060),      // WSAENOBUFS
            Errno::ENOPROTOOPT => (10042, UV_UNKNOWN), // WSAENOPROTOOPT: not in libuv's table
            Errno::ENOTCONN => (10057, -4053),     // WSAENOTCONN
            Errno::ENOTSUP => (50, -4049),         // ERROR_NOT_SUPPORTED
            Errno::EOPNOTSUPP => (10045, -4049),   // WSAEOPNOTSUPP: libuv has only ENOTSUP
        }
    }

    /// `uv_translate_sys_error` for the Windows and Winsock errors a UDP
    /// socket can meet (src/win/error.c, libuv 1.51); the rest is UNKNOWN.
    const fn translate(code: i32) -> i32 {
        match code {
            10013 => -4092,                         // WSAEACCES → EACCES
            5 => -4048,                             // ERROR_ACCESS_DENIED → EPERM
            1227 | 10048 => -4091, // ERROR_ADDRESS_ALREADY_ASSOCIATED, WSAEADDRINUSE
            10049 => -4090,        // WSAEADDRNOTAVAIL
            10047 => -4089,        // WSAEAFNOSUPPORT
            10035 | 232 => -4088,  // WSAEWOULDBLOCK, ERROR_NO_DATA → EAGAIN
            10037 => -4084,        // WSAEALREADY
            6 | 1004 => -4083,     // ERROR_INVALID_HANDLE, ERROR_INVALID_FLAGS → EBADF
            995 | 10004 => -4081,  // ERROR_OPERATION_ABORTED, WSAEINTR → ECANCELED
            1236 | 10053 => -4079, // ERROR_CONNECTION_ABORTED, WSAECONNABORTED
            1225 | 10061 => -4078, // ERROR_CONNECTION_REFUSED, WSAECONNREFUSED
            64 | 10054 => -4077,   // ERROR_NETNAME_DELETED, WSAECONNRESET
            183 | 80 => -4075,     // ERROR_ALREADY_EXISTS, ERROR_FILE_EXISTS → EEXIST
            111 | 998 | 10014 => -4074, // ERROR_BUFFER_OVERFLOW, ERROR_NOACCESS, WSAEFAULT → EFAULT
            1232 | 10065 => -4073, // ERROR_HOST_UNREACHABLE, WSAEHOSTUNREACH
            122 | 13 | 87 | 10022 | 10046 => -4071, // ERROR_INSUFFICIENT_BUFFER, ERROR_INVALID_DATA, ERROR_INVALID_PARAMETER, WSAEINVAL, WSAEPFNOSUPPORT → EINVAL
            1117 => -4070,                          // ERROR_IO_DEVICE → EIO
            10056 => -4069,                         // WSAEISCONN
            4 | 10024 => -4066,                     // ERROR_TOO_MANY_OPEN_FILES, WSAEMFILE
            10040 => -4065,                         // WSAEMSGSIZE
            1231 | 10051 => -4062,                  // ERROR_NETWORK_UNREACHABLE, WSAENETUNREACH
            10055 => -4060,                         // WSAENOBUFS
            8 | 14 => -4057, // ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY → ENOMEM
            2250 | 10057 => -4053, // ERROR_NOT_CONNECTED, WSAENOTCONN
            10038 => -4050,  // WSAENOTSOCK
            50 => -4049,     // ERROR_NOT_SUPPORTED → ENOTSUP
            10058 => -4047,  // WSAESHUTDOWN → EPIPE
            10043 => -4045,  // WSAEPROTONOSUPPORT
            121 | 10060 => -4039, // ERROR_SEM_TIMEOUT, WSAETIMEDOUT
            10044 => -4025,  // WSAESOCKTNOSUPPORT
            _ => UV_UNKNOWN,
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
        // The crate's own errors first (some have no libuv translation).
        Errno::ALL
            .iter()
            .find(|code| code.raw_os_error() == raw)
            .map_or_else(|| translate(raw), |code| code.uv())
    }

    pub(in super::super) fn error_from_uv(code: i32) -> io::Error {
        if code == UV_UNKNOWN {
            return io::Error::other("libuv error UNKNOWN");
        }
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

    /// Node.js on Windows gives socket handles no descriptor (`fd` −1).
    pub(in super::super) fn raw_socket_from_descriptor(_descriptor: i32) -> Option<RawSocket> {
        None
    }

    pub(in super::super) fn descriptor_of(_handle: RawSocket) -> Option<i32> {
        None
    }

    pub(in super::super) fn guess_handle_type(_handle: RawSocket) -> HandleType {
        HandleType::Unknown
    }

    /// A descriptor on Windows is a C runtime file number (node's `fs`
    /// gives them; sockets have none): node.exe's own `uv_guess_handle`
    /// classifies it, so the answer is node's. `Unknown` without libuv.
    pub(in super::super) fn guess_descriptor_type(descriptor: i32) -> HandleType {
        type GuessHandle = unsafe extern "C" fn(i32) -> i32;
        let Some(function) = find_symbol(c"uv_guess_handle") else {
            return HandleType::Unknown;
        };
        // SAFETY: node.exe's export of this name is libuv's
        // `uv_handle_type uv_guess_handle(uv_file)`; it accepts any number.
        let kind = unsafe {
            let guess: GuessHandle = std::mem::transmute(function.as_ptr());
            guess(descriptor)
        };
        // uv_handle_type's values (include/uv.h): NAMED_PIPE 7, TCP 12,
        // TTY 14, UDP 15, FILE 17.
        match kind {
            7 => HandleType::Pipe,
            12 => HandleType::Tcp,
            14 => HandleType::Tty,
            15 => HandleType::Udp,
            17 => HandleType::File,
            _ => HandleType::Unknown,
        }
    }

    pub(in super::super) const LIBUV_RULES: LibuvRules = LibuvRules {
        buffer_size_without_socket: -4050, // ENOTSOCK: getsockopt on INVALID_SOCKET
        lowest_multicast_ttl: -1,
        reuse_port_refused: true,
        rebind_is_noop: true,
    };

    /// libuv's `uv_udp_set_ttl` sets `IPV6_HOPLIMIT` (21) on an IPv6 socket
    /// on Windows, not `IPV6_UNICAST_HOPS` (src/win/udp.c `SOCKOPT_SETTER`).
    pub(in super::super) fn set_unicast_hops_v6(socket: &Socket, hops: u32) -> io::Result<()> {
        const IPV6_HOPLIMIT: i32 = 21;
        set_int_option(socket, IPPROTO_IPV6, IPV6_HOPLIMIT, hops as i32)
    }

    /// node.exe exports libuv and N-API: look in the process's own module,
    /// the counterpart of `dlsym(RTLD_DEFAULT, …)`.
    pub(in super::super) fn find_symbol(name: &CStr) -> Option<NonNull<c_void>> {
        // SAFETY: a null name asks for the executable's module handle, which
        // lives as long as the process; the name is NUL-terminated.
        unsafe {
            let module = GetModuleHandleW(ptr::null());
            if module.is_null() {
                return None;
            }
            let function = GetProcAddress(module, name.as_ptr().cast())?;
            NonNull::new(function as *mut c_void)
        }
    }

    pub(in super::super) fn set_int_option(
        socket: &Socket,
        level: i32,
        name: i32,
        value: i32,
    ) -> io::Result<()> {
        // SAFETY: the option value is an i32, its size given.
        let status = unsafe {
            setsockopt(
                socket.as_raw_socket() as SOCKET,
                level,
                name,
                (&value as *const i32).cast(),
                size_of::<i32>() as i32,
            )
        };
        match status {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        }
    }

    pub(in super::super) fn int_option_of(
        socket: &Socket,
        level: i32,
        name: i32,
    ) -> io::Result<i32> {
        let mut value = 0i32;
        let mut len = size_of::<i32>() as i32;
        // SAFETY: the buffer is an i32, its size given.
        let status = unsafe {
            getsockopt(
                socket.as_raw_socket() as SOCKET,
                level,
                name,
                (&mut value as *mut i32).cast(),
                &mut len,
            )
        };
        match status {
            0 => Ok(value),
            _ => Err(io::Error::last_os_error()),
        }
    }

    /// The IPv6 traffic class is not offered: Windows ignores `IPV6_TCLASS`
    /// as it ignores `IP_TOS` (KB 248611).
    pub(in super::super) fn set_traffic_class_v6(_: &Socket, _: u32) -> io::Result<()> {
        Err(Errno::ENOTSUP.error())
    }

    pub(in super::super) fn traffic_class_v6(_: &Socket) -> io::Result<u32> {
        Err(Errno::ENOTSUP.error())
    }

    /// As libuv's `uv__udp_disconnect` on Windows: a connect to a zeroed
    /// address (family `AF_UNSPEC`).
    pub(in super::super) fn disconnect(socket: &Socket) -> io::Result<()> {
        // SAFETY: SOCKADDR is plain data; all zeros is AF_UNSPEC.
        let unspecified: SOCKADDR = unsafe { std::mem::zeroed() };
        // SAFETY: the address is alive for the call, its size given.
        let status = unsafe {
            connect(
                socket.as_raw_socket() as SOCKET,
                &unspecified,
                size_of::<SOCKADDR>() as i32,
            )
        };
        match status {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        }
    }

    pub(in super::super) fn set_source_membership_v6(
        socket: &Socket,
        source: IpAddr,
        group: IpAddr,
        interface: u32,
        join: bool,
    ) -> io::Result<()> {
        // libuv's uv__udp_set_source_membership6 refuses a bound IPv4
        // socket before it asks Winsock (src/win/udp.c).
        if socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .is_some_and(|a| a.is_ipv4())
        {
            return Err(Errno::EINVAL.error());
        }
        // SAFETY: GROUP_SOURCE_REQ is plain data.
        let mut request: GROUP_SOURCE_REQ = unsafe { std::mem::zeroed() };
        request.gsr_interface = interface;
        write_storage(&mut request.gsr_group, SocketAddr::new(group, 0));
        write_storage(&mut request.gsr_source, SocketAddr::new(source, 0));
        let name = match join {
            true => MCAST_JOIN_SOURCE_GROUP,
            false => MCAST_LEAVE_SOURCE_GROUP,
        };
        // SAFETY: the request is alive for the call, its size given.
        let status = unsafe {
            setsockopt(
                socket.as_raw_socket() as SOCKET,
                IPPROTO_IPV6,
                name as i32,
                (&request as *const GROUP_SOURCE_REQ).cast(),
                size_of::<GROUP_SOURCE_REQ>() as i32,
            )
        };
        match status {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        }
    }

    fn write_storage(storage: &mut SOCKADDR_STORAGE, addr: SocketAddr) {
        let addr = SockAddr::from(addr);
        let len = (addr.len() as usize).min(size_of::<SOCKADDR_STORAGE>());
        // SAFETY: both are at least `len` bytes and do not overlap.
        unsafe {
            ptr::copy_nonoverlapping(
                addr.as_ptr().cast::<u8>(),
                (storage as *mut SOCKADDR_STORAGE).cast::<u8>(),
                len,
            )
        };
    }

    /// libuv on Windows reads an address's zone as a number (`atoi` in
    /// `uv_ip6_addr`), not as an interface name: `%eth0` is interface 0.
    pub(in super::super) fn interface_index(name: &str) -> u32 {
        let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().unwrap_or(0)
    }

    /// Node.js on Windows writes a scope as its number (`uv_if_indextoiid`).
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
