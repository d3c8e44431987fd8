//! Sending several datagrams per system call: `sendmmsg` on Linux, with runs
//! of equal-sized datagrams to one destination sent as one UDP GSO
//! super-datagram (`UDP_SEGMENT`) that the kernel splits into the same
//! datagrams. Where GSO is refused, the datagrams go one by one instead and
//! GSO is not tried again.

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
    let first = &datagrams[0];
    let sent = match first.to {
        Some(to) => socket.send_to(first.data, &SockAddr::from(to)),
        None => socket.send(first.data),
    };
    Ok(vec![sent.map_err(no_buffer_space_is_would_block)?])
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

    /// Datagrams `start..start + count` sent with one header: one datagram,
    /// or (`segment > 0`) a GSO run of `segment`-byte datagrams, the last
    /// possibly shorter.
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
    /// destination, same size (the last may be shorter, not empty), within
    /// the kernel's limits.
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

    /// Room for one control message carrying a u16, 8-byte aligned.
    type ControlBuffer = [u64; 4];

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
        let mut controls: Vec<ControlBuffer> = vec![[0; 4]; groups.len()];
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
            if group.segment > 0 {
                // SAFETY: the control buffer has room for CMSG_SPACE(2) bytes.
                unsafe { set_segment_size(&mut header.msg_hdr, control, group.segment) };
            }
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

    /// Attaches `UDP_SEGMENT` = `segment` to `header`, in `control`.
    unsafe fn set_segment_size(
        header: &mut libc::msghdr,
        control: &mut ControlBuffer,
        segment: u16,
    ) {
        unsafe {
            header.msg_control = control.as_mut_ptr().cast();
            header.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<u16>() as u32) as usize;
            let message = libc::CMSG_FIRSTHDR(header);
            (*message).cmsg_level = libc::SOL_UDP;
            (*message).cmsg_type = libc::UDP_SEGMENT;
            (*message).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<u16>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(message).cast::<u16>(), segment);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::net::SocketAddr;

        fn outgoing<'a>(data: &'a [u8], to: &str) -> Outgoing<'a> {
            Outgoing {
                data,
                to: Some(to.parse::<SocketAddr>().unwrap()),
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
