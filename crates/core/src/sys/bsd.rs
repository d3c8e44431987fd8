//! macOS and FreeBSD: one `recvmsg` per datagram (the loop in `unix.rs`,
//! which Linux test builds run too), each datagram's destination the way
//! these kernels report it — an `in_addr` under `IP_RECVDSTADDR` for IPv4,
//! an `in6_pktinfo` under `IPV6_PKTINFO` for IPv6 (an IPv4 datagram on a
//! dual-stack socket as its mapped address) — one `sendto` per datagram,
//! and on FreeBSD `SO_REUSEPORT_LB`. Not here (yet): choosing a datagram's
//! source address (FreeBSD `IP_SENDSRCADDR`), the drop count, path-MTU
//! discovery, and FreeBSD's `recvmmsg` / `sendmmsg`.

use std::io;

use socket2::Socket;

use super::unix::{self, ControlKind, ControlKinds};
use super::{Capabilities, Errno, Received, RecvMeta, BATCH_CAPACITY};
use crate::address::Family;

pub(crate) use super::unix::MessageHeaders as ReceiveHeaders;
pub(crate) use super::unix::Registration;

pub(super) const NAME: &str = "bsd";

const CONTROL: ControlKinds = ControlKinds {
    v4_destination: ControlKind {
        level: libc::IPPROTO_IP,
        kind: libc::IP_RECVDSTADDR,
        offset: 0,
    },
    v6_destination: ControlKind {
        level: libc::IPPROTO_IPV6,
        kind: libc::IPV6_PKTINFO,
        offset: std::mem::offset_of!(libc::in6_pktinfo, ipi6_addr),
    },
    kernel_drops: None,
    segment_size: None,
};

// unix.rs's tests build control messages with these numbers (Linux has no
// IP_RECVDSTADDR to take them from); here they are checked against this
// platform's, whenever macOS or FreeBSD is compiled (npm run check:targets).
const _: () = assert!(
    CONTROL.v4_destination.level == 0
        && CONTROL.v4_destination.kind == 7
        && CONTROL.v4_destination.offset == 0
        && CONTROL.v6_destination.level == 41
        && CONTROL.v6_destination.kind == 46
        && CONTROL.v6_destination.offset == 0
);

pub(super) fn receive(
    socket: &Socket,
    headers: &mut ReceiveHeaders,
    slots: &mut [u8],
    meta: &mut [RecvMeta; BATCH_CAPACITY],
    limit: usize,
) -> io::Result<Received> {
    headers.receive(socket, slots, meta, &CONTROL, limit)
}

pub(super) use super::{send_first_only as send_batch, send_one_without_source as send_one};

pub(super) fn report_kernel_drops(_socket: &Socket) -> io::Result<()> {
    Err(Errno::ENOTSUP.error())
}

pub(super) fn set_receive_destination(socket: &Socket, family: Family, on: bool) -> io::Result<()> {
    match family {
        Family::V4 => unix::set_flag(socket, libc::IPPROTO_IP, libc::IP_RECVDSTADDR, on),
        Family::V6 => unix::set_flag(socket, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, on),
    }
}

/// reusePort as libuv sets it: only where the kernel spreads datagrams
/// over the sockets sharing a port (FreeBSD's `SO_REUSEPORT_LB`). macOS's
/// `SO_REUSEPORT` means something else (the newest socket takes all the
/// traffic), so there the bind fails with `ENOTSUP`.
pub(super) fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    #[cfg(target_os = "freebsd")]
    return socket.set_reuse_port_lb(true);
    #[cfg(not(target_os = "freebsd"))]
    {
        let _ = socket;
        Err(Errno::ENOTSUP.error())
    }
}

pub(super) fn set_dont_fragment(_socket: &Socket, _family: Family) -> io::Result<()> {
    Err(Errno::ENOTSUP.error())
}

pub(super) fn connected_path_mtu(_socket: &Socket, _family: Family) -> io::Result<u32> {
    Err(Errno::ENOTSUP.error())
}

pub(super) fn capabilities() -> Capabilities {
    static PROBED: std::sync::OnceLock<Capabilities> = std::sync::OnceLock::new();
    *PROBED.get_or_init(probe)
}

fn probe() -> Capabilities {
    let probe = unix::probe_socket();
    let accepts = |level, name| {
        probe
            .as_ref()
            .is_some_and(|probe| unix::set_flag(probe, level, name, true).is_ok())
    };
    #[cfg(target_os = "freebsd")]
    let reuse_port_balancing = accepts(libc::SOL_SOCKET, libc::SO_REUSEPORT_LB);
    #[cfg(not(target_os = "freebsd"))]
    let reuse_port_balancing = false;
    Capabilities {
        batched_receive: false,
        batched_send: false,
        gso_segments: 1,
        source_address: false,
        destination_address: accepts(libc::IPPROTO_IP, libc::IP_RECVDSTADDR),
        kernel_drops: false,
        dont_fragment: false,
        reuse_port_balancing,
        gro: false,
    }
}

pub(super) fn enable_gro(_socket: &Socket) -> bool {
    false
}
