//! Sending several datagrams per system call: `sendmmsg` on Linux, with runs
//! of equal-sized datagrams to one destination sent as one UDP GSO
//! super-datagram (`UDP_SEGMENT`) that the kernel splits into the same
//! datagrams. Where GSO is refused, the datagrams go one by one instead and
//! GSO is not tried again. A datagram with a chosen source address carries it
//! as an `IP_PKTINFO` / `IPV6_PKTINFO` control message (Linux only).

use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::AsRawFd;

use socket2::{SockAddr, Socket};

use crate::socket::{no_buffer_space_is_would_block, Outgoing};

/// Most headers handed to one `sendmmsg` call.
#[cfg(target_os = "linux")]
const PER_CALL: usize = 64;

/// Sends a prefix of `datagrams` (at least one, or an error for the first):
/// the byte counts of those sent, one per datagram.
#[cfg(target_os = "linux")]
pub(crate) fn send_some(socket: &Socket, datagrams: &[Outgoing<'_>]) -> io::Result<Vec<usize>> {
    linux::send_some(socket, datagrams, gso::available()).map_err(no_buffer_space_is_would_block)
}

/// Portable fallback: one `sendto` per call.
#[cfg(not(target_os = "linux"))]
pub(crate) fn send_some(socket: &Socket, datagrams: &[Outgoing<'_>]) -> io::Result<Vec<usize>> {
    Ok(vec![send_one(socket, &datagrams[0])?])
}

/// Sends one datagram now: its byte count, or an error (`WouldBlock` too).
pub(crate) fn send_one(socket: &Socket, datagram: &Outgoing<'_>) -> io::Result<usize> {
    if datagram.from.is_some() {
        return send_one_from(socket, datagram);
    }
    let sent = match datagram.to {
        Some(to) => socket.send_to(datagram.data, &SockAddr::from(to)),
        None => socket.send(datagram.data),
    };
    sent.map_err(no_buffer_space_is_would_block)
}

/// Only a message header can carry the source address.
#[cfg(target_os = "linux")]
fn send_one_from(socket: &Socket, datagram: &Outgoing<'_>) -> io::Result<usize> {
    let sent = linux::send_some(socket, std::slice::from_ref(datagram), false)
        .map_err(no_buffer_space_is_would_block)?;
    sent.first()
        .copied()
        .ok_or_else(|| io::Error::from(io::ErrorKind::WouldBlock))
}

#[cfg(not(target_os = "linux"))]
fn send_one_from(_socket: &Socket, _datagram: &Outgoing<'_>) -> io::Result<usize> {
    Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP))
}

#[cfg(target_os = "linux")]
mod gso {
    use std::io;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;

    /// Linux's UDP_MAX_SEGMENTS.
    pub const MAX_SEGMENTS: usize = 64;
    /// Payload bytes of one super-datagram: what one UDP datagram may carry
    /// over IPv4 (65,535 − 20 − 8), the smaller of the two families.
    pub const MAX_BYTES: usize = 65_507;

    static REFUSED: AtomicBool = AtomicBool::new(false);
    static SWITCHED_OFF: OnceLock<bool> = OnceLock::new();

    /// Off where the kernel refused it, or by `FASTDGRAM_NO_GSO=1` (for
    /// measuring what GSO contributes).
    pub fn available() -> bool {
        let switched_off =
            *SWITCHED_OFF.get_or_init(|| std::env::var_os("FASTDGRAM_NO_GSO").is_some());
        !switched_off && !REFUSED.load(Ordering::Relaxed)
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

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use std::net::IpAddr;

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

    /// How many datagrams from the first can form one GSO run: same
    /// destination, same source address, same size (the last may be shorter,
    /// not empty), within the kernel's limits.
    fn run_length(datagrams: &[Outgoing<'_>]) -> usize {
        let first = &datagrams[0];
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
                || count == gso::MAX_SEGMENTS
                || bytes + len > gso::MAX_BYTES
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

    /// Room for a header's control messages: `UDP_SEGMENT` (a u16) and a
    /// packet info (`in6_pktinfo` at most), each padded as `CMSG_SPACE`
    /// says; u64s for the alignment `cmsghdr` needs.
    type ControlBuffer = [u64; 8];

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
        let mut controls: Vec<ControlBuffer> = vec![[0; 8]; groups.len()];
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
            header.msg_hdr.msg_iovlen = group.count;
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
                headers.len() as u32,
                libc::MSG_DONTWAIT,
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
        control: &mut ControlBuffer,
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
        control: &mut ControlBuffer,
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
        assert!(offset + space <= std::mem::size_of::<ControlBuffer>());
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
            assert!(gso::available(), "this kernel does UDP GSO on loopback");
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
        fn send_one_carries_from_too() {
            let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            receiver
                .set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let to = receiver.local_addr().unwrap().to_string();
            let sender = wildcard_sender();
            let datagram = Outgoing {
                from: Some("127.0.0.3".parse().unwrap()),
                ..outgoing(b"x", &to)
            };
            assert_eq!(send_one(&sender, &datagram).unwrap(), 1);
            assert_eq!(
                receive(&receiver, 1),
                vec![(b"x".to_vec(), "127.0.0.3".parse().unwrap())]
            );
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
