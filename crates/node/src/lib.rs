//! The napi-rs binding of `fastdgram-core`: converts arguments and results,
//! turns I/O errors into libuv's negative error numbers (the core's `sys`
//! knows the platform's; the wrapper in `lib/` builds node's error objects
//! from them), and hands received batches to JavaScript. No socket logic
//! and no platform code lives here.

mod batch_memory;
mod buffer_arg;
mod encoding;
mod events;
mod ip_options;
mod platform;
mod poll;
mod raw_send;
mod udp;
mod uv;

pub use platform::{native_capabilities, native_libuv_rules, translate_os_error, uv_error_codes};
pub use raw_send::define_raw_send;
pub use udp::{guess_handle_type, NativeUdp};
