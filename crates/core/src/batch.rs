//! Draining every ready datagram of a socket in one go.

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};

use socket2::Socket;

use crate::block_list::BlockList;
use crate::sys::{self, ReceiveHeaders, ReceiveMemory, RecvMeta, SLOT_SIZE};

pub use crate::sys::BATCH_CAPACITY;

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
/// A coalesced buffer (receive offload) is already split into its datagrams.
///
/// Datagrams whose source a block list matched are left out of the view.
pub struct BatchView<'a> {
    scratch: &'a Scratch,
}

impl BatchView<'_> {
    /// The datagrams kept.
    pub fn len(&self) -> usize {
        self.scratch.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the receive call read as many messages as it was allowed to:
    /// more may be waiting.
    pub fn is_full(&self) -> bool {
        self.scratch.messages == self.scratch.limit
    }

    /// Datagrams left out because a block list matched their source.
    pub fn blocked(&self) -> usize {
        self.scratch.datagrams - self.len()
    }

    /// Slots that held a coalesced buffer of more than one datagram.
    pub fn coalesced(&self) -> usize {
        self.scratch.coalesced
    }

    /// The kernel's count of datagrams it dropped for this socket, when the
    /// batch carried one (Linux reports it only once there were drops).
    pub fn kernel_drops(&self) -> Option<u32> {
        self.scratch.kernel_drops
    }

    /// Sum of the payload lengths.
    pub fn total_len(&self) -> usize {
        self.scratch
            .kept
            .iter()
            .map(|piece| piece.len as usize)
            .sum()
    }

    /// Each datagram in arrival order.
    pub fn datagrams(&self) -> impl Iterator<Item = Received<'_>> {
        self.scratch.kept.iter().map(move |piece| {
            let meta = &self.scratch.meta[usize::from(piece.slot)];
            let start = piece.start as usize;
            Received {
                payload: &self.scratch.slots[start..start + piece.len as usize],
                source: meta.source,
                local: meta.local,
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

/// Where one datagram lies in the receive slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    /// Its slot (whose metadata it shares with the rest of a coalesced buffer).
    slot: u8,
    /// Offset in the receive memory, and length.
    start: u32,
    len: u32,
}

/// The datagrams a slot of `len` bytes holds: itself, or with a segment
/// size from receive offload, `segment_size`-byte pieces, the last one
/// possibly shorter. Each as (offset, length).
fn segments(len: u32, segment_size: u32) -> impl Iterator<Item = (u32, u32)> {
    let step = match segment_size {
        0 => len.max(1),
        size => size.min(len.max(1)),
    };
    let count = len.div_ceil(step).max(1);
    (0..count).map(move |index| {
        let offset = index * step;
        (offset, step.min(len - offset))
    })
}

/// Receive slots and their bookkeeping, shared by every socket served by one
/// thread. Allocated on first use; the pages a small datagram never touches
/// stay unbacked.
struct Scratch {
    slots: ReceiveMemory,
    meta: [RecvMeta; BATCH_CAPACITY],
    kernel_drops: Option<u32>,
    /// Slots the last receive call filled.
    messages: usize,
    /// Slots it was allowed to fill.
    limit: usize,
    /// Datagrams in them, kept or not.
    datagrams: usize,
    /// Slots among them that held more than one datagram.
    coalesced: usize,
    /// The datagrams not blocked, in order. The kernel coalesces at most
    /// `UDP_MAX_SEGMENTS` datagrams per buffer (64; 128 since Linux 6.9),
    /// so this stays within a few thousand entries.
    kept: Vec<Piece>,
    headers: ReceiveHeaders,
}

impl Scratch {
    fn new() -> Box<Scratch> {
        let mut slots = ReceiveMemory::new();
        let headers = ReceiveHeaders::new(&mut slots);
        Box::new(Scratch {
            slots,
            meta: [RecvMeta::default(); BATCH_CAPACITY],
            kernel_drops: None,
            messages: 0,
            limit: BATCH_CAPACITY,
            datagrams: 0,
            coalesced: 0,
            kept: Vec::with_capacity(BATCH_CAPACITY),
            headers,
        })
    }

    /// Fills up to `limit` slots from `socket`: how many slots were filled.
    fn receive(&mut self, socket: &Socket, limit: usize) -> io::Result<usize> {
        let limit = limit.clamp(1, BATCH_CAPACITY);
        let received = sys::receive(
            socket,
            &mut self.headers,
            &mut self.slots,
            &mut self.meta,
            limit,
        )?;
        self.limit = limit;
        self.kernel_drops = received.kernel_drops;
        Ok(received.count)
    }

    /// Splits the first `messages` slots into their datagrams, leaving out
    /// those whose source `blocked` matches.
    fn keep_unblocked(&mut self, messages: usize, blocked: Option<&BlockList>) {
        self.kept.clear();
        self.messages = messages;
        self.datagrams = 0;
        self.coalesced = 0;
        for (slot, meta) in self.meta[..messages].iter().enumerate() {
            let base = (slot * SLOT_SIZE) as u32;
            let before = self.kept.len();
            let pieces = segments(meta.len, meta.segment_size).map(|(offset, len)| Piece {
                slot: slot as u8,
                start: base + offset,
                len,
            });
            self.kept.extend(pieces);
            let count = self.kept.len() - before;
            self.datagrams += count;
            self.coalesced += usize::from(count > 1);
            let source = meta.source.ip();
            if blocked.is_some_and(|list| list.blocks(&source)) {
                self.kept.truncate(before);
            }
        }
    }
}

// Already `const`: clippy 1.96 still flags it where the standard library
// builds thread locals on OS keys (x86_64-pc-windows-gnu).
thread_local! {
    #[allow(clippy::missing_const_for_thread_local)]
    static SCRATCH: RefCell<Option<Box<Scratch>>> = const { RefCell::new(None) };
}

/// Reads the datagrams that are ready on the non-blocking `socket`, up to
/// `limit` messages (1 to [`BATCH_CAPACITY`]), and hands them to `f` in
/// place, without those from sources that `blocked` matches. `WouldBlock`
/// when none is ready. `f` must not receive on this thread again.
pub(crate) fn with_received<R>(
    socket: &Socket,
    blocked: Option<&BlockList>,
    limit: usize,
    f: impl FnOnce(&BatchView<'_>) -> R,
) -> io::Result<R> {
    SCRATCH.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| io::Error::from(io::ErrorKind::ResourceBusy))?;
        let scratch = slot.get_or_insert_with(Scratch::new);
        let messages = scratch.receive(socket, limit)?;
        scratch.keep_unblocked(messages, blocked);
        Ok(f(&BatchView { scratch }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{loopback, receive_all};
    use crate::Family;

    fn split(len: u32, segment_size: u32) -> Vec<(u32, u32)> {
        segments(len, segment_size).collect()
    }

    #[test]
    fn a_slot_without_a_segment_size_is_one_datagram() {
        assert_eq!(split(1_200, 0), vec![(0, 1_200)]);
        assert_eq!(split(0, 0), vec![(0, 0)], "an empty datagram is one too");
    }

    #[test]
    fn a_coalesced_buffer_splits_into_segments_the_last_possibly_shorter() {
        assert_eq!(split(300, 100), vec![(0, 100), (100, 100), (200, 100)]);
        assert_eq!(split(250, 100), vec![(0, 100), (100, 100), (200, 50)]);
        assert_eq!(split(64 * 1_472, 1_472).len(), 64);
    }

    #[test]
    fn a_limited_receive_leaves_the_rest_in_the_kernel_queue() {
        let receiver = loopback(Family::V4);
        let sender = loopback(Family::V4);
        let to = receiver.local_addr().unwrap();
        for i in 0..3u8 {
            sender
                .try_send(&[&[i]], Some(("127.0.0.1", to.port())))
                .unwrap();
        }
        // Loopback delivers at once; a bounded wait covers a slow machine.
        let mut first = None;
        for _ in 0..500 {
            match receiver.try_receive_up_to(1, |view| (view.len(), view.is_full())) {
                Ok(read) => {
                    first = Some(read);
                    break;
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(2))
                }
                Err(err) => panic!("{err}"),
            }
        }
        assert_eq!(first, Some((1, true)), "one datagram, and more may wait");
        let rest: Vec<Vec<u8>> = receive_all(&receiver, 2)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(rest, vec![vec![1], vec![2]]);
    }

    #[test]
    fn a_segment_size_of_the_whole_buffer_or_more_is_one_datagram() {
        assert_eq!(split(100, 100), vec![(0, 100)]);
        assert_eq!(split(100, 4_000), vec![(0, 100)]);
        assert_eq!(split(0, 100), vec![(0, 0)]);
    }
}
