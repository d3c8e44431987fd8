//! Everything the I/O thread reports to JavaScript goes through one
//! threadsafe function per socket, as a `NativeEvent`.

use std::io;
use std::net::{IpAddr, SocketAddr};

use fastdgram_core::{display_address, Batch, Credit, ReceiverEvent};
use napi::bindgen_prelude::{Buffer, FnArgs, Function, Uint32Array};
use napi::threadsafe_function::{ThreadsafeCallContext, ThreadsafeFunction};
use napi::Result;

/// Event kinds, as the wrapper's `onNativeEvent` sees them.
pub const KIND_BATCH: u32 = 0;
pub const KIND_RECEIVE_ERROR: u32 = 1;
pub const KIND_SEND_DONE: u32 = 2;

/// Per-datagram words in the metadata array: length, port (with the IPv6
/// flag in bit 16), index of the source address in the address list.
pub const META_WORDS: usize = 3;
const IPV6_FLAG: u32 = 1 << 16;

pub enum NativeEvent {
    Received(ReceiverEvent, Credit),
    SendDone { id: u32, result: io::Result<usize> },
}

/// The arguments `onNativeEvent(kind, a, b, data, meta, addresses)` receives.
pub type EventArgs = FnArgs<(
    u32,
    i32,
    i32,
    Option<Buffer>,
    Option<Uint32Array>,
    Option<Vec<String>>,
)>;

pub type EventsFn = ThreadsafeFunction<NativeEvent, (), EventArgs, napi::Status, false>;

/// A negative errno, as libuv reports errors on Unix.
pub fn errno_of(err: &io::Error) -> i32 {
    // EINVAL for the few errors that carry no OS code (unparsable input).
    -err.raw_os_error().unwrap_or(22)
}

pub fn build_events_fn(callback: Function<'_, EventArgs, ()>) -> Result<EventsFn> {
    callback
        .build_threadsafe_function::<NativeEvent>()
        .callee_handled::<false>()
        .build_callback(|ctx: ThreadsafeCallContext<NativeEvent>| Ok(to_event_args(ctx.value)))
}

fn to_event_args(event: NativeEvent) -> EventArgs {
    match event {
        // The credit drops at the end of this call: JavaScript then handles
        // the whole batch synchronously before the next event is converted.
        NativeEvent::Received(ReceiverEvent::Batch(batch), _credit) => batch_args(batch),
        NativeEvent::Received(ReceiverEvent::Error(err), _credit) => {
            (KIND_RECEIVE_ERROR, errno_of(&err), 0, None, None, None).into()
        }
        NativeEvent::SendDone { id, result } => {
            let result = match result {
                Ok(bytes) => bytes as i32,
                Err(err) => errno_of(&err),
            };
            (KIND_SEND_DONE, id as i32, result, None, None, None).into()
        }
    }
}

/// One Buffer for all payloads (no copy: the batch's allocation is handed
/// over), one metadata array, and each distinct source address once.
fn batch_args(batch: Batch) -> EventArgs {
    let count = batch.len() as i32;
    let mut meta = Vec::with_capacity(batch.len() * META_WORDS);
    let mut sources = DistinctSources::default();
    for datagram in &batch.datagrams {
        let index = sources.index_of(&datagram.source);
        let port_word = match datagram.source {
            SocketAddr::V4(addr) => u32::from(addr.port()),
            SocketAddr::V6(addr) => u32::from(addr.port()) | IPV6_FLAG,
        };
        meta.extend_from_slice(&[datagram.len, port_word, index]);
    }
    let data = Buffer::from(batch.data);
    let meta = Uint32Array::new(meta);
    (
        KIND_BATCH,
        count,
        0,
        Some(data),
        Some(meta),
        Some(sources.texts),
    )
        .into()
}

/// The source addresses of a batch, each once, as Node prints them. A batch
/// usually comes from a few peers, so a linear search beats hashing.
#[derive(Default)]
struct DistinctSources {
    /// Address and zone: one peer's link-local address differs per interface.
    keys: Vec<(IpAddr, u32)>,
    texts: Vec<String>,
}

impl DistinctSources {
    fn index_of(&mut self, source: &SocketAddr) -> u32 {
        let key = match source {
            SocketAddr::V4(addr) => (IpAddr::V4(*addr.ip()), 0),
            SocketAddr::V6(addr) => (IpAddr::V6(*addr.ip()), addr.scope_id()),
        };
        if let Some(index) = self.keys.iter().position(|known| *known == key) {
            return index as u32;
        }
        self.keys.push(key);
        self.texts.push(display_address(source));
        self.texts.len() as u32 - 1
    }
}
