//! Linux (and Android): `recvmmsg` into the receive slots, `sendmmsg` with
//! runs of equal-sized datagrams to one destination sent as one UDP GSO
//! buffer (`UDP_SEGMENT`) that the kernel splits into the same datagrams,
//! destinations and chosen sources as `IP_PKTINFO` / `IPV6_PKTINFO`, the
//! kernel's drop count (`SO_RXQ_OVFL`), `SO_REUSEPORT` and path-MTU
//! discovery. A `fastdgram_sys="message"` build receives and sends one
//! message at a time instead, as macOS and FreeBSD do (for checking that
//! path on Linux).

use std::ffi::c_int;
use std::io;
use std::sync::OnceLock;

use socket2::Socket;

use super::unix::{self, ControlKind, ControlKinds};
use super::{Capabilities, Errno, Outgoing, Received, RecvMeta, BATCH_CAPACITY};
use crate::address::Family;

pub(crate) use super::unix::Registration;

/// Where Linux reports a datagram's destination and the socket's drops.
const CONTROL: ControlKinds = ControlKinds {
    v4_destination: ControlKind {
        level: libc::IPPROTO_IP,
        kind: libc::IP_PKTINFO,
        offset: std::mem::offset_of!(libc::in_pktinfo, ipi_addr),
    },
    v6_destination: ControlKind {
        level: libc::IPPROTO_IPV6,
        kind: libc::IPV6_PKTINFO,
        offset: std::mem::offset_of!(libc::in6_pktinfo, ipi6_addr),
    },
    kernel_drops: Some(ControlKind {
        level: libc::SOL_SOCKET,
        kind: libc::SO_RXQ_OVFL,
        offset: 0,
    }),
    segment_size: Some(ControlKind {
        level: libc::SOL_UDP,
        kind: libc::UDP_GRO,
        offset: 0,
    }),
};

/// One message at a time, as the platforms without `recvmmsg` receive.
const ONE_MESSAGE_AT_A_TIME: bool = cfg!(fastdgram_sys = "message");

pub(super) const NAME: &str = match ONE_MESSAGE_AT_A_TIME {
    true => "linux, one message at a time",
    false => "linux",
};

// Receiving.

#[cfg(not(fastdgram_sys = "message"))]
pub(crate) use batched::Headers as ReceiveHeaders;
#[cfg(fastdgram_sys = "message")]
pub(crate) use unix::MessageHeaders as ReceiveHeaders;

#[inline]
pub(super) fn receive(
    socket: &Socket,
    headers: &mut ReceiveHeaders,
    slots: &mut [u8],
    meta: &mut [RecvMeta; BATCH_CAPACITY],
    limit: usize,
) -> io::Result<Received> {
    headers.receive(socket, slots, meta, &CONTROL, limit)
}

// Sending.

#[inline]
pub(super) fn send_batch(socket: &Socket, datagrams: &[Outgoing<'_>]) -> io::Result<Vec<usize>> {
    if ONE_MESSAGE_AT_A_TIME {
        return Ok(vec![send_one(socket, &datagrams[0])?]);
    }
    batched::send_some(socket, datagrams, gso::available())
        .map_err(super::no_buffer_space_is_would_block)
}

pub(super) fn send_one(socket: &Socket, datagram: &Outgoing<'_>) -> io::Result<usize> {
    if datagram.from.is_none() {
        return super::send_plain(socket, datagram);
    }
    if ONE_MESSAGE_AT_A_TIME {
        // As on macOS and FreeBSD, which do not choose source addresses (yet).
        return Err(Errno::EOPNOTSUPP.error());
    }
    // Only a message header can carry the source address.
    let sent = batched::send_some(socket, std::slice::from_ref(datagram), false)
        .map_err(super::no_buffer_space_is_would_block)?;
    sent.first()
        .copied()
        .ok_or_else(|| io::Error::from(io::ErrorKind::WouldBlock))
}

// Options.

pub(super) fn report_kernel_drops(socket: &Socket) -> io::Result<()> {
    unix::set_flag(socket, libc::SOL_SOCKET, libc::SO_RXQ_OVFL, true)
}

pub(super) fn set_receive_destination(socket: &Socket, family: Family, on: bool) -> io::Result<()> {
    match family {
        Family::V4 => unix::set_flag(socket, libc::IPPROTO_IP, libc::IP_PKTINFO, on),
        Family::V6 => {
            unix::set_flag(socket, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, on)?;
            // IPv4 datagrams on a dual-stack socket report through IP_PKTINFO.
            let _ = unix::set_flag(socket, libc::IPPROTO_IP, libc::IP_PKTINFO, on);
            Ok(())
        }
    }
}

pub(super) fn enable_gro(socket: &Socket) -> bool {
    gro::available() && unix::set_flag(socket, libc::SOL_UDP, libc::UDP_GRO, true).is_ok()
}

pub(super) fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_port(true)
}

/// `IP_MTU_DISCOVER` = `IP_PMTUDISC_DO` on every socket (on an IPv6 socket it
/// governs the IPv4-mapped traffic), and for IPv6 `IPV6_MTU_DISCOVER` =
/// `IPV6_PMTUDISC_DO` plus `IPV6_DONTFRAG`.
pub(super) fn set_dont_fragment(socket: &Socket, family: Family) -> io::Result<()> {
    unix::set_int_option(
        socket,
        libc::IPPROTO_IP,
        libc::IP_MTU_DISCOVER,
        libc::IP_PMTUDISC_DO,
    )?;
    if family == Family::V6 {
        unix::set_int_option(
            socket,
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU_DISCOVER,
            libc::IPV6_PMTUDISC_DO,
        )?;
        unix::set_flag(socket, libc::IPPROTO_IPV6, libc::IPV6_DONTFRAG, true)?;
    }
    Ok(())
}

