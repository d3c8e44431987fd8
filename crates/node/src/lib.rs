//! The napi-rs binding of `fastdgram-core`: converts arguments and results,
//! turns I/O errors into libuv-style negative errno values (the wrapper in
//! `lib/` builds node's error objects from them), and hands received batches
//! to JavaScript. No socket logic lives here.

mod encoding;
mod events;
mod ip_options;
mod poll;
mod udp;
mod uv;

pub use udp::{guess_handle_type, NativeUdp};
