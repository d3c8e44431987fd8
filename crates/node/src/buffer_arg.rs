//! Buffer arguments checked before napi-rs reads them. napi-rs's `Buffer` and
//! `BufferSlice` call `napi_get_buffer_info` at once, and Node.js before
//! 20.12 (20.11.0 here) asserts there that the value is an ArrayBufferView,
//! aborting the process on anything else; later versions return an error.
//! `napi_is_buffer` first turns every other value into a JavaScript error on
//! every version.

use napi::bindgen_prelude::{
    Buffer, BufferSlice, FromNapiValue, TypeName, ValidateNapiValue, ValueType,
};
use napi::{sys, Result};

/// A `Buffer` argument (a copy is kept by the callee).
pub struct BufferArg(pub Buffer);

/// A borrowed `Buffer` argument, as in a list of datagrams.
pub struct BufferSliceArg<'env>(pub BufferSlice<'env>);

impl FromNapiValue for BufferArg {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        // SAFETY: env and value come from napi-rs for this call.
        unsafe {
            <Buffer as ValidateNapiValue>::validate(env, value)?;
            Buffer::from_napi_value(env, value).map(Self)
        }
    }
}

impl FromNapiValue for BufferSliceArg<'_> {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        // SAFETY: env and value come from napi-rs for this call.
        unsafe {
            <BufferSlice as ValidateNapiValue>::validate(env, value)?;
            BufferSlice::from_napi_value(env, value).map(Self)
        }
    }
}

impl TypeName for BufferArg {
    fn type_name() -> &'static str {
        "Buffer"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl TypeName for BufferSliceArg<'_> {
    fn type_name() -> &'static str {
        "Buffer"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}