/// `IP_MTU` / `IPV6_MTU`: only a connected socket has a route to ask about.
pub(super) fn connected_path_mtu(socket: &Socket, family: Family) -> io::Result<u32> {
    let (level, name) = match family {
        Family::V4 => (libc::IPPROTO_IP, libc::IP_MTU),
        Family::V6 => (libc::IPPROTO_IPV6, libc::IPV6_MTU),
    };
    let mtu = int_option(socket, level, name)?;
    u32::try_from(mtu).map_err(|_| Errno::EINVAL.error())
}

fn int_option(socket: &Socket, level: c_int, name: c_int) -> io::Result<c_int> {
    unix::int_option_of(unix::raw_socket(socket), level, name)
}

// Capabilities.

pub(super) fn capabilities() -> Capabilities {
    static PROBED: OnceLock<Capabilities> = OnceLock::new();
    let probed = *PROBED.get_or_init(probe);
    Capabilities {
        gso_segments: match gso::available() {
            true => gso::MAX_SEGMENTS as u16,
            false => 1,
        },
        ..probed
    }
}

/// What the kernel accepts, asked of a throwaway socket.
fn probe() -> Capabilities {
    let probe = unix::probe_socket();
    let accepts = |level: c_int, name: c_int, value: c_int| {
        probe
            .as_ref()
            .is_some_and(|probe| unix::set_int_option(probe, level, name, value).is_ok())
    };
    Capabilities {
        batched_receive: !ONE_MESSAGE_AT_A_TIME,
        batched_send: !ONE_MESSAGE_AT_A_TIME,
        gso_segments: 1,
        source_address: !ONE_MESSAGE_AT_A_TIME,
        destination_address: accepts(libc::IPPROTO_IP, libc::IP_PKTINFO, 1),
        kernel_drops: accepts(libc::SOL_SOCKET, libc::SO_RXQ_OVFL, 1),
        dont_fragment: accepts(
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            libc::IP_PMTUDISC_DO,
        ),
        reuse_port_balancing: accepts(libc::SOL_SOCKET, libc::SO_REUSEPORT, 1),
        gro: gro::available(),
    }
}

/// Receive offload: with `UDP_GRO` on, the kernel hands a socket a GSO
/// sender's buffer (and, from a network card, same-sized datagrams of one
/// flow) whole, with the segment size in a control message, instead of
/// splitting it into datagrams first (Linux >= 5.0).
mod gro {
    use std::sync::OnceLock;

    use super::unix;

    static ENABLED: OnceLock<bool> = OnceLock::new();

    /// Where this kernel takes `UDP_GRO` (probed once), unless
    /// `FASTDGRAM_NO_GRO=1` switches it off (for measuring what it
    /// contributes); never in one-message-at-a-time builds.
    pub fn available() -> bool {
        *ENABLED.get_or_init(|| {
            !super::ONE_MESSAGE_AT_A_TIME
                && std::env::var_os("FASTDGRAM_NO_GRO").is_none()
                && unix::probe_socket().is_some_and(|probe| {
                    unix::set_flag(&probe, libc::SOL_UDP, libc::UDP_GRO, true).is_ok()
                })
        })
    }
}

mod gso {
    use std::io;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;

    use super::unix;

    /// Linux's UDP_MAX_SEGMENTS.
    pub const MAX_SEGMENTS: usize = 64;
    /// Payload bytes of one GSO buffer: what one UDP datagram may carry
    /// over IPv4 (65,535 − 20 − 8), the smaller of the two families.
    pub const MAX_BYTES: usize = 65_507;

    static REFUSED: AtomicBool = AtomicBool::new(false);
    static ENABLED: OnceLock<bool> = OnceLock::new();

    /// On where this kernel takes `UDP_SEGMENT` (probed once), unless it
    /// refused a send since or `FASTDGRAM_NO_GSO=1` switches it off (for
    /// measuring what GSO contributes); never in one-message-at-a-time builds.
    pub fn available() -> bool {
        *ENABLED.get_or_init(probe) && !REFUSED.load(Ordering::Relaxed)
    }

    fn probe() -> bool {
        !super::ONE_MESSAGE_AT_A_TIME
            && std::env::var_os("FASTDGRAM_NO_GSO").is_none()
            && unix::probe_socket().is_some_and(|probe| {
                unix::set_int_option(&probe, libc::SOL_UDP, libc::UDP_SEGMENT, 1_200).is_ok()
            })
    }

    /// Errors that say this kernel or route cannot do UDP GSO at all.
    pub fn note_failure(err: &io::Error) {
        if matches!(
            err.raw_os_error(),
            Some(libc::EINVAL | libc::EOPNOTSUPP | libc::ENOPROTOOPT | libc::EIO)
        ) {
            REFUSED.store(true, Ordering::Relaxed);
        }
    }
}

/// `recvmmsg` and `sendmmsg`: the only code that passes musl's and glibc's
/// differently typed `msghdr` fields and flags, converted with `as _` here.
mod batched {
    use std::io;
    use std::net::IpAddr;
    use std::os::fd::AsRawFd;

