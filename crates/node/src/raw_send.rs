//! `NativeUdp.prototype.send` as a plain Node-API callback. It runs once per
//! datagram sent, and napi-rs's glue for a class method (a borrow of `this`
//! registered in a Mutex-guarded map, a deferred scope guard, the class check)
//! cost more than the send itself: about 3,200 of the call's 5,660
//! instructions under callgrind. Here `this` is unwrapped once, and used
//! only if it is a live `NativeUdp` (see `LIVE`), and the
//! arguments are read with `napi_get_value_*`; a value of the wrong type
//! throws a JavaScript `TypeError`, as napi-rs's conversions throw an `Error`.
//! Sharing `&NativeUdp` with napi-rs is sound: none of its `&mut self`
//! methods calls into JavaScript, so none is running while this one runs.

use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::{c_char, c_void, CStr};
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::bindgen_prelude::Object;
use napi::sys::{self, Status, TypedarrayType, ValueType};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use crate::udp::NativeUdp;

/// Long enough for any IP address text, an IPv6 zone included.
const ADDRESS_TEXT_CAPACITY: usize = 128;

/// Puts `send` on the prototype napi-rs made for `NativeUdp` (its classes
/// are defined before this hook runs).
#[napi(module_exports)]
pub fn define_raw_send(exports: Object<'_>, env: Env) -> Result<()> {
    let env = env.raw();
    let mut class = ptr::null_mut();
    let mut prototype = ptr::null_mut();
    let property = sys::napi_property_descriptor {
        utf8name: c"send".as_ptr(),
        name: ptr::null_mut(),
        method: Some(send),
        getter: None,
        setter: None,
        value: ptr::null_mut(),
        attributes: sys::PropertyAttributes::writable
            | sys::PropertyAttributes::enumerable
            | sys::PropertyAttributes::configurable,
        data: ptr::null_mut(),
    };
    // SAFETY: env and exports come from napi-rs's module registration.
    unsafe {
        napi::check_status!(sys::napi_get_named_property(
            env,
            exports.raw(),
            c"NativeUdp".as_ptr(),
            &mut class
        ))?;
        napi::check_status!(sys::napi_get_named_property(
            env,
            class,
            c"prototype".as_ptr(),
            &mut prototype
        ))?;
        napi::check_status!(sys::napi_define_properties(env, prototype, 1, &property))
    }
}

/// `send(data: Uint8Array, port: number, ip?: string | null): number`, see
/// [`NativeUdp::send`].
unsafe extern "C" fn send(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: env and info are this call's, from Node-API.
    let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { send_with(env, info) }));
    match outcome {
        Ok(Ok(result)) => int32(env, result),
        Ok(Err(message)) => throw(env, message),
        Err(_) => throw(env, c"NativeUdp.send failed"),
    }
}

unsafe fn send_with(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> std::result::Result<i32, &'static CStr> {
    let mut argc = 3;
    let mut argv = [ptr::null_mut(); 3];
    let mut this = ptr::null_mut();
    // SAFETY (whole body): every value is this call's; Node-API fills the
    // arguments JavaScript left out with `undefined`.
    unsafe {
        let status = sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            &mut this,
            ptr::null_mut(),
        );
        if status != Status::napi_ok {
            return Err(c"NativeUdp.send: cannot read its arguments");
        }
        let udp = instance(env, this)?;
        let data = bytes(env, argv[0])?;
        let mut port = 0;
        if sys::napi_get_value_uint32(env, argv[1], &mut port) != Status::napi_ok {
            return Err(c"NativeUdp.send: port must be a number");
        }
        let mut text = [0u8; ADDRESS_TEXT_CAPACITY];
        let ip = optional_text(env, argv[2], &mut text)?;
        Ok(udp.send(data, port, ip.as_deref()))
    }
}

thread_local! {
    /// Where this thread's live `NativeUdp` values are (napi-rs's wrapped
    /// pointers; udp.rs adds each one it hands to JavaScript, its Drop takes
    /// it out). `napi_unwrap` answers for any object wrapped in this isolate
    /// (another addon's, say): only a pointer found here may be cast. A
    /// lookup here makes no Node-API call, where `napi_check_object_type_tag`
    /// looks up a private property of the object (callgrind figures of both
    /// in the CHANGELOG).
    static LIVE: RefCell<HashSet<usize, BuildHasherDefault<AddressHasher>>> =
        RefCell::new(HashSet::default());
}

/// Notes `udp`, now wrapped in a JavaScript object, as live.
pub(crate) fn note_live(udp: &NativeUdp) {
    LIVE.with(|live| live.borrow_mut().insert(udp as *const NativeUdp as usize));
}

/// Notes that `udp` is going away.
pub(crate) fn note_gone(udp: &NativeUdp) {
    // The thread's storage may be gone already when the thread ends.
    let _ = LIVE.try_with(|live| {
        live.borrow_mut()
            .remove(&(udp as *const NativeUdp as usize))
    });
}

