//! The portable implementation: socket2 and tokio only, one datagram per
//! call, no option that needs the OS's own calls (those fail with
//! `ENOTSUP`, sources chosen per datagram with `EOPNOTSUPP`). It is what
//! an OS without a file of its own compiles; on Linux a
//! `fastdgram_sys="fallback"` build runs the core's tests on it, and on
//! Windows one runs it over `windows.rs`'s basics (`os`).

use std::io;
use std::mem::MaybeUninit;

use socket2::Socket;

use super::{Capabilities, Errno, Received, RecvMeta, BATCH_CAPACITY, SLOT_SIZE};
use crate::address::Family;

pub(super) const NAME: &str = "fallback";

// Readiness: as every platform without a file of its own does it.
pub(crate) use super::readiness::Registration;

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
    limit: usize,
) -> io::Result<Received> {
    let mut count = 0;
    while count < limit {
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

pub(super) use super::{send_first_only as send_batch, send_one_without_source as send_one};

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