    use socket2::{SockAddr, Socket};

    use super::super::{Outgoing, Received, RecvMeta, BATCH_CAPACITY, SLOT_SIZE};
    use super::gso;
    use super::unix::{self, ControlBuffer, ControlKinds, CONTROL_WORDS};

    /// Most headers handed to one `sendmmsg` call.
    const PER_CALL: usize = 64;

    /// `recvmmsg` headers pointing into the slots, built once per thread.
    #[cfg_attr(fastdgram_sys = "message", allow(dead_code))]
    pub(crate) struct Headers {
        addrs: Vec<libc::sockaddr_storage>,
        iovecs: Vec<libc::iovec>,
        controls: Vec<ControlBuffer>,
        headers: Vec<libc::mmsghdr>,
        /// How many headers the last call filled (their lengths changed).
        used: usize,
    }

    #[cfg_attr(fastdgram_sys = "message", allow(dead_code))]
    impl Headers {
        pub(crate) fn new(slots: &mut [u8]) -> Headers {
            // SAFETY: all-zero sockaddr_storage, iovec and mmsghdr values are valid.
            let zeroed = || unsafe { std::mem::zeroed() };
            let mut headers = Headers {
                addrs: (0..BATCH_CAPACITY).map(|_| zeroed()).collect(),
                iovecs: (0..BATCH_CAPACITY)
                    .map(|_| unsafe { std::mem::zeroed() })
                    .collect(),
                controls: vec![[0; CONTROL_WORDS]; BATCH_CAPACITY],
                headers: (0..BATCH_CAPACITY)
                    .map(|_| unsafe { std::mem::zeroed() })
                    .collect(),
                used: BATCH_CAPACITY,
            };
            for index in 0..BATCH_CAPACITY {
                headers.iovecs[index] = libc::iovec {
                    iov_base: slots[index * SLOT_SIZE..].as_mut_ptr().cast(),
                    iov_len: SLOT_SIZE,
                };
                let header = &mut headers.headers[index].msg_hdr;
                header.msg_name = (&mut headers.addrs[index] as *mut libc::sockaddr_storage).cast();
                header.msg_iov = &mut headers.iovecs[index];
                header.msg_iovlen = 1;
                header.msg_control = headers.controls[index].as_mut_ptr().cast();
            }
            headers
        }

        /// One `recvmmsg` call fills up to `limit` slots.
        pub(in crate::sys) fn receive(
            &mut self,
            socket: &Socket,
            _slots: &mut [u8],
            meta: &mut [RecvMeta; BATCH_CAPACITY],
            kinds: &ControlKinds,
            limit: usize,
        ) -> io::Result<Received> {
            for header in &mut self.headers[..self.used] {
                header.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as _;
                header.msg_hdr.msg_controllen = std::mem::size_of::<ControlBuffer>() as _;
            }
            // SAFETY: every header points at this value's iovecs, controls
            // and address storage (set up by new, never moved since: all live
            // in heap allocations), and through the iovecs at the slots,
            // which the caller keeps alive and in place with the headers.
            let count = unsafe {
                libc::recvmmsg(
                    socket.as_raw_fd(),
                    self.headers.as_mut_ptr(),
                    limit as _,
                    libc::MSG_DONTWAIT as _,
                    std::ptr::null_mut(),
                )
            };
            if count < 0 {
                return Err(io::Error::last_os_error());
            }
            let count = count as usize;
            self.used = count.max(1);
            let mut received = Received {
                count,
                kernel_drops: None,
            };
            let filled = self.headers.iter().zip(&self.addrs).take(count);
            for (datagram, (header, source)) in meta.iter_mut().zip(filled) {
                datagram.len = header.msg_len;
                datagram.source = unix::to_socket_addr(source)?;
                datagram.local = None;
                datagram.segment_size = 0;
                if header.msg_hdr.msg_controllen == 0 {
                    continue;
                }
                // SAFETY: the kernel filled msg_control with msg_controllen bytes.
                let control = unsafe { unix::read_control(&header.msg_hdr, kinds) };
                datagram.local = control.local;
                datagram.segment_size = control.segment_size.unwrap_or(0);
                if control.drops.is_some() {
                    received.kernel_drops = control.drops;
                }
            }
            Ok(received)
        }
    }

    /// Datagrams `start..start + count` sent with one header: one datagram,
    /// or (`segment > 0`) a GSO run of `segment`-byte datagrams, the last
    /// possibly shorter. They share their destination and source address.
    #[derive(Clone, Copy)]
    struct Group {
        start: usize,
        count: usize,
        segment: u16,
    }

