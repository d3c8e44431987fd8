//! What one socket has done: counters cheap enough to keep on all the time
//! (relaxed atomic adds, a few per batch rather than per datagram).

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct SocketStats {
    received_datagrams: AtomicU64,
    received_bytes: AtomicU64,
    received_batches: AtomicU64,
    coalesced_buffers: AtomicU64,
    blocked_datagrams: AtomicU64,
    receive_errors: AtomicU64,
    sent_datagrams: AtomicU64,
    sent_bytes: AtomicU64,
    send_errors: AtomicU64,
    kernel_drops: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub received_datagrams: u64,
    pub received_bytes: u64,
    pub received_batches: u64,
    /// Buffers of several datagrams the kernel handed over whole (receive
    /// offload, `UDP_GRO`), each split into its datagrams, which
    /// `received_datagrams` counts.
    pub coalesced_buffers: u64,
    /// Dropped here because a block list matched their source.
    pub blocked_datagrams: u64,
    pub receive_errors: u64,
    pub sent_datagrams: u64,
    pub sent_bytes: u64,
    pub send_errors: u64,
    /// Datagrams the kernel dropped for this socket (its receive buffer was
    /// full), as last reported with a received datagram (`SO_RXQ_OVFL`).
    pub kernel_drops: u64,
}

/// What one received batch adds to the counters.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BatchCounts {
    pub datagrams: usize,
    pub bytes: usize,
    pub blocked: usize,
    pub coalesced: usize,
}

fn add(counter: &AtomicU64, amount: u64) {
    counter.fetch_add(amount, Ordering::Relaxed);
}

impl SocketStats {
    pub(crate) fn note_batch(&self, batch: BatchCounts) {
        add(&self.received_batches, 1);
        add(&self.received_datagrams, batch.datagrams as u64);
        add(&self.received_bytes, batch.bytes as u64);
        if batch.blocked > 0 {
            add(&self.blocked_datagrams, batch.blocked as u64);
        }
        if batch.coalesced > 0 {
            add(&self.coalesced_buffers, batch.coalesced as u64);
        }
    }

    pub(crate) fn note_receive_error(&self) {
        add(&self.receive_errors, 1);
    }

    pub(crate) fn note_sent(&self, bytes: usize) {
        self.note_sent_many(1, bytes);
    }

    /// One update for a whole batch sent in one call.
    pub(crate) fn note_sent_many(&self, datagrams: usize, bytes: usize) {
        add(&self.sent_datagrams, datagrams as u64);
        add(&self.sent_bytes, bytes as u64);
    }

    pub(crate) fn note_send_error(&self) {
        add(&self.send_errors, 1);
    }

    /// The kernel's count is cumulative for the socket: keep the largest seen.
    pub(crate) fn note_kernel_drops(&self, total: u32) {
        self.kernel_drops
            .fetch_max(u64::from(total), Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        StatsSnapshot {
            received_datagrams: read(&self.received_datagrams),
            received_bytes: read(&self.received_bytes),
            received_batches: read(&self.received_batches),
            coalesced_buffers: read(&self.coalesced_buffers),
            blocked_datagrams: read(&self.blocked_datagrams),
            receive_errors: read(&self.receive_errors),
            sent_datagrams: read(&self.sent_datagrams),
            sent_bytes: read(&self.sent_bytes),
            send_errors: read(&self.send_errors),
            kernel_drops: read(&self.kernel_drops),
        }
    }
}
