//! The few libuv functions the poll receiver needs, looked up at run time in
//! the Node.js process that loaded this addon (Node exports libuv's symbols).
//! Where they cannot be found, the receiver falls back to the I/O thread.

use std::ffi::{c_int, c_void, CStr};
use std::mem::transmute;
use std::sync::OnceLock;

use fastdgram_core::RawSocket;

pub type UvLoop = c_void;
pub type UvHandle = c_void;
pub type PollCallback = unsafe extern "C" fn(handle: *mut UvHandle, status: c_int, events: c_int);
pub type CloseCallback = unsafe extern "C" fn(handle: *mut UvHandle);

/// `UV_POLL` in libuv's `uv_handle_type`, and the poll event bit for reading.
const UV_POLL: c_int = 8;
pub const UV_READABLE: c_int = 1;

type HandleSizeFn = unsafe extern "C" fn(kind: c_int) -> usize;
/// libuv's `uv_os_sock_t` is the OS's socket handle: the core's `RawSocket`.
type PollInitSocketFn =
    unsafe extern "C" fn(uv_loop: *mut UvLoop, handle: *mut UvHandle, socket: RawSocket) -> c_int;
type PollStartFn =
    unsafe extern "C" fn(handle: *mut UvHandle, events: c_int, cb: PollCallback) -> c_int;
type HandleFn = unsafe extern "C" fn(handle: *mut UvHandle) -> c_int;
type HandleVoidFn = unsafe extern "C" fn(handle: *mut UvHandle);
type CloseFn = unsafe extern "C" fn(handle: *mut UvHandle, cb: CloseCallback);
type SetDataFn = unsafe extern "C" fn(handle: *mut UvHandle, data: *mut c_void);
type GetDataFn = unsafe extern "C" fn(handle: *const UvHandle) -> *mut c_void;

pub struct Libuv {
    pub handle_size: HandleSizeFn,
    pub poll_init_socket: PollInitSocketFn,
    pub poll_start: PollStartFn,
    pub poll_stop: HandleFn,
    pub close: CloseFn,
    pub reference: HandleVoidFn,
    pub unreference: HandleVoidFn,
    pub handle_set_data: SetDataFn,
    pub handle_get_data: GetDataFn,
}

impl Libuv {
    pub fn poll_handle_size(&self) -> usize {
        // SAFETY: uv_handle_size only reads its argument.
        unsafe { (self.handle_size)(UV_POLL) }
    }
}

/// libuv as exported by the running Node.js, or `None` (another runtime, or
/// a platform where this lookup is not implemented).
pub fn libuv() -> Option<&'static Libuv> {
    static LIBUV: OnceLock<Option<Libuv>> = OnceLock::new();
    LIBUV.get_or_init(lookup_all).as_ref()
}

fn symbol(name: &CStr) -> Option<*mut c_void> {
    fastdgram_core::find_symbol(name).map(|address| address.as_ptr())
}

fn lookup_all() -> Option<Libuv> {
    if std::env::var_os("FASTDGRAM_RECEIVE_THREAD").is_some() {
        return None;
    }
    // SAFETY: each symbol is libuv's function of that name, whose C signature
    // the target type repeats (libuv's ABI is stable across 1.x).
    unsafe {
        Some(Libuv {
            handle_size: transmute::<*mut c_void, HandleSizeFn>(symbol(c"uv_handle_size")?),
            poll_init_socket: transmute::<*mut c_void, PollInitSocketFn>(symbol(
                c"uv_poll_init_socket",
            )?),
            poll_start: transmute::<*mut c_void, PollStartFn>(symbol(c"uv_poll_start")?),
            poll_stop: transmute::<*mut c_void, HandleFn>(symbol(c"uv_poll_stop")?),
            close: transmute::<*mut c_void, CloseFn>(symbol(c"uv_close")?),
            reference: transmute::<*mut c_void, HandleVoidFn>(symbol(c"uv_ref")?),
            unreference: transmute::<*mut c_void, HandleVoidFn>(symbol(c"uv_unref")?),
            handle_set_data: transmute::<*mut c_void, SetDataFn>(symbol(c"uv_handle_set_data")?),
            handle_get_data: transmute::<*mut c_void, GetDataFn>(symbol(c"uv_handle_get_data")?),
        })
    }
}
