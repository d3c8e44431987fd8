//! `NativeUdp`'s IP options beyond node:dgram (see `fastdgram_core`'s
//! `ip_options`): each returns a value or 0 on success, a negative errno on
//! failure, like the rest of `NativeUdp`.

use fastdgram_core::{parse_socket_addr, path_mtu_to, Errno, Family};
use napi_derive::napi;

use crate::events::errno_of;
use crate::udp::{family_of, port_of, NativeUdp};

const EINVAL: i32 = Errno::EINVAL.uv();

fn value_or_errno(result: std::io::Result<u32>) -> i32 {
    match result {
        Ok(value) => i32::try_from(value).unwrap_or(EINVAL),
        Err(err) => errno_of(&err),
    }
}

/// `ip:port` for a socket of `family`, or a negative errno.
fn destination(family: Family, ip: &str, port: u32) -> Result<std::net::SocketAddr, i32> {
    let port = port_of(port).ok_or(EINVAL)?;
    parse_socket_addr(ip, port, family).map_err(|err| errno_of(&err))
}

#[napi]
impl NativeUdp {
    /// Sets the TOS byte / traffic class of sent datagrams (0 to 255).
    #[napi]
    pub fn set_tos(&self, tos: i32) -> i32 {
        self.with_socket(|s| s.set_tos(tos))
    }

    /// The TOS byte / traffic class of sent datagrams.
    #[napi]
    pub fn get_tos(&self) -> i32 {
        match self.socket() {
            Ok(socket) => value_or_errno(socket.tos()),
            Err(errno) => errno,
        }
    }

    /// Path-MTU discovery on: oversized datagrams fail with EMSGSIZE.
    #[napi]
    pub fn set_dont_fragment(&self) -> i32 {
        self.with_socket(|s| s.set_dont_fragment())
    }

    /// The path MTU to `ip:port`, or to the peer when `ip` is absent (a
    /// connected socket).
    #[napi]
    pub fn path_mtu(&self, port: u32, ip: Option<String>) -> i32 {
        let socket = match self.socket() {
            Ok(socket) => socket,
            Err(errno) => return errno,
        };
        let to = match ip {
            Some(ip) => match destination(socket.family(), &ip, port) {
                Ok(to) => Some(to),
                Err(errno) => return errno,
            },
            None => None,
        };
        value_or_errno(socket.path_mtu(to))
    }

    /// The path MTU from a socket of `family` (4 or 6) to `ip:port`, for
    /// when the socket that sent is closed already.
    #[napi]
    pub fn path_mtu_to(family: u32, ip: String, port: u32) -> i32 {
        let family = family_of(family);
        match destination(family, &ip, port) {
            Ok(to) => value_or_errno(path_mtu_to(family, None, to)),
            Err(errno) => errno,
        }
    }
}
