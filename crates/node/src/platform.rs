//! What the platform layer of the core reports, for the wrapper: the
//! capabilities of this build on this machine, and libuv's numbers for the
//! errors `lib/` names (`-errno` on Unix, libuv's own table on Windows), so
//! that it need not compute them from `os.constants.errno`.

use std::ffi::c_void;
use std::io;

use fastdgram_core::{
    capabilities, find_symbol, implementation, libuv_rules, uv_error_code, Errno,
};
use napi_derive::napi;

/// What this build does on this machine (probed once at run time).
#[napi(object)]
pub struct NativeCapabilities {
    /// The core's platform implementation: `'linux'` (or `'linux, one
    /// message at a time'`), `'bsd'` (macOS, FreeBSD), `'windows'` or
    /// `'fallback'` (portable).
    pub implementation: String,
    /// One system call receives up to 64 datagrams (`recvmmsg`).
    pub batched_receive: bool,
    /// One system call sends several datagrams (`sendmmsg`).
    pub batched_send: bool,
    /// Most equal-sized datagrams one send hands the kernel as one buffer
    /// (UDP GSO on Linux, UDP send offload on Windows); 1 without either.
    pub gso_segments: u32,
    /// `sendMany`'s `from` (choosing a datagram's source address) works.
    pub source_address: bool,
    /// `recvDestination` (each datagram's local destination) works.
    pub destination_address: bool,
    /// `stats().kernelDrops` is reported by the kernel; elsewhere it stays 0.
    pub kernel_drops: bool,
    /// `dontFragment` and `pathMtu` work; elsewhere they fail with ENOTSUP.
    pub dont_fragment: bool,
    /// `reusePort` spreads datagrams over the sockets sharing a port;
    /// elsewhere binding with it fails with ENOTSUP.
    pub reuse_port_balancing: bool,
    /// Receive offload (`UDP_GRO`) is on for the sockets fastdgram creates:
    /// a GSO sender's buffers arrive whole and are split into their datagrams.
    pub gro: bool,
}

/// What this build does on this machine: which of fastdgram's features
/// work here (the rest fail as each documents).
#[napi]
pub fn native_capabilities() -> NativeCapabilities {
    let found = capabilities();
    NativeCapabilities {
        implementation: implementation().to_string(),
        batched_receive: found.batched_receive,
        batched_send: found.batched_send,
        gso_segments: u32::from(found.gso_segments),
        source_address: found.source_address,
        destination_address: found.destination_address,
        kernel_drops: found.kernel_drops,
        dont_fragment: found.dont_fragment,
        reuse_port_balancing: found.reuse_port_balancing,
        gro: found.gro,
    }
}

/// Where libuv's own checks differ by platform (the wrapper makes them
/// before the socket exists).
#[napi(object)]
pub struct NativeLibuvRules {
    /// libuv's number for a buffer-size call before the socket exists:
    /// EBADF on Unix, ENOTSOCK on Windows.
    pub buffer_size_without_socket: i32,
    /// The lowest value `setMulticastTTL` accepts: 0, or −1 on Windows.
    pub lowest_multicast_ttl: i32,
    /// A bind with `reusePort` fails with ENOTSUP before the socket is made (Windows).
    pub reuse_port_refused: bool,
}

/// libuv's platform-dependent checks on this platform.
#[napi]
pub fn native_libuv_rules() -> NativeLibuvRules {
    let rules = libuv_rules();
    NativeLibuvRules {
        buffer_size_without_socket: rules.buffer_size_without_socket,
        lowest_multicast_ttl: rules.lowest_multicast_ttl,
        reuse_port_refused: rules.reuse_port_refused,
    }
}

