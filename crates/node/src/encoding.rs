//! How a batch of received datagrams crosses into JavaScript: one buffer
//! holding the payloads back to back, then (at a 4-byte boundary) three
//! little-endian u32 words per datagram — length, port with the IPv6 flag in
//! bit 16, index of its source address with (when known) one plus the index
//! of its local destination address in bits 16.. — and, beside the buffer,
//! the batch's distinct addresses joined by commas (a batch usually has one).

use std::net::{IpAddr, SocketAddr};

use fastdgram_core::{display_address, Received};

pub const META_WORDS: usize = 3;
const IPV6_FLAG: u32 = 1 << 16;
const LOCAL_SHIFT: u32 = 16;

/// Bytes an encoded batch takes.
pub fn encoded_len(payload_bytes: usize, count: usize) -> usize {
    payload_bytes.next_multiple_of(4) + count * META_WORDS * 4
}

/// Writes the datagrams, whose payloads total `payload_bytes`, into `out`
/// (of exactly `encoded_len` bytes), every byte of it, and returns the joined source addresses.
pub fn encode<'a>(
    datagrams: impl Iterator<Item = Received<'a>>,
    payload_bytes: usize,
    out: &mut [u8],
) -> String {
    let (payloads, rest) = out.split_at_mut(payload_bytes);
    let meta_start = payload_bytes.next_multiple_of(4) - payload_bytes;
    // `out` may be uninitialised memory that JavaScript can read whole
    // (`msg.buffer`): the padding too is written.
    rest[..meta_start].fill(0);
    let mut meta = rest[meta_start..].chunks_exact_mut(4);
    let mut sources = DistinctSources::default();
    let mut offset = 0;
    for Received {
        payload,
        source,
        local,
    } in datagrams
    {
        payloads[offset..offset + payload.len()].copy_from_slice(payload);
        offset += payload.len();
        let port_word = match source {
            SocketAddr::V4(addr) => u32::from(addr.port()),
            SocketAddr::V6(addr) => u32::from(addr.port()) | IPV6_FLAG,
        };
        let mut address_word = sources.index_of(&source);
        if let Some(local) = local {
            let local = local_address_as_source(local, &source);
            address_word |= (sources.index_of(&local) + 1) << LOCAL_SHIFT;
        }
        for word in [payload.len() as u32, port_word, address_word] {
            if let Some(slot) = meta.next() {
                slot.copy_from_slice(&word.to_le_bytes());
            }
        }
    }
    sources.texts.join(",")
}

/// A local address written as a source of the same family would be: an
/// IPv4 destination on an IPv6 socket in its mapped form, and a link-local
/// one with the source's zone.
fn local_address_as_source(local: IpAddr, source: &SocketAddr) -> SocketAddr {
    match (local, source) {
        (IpAddr::V4(v4), SocketAddr::V6(_)) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), 0),
        (IpAddr::V6(v6), SocketAddr::V6(from)) if v6.is_unicast_link_local() => {
            SocketAddr::V6(std::net::SocketAddrV6::new(v6, 0, 0, from.scope_id()))
        }
        _ => SocketAddr::new(local, 0),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_payloads_then_aligned_metadata() {
        let a: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        let b: SocketAddr = "[::1]:2000".parse().unwrap();
        let local: IpAddr = "10.0.0.2".parse().unwrap();
        let received = |payload, source, local| Received {
            payload,
            source,
            local,
        };
        let datagrams = [
            received(&b"abc"[..], a, None),
            received(&b""[..], b, None),
            received(&b"de"[..], a, Some(local)),
        ];
        let mut out = vec![0xAAu8; encoded_len(5, 3)];
        let addresses = encode(datagrams.iter().copied(), 5, &mut out);
        assert_eq!(addresses, "127.0.0.1,::1,10.0.0.2");
        assert_eq!(&out[..5], b"abcde");
        assert_eq!(&out[5..8], [0, 0, 0], "the padding is written too");
        let words: Vec<u32> = out[8..]
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect();
        let local_word = 3 << LOCAL_SHIFT;
        assert_eq!(
            words,
            vec![3, 1000, 0, 0, 2000 | IPV6_FLAG, 1, 2, 1000, local_word]
        );
    }
}
