//! UDP sockets with batched receive and direct, non-blocking send.
//!
//! This crate knows nothing of Node.js. It creates and configures sockets with
//! `socket2`, sends straight from the calling thread, and receives every
//! ready datagram (`recvmmsg` on Linux) into one [`Batch`] on the thread that
//! asks — the binding asks on the JavaScript thread when libuv's poll reports
//! the socket readable. Its shared tokio I/O thread serves sends that must
//! wait, and a receiver ([`Receiver`]) for hosts where libuv cannot be reached.
//! Everything that differs between operating systems is in `sys/` (see its
//! `mod.rs`): what this build does on this machine is [`capabilities()`],
//! and errors carry the OS's numbers, which [`Errno`] and [`uv_error_code`]
//! turn into libuv's.
//!
//! ```no_run
//! use fastdgram_core::{BindFlags, Family, UdpSocket};
//! let socket = UdpSocket::bound(Family::V4, "127.0.0.1", 0, BindFlags::default()).unwrap();
//! let port = socket.local_addr().unwrap().port();
//! socket.try_send(&[b"hi".as_slice()], Some(("127.0.0.1", port))).unwrap();
//! ```

mod address;
mod batch;
mod block_list;
mod handle_type;
mod ip_options;
mod receiver;
mod runtime;
mod send_queue;
mod socket;
mod stats;
mod sys;
#[cfg(test)]
mod test_support;

pub use address::{display_address, parse_ip, parse_socket_addr, Family};
pub use batch::{Batch, BatchView, Datagram, Received, BATCH_CAPACITY};
pub use block_list::BlockList;
pub use handle_type::HandleType;
pub use ip_options::path_mtu_to;
pub use receiver::{Credit, Receiver, ReceiverEvent, ReceiverLimits};
pub use runtime::runtime;
pub use send_queue::{Queued, SendQueue};
pub use socket::{BindFlags, Outgoing, UdpSocket};
pub use stats::StatsSnapshot;
pub use sys::{
    capabilities, error_from_uv, find_symbol, guess_descriptor_type, guess_handle_type,
    implementation, libuv_rules, raw_socket_from_descriptor, uv_error_code, Capabilities, Errno,
    LibuvRules, RawSocket,
};

/// Largest UDP payload a datagram can carry (65,535 minus the 8-byte UDP header).
pub const MAX_DATAGRAM_SIZE: usize = 65_527;