/// libuv's (negative) numbers of the errors the wrapper names, as Node.js
/// reports them on this platform (`util.getSystemErrorName` knows them).
#[napi(object)]
pub struct UvErrorCodes {
    #[napi(js_name = "EADDRINUSE")]
    pub eaddrinuse: i32,
    #[napi(js_name = "EADDRNOTAVAIL")]
    pub eaddrnotavail: i32,
    #[napi(js_name = "EAFNOSUPPORT")]
    pub eafnosupport: i32,
    #[napi(js_name = "EAGAIN")]
    pub eagain: i32,
    #[napi(js_name = "EBADF")]
    pub ebadf: i32,
    #[napi(js_name = "ECANCELED")]
    pub ecanceled: i32,
    #[napi(js_name = "ECONNREFUSED")]
    pub econnrefused: i32,
    #[napi(js_name = "EDESTADDRREQ")]
    pub edestaddrreq: i32,
    #[napi(js_name = "EEXIST")]
    pub eexist: i32,
    #[napi(js_name = "EINVAL")]
    pub einval: i32,
    #[napi(js_name = "EIO")]
    pub eio: i32,
    #[napi(js_name = "EISCONN")]
    pub eisconn: i32,
    #[napi(js_name = "EMSGSIZE")]
    pub emsgsize: i32,
    #[napi(js_name = "ENETUNREACH")]
    pub enetunreach: i32,
    #[napi(js_name = "ENOBUFS")]
    pub enobufs: i32,
    #[napi(js_name = "ENOPROTOOPT")]
    pub enoprotoopt: i32,
    #[napi(js_name = "ENOTCONN")]
    pub enotconn: i32,
    #[napi(js_name = "ENOTSUP")]
    pub enotsup: i32,
    #[napi(js_name = "EOPNOTSUPP")]
    pub eopnotsupp: i32,
}

/// `{ EAGAIN: n, ... }`: libuv's numbers for these errors on this platform.
#[napi]
pub fn uv_error_codes() -> UvErrorCodes {
    UvErrorCodes {
        eaddrinuse: Errno::EADDRINUSE.uv(),
        eaddrnotavail: Errno::EADDRNOTAVAIL.uv(),
        eafnosupport: Errno::EAFNOSUPPORT.uv(),
        eagain: Errno::EAGAIN.uv(),
        ebadf: Errno::EBADF.uv(),
        ecanceled: Errno::ECANCELED.uv(),
        econnrefused: Errno::ECONNREFUSED.uv(),
        edestaddrreq: Errno::EDESTADDRREQ.uv(),
        eexist: Errno::EEXIST.uv(),
        einval: Errno::EINVAL.uv(),
        eio: Errno::EIO.uv(),
        eisconn: Errno::EISCONN.uv(),
        emsgsize: Errno::EMSGSIZE.uv(),
        enetunreach: Errno::ENETUNREACH.uv(),
        enobufs: Errno::ENOBUFS.uv(),
        enoprotoopt: Errno::ENOPROTOOPT.uv(),
        enotconn: Errno::ENOTCONN.uv(),
        enotsup: Errno::ENOTSUP.uv(),
        eopnotsupp: Errno::EOPNOTSUPP.uv(),
    }
}

/// How one OS error number (errno; a Win32 or Winsock error on Windows) is
/// reported as a libuv error.
#[napi(object)]
pub struct ErrorTranslation {
    /// fastdgram's translation (what its errors carry).
    pub fastdgram: i32,
    /// `uv_translate_sys_error` of the libuv in this process (node's own),
    /// for the tests to compare with; null where the process has none.
    pub libuv: Option<i32>,
}

/// fastdgram's and the running libuv's number for the OS error `code`.
#[napi]
pub fn translate_os_error(code: i32) -> ErrorTranslation {
    type Translate = unsafe extern "C" fn(i32) -> i32;
    let libuv = find_symbol(c"uv_translate_sys_error").map(|function| {
        // SAFETY: node's export of this name is libuv's
        // `int uv_translate_sys_error(int)`, defined for every int.
        unsafe { std::mem::transmute::<*mut c_void, Translate>(function.as_ptr())(code) }
    });
    ErrorTranslation {
        fastdgram: uv_error_code(&io::Error::from_raw_os_error(code)),
        libuv,
    }
}