fn is_live(wrapped: *mut c_void) -> bool {
    LIVE.with(|live| live.borrow().contains(&(wrapped as usize)))
}

/// A hasher for addresses: they are distinct already, and the low bits
/// (alignment) are always zero.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8 | u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64 >> 4).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// The `NativeUdp` that napi-rs wrapped in `this`, once it is known to be one.
unsafe fn instance<'a>(
    env: sys::napi_env,
    this: sys::napi_value,
) -> std::result::Result<&'a NativeUdp, &'static CStr> {
    let mut wrapped: *mut c_void = ptr::null_mut();
    // SAFETY: a live pointer is a `Box<NativeUdp>`'s (napi-rs's), alive while
    // `this` is.
    unsafe {
        if sys::napi_unwrap(env, this, &mut wrapped) != Status::napi_ok || !is_live(wrapped) {
            return Err(c"NativeUdp.send: `this` is not a NativeUdp");
        }
        Ok(&*wrapped.cast::<NativeUdp>())
    }
}

/// A `Uint8Array`'s (so also a `Buffer`'s) bytes, borrowed for this call.
unsafe fn bytes<'a>(
    env: sys::napi_env,
    value: sys::napi_value,
) -> std::result::Result<&'a [u8], &'static CStr> {
    let mut kind = 0;
    let mut length = 0;
    let mut data: *mut c_void = ptr::null_mut();
    let mut array_buffer = ptr::null_mut();
    let mut offset = 0;
    // SAFETY: a typed array's memory stays put while JavaScript waits for this call.
    unsafe {
        let status = sys::napi_get_typedarray_info(
            env,
            value,
            &mut kind,
            &mut length,
            &mut data,
            &mut array_buffer,
            &mut offset,
        );
        if status != Status::napi_ok || kind != TypedarrayType::uint8_array {
            return Err(c"NativeUdp.send: data must be a Uint8Array");
        }
        Ok(match length {
            0 => &[],
            _ => std::slice::from_raw_parts(data.cast::<u8>(), length),
        })
    }
}

/// A string argument as UTF-8 (`None` for `undefined` or `null`), in
/// `space` when it fits, as every IP address does.
unsafe fn optional_text<'a>(
    env: sys::napi_env,
    value: sys::napi_value,
    space: &'a mut [u8],
) -> std::result::Result<Option<std::borrow::Cow<'a, str>>, &'static CStr> {
    const NOT_TEXT: &CStr = c"NativeUdp.send: ip must be a string, undefined or null";
    let mut length = 0;
    // SAFETY: `space` is writable for its length; Node-API writes at most
    // `len - 1` bytes and a terminating NUL.
    let status = unsafe {
        sys::napi_get_value_string_utf8(
            env,
            value,
            space.as_mut_ptr().cast::<c_char>(),
            space.len(),
            &mut length,
        )
    };
    if status == Status::napi_string_expected {
        let mut kind = 0;
        // SAFETY: as above.
        let status = unsafe { sys::napi_typeof(env, value, &mut kind) };
        return match status == Status::napi_ok
            && (kind == ValueType::napi_undefined || kind == ValueType::napi_null)
        {
            true => Ok(None),
            false => Err(NOT_TEXT),
        };
    }
    if status != Status::napi_ok {
        return Err(NOT_TEXT);
    }
    if length + 1 < space.len() {
        let text = std::str::from_utf8(&space[..length]).map_err(|_| NOT_TEXT)?;
        return Ok(Some(text.into()));
    }
    // SAFETY: as above.
    unsafe { long_text(env, value) }.map(|text| Some(text.into()))
}

/// A string that did not fit the stack space, read whole.
unsafe fn long_text(
    env: sys::napi_env,
    value: sys::napi_value,
) -> std::result::Result<String, &'static CStr> {
    const UNREADABLE: &CStr = c"NativeUdp.send: cannot read ip";
    let mut length = 0;
    // SAFETY: a length query writes nothing; the second call writes at most
    // `text.len()` bytes into `text`.
    unsafe {
        if sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut length)
            != Status::napi_ok
        {
            return Err(UNREADABLE);
        }
        let mut text = vec![0u8; length + 1];
        let mut written = 0;
        if sys::napi_get_value_string_utf8(
            env,
            value,
            text.as_mut_ptr().cast::<c_char>(),
            text.len(),
            &mut written,
        ) != Status::napi_ok
        {
            return Err(UNREADABLE);
        }
        text.truncate(written);
        String::from_utf8(text).map_err(|_| UNREADABLE)
    }
}

fn int32(env: sys::napi_env, value: i32) -> sys::napi_value {
    let mut result = ptr::null_mut();
    // SAFETY: env is this call's; on failure JavaScript gets `undefined`.
    unsafe { sys::napi_create_int32(env, value, &mut result) };
    result
}

fn throw(env: sys::napi_env, message: &CStr) -> sys::napi_value {
    // SAFETY: env is this call's; message is NUL-terminated.
    unsafe { sys::napi_throw_type_error(env, ptr::null(), message.as_ptr()) };
    ptr::null_mut()
}
