//! Windows: Winsock through socket2, and `windows-sys` for what socket2
//! does not offer. As libuv 1.51's `src/win/udp.c` does it (the libuv of
//! the Node.js releases that run this; docs/windows-port.md §2 reads it
//! fact by fact): one datagram per receive call (Windows has no
//! `recvmmsg`/`sendmmsg`), `WSAECONNRESET`/`WSAENETRESET` on receive
//! skipped (ICMP port-unreachable reports of an earlier send, which libuv
//! ignores), `ENOBUFS` on send an error rather than a wait, an unspecified
//! destination sent to loopback, and errors numbered as libuv's
//! `uv_translate_sys_error` numbers them.
//!
//! Destinations of received datagrams come from `WSARecvMsg` with
//! `IP_PKTINFO`/`IPV6_PKTINFO`; sources of sent ones go in a `WSASendMsg`
//! control message. Where Windows has UDP send offload (`UDP_SEND_MSG_SIZE`,
//! probed once), a run of equal-sized datagrams to one destination goes as
//! one `WSASendMsg` that Windows splits into them; where not, or after a
//! send that says it cannot, one datagram per call.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::windows::io::AsRawSocket;
use std::ptr;
use std::sync::OnceLock;

use socket2::{SockAddr, Socket};
use windows_sys::Win32::Networking::WinSock::{
    WSAIoctl, WSASendMsg, CMSGHDR, IN6_PKTINFO, IN_PKTINFO, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_UDP,
    IPV6_DONTFRAG, IPV6_MTU, IPV6_PKTINFO, IP_DONTFRAGMENT, IP_MTU, IP_PKTINFO, LPFN_WSARECVMSG,
    LPWSAOVERLAPPED_COMPLETION_ROUTINE, SIO_GET_EXTENSION_FUNCTION_POINTER, SOCKADDR, SOCKET,
    UDP_SEND_MSG_SIZE, WSABUF, WSAECONNRESET, WSAENETRESET, WSAID_WSARECVMSG, WSAMSG,
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
        gso_segments: match uso::available() {
            true => uso::MAX_SEGMENTS as u16,
            false => 1,
        },
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
    limit: usize,
) -> io::Result<Received> {
    let mut count = 0;
    for _ in 0..RECEIVE_ATTEMPTS {
        if count == limit {
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

// Sending: one datagram per call, or, with UDP send offload, a run of
// equal-sized datagrams to one destination as one WSASendMsg.

pub(super) fn send_batch(socket: &Socket, datagrams: &[Outgoing<'_>]) -> io::Result<Vec<usize>> {
    if uso::available() {
        let count = super::segment_run_length(datagrams, uso::MAX_SEGMENTS, uso::MAX_BYTES);
        if count > 1 {
            return send_run(socket, &datagrams[..count]);
        }
    }
    Ok(vec![send_one(socket, &datagrams[0])?])
}

/// Sends `run` (datagrams of one size to one destination, the last maybe
/// shorter) as one segmented send.
fn send_run(socket: &Socket, run: &[Outgoing<'_>]) -> io::Result<Vec<usize>> {
    let segmented = match uso::injected_refusal() {
        Some(refusal) => Err(refusal),
        None => send_segmented(socket, run),
    };
    after_segmented_send(socket, run, segmented)
}

/// Where the segmented send of `run` failed with anything but `WouldBlock`,
/// nothing was sent (a datagram send that fails sends nothing), and the
/// run goes one datagram at a time instead, each with its own result; an
/// error that says Windows cannot segment switches USO off.
fn after_segmented_send(
    socket: &Socket,
    run: &[Outgoing<'_>],
    segmented: io::Result<()>,
) -> io::Result<Vec<usize>> {
    match segmented {
        Ok(()) => Ok(run.iter().map(|datagram| datagram.data.len()).collect()),
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Err(err),
        Err(err) => {
            uso::note_failure(&err);
            send_each(socket, run)
        }
    }
}

/// Sends a prefix of `datagrams` one per call, up to the first failure: an
/// error for the first, else the byte counts of those sent (the failure
/// comes again, for its datagram alone, on the caller's next call).
fn send_each(socket: &Socket, datagrams: &[Outgoing<'_>]) -> io::Result<Vec<usize>> {
    let mut sent = Vec::with_capacity(datagrams.len());
    for datagram in datagrams {
        match send_one(socket, datagram) {
            Ok(bytes) => sent.push(bytes),
            Err(err) if sent.is_empty() => return Err(err),
            Err(_) => break,
        }
    }
    Ok(sent)
}

pub(super) fn send_one(socket: &Socket, datagram: &Outgoing<'_>) -> io::Result<usize> {
    let datagram = Outgoing {
        to: datagram.to.map(localhost_if_unspecified),
        ..*datagram
    };
    match datagram.from {
        None => super::send_plain(socket, &datagram),
        Some(_) => send_message(socket, std::slice::from_ref(&datagram), None),
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

/// One WSASendMsg of the datagrams of `run` (their bytes back to back,
/// one buffer each) to their shared destination, with `UDP_SEND_MSG_SIZE`
/// = the first's size, so that Windows sends each as its own datagram. On
/// a datagram socket Winsock takes the whole message or fails and sends
/// nothing (`WSAEMSGSIZE` for one too long): no part of a run is ever left
/// for a resend to repeat.
fn send_segmented(socket: &Socket, run: &[Outgoing<'_>]) -> io::Result<()> {
    let to = run[0].to.map(localhost_if_unspecified);
    let run: Vec<Outgoing<'_>> = run.iter().map(|d| Outgoing { to, ..*d }).collect();
    let segment = run[0].data.len() as u32;
    send_message(socket, &run, Some(segment)).map(|_| ())
}

/// `WSASendMsg` of `datagrams`' bytes as one message to the first's
/// destination, with the first's source address (`IP_PKTINFO` /
/// `IPV6_PKTINFO`) and the segment size, where given, as control messages:
/// the bytes sent.
fn send_message(
    socket: &Socket,
    datagrams: &[Outgoing<'_>],
    segment: Option<u32>,
) -> io::Result<usize> {
    let mut control = [0u64; CONTROL_WORDS];
    let control_len = write_send_control(&mut control, datagrams[0].from, segment);
    let mut buffers: Vec<WSABUF> = datagrams
        .iter()
        .map(|datagram| WSABUF {
            len: datagram.data.len() as u32,
            buf: datagram.data.as_ptr().cast_mut(),
        })
        .collect();
    let to = datagrams[0].to.map(SockAddr::from);
    let (name, name_len) = match &to {
        Some(to) => (to.as_ptr().cast::<SOCKADDR>().cast_mut(), to.len()),
        None => (ptr::null_mut(), 0),
    };
    let message = WSAMSG {
        name,
        namelen: name_len,
        lpBuffers: buffers.as_mut_ptr(),
        dwBufferCount: buffers.len() as u32,
        Control: WSABUF {
            len: control_len as u32,
            buf: match control_len {
                0 => ptr::null_mut(),
                _ => control.as_mut_ptr().cast(),
            },
        },
        dwFlags: 0,
    };
    let mut sent = 0u32;
    // SAFETY: the message points at the datagrams (only read), the control
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

/// Writes the control messages of a send into `control`: the source
/// address `from` as a packet-info message, then the segment size as
/// `UDP_SEND_MSG_SIZE` (a DWORD), each where given. Their length in bytes.
fn write_send_control(
    control: &mut [u64; CONTROL_WORDS],
    from: Option<IpAddr>,
    segment: Option<u32>,
) -> usize {
    let mut used = 0;
    match from {
        Some(IpAddr::V4(ip)) => {
            let mut info = [0u8; size_of::<IN_PKTINFO>()];
            info[..4].copy_from_slice(&ip.octets());
            used += write_control(control, used, IPPROTO_IP, IP_PKTINFO, &info);
        }
        Some(IpAddr::V6(ip)) => {
            let mut info = [0u8; size_of::<IN6_PKTINFO>()];
            info[..16].copy_from_slice(&ip.octets());
            used += write_control(control, used, IPPROTO_IPV6, IPV6_PKTINFO, &info);
        }
        None => {}
    }
    if let Some(segment) = segment {
        used += write_control(
            control,
            used,
            IPPROTO_UDP,
            UDP_SEND_MSG_SIZE,
            &segment.to_ne_bytes(),
        );
    }
    used
}

/// Writes one control message (a `WSACMSGHDR`, then `payload` at
/// `WSA_CMSG_DATA`) at byte `offset` of `control`: the bytes it takes
/// (`WSA_CMSG_SPACE`), so that the next one starts aligned.
fn write_control(
    control: &mut [u64; CONTROL_WORDS],
    offset: usize,
    level: i32,
    kind: i32,
    payload: &[u8],
) -> usize {
    let data_offset = cmsg_align(size_of::<CMSGHDR>());
    let space = cmsg_align(data_offset + payload.len());
    // SAFETY: the control buffer is plain bytes, written as bytes.
    let bytes: &mut [u8] = unsafe {
        std::slice::from_raw_parts_mut(
            control.as_mut_ptr().cast(),
            size_of::<[u64; CONTROL_WORDS]>(),
        )
    };
    // Fixed sizes, never the caller's input: this holds for every call.
    assert!(offset + space <= bytes.len());
    let header = CMSGHDR {
        cmsg_len: data_offset + payload.len(),
        cmsg_level: level,
        cmsg_type: kind,
    };
    let message = &mut bytes[offset..offset + space];
    // SAFETY: the header fits at the start of `message`; written unaligned.
    unsafe { ptr::write_unaligned(message.as_mut_ptr().cast::<CMSGHDR>(), header) };
    message[data_offset..][..payload.len()].copy_from_slice(payload);
    space
}

/// UDP send offload (USO): Windows 10 2004 and later split one send into
/// datagrams of the size a `UDP_SEND_MSG_SIZE` control message gives.
/// Probed once per process: `getsockopt` of that option must succeed, and
/// then a segmented send of two datagrams between two loopback sockets of
/// the probe's own must arrive as two (Wine 8 refuses the option, but a
/// `WSASendMsg` carrying it succeeds and sends the bytes as one datagram:
/// a Winsock that ignores the message must never be taken for one that
/// segments). The answer is the Windows version's, the same for every
/// socket; as GSO on Linux, the first send that fails in a way that says
/// Windows cannot segment switches it off for the process (a driver's or
/// route's refusal costs the other sockets only the offload).
mod uso {
    use std::io;
    use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;
    use std::time::Duration;

    use socket2::Socket;
    use windows_sys::Win32::Networking::WinSock::{
        IPPROTO_UDP, UDP_SEND_MSG_SIZE, WSAEINVAL, WSAENOPROTOOPT, WSAEOPNOTSUPP,
    };

    use super::super::Outgoing;
    use super::os;

    /// Datagrams in one segmented send, as Linux's UDP_MAX_SEGMENTS.
    pub const MAX_SEGMENTS: usize = 64;
    /// Payload bytes of one segmented send: what one UDP datagram may carry
    /// over IPv4 (65,535 − 20 − 8), as on Linux; msquic keeps its Windows
    /// USO buffers within 64 KiB too.
    pub const MAX_BYTES: usize = 65_507;
    /// The probe's datagrams: a QUIC-sized segment.
    const PROBE_SEGMENT: usize = 1_200;
    /// How long the probe waits for each of its two datagrams on loopback.
    const PROBE_WAIT: Duration = Duration::from_millis(200);

    static REFUSED: AtomicBool = AtomicBool::new(false);
    static PROBED: OnceLock<bool> = OnceLock::new();

    /// Whether sends use USO: where the probe found it, unless a send
    /// refused it since or `FASTDGRAM_NO_GSO=1` switches it off.
    pub fn available() -> bool {
        probed() && !REFUSED.load(Ordering::Relaxed)
    }

    /// What the probe found (a refusal since does not change it).
    pub fn probed() -> bool {
        *PROBED.get_or_init(probe)
    }

    fn probe() -> bool {
        if std::env::var_os("FASTDGRAM_NO_GSO").is_some() {
            return false;
        }
        if refusal_is_injected() {
            return true;
        }
        option_is_known() && segments_arrive_separately()
    }

    fn option_is_known() -> bool {
        Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )
        .is_ok_and(|probe| os::int_option_of(&probe, IPPROTO_UDP, UDP_SEND_MSG_SIZE).is_ok())
    }

    /// The sizes of the datagrams a segmented send of two `PROBE_SEGMENT`
    /// datagrams delivered on loopback, in order; `None` where the send
    /// failed (or the sockets could not be made).
    pub fn probe_arrivals() -> Option<Vec<usize>> {
        let receiver = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).ok()?;
        receiver.set_read_timeout(Some(PROBE_WAIT)).ok()?;
        let to: SocketAddr = receiver.local_addr().ok()?;
        let sender = Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).ok()?;
        let (first, second) = ([1u8; PROBE_SEGMENT], [2u8; PROBE_SEGMENT]);
        let run = [&first[..], &second[..]].map(|data| Outgoing {
            data,
            to: Some(to),
            from: None,
        });
        super::send_segmented(&sender, &run).ok()?;
        let mut buf = [0u8; 2 * PROBE_SEGMENT + 1];
        let mut sizes = Vec::new();
        while sizes.len() < 2 {
            match receiver.recv(&mut buf) {
                Ok(len) => sizes.push(len),
                Err(_) => break,
            }
        }
        Some(sizes)
    }

    fn segments_arrive_separately() -> bool {
        probe_arrivals() == Some(vec![PROBE_SEGMENT, PROBE_SEGMENT])
    }

    /// Test only (`FASTDGRAM_TEST_USO_REFUSED=1`): USO counts as found
    /// without a probe, and the first segmented send is refused with
    /// `WSAEINVAL` before it reaches Winsock, as a Windows without USO
    /// refuses the option. No Winsock here makes that send fail by itself
    /// (Wine sends it as one datagram), and what follows is the real
    /// fallback: one datagram per call from then on.
    fn refusal_is_injected() -> bool {
        static INJECTED: OnceLock<bool> = OnceLock::new();
        *INJECTED.get_or_init(|| std::env::var_os("FASTDGRAM_TEST_USO_REFUSED").is_some())
    }

    /// The refusal to report instead of sending, while the test hook is on.
    pub fn injected_refusal() -> Option<io::Error> {
        refusal_is_injected().then(|| io::Error::from_raw_os_error(WSAEINVAL))
    }

    /// Errors that say this Windows cannot segment a send at all.
    pub fn note_failure(err: &io::Error) {
        if matches!(
            err.raw_os_error(),
            Some(WSAEINVAL | WSAEOPNOTSUPP | WSAENOPROTOOPT)
        ) {
            REFUSED.store(true, Ordering::Relaxed);
        }
    }
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

    /// libuv's numbers on Windows (`UV__E*`, include/uv/errno.h), for the
    /// names its translation uses.
    mod uv {
        pub const E2BIG: i32 = -4093;
        pub const EACCES: i32 = -4092;
        pub const EADDRINUSE: i32 = -4091;
        pub const EADDRNOTAVAIL: i32 = -4090;
        pub const EAFNOSUPPORT: i32 = -4089;
        pub const EAGAIN: i32 = -4088;
        pub const EALREADY: i32 = -4084;
        pub const EBADF: i32 = -4083;
        pub const EBUSY: i32 = -4082;
        pub const ECANCELED: i32 = -4081;
        pub const ECHARSET: i32 = -4080;
        pub const ECONNABORTED: i32 = -4079;
        pub const ECONNREFUSED: i32 = -4078;
        pub const ECONNRESET: i32 = -4077;
        pub const EEXIST: i32 = -4075;
        pub const EFAULT: i32 = -4074;
        pub const EFTYPE: i32 = -4028;
        pub const EHOSTUNREACH: i32 = -4073;
        pub const EINVAL: i32 = -4071;
        pub const EIO: i32 = -4070;
        pub const EISCONN: i32 = -4069;
        pub const EISDIR: i32 = -4068;
        pub const ELOOP: i32 = -4067;
        pub const EMFILE: i32 = -4066;
        pub const EMSGSIZE: i32 = -4065;
        pub const ENAMETOOLONG: i32 = -4064;
        pub const ENETUNREACH: i32 = -4062;
        pub const ENOBUFS: i32 = -4060;
        pub const ENOENT: i32 = -4058;
        pub const ENOMEM: i32 = -4057;
        pub const ENOSPC: i32 = -4055;
        pub const ENOTCONN: i32 = -4053;
        pub const ENOTEMPTY: i32 = -4051;
        pub const ENOTSOCK: i32 = -4050;
        pub const ENOTSUP: i32 = -4049;
        pub const EOF: i32 = -4095;
        pub const EPERM: i32 = -4048;
        pub const EPIPE: i32 = -4047;
        pub const EPROTONOSUPPORT: i32 = -4045;
        pub const EROFS: i32 = -4043;
        pub const ESOCKTNOSUPPORT: i32 = -4025;
        pub const ETIMEDOUT: i32 = -4039;
        pub const EXDEV: i32 = -4037;
    }

    /// libuv's `uv_translate_sys_error` (src/win/error.c, libuv 1.51): a
    /// number ≤ 0 is a libuv error already; a Winsock or Win32 error its
    /// table lacks is `UNKNOWN`. native-platform.spec compares it, number by
    /// number, with node.exe's own.
    fn translate(code: i32) -> i32 {
        if code <= 0 {
            return code;
        }
        translate_winsock(code)
            .or_else(|| translate_win32(code as u32))
            .unwrap_or(UV_UNKNOWN)
    }

    fn translate_winsock(code: i32) -> Option<i32> {
        use windows_sys::Win32::Networking::WinSock::*;
        Some(match code {
            WSAEACCES => uv::EACCES,
            WSAEADDRINUSE => uv::EADDRINUSE,
            WSAEADDRNOTAVAIL => uv::EADDRNOTAVAIL,
            WSAEAFNOSUPPORT => uv::EAFNOSUPPORT,
            WSAEWOULDBLOCK => uv::EAGAIN,
            WSAEALREADY => uv::EALREADY,
            WSAEINTR => uv::ECANCELED,
            WSAECONNABORTED => uv::ECONNABORTED,
            WSAECONNREFUSED => uv::ECONNREFUSED,
            WSAECONNRESET => uv::ECONNRESET,
            WSAEFAULT => uv::EFAULT,
            WSAEHOSTUNREACH => uv::EHOSTUNREACH,
            WSAEINVAL | WSAEPFNOSUPPORT => uv::EINVAL,
            WSAEISCONN => uv::EISCONN,
            WSAEMFILE => uv::EMFILE,
            WSAEMSGSIZE => uv::EMSGSIZE,
            WSAENETUNREACH => uv::ENETUNREACH,
            WSAENOBUFS => uv::ENOBUFS,
            WSAHOST_NOT_FOUND | WSANO_DATA => uv::ENOENT,
            WSAENOTCONN => uv::ENOTCONN,
            WSAENOTSOCK => uv::ENOTSOCK,
            WSAESHUTDOWN => uv::EPIPE,
            WSAEPROTONOSUPPORT => uv::EPROTONOSUPPORT,
            WSAETIMEDOUT => uv::ETIMEDOUT,
            WSAESOCKTNOSUPPORT => uv::ESOCKTNOSUPPORT,
            _ => return None,
        })
    }

    fn translate_win32(code: u32) -> Option<i32> {
        use windows_sys::Win32::Foundation::*;
        Some(match code {
            ERROR_ELEVATION_REQUIRED | ERROR_CANT_ACCESS_FILE => uv::EACCES,
            ERROR_ADDRESS_ALREADY_ASSOCIATED => uv::EADDRINUSE,
            ERROR_NO_DATA => uv::EAGAIN,
            ERROR_INVALID_FLAGS | ERROR_INVALID_HANDLE => uv::EBADF,
            ERROR_LOCK_VIOLATION | ERROR_PIPE_BUSY | ERROR_SHARING_VIOLATION => uv::EBUSY,
            ERROR_OPERATION_ABORTED => uv::ECANCELED,
            ERROR_NO_UNICODE_TRANSLATION => uv::ECHARSET,
            ERROR_CONNECTION_ABORTED => uv::ECONNABORTED,
            ERROR_CONNECTION_REFUSED => uv::ECONNREFUSED,
            ERROR_NETNAME_DELETED => uv::ECONNRESET,
            ERROR_ALREADY_EXISTS | ERROR_FILE_EXISTS => uv::EEXIST,
            ERROR_NOACCESS => uv::EFAULT,
            ERROR_HOST_UNREACHABLE => uv::EHOSTUNREACH,
            ERROR_INSUFFICIENT_BUFFER
            | ERROR_INVALID_DATA
            | ERROR_INVALID_PARAMETER
            | ERROR_SYMLINK_NOT_SUPPORTED => uv::EINVAL,
            ERROR_BEGINNING_OF_MEDIA
            | ERROR_BUS_RESET
            | ERROR_CRC
            | ERROR_DEVICE_DOOR_OPEN
            | ERROR_DEVICE_REQUIRES_CLEANING
            | ERROR_DISK_CORRUPT
            | ERROR_EOM_OVERFLOW
            | ERROR_FILEMARK_DETECTED
            | ERROR_GEN_FAILURE
            | ERROR_INVALID_BLOCK_LENGTH
            | ERROR_IO_DEVICE
            | ERROR_NO_DATA_DETECTED
            | ERROR_NO_SIGNAL_SENT
            | ERROR_OPEN_FAILED
            | ERROR_SETMARK_DETECTED
            | ERROR_SIGNAL_REFUSED => uv::EIO,
            ERROR_CANT_RESOLVE_FILENAME => uv::ELOOP,
            ERROR_TOO_MANY_OPEN_FILES => uv::EMFILE,
            ERROR_BUFFER_OVERFLOW | ERROR_FILENAME_EXCED_RANGE => uv::ENAMETOOLONG,
            ERROR_NETWORK_UNREACHABLE => uv::ENETUNREACH,
            ERROR_BAD_PATHNAME
            | ERROR_DIRECTORY
            | ERROR_ENVVAR_NOT_FOUND
            | ERROR_FILE_NOT_FOUND
            | ERROR_INVALID_NAME
            | ERROR_INVALID_DRIVE
            | ERROR_INVALID_REPARSE_DATA
            | ERROR_MOD_NOT_FOUND
            | ERROR_PATH_NOT_FOUND => uv::ENOENT,
            ERROR_NOT_ENOUGH_MEMORY | ERROR_OUTOFMEMORY => uv::ENOMEM,
            ERROR_CANNOT_MAKE
            | ERROR_DISK_FULL
            | ERROR_EA_TABLE_FULL
            | ERROR_END_OF_MEDIA
            | ERROR_HANDLE_DISK_FULL => uv::ENOSPC,
            ERROR_NOT_CONNECTED => uv::ENOTCONN,
            ERROR_DIR_NOT_EMPTY => uv::ENOTEMPTY,
            ERROR_NOT_SUPPORTED => uv::ENOTSUP,
            ERROR_BROKEN_PIPE => uv::EOF,
            ERROR_ACCESS_DENIED | ERROR_PRIVILEGE_NOT_HELD => uv::EPERM,
            ERROR_BAD_PIPE | ERROR_PIPE_NOT_CONNECTED => uv::EPIPE,
            ERROR_WRITE_PROTECT => uv::EROFS,
            ERROR_SEM_TIMEOUT => uv::ETIMEDOUT,
            ERROR_NOT_SAME_DEVICE => uv::EXDEV,
            ERROR_INVALID_FUNCTION => uv::EISDIR,
            ERROR_META_EXPANSION_TOO_LONG => uv::E2BIG,
            ERROR_BAD_EXE_FORMAT => uv::EFTYPE,
            _ => return None,
        })
    }

    pub(in super::super) const fn raw_errno(code: Errno) -> i32 {
        numbers(code).0
    }

    pub(in super::super) const fn uv_errno(code: Errno) -> i32 {
        numbers(code).1
    }

    /// As libuv's: a Winsock error its table lacks (`WSAEOPNOTSUPP`,
    /// `WSAENOPROTOOPT`, …) is `UNKNOWN`, whatever the crate calls it.
    pub(in super::super) fn uv_error_code(err: &io::Error) -> i32 {
        match err.raw_os_error() {
            Some(raw) => translate(raw),
            None => Errno::EINVAL.uv(),
        }
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
        membership_of_socket_family_only: true,
        peer_of_either_family: true,
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

    /// What the unit tests expect of Windows where it answers differently
    /// from Linux (each the answer of Winsock or of libuv on Windows).
    #[cfg(test)]
    pub(crate) mod test_facts {
        use std::io;

        use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};

        /// A zone is read as a number (`atoi` in `uv_ip6_addr`), and a
        /// scope written as its number (`uv_if_indextoiid`): `%lo` is 0.
        pub(crate) const ZONES_ARE_NAMES: bool = false;
        pub(crate) const INTERFACE_1: &str = "1";
        /// Winsock reports `SO_RCVBUF`/`SO_SNDBUF` as they were set.
        pub(crate) fn reported_buffer_size(set: u32) -> u32 {
            set
        }
        /// getsockname of a socket never bound fails with `WSAEINVAL`
        /// (Microsoft's getsockname documentation).
        pub(crate) const UNBOUND_SOCKET_HAS_AN_ADDRESS: bool = false;
        /// std's `set_read_timeout` docs: Windows may give `TimedOut`
        /// (`WSAETIMEDOUT`).
        pub(crate) const READ_TIMEOUT: io::ErrorKind = io::ErrorKind::TimedOut;
        /// Windows reports a port-unreachable answer as `WSAECONNRESET` on
        /// a later receive, which libuv skips (src/win/udp.c) and so does
        /// `receive` here: node on Windows sees no error.
        pub(crate) const REPORTS_CONNECTION_REFUSED: bool = false;
        /// `set_traffic_class_v6` refuses with `ENOTSUP` (KB 248611).
        pub(crate) const TRAFFIC_CLASS_V6: bool = false;

        /// Windows' loopback MTU is not read here (no IP Helper API in the
        /// crate); the tests check only that the ways of asking agree.
        pub(crate) fn loopback_mtu() -> Option<u32> {
            None
        }

        /// Wine, not Windows: its ntdll exports `wine_get_version`.
        pub(crate) fn under_wine() -> bool {
            let ntdll: Vec<u16> = "ntdll.dll\0".encode_utf16().collect();
            // SAFETY: a NUL-terminated module name; ntdll is always loaded.
            let module = unsafe { GetModuleHandleW(ntdll.as_ptr()) };
            // SAFETY: a NUL-terminated symbol name; the module is loaded.
            !module.is_null()
                && unsafe { GetProcAddress(module, c"wine_get_version".as_ptr().cast()) }.is_some()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn control_bytes(control: &[u64; CONTROL_WORDS], len: usize) -> Vec<u8> {
        control
            .iter()
            .flat_map(|word| word.to_ne_bytes())
            .take(len)
            .collect()
    }

    /// A `WSACMSGHDR` as ws2def.h lays it out: `cmsg_len` (a SIZE_T), then
    /// the INT level and type; the data at `WSA_CMSG_DATA`, which is the
    /// header's size rounded up to a SIZE_T's alignment.
    fn message(level: i32, kind: i32, data: &[u8]) -> Vec<u8> {
        let word = size_of::<usize>();
        let header = (word + 8).div_ceil(word) * word;
        let mut bytes = (header + data.len()).to_ne_bytes().to_vec();
        bytes.extend(level.to_ne_bytes());
        bytes.extend(kind.to_ne_bytes());
        bytes.resize(header, 0);
        bytes.extend(data);
        bytes.resize((header + data.len()).div_ceil(word) * word, 0);
        bytes
    }

    #[test]
    fn the_segment_size_is_one_udp_send_msg_size_message_holding_a_dword() {
        let mut control = [0u64; CONTROL_WORDS];
        let len = write_send_control(&mut control, None, Some(1_200));
        // IPPROTO_UDP is 17 and UDP_SEND_MSG_SIZE 2 (ws2ipdef.h, ws2def.h).
        let expected = message(17, 2, &1_200u32.to_ne_bytes());
        assert_eq!(control_bytes(&control, len), expected);
        if size_of::<usize>() == 8 {
            assert_eq!(len, 24, "WSA_CMSG_SPACE(4) on 64-bit Windows");
            assert_eq!(&expected[..8], &20u64.to_ne_bytes(), "WSA_CMSG_LEN(4)");
        }
    }

    #[test]
    fn a_source_address_and_the_segment_size_go_as_two_aligned_messages() {
        let mut control = [0u64; CONTROL_WORDS];
        let from: IpAddr = "::1".parse().unwrap();
        let len = write_send_control(&mut control, Some(from), Some(1_000));
        // IN6_PKTINFO: the address, then the interface index (0: any).
        let mut info = Ipv6Addr::LOCALHOST.octets().to_vec();
        info.extend(0u32.to_ne_bytes());
        let mut expected = message(41, 19, &info); // IPPROTO_IPV6, IPV6_PKTINFO
        expected.extend(message(17, 2, &1_000u32.to_ne_bytes()));
        assert_eq!(control_bytes(&control, len), expected);

        let len = write_send_control(&mut control, Some("127.0.0.2".parse().unwrap()), None);
        let mut info = vec![127, 0, 0, 2];
        info.extend(0u32.to_ne_bytes()); // IN_PKTINFO's interface index
        assert_eq!(control_bytes(&control, len), message(0, 19, &info)); // IPPROTO_IP, IP_PKTINFO
        assert_eq!(write_send_control(&mut control, None, None), 0);
    }

    fn receiver() -> std::net::UdpSocket {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        receiver
    }

    /// Everything `receiver` gets until it has been quiet for the timeout,
    /// bounded by `most`.
    fn drain(receiver: &std::net::UdpSocket, most: usize) -> Vec<Vec<u8>> {
        let mut buf = [0u8; 70_000];
        let mut received = Vec::new();
        while received.len() < most {
            match receiver.recv_from(&mut buf) {
                Ok((n, _)) => received.push(buf[..n].to_vec()),
                Err(_) => break,
            }
        }
        received
    }

    fn run_of<'a>(payloads: &'a [Vec<u8>], to: SocketAddr) -> Vec<Outgoing<'a>> {
        payloads
            .iter()
            .map(|data| Outgoing {
                data,
                to: Some(to),
                from: None,
            })
            .collect()
    }

    /// The probe's own check: a Winsock that ignores `UDP_SEND_MSG_SIZE`
    /// (Wine 8 sends the bytes as one datagram) is never taken for USO.
    #[test]
    fn uso_is_used_only_where_a_segmented_send_arrives_as_its_datagrams() {
        let arrivals = uso::probe_arrivals();
        println!(
            "USO here: {}; a segmented send of 2 x 1200 bytes arrived as {arrivals:?}",
            uso::available()
        );
        if uso::probed() {
            assert_eq!(arrivals, Some(vec![1_200, 1_200]));
        }
    }

    /// After a refusal, the run goes one datagram per call: each arrives
    /// once, intact, in order, and USO is off from then on.
    #[test]
    fn a_refused_run_is_sent_one_by_one_exactly_once_in_order() {
        let receiver = receiver();
        let sender = Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        let payloads: Vec<Vec<u8>> = (0..10u8)
            .map(|i| vec![i; if i == 9 { 7 } else { 1_000 }])
            .collect();
        let run = run_of(&payloads, receiver.local_addr().unwrap());
        let refusal =
            io::Error::from_raw_os_error(windows_sys::Win32::Networking::WinSock::WSAEINVAL);
        let sent = after_segmented_send(&sender, &run, Err(refusal)).unwrap();
        assert_eq!(sent, payloads.iter().map(Vec::len).collect::<Vec<_>>());
        assert_eq!(drain(&receiver, 20), payloads);
        assert!(!uso::available());
        assert_eq!(capabilities().gso_segments, 1);
    }

    /// `send_batch` on this Windows: segmented or not, every datagram
    /// arrives as itself, once, in order.
    #[test]
    fn a_batch_of_equal_sizes_arrives_as_its_datagrams_exactly_once_in_order() {
        let receiver = receiver();
        let sender = Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        // Few enough for the receive buffer's default: none is dropped.
        let payloads: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 1_000]).collect();
        let batch = run_of(&payloads, receiver.local_addr().unwrap());
        let mut sent = Vec::new();
        for _ in 0..payloads.len() {
            if sent.len() == batch.len() {
                break;
            }
            sent.extend(send_batch(&sender, &batch[sent.len()..]).unwrap());
        }
        assert_eq!(sent, vec![1_000; payloads.len()]);
        let received = drain(&receiver, 80);
        let firsts: Vec<u8> = received.iter().map(|datagram| datagram[0]).collect();
        assert_eq!(firsts, (0..40u8).collect::<Vec<_>>(), "each once, in order");
        assert_eq!(received, payloads);
    }
}
