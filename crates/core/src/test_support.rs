//! What the unit tests of several modules share.

use std::io;

use crate::{BindFlags, Datagram, Family, UdpSocket};

/// A socket bound to an ephemeral port of the family's loopback address.
pub(crate) fn loopback(family: Family) -> UdpSocket {
    let ip = match family {
        Family::V4 => "127.0.0.1",
        Family::V6 => "::1",
    };
    UdpSocket::bound(family, ip, 0, BindFlags::default()).unwrap()
}

/// Receives until `count` datagrams arrived or a second passed (500 tries
/// 2 ms apart): each payload with its datagram.
pub(crate) fn receive_all(socket: &UdpSocket, count: usize) -> Vec<(Vec<u8>, Datagram)> {
    let mut received = Vec::new();
    for _ in 0..500 {
        match socket.try_receive_batch() {
            Ok(batch) => {
                let payloads: Vec<Vec<u8>> = batch.payloads().map(<[u8]>::to_vec).collect();
                received.extend(payloads.into_iter().zip(batch.datagrams));
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(2))
            }
            Err(err) => panic!("{err}"),
        }
        if received.len() >= count {
            break;
        }
    }
    received
}

/// Seen under Wine (docs/windows-port.md §5): it binds the host socket of
/// one bound to 127.0.0.2 to 0.0.0.0, so Linux sends from 127.0.0.1.
pub(crate) const WINE_LOOPBACK_SOURCES: &str =
    "under Wine a socket bound to 127.0.0.2 sends from 127.0.0.1, so senders cannot be told apart by loopback address";

/// True under Wine (never on Windows itself), where the test, whose
/// scenario Wine answers differently from Windows, then stops: it prints
/// the reason (scripts/test-windows.sh lists these lines).
pub(crate) fn skipped_under_wine(reason: &str) -> bool {
    let wine = crate::sys::test_facts::under_wine();
    if wine {
        println!("skipped under Wine: {reason}");
    }
    wine
}