    /// Groups a prefix of `datagrams` into at most PER_CALL headers.
    fn plan(datagrams: &[Outgoing<'_>], gso: bool) -> Vec<Group> {
        let mut groups = Vec::new();
        let mut start = 0;
        while start < datagrams.len() && groups.len() < PER_CALL {
            let count = if gso {
                run_length(&datagrams[start..])
            } else {
                1
            };
            let segment = if count > 1 {
                datagrams[start].data.len() as u16
            } else {
                0
            };
            groups.push(Group {
                start,
                count,
                segment,
            });
            start += count;
        }
        groups
    }

    /// How many datagrams from the first can form one GSO run.
    fn run_length(datagrams: &[Outgoing<'_>]) -> usize {
        super::super::segment_run_length(datagrams, gso::MAX_SEGMENTS, gso::MAX_BYTES)
    }

    /// Room for a header's control messages: `UDP_SEGMENT` (a u16) and a
    /// packet info (`in6_pktinfo` at most), each padded as `CMSG_SPACE`
    /// says; u64s for the alignment `cmsghdr` needs.
    type SendControl = [u64; 8];

    /// Sends a prefix of `datagrams` (at least one, or an error for the
    /// first): the byte counts of those sent, one per datagram.
    pub(super) fn send_some(
        socket: &Socket,
        datagrams: &[Outgoing<'_>],
        gso: bool,
    ) -> io::Result<Vec<usize>> {
        let groups = plan(datagrams, gso);
        let used = groups.last().map_or(0, |g| g.start + g.count);
        let mut iovecs: Vec<libc::iovec> = datagrams[..used]
            .iter()
            .map(|d| libc::iovec {
                iov_base: d.data.as_ptr() as *mut libc::c_void,
                iov_len: d.data.len(),
            })
            .collect();
        let mut addresses: Vec<Option<SockAddr>> = groups
            .iter()
            .map(|g| datagrams[g.start].to.map(SockAddr::from))
            .collect();
        let mut controls: Vec<SendControl> = vec![[0; 8]; groups.len()];
        let mut headers: Vec<libc::mmsghdr> = Vec::with_capacity(groups.len());
        for ((group, address), control) in groups
            .iter()
            .zip(addresses.iter_mut())
            .zip(controls.iter_mut())
        {
            // SAFETY: an all-zero mmsghdr is valid; every pointer set here
            // refers to vectors that outlive the sendmmsg call below.
            let mut header: libc::mmsghdr = unsafe { std::mem::zeroed() };
            header.msg_hdr.msg_iov = iovecs[group.start..].as_mut_ptr();
            header.msg_hdr.msg_iovlen = group.count as _;
            if let Some(address) = address {
                header.msg_hdr.msg_name = address.as_ptr() as *mut libc::c_void;
                header.msg_hdr.msg_namelen = address.len();
            }
            set_control(
                &mut header.msg_hdr,
                control,
                group.segment,
                datagrams[group.start].from,
            );
            headers.push(header);
        }
        // SAFETY: see above; the iovecs point at the callers' byte slices.
        let sent = unsafe {
            libc::sendmmsg(
                socket.as_raw_fd(),
                headers.as_mut_ptr(),
                headers.len() as _,
                libc::MSG_DONTWAIT as _,
            )
        };
        if sent < 0 {
            let err = io::Error::last_os_error();
            let first = groups[0];
            if first.segment > 0 && err.kind() != io::ErrorKind::WouldBlock {
                // Resend the run one by one: exact results, and GSO is
                // given up if the kernel cannot do it.
                gso::note_failure(&err);
                return send_some(
                    socket,
                    &datagrams[first.start..first.start + first.count],
                    false,
                );
            }
            return Err(err);
        }
        Ok(groups[..sent as usize]
            .iter()
            .flat_map(|g| {
                datagrams[g.start..g.start + g.count]
                    .iter()
                    .map(|d| d.data.len())
            })
            .collect())
    }

    /// Attaches to `header`, in `control`, `UDP_SEGMENT` = `segment` (when
    /// not 0) and the source address `from` (when set).
    fn set_control(
        header: &mut libc::msghdr,
        control: &mut SendControl,
        segment: u16,
        from: Option<IpAddr>,
    ) {
        let mut used = 0;
        if segment > 0 {
            used += write_control(control, used, libc::SOL_UDP, libc::UDP_SEGMENT, segment);
        }
        match from {
            Some(IpAddr::V4(ip)) => {
                // SAFETY: all-zero is a valid in_pktinfo (interface 0: any).
                let mut info: libc::in_pktinfo = unsafe { std::mem::zeroed() };
                info.ipi_spec_dst.s_addr = u32::from_ne_bytes(ip.octets());
                used += write_control(control, used, libc::IPPROTO_IP, libc::IP_PKTINFO, info);
            }
            Some(IpAddr::V6(ip)) => {
                // SAFETY: all-zero is a valid in6_pktinfo (interface 0: any).
                let mut info: libc::in6_pktinfo = unsafe { std::mem::zeroed() };
                info.ipi6_addr.s6_addr = ip.octets();
                used += write_control(control, used, libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, info);
            }
            None => {}
        }
        if used > 0 {
            header.msg_control = control.as_mut_ptr().cast();
            header.msg_controllen = used as _;
        }
    }

    /// Writes a control message carrying `value` at byte `offset` of
    /// `control`; returns the bytes it takes (`CMSG_SPACE`).
    fn write_control<T: Copy>(
        control: &mut SendControl,
        offset: usize,
        level: libc::c_int,
        kind: libc::c_int,
        value: T,
    ) -> usize {
        let length = std::mem::size_of::<T>() as libc::c_uint;
        // SAFETY: CMSG_SPACE and CMSG_LEN only compute sizes.
        let (space, message_length) = unsafe { (libc::CMSG_SPACE(length), libc::CMSG_LEN(length)) };
        let space = space as usize;
        // Fixed sizes, never the caller's input: this holds for every call.
        assert!(offset + space <= std::mem::size_of::<SendControl>());
        // SAFETY: the message fits in `control` (checked above) and starts
        // aligned for cmsghdr: the buffer is u64-aligned and `offset` is a
        // sum of CMSG_SPACE values, which are multiples of that alignment.
        unsafe {
            let message = control
                .as_mut_ptr()
                .cast::<u8>()
                .add(offset)
                .cast::<libc::cmsghdr>();
            (*message).cmsg_level = level;
            (*message).cmsg_type = kind;
            (*message).cmsg_len = message_length as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(message).cast::<T>(), value);
        }
        space
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::net::SocketAddr;

        fn outgoing<'a>(data: &'a [u8], to: &str) -> Outgoing<'a> {
            Outgoing {
                data,
                to: Some(to.parse::<SocketAddr>().unwrap()),
                from: None,
            }
        }

        #[test]
        fn plans_runs_of_equal_sizes_to_one_destination() {
            let (a, b, short) = (vec![1u8; 100], vec![2u8; 100], vec![3u8; 10]);
            let datagrams = [
                outgoing(&a, "127.0.0.1:1"),
                outgoing(&b, "127.0.0.1:1"),
                outgoing(&short, "127.0.0.1:1"),
                outgoing(&a, "127.0.0.1:1"),
                outgoing(&a, "127.0.0.1:2"),
            ];
            let groups: Vec<(usize, usize, u16)> = plan(&datagrams, true)
                .iter()
                .map(|g| (g.start, g.count, g.segment))
                .collect();
            assert_eq!(groups, vec![(0, 3, 100), (3, 1, 0), (4, 1, 0)]);
            assert!(plan(&datagrams, false).iter().all(|g| g.count == 1));
        }

        #[test]
        fn a_gso_run_arrives_as_the_same_separate_datagrams() {
            let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let to = receiver.local_addr().unwrap().to_string();
            let sender = Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
            let payloads: Vec<Vec<u8>> = (0..10u8)
                .map(|i| vec![i; if i == 9 { 7 } else { 1_000 }])
                .collect();
            let datagrams: Vec<Outgoing<'_>> = payloads.iter().map(|p| outgoing(p, &to)).collect();
            assert_eq!(plan(&datagrams, true).len(), 1, "one header for all ten");
            let sent = send_some(&sender, &datagrams, true).unwrap();
            assert_eq!(sent, payloads.iter().map(Vec::len).collect::<Vec<_>>());
            assert!(
                gso::available() || super::super::ONE_MESSAGE_AT_A_TIME,
                "this kernel does UDP GSO on loopback"
            );
            let mut buf = [0u8; 2_000];
            for payload in &payloads {
                let (n, _) = receiver.recv_from(&mut buf).unwrap();
                assert_eq!(&buf[..n], &payload[..]);
            }
        }

        #[test]
        fn a_run_breaks_where_the_source_address_changes() {
            let data = vec![1u8; 100];
            let from = |ip: Option<&str>| Outgoing {
                from: ip.map(|ip| ip.parse::<IpAddr>().unwrap()),
                ..outgoing(&data, "127.0.0.1:1")
            };
            let datagrams = [
                from(None),
                from(None),
                from(Some("127.0.0.2")),
                from(Some("127.0.0.2")),
                from(Some("127.0.0.3")),
                from(None),
            ];
            let groups: Vec<(usize, usize, u16)> = plan(&datagrams, true)
                .iter()
                .map(|g| (g.start, g.count, g.segment))
                .collect();
            assert_eq!(groups, vec![(0, 2, 100), (2, 2, 100), (4, 1, 0), (5, 1, 0)]);
        }

        /// Receives `count` datagrams on `receiver`: payload and source address each.
        fn receive(receiver: &std::net::UdpSocket, count: usize) -> Vec<(Vec<u8>, IpAddr)> {
            let mut buf = [0u8; 2_000];
            (0..count)
                .map(|_| {
                    let (n, source) = receiver.recv_from(&mut buf).unwrap();
                    (buf[..n].to_vec(), source.ip())
                })
                .collect()
        }

        fn wildcard_sender() -> Socket {
            let sender = Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
            let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
            sender.bind(&any.into()).unwrap();
            sender
        }

        #[test]
        fn from_sets_the_source_address_of_single_datagrams_and_gso_runs() {
            // 127.0.0.0/8 is all local on lo: a socket bound to 0.0.0.0
            // sending to 127.0.0.1 would leave from 127.0.0.1 by itself.
            let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            receiver
                .set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let to = receiver.local_addr().unwrap().to_string();
            let sender = wildcard_sender();
            let second: IpAddr = "127.0.0.2".parse().unwrap();
            let (one, run) = (vec![9u8; 10], vec![8u8; 1_000]);
            let mut datagrams = vec![
                outgoing(&one, &to),
                Outgoing {
                    from: Some(second),
                    ..outgoing(&one, &to)
                },
            ];
            datagrams.extend((0..5).map(|_| Outgoing {
                from: Some(second),
                ..outgoing(&run, &to)
            }));
            let groups: Vec<(usize, u16)> = plan(&datagrams, true)
                .iter()
                .map(|g| (g.count, g.segment))
                .collect();
            assert_eq!(groups, vec![(1, 0), (1, 0), (5, 1_000)]);
            let sent = send_some(&sender, &datagrams, true).unwrap();
            assert_eq!(sent.len(), 7);
            let received = receive(&receiver, 7);
            let local: IpAddr = "127.0.0.1".parse().unwrap();
            assert_eq!(received[0], (one.clone(), local), "the kernel's choice");
            assert_eq!(received[1], (one.clone(), second));
            assert!(received[2..].iter().all(|r| *r == (run.clone(), second)));
        }

        #[test]
        fn a_source_address_that_is_not_local_is_refused() {
            // 192.0.2.1 (TEST-NET-1) is on no interface of a test machine.
            let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let to = receiver.local_addr().unwrap().to_string();
            let sender = wildcard_sender();
            let datagram = Outgoing {
                from: Some("192.0.2.1".parse().unwrap()),
                ..outgoing(b"x", &to)
            };
            // Without the control message the datagram would go out; with
            // it, IPv4's route lookup finds no interface with that address.
            let err = send_some(&sender, &[datagram], true).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::ENETUNREACH));
        }

        #[test]
        fn ipv6_source_addresses_go_in_ipv6_pktinfo() {
            let Ok(receiver) = std::net::UdpSocket::bind("[::1]:0") else {
                eprintln!("skipped: no IPv6 loopback on this machine");
                return;
            };
            receiver
                .set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let to = receiver.local_addr().unwrap().to_string();
            let sender = Socket::new(socket2::Domain::IPV6, socket2::Type::DGRAM, None).unwrap();
            let any: SocketAddr = "[::]:0".parse().unwrap();
            sender.bind(&any.into()).unwrap();
            let loopback: IpAddr = "::1".parse().unwrap();
            let good = Outgoing {
                from: Some(loopback),
                ..outgoing(b"six", &to)
            };
            assert_eq!(send_some(&sender, &[good], true).unwrap(), vec![3]);
            assert_eq!(receive(&receiver, 1), vec![(b"six".to_vec(), loopback)]);
            // 2001:db8::1 (documentation prefix) is on no interface: the
            // kernel read the address from the control message.
            let foreign = Outgoing {
                from: Some("2001:db8::1".parse().unwrap()),
                ..outgoing(b"six", &to)
            };
            let err = send_some(&sender, &[foreign], true).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
        }

        #[test]
        fn a_run_stops_at_the_kernels_limits() {
            let big = vec![0u8; 30_000];
            let datagrams = vec![outgoing(&big, "127.0.0.1:1"); 5];
            assert_eq!(run_length(&datagrams), 2, "three would exceed 65,507 bytes");
            let small = [0u8; 8];
            let many = vec![outgoing(&small, "127.0.0.1:1"); 100];
            assert_eq!(run_length(&many), 64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{loopback, receive_all};
    use crate::UdpSocket;
    use socket2::{Domain, Protocol, SockAddr, Type};
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    /// `send_one` is what a send waiting for writability ends in.
    #[test]
    fn send_one_carries_from_unless_one_message_at_a_time() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let sender = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
        let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
        sender.bind(&any.into()).unwrap();
        let datagram = Outgoing {
            data: b"x",
            to: Some(receiver.local_addr().unwrap()),
            from: Some("127.0.0.3".parse().unwrap()),
        };
        if ONE_MESSAGE_AT_A_TIME {
            let err = send_one(&sender, &datagram).unwrap_err();
            assert!(Errno::EOPNOTSUPP.is(&err));
            return;
        }
        assert_eq!(send_one(&sender, &datagram).unwrap(), 1);
        let mut buf = [0u8; 16];
        let (n, source) = receiver.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"x");
        assert_eq!(source.ip().to_string(), "127.0.0.3");
    }

    /// The loop macOS and FreeBSD use (one `recvmsg` per datagram) reads on
    /// Linux what `recvmmsg` reads: payloads, sources, destinations, drops.
    #[test]
    fn the_message_at_a_time_loop_reads_what_recvmmsg_reads() {
        let receiver = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
        let bound: SocketAddr = "127.0.0.1:0".parse().unwrap();
        receiver.bind(&bound.into()).unwrap();
        receiver.set_nonblocking(true).unwrap();
        receiver.set_recv_buffer_size(4096).unwrap();
        report_kernel_drops(&receiver).unwrap();
        set_receive_destination(&receiver, Family::V4, true).unwrap();
        let to = receiver.local_addr().unwrap().as_socket().unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        // More than a 4 KiB buffer holds: the kernel drops some.
        for i in 0..200u32 {
            sender.send_to(&i.to_be_bytes(), to).unwrap();
        }
        let mut memory = super::super::ReceiveMemory::new();
        let mut headers = unix::MessageHeaders::new(&mut memory);
        let mut meta = [RecvMeta::default(); BATCH_CAPACITY];
        let mut first = Vec::new();
        for _ in 0..10 {
            match headers.receive(&receiver, &mut memory, &mut meta, &CONTROL, BATCH_CAPACITY) {
                Ok(received) => first.extend(meta[..received.count].iter().copied()),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) => panic!("{err}"),
            }
        }
        assert!(!first.is_empty() && first.len() < 200, "{}", first.len());
        for datagram in &first {
            assert_eq!(datagram.len, 4);
            assert_eq!(datagram.source, sender.local_addr().unwrap());
            assert_eq!(datagram.local, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        }
        sender.send_to(b"probe", to).unwrap();
        let received = headers
            .receive(&receiver, &mut memory, &mut meta, &CONTROL, BATCH_CAPACITY)
            .unwrap();
        assert_eq!((received.count, meta[0].len), (1, 5));
        assert_eq!(
            received.kernel_drops,
            Some(200 - first.len() as u32),
            "the drop count came with the next datagram"
        );
        assert_eq!(&memory[..5], b"probe");
    }

    /// Receives one datagram on `receiver` (which asked for the TOS /
    /// traffic class ancillary data) and returns its payload and the byte
    /// from the control message. Bounded: the socket has a read timeout.
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
        header.msg_controllen = std::mem::size_of_val(&control) as _;
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
    fn blocking_receiver(family: Family, ip: &str) -> Socket {
        let domain = match family {
            Family::V4 => Domain::IPV4,
            Family::V6 => Domain::IPV6,
        };
        let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        let addr: IpAddr = ip.parse().unwrap();
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

    #[test]
    fn dont_fragment_turns_path_mtu_discovery_on() {
        for family in [Family::V4, Family::V6] {
            let udp = loopback(family);
            let socket = udp.sock();
            let before = int_option(&socket, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER).unwrap();
            assert_ne!(before, libc::IP_PMTUDISC_DO);
            udp.set_dont_fragment().unwrap();
            let ip = int_option(&socket, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER).unwrap();
            assert_eq!(ip, libc::IP_PMTUDISC_DO, "{family:?}");
            if family == Family::V6 {
                let v6 = int_option(&socket, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER).unwrap();
                assert_eq!(v6, libc::IPV6_PMTUDISC_DO);
                let dontfrag =
                    int_option(&socket, libc::IPPROTO_IPV6, libc::IPV6_DONTFRAG).unwrap();
                assert_eq!(dontfrag, 1);
            }
        }
    }

    /// A plain socket on 127.0.0.`host` whose sends are split by the
    /// kernel into `segment`-byte datagrams (`UDP_SEGMENT` as a socket
    /// option: one `send_to` of n bytes is n / segment datagrams).
    fn raw_gso_sender(host: u8, segment: c_int) -> Socket {
        let sender = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
        let bound = SocketAddr::from(([127, 0, 0, host], 0));
        sender.bind(&bound.into()).unwrap();
        unix::set_int_option(&sender, libc::SOL_UDP, libc::UDP_SEGMENT, segment).unwrap();
        sender
    }

    /// `count` datagrams' bytes of `size` each (the last `last` long): each
    /// datagram starts with its sender's tag and its number, then a
    /// pattern of both, so that a piece cut at the wrong place shows.
    fn numbered(tag: u8, first: u16, sizes: &[usize]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (index, &size) in sizes.iter().enumerate() {
            let number = first + index as u16;
            bytes.extend(datagram_bytes(tag, number, size));
        }
        bytes
    }

    fn datagram_bytes(tag: u8, number: u16, size: usize) -> Vec<u8> {
        let head = [tag, (number >> 8) as u8, number as u8];
        (0..size)
            .map(|at| match head.get(at) {
                Some(&byte) => byte,
                None => tag ^ (number as u8) ^ (at as u8),
            })
            .collect()
    }

    /// Whether GRO is on here; the tests that need it say so when not.
    fn gro_here() -> bool {
        let on = capabilities().gro;
        if !on {
            eprintln!("skipped: no UDP_GRO here (or FASTDGRAM_NO_GRO is set)");
        }
        on
    }

    #[test]
    fn a_raw_udp_segment_buffer_arrives_as_its_datagrams_in_order_the_last_shorter() {
        if !gro_here() {
            return;
        }
        let receiver = loopback(Family::V4);
        let to: SocketAddr = receiver.local_addr().unwrap();
        let sender = raw_gso_sender(1, 100);
        let mut sizes = vec![100; 63];
        sizes.push(37);
        let buffer = numbered(7, 0, &sizes);
        assert_eq!(sender.send_to(&buffer, &to.into()).unwrap(), buffer.len());
        let received = receive_all(&receiver, 64);
        assert_eq!(received.len(), 64);
        for (number, (payload, datagram)) in received.iter().enumerate() {
            assert_eq!(*payload, datagram_bytes(7, number as u16, sizes[number]));
            assert_eq!(datagram.len as usize, sizes[number]);
            assert_eq!(
                datagram.source,
                sender.local_addr().unwrap().as_socket().unwrap()
            );
        }
        let stats = receiver.stats();
        assert_eq!(
            stats.coalesced_buffers, 1,
            "GRO handed the buffer over whole"
        );
        assert_eq!(
            (stats.received_datagrams, stats.received_bytes),
            (64, buffer.len() as u64)
        );
    }

    #[test]
    fn interleaved_senders_and_mixed_sizes_each_arrive_once_intact_in_order() {
        if !gro_here() {
            return;
        }
        let receiver = loopback(Family::V4);
        receiver.recv_buffer_size(4 << 20).unwrap();
        let to: SocketAddr = receiver.local_addr().unwrap();
        // Three senders: raw UDP_SEGMENT buffers of 3 sizes, one also sending
        // single datagrams between its buffers, and fastdgram's own sender
        // (sendmmsg with GSO runs) with a mix of sizes in one call.
        let raw: Vec<(u8, Socket, usize)> = [(1, 1_200), (2, 64), (3, 333)]
            .into_iter()
            .map(|(host, size)| (host, raw_gso_sender(host, size as c_int), size))
            .collect();
        let mixed = UdpSocket::bound(Family::V4, "127.0.0.4", 0, Default::default()).unwrap();
        let mut expected: std::collections::HashMap<SocketAddr, Vec<Vec<u8>>> = Default::default();
        let mut next = [0u16; 5];
        for round in 0..8 {
            for (host, sender, size) in &raw {
                let count = 1 + (round * 7 + *host as usize) % 40;
                let mut sizes = vec![*size; count];
                sizes[count - 1] = 1 + (round * 13) % *size;
                let tag = *host;
                let buffer = numbered(tag, next[tag as usize], &sizes);
                sender.send_to(&buffer, &to.into()).unwrap();
                let from = sender.local_addr().unwrap().as_socket().unwrap();
                let list = expected.entry(from).or_default();
                for &size in &sizes {
                    list.push(datagram_bytes(tag, next[tag as usize], size));
                    next[tag as usize] += 1;
                }
            }
            // Sender 2 also sends a single datagram between its buffers.
            let (_, single, _) = &raw[1];
            let alone = datagram_bytes(2, next[2], 5);
            next[2] += 1;
            single.send_to(&alone, &to.into()).unwrap();
            expected
                .entry(single.local_addr().unwrap().as_socket().unwrap())
                .or_default()
                .push(alone);
            let sizes = [500, 500, 500, 20, 900, 900, 1, 64, 64, 64];
            let payloads: Vec<Vec<u8>> = sizes
                .iter()
                .map(|&size| {
                    next[4] += 1;
                    datagram_bytes(4, next[4] - 1, size)
                })
                .collect();
            let outgoing: Vec<Outgoing<'_>> = payloads
                .iter()
                .map(|data| Outgoing {
                    data,
                    to: Some(to),
                    from: None,
                })
                .collect();
            let results = mixed.try_send_batch(&outgoing);
            assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
            expected
                .entry(mixed.local_addr().unwrap())
                .or_default()
                .extend(payloads);
        }
        let total: usize = expected.values().map(Vec::len).sum();
        let received = receive_all(&receiver, total);
        assert_eq!(received.len(), total);
        let mut by_source: std::collections::HashMap<SocketAddr, Vec<Vec<u8>>> = Default::default();
        for (payload, datagram) in received {
            assert_eq!(datagram.len as usize, payload.len());
            by_source.entry(datagram.source).or_default().push(payload);
        }
        assert_eq!(by_source, expected);
        assert!(receiver.stats().coalesced_buffers > 0);
    }

    #[test]
    fn coalesced_datagrams_carry_their_destination_and_are_blocked_by_source() {
        if !gro_here() {
            return;
        }
        let receiver = loopback(Family::V4);
        receiver.set_receive_destination(true).unwrap();
        let blocked = crate::BlockList::from_rules(&["Address: IPv4 127.0.0.2"]).unwrap();
        receiver.set_receive_block_list(Some(blocked));
        let to: SocketAddr = receiver.local_addr().unwrap();
        let good = raw_gso_sender(1, 10);
        let bad = raw_gso_sender(2, 10);
        for round in 0..4u16 {
            bad.send_to(&numbered(2, round * 5, &[10; 5]), &to.into())
                .unwrap();
            good.send_to(&numbered(1, round * 5, &[10, 10, 10, 10, 4]), &to.into())
                .unwrap();
        }
        let received = receive_all(&receiver, 20);
        assert_eq!(received.len(), 20);
        for (number, (payload, datagram)) in received.iter().enumerate() {
            let size = if number % 5 == 4 { 4 } else { 10 };
            assert_eq!(*payload, datagram_bytes(1, number as u16, size));
            assert_eq!(datagram.local, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        }
        let stats = receiver.stats();
        assert_eq!(
            (stats.received_datagrams, stats.blocked_datagrams),
            (20, 20)
        );
        assert_eq!(stats.coalesced_buffers, 8);
    }

    /// Linux counts a coalesced buffer it dropped once (`sk_drops`), not per
    /// datagram: with GRO, `kernel_drops` counts buffers (README, stats()).
    #[test]
    fn with_gro_the_kernel_counts_a_dropped_buffer_once() {
        if !gro_here() {
            return;
        }
        let receiver = loopback(Family::V4);
        receiver.recv_buffer_size(8192).unwrap();
        let to: SocketAddr = receiver.local_addr().unwrap();
        let sender = raw_gso_sender(1, 100);
        let (buffers, per_buffer) = (200, 10);
        for _ in 0..buffers {
            sender.send_to(&[1u8; 1_000], &to.into()).unwrap();
        }
        let first = receive_all(&receiver, buffers * per_buffer).len();
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.send_to(b"probe", to).unwrap();
        receive_all(&receiver, 1);
        let stats = receiver.stats();
        assert!(
            first < buffers * per_buffer && first.is_multiple_of(per_buffer),
            "{first}"
        );
        assert_eq!(
            first as u64 + stats.kernel_drops * per_buffer as u64,
            (buffers * per_buffer) as u64
        );
    }

    #[test]
    fn an_adopted_socket_gets_no_gro() {
        let plain = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let adopted = UdpSocket::from_std(plain).unwrap();
        let made = loopback(Family::V4);
        let gro = |socket: &UdpSocket| int_option(&socket.sock(), libc::SOL_UDP, libc::UDP_GRO);
        assert_eq!(gro(&adopted).unwrap(), 0);
        assert_eq!(gro(&made).unwrap(), i32::from(capabilities().gro));
    }

    #[test]
    fn the_probe_finds_what_this_kernel_has() {
        let found = capabilities();
        assert_eq!(found.batched_receive, !ONE_MESSAGE_AT_A_TIME);
        // Every kernel these tests run on has had these for a decade.
        assert!(found.destination_address && found.kernel_drops);
        assert!(found.dont_fragment && found.reuse_port_balancing);
    }
}
