//! Everything the I/O thread reports to JavaScript goes through one
//! threadsafe function per socket, as a `NativeEvent`.

use std::io;

use fastdgram_core::{Batch, Credit, ReceiverEvent};
use napi::bindgen_prelude::{Buffer, FnArgs, Function};
use napi::threadsafe_function::{ThreadsafeCallContext, ThreadsafeFunction};
use napi::Result;

use crate::encoding::{encode, encoded_len};

/// Event kinds, as the wrapper's `onNativeEvent` sees them.
pub const KIND_BATCH: u32 = 0;
pub const KIND_RECEIVE_ERROR: u32 = 1;
pub const KIND_SEND_DONE: u32 = 2;

pub enum NativeEvent {
    Received(ReceiverEvent, Credit),
    SendDone { id: u32, result: io::Result<usize> },
}

/// The arguments `onNativeEvent(kind, a, b, data, addresses)` receives.
pub type EventArgs = FnArgs<(u32, i32, i32, Option<Buffer>, Option<String>)>;

pub type EventsFn = ThreadsafeFunction<NativeEvent, (), EventArgs, napi::Status, false>;

/// libuv's (negative) error number for `err`, as Node.js reports it here.
pub fn errno_of(err: &io::Error) -> i32 {
    fastdgram_core::uv_error_code(err)
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
            (KIND_RECEIVE_ERROR, errno_of(&err), 0, None, None).into()
        }
        NativeEvent::SendDone { id, result } => {
            let result = match result {
                Ok(bytes) => bytes as i32,
                Err(err) => errno_of(&err),
            };
            (KIND_SEND_DONE, id as i32, result, None, None).into()
        }
    }
}

/// The batch as one Buffer (payloads and metadata, see `encoding`) and its
/// joined source addresses.
fn batch_args(batch: Batch) -> EventArgs {
    let count = batch.len() as i32;
    let mut buffer = vec![0u8; encoded_len(batch.data.len(), batch.len())];
    let addresses = encode(batch.received(), batch.data.len(), &mut buffer);
    (
        KIND_BATCH,
        count,
        0,
        Some(Buffer::from(buffer)),
        Some(addresses),
    )
        .into()
}
