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
///
/// Datagrams whose source a block list matched are left out of the view.
pub struct BatchView<'a> {
    scratch: &'a Scratch,
    /// Datagrams the receive call returned, kept or not.
    received: usize,
}

impl BatchView<'_> {
    /// The datagrams kept.
    pub fn len(&self) -> usize {
        self.scratch.kept_count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the receive call took as many datagrams as it could: more may be waiting.
    pub fn is_full(&self) -> bool {
        self.received == BATCH_CAPACITY
    }

    /// Datagrams left out because a block list matched their source.
    pub fn blocked(&self) -> usize {
        self.received - self.len()
    }

    /// The kernel's count of datagrams it dropped for this socket, when the
    /// batch carried one (Linux reports it only once there were drops).
    pub fn kernel_drops(&self) -> Option<u32> {
        self.scratch.kernel_drops
    }

    fn kept(&self) -> impl Iterator<Item = usize> + '_ {
        self.scratch.kept[..self.len()]
            .iter()
            .map(|&index| usize::from(index))
    }

    /// Sum of the payload lengths.
    pub fn total_len(&self) -> usize {
        self.kept()
            .map(|index| self.scratch.meta[index].len as usize)
            .sum()
    }

    /// Each datagram in arrival order.
    pub fn datagrams(&self) -> impl Iterator<Item = Received<'_>> {
        self.kept().map(move |index| {
            let meta = &self.scratch.meta[index];
            let start = index * SLOT_SIZE;
            Received {
                payload: &self.scratch.slots[start..start + meta.len as usize],
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

/// Receive slots and their bookkeeping, shared by every socket served by one
/// thread. Allocated on first use; the pages a small datagram never touches
/// stay unbacked.
struct Scratch {
    slots: ReceiveMemory,
    meta: [RecvMeta; BATCH_CAPACITY],
    kernel_drops: Option<u32>,
    /// Indices of the datagrams not blocked, in order.
    kept: [u8; BATCH_CAPACITY],
    kept_count: usize,
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
            kept: [0; BATCH_CAPACITY],
            kept_count: 0,
            headers,
        })
    }

    /// Fills the slots from `socket`: how many datagrams came.
    fn receive(&mut self, socket: &Socket) -> io::Result<usize> {
        let received = sys::receive(socket, &mut self.headers, &mut self.slots, &mut self.meta)?;
        self.kernel_drops = received.kernel_drops;
        Ok(received.count)
    }

    /// Leaves out the first `received` datagrams whose source `blocked` matches.
    fn keep_unblocked(&mut self, received: usize, blocked: Option<&BlockList>) {
        let mut count = 0;
        for index in 0..received {
            let source = self.meta[index].source.ip();
            if blocked.is_some_and(|list| list.blocks(&source)) {
                continue;
            }
            self.kept[count] = index as u8;
            count += 1;
        }
        self.kept_count = count;
    }
}

// Already `const`: clippy 1.96 still flags it where the standard library
// builds thread locals on OS keys (x86_64-pc-windows-gnu).
thread_local! {
    #[allow(clippy::missing_const_for_thread_local)]
    static SCRATCH: RefCell<Option<Box<Scratch>>> = const { RefCell::new(None) };
}

/// Reads every datagram that is ready on the non-blocking `socket`, up to
/// [`BATCH_CAPACITY`], and hands them to `f` in place, without those from
/// sources that `blocked` matches. `WouldBlock` when none is ready. `f` must
/// not receive on this thread again.
pub(crate) fn with_received<R>(
    socket: &Socket,
    blocked: Option<&BlockList>,
    f: impl FnOnce(&BatchView<'_>) -> R,
) -> io::Result<R> {
    SCRATCH.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| io::Error::from(io::ErrorKind::ResourceBusy))?;
        let scratch = slot.get_or_insert_with(Scratch::new);
        let received = scratch.receive(socket)?;
        scratch.keep_unblocked(received, blocked);
        Ok(f(&BatchView { scratch, received }))
    })
}
