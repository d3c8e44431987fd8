// A handle's outbox: the unconnected sends of one burst, and the replies held
// until a received batch ends (lib/reply-batch.ts), packed for one native
// call (NativeUdp.sendPacked): their bytes copied back to back into one
// buffer when send() reaches the handle (where node reads them), and per
// datagram three numbers — length, port, index of its destination in a
// short list of distinct addresses (usually one: a batch's replies go back
// to few peers). Nothing per datagram crosses into native code as an object.
import type { NativeUdp, SendResult } from './native';
import type { SendRequest } from './handle';

/** Words per datagram in `meta`: length, port, address index (crates/node/src/udp.rs). */
const WORDS = 3;
/** The outbox's memory starts small: thousands of sockets that send once pay little. */
const FIRST_BYTES = 2048;
const FIRST_COUNT = 16;
/** A fuller outbox is sent before it takes more (one datagram larger than this goes alone). */
const MAX_BYTES = 1 << 20;
/**
 * Memory above this is let go once the outbox is sent: enough to keep a
 * burst of 64 datagrams of 1,400 B or a batch's replies of that size without
 * growing the buffer again for each.
 */
const KEPT_BYTES = 256 * 1024;
/** Past this many distinct destinations they are found through a Map. */
const SCANNED_ADDRESSES = 8;

export class Outbox {
  /** One per datagram, in order. */
  readonly requests: SendRequest[] = [];
  private bytes = Buffer.allocUnsafe(0);
  private used = 0;
  private meta = new Uint32Array(0);
  private results = new Int32Array(0);
  private readonly addresses: string[] = [];
  private addressIndex: Map<string, number> | undefined;
  private lastAddress: string | undefined;
  private lastIndex = 0;

  get count(): number {
    return this.requests.length;
  }

  /** Whether `size` more bytes fit; an empty outbox takes any datagram. */
  fits(size: number): boolean {
    return this.used === 0 || this.used + size <= MAX_BYTES;
  }

  /** Adds a datagram; `ip` is empty on a connected socket. */
  push(request: SendRequest, data: Uint8Array, port: number, ip: string): void {
    const index = this.requests.length;
    const size = data.byteLength;
    this.reserve(index + 1, this.used + size);
    this.bytes.set(data, this.used);
    this.used += size;
    const word = index * WORDS;
    this.meta[word] = size;
    this.meta[word + 1] = port;
    this.meta[word + 2] = this.indexOf(ip);
    this.requests.push(request);
  }

  /**
   * Sends as many as the socket takes now, in order, in one native call:
   * how many have a result (see `result`); the rest would block.
   */
  sendNow(native: NativeUdp): number {
    const count = this.requests.length;
    return native.sendPacked(this.bytes.subarray(0, this.used), this.meta.subarray(0, count * WORDS), this.addresses, this.results.subarray(0, count));
  }

  result(index: number): SendResult {
    return this.results[index] as SendResult;
  }

  /** Calls `each` for the datagrams from `first` on: bytes (a view of the outbox, valid until `clear`), port, ip. */
  forEachFrom(first: number, each: (request: SendRequest, data: Buffer, port: number, ip: string) => void): void {
    let offset = 0;
    for (let i = 0; i < this.requests.length; i++) {
      const size = this.meta[i * WORDS];
      if (i >= first) each(this.requests[i], this.bytes.subarray(offset, offset + size), this.meta[i * WORDS + 1], this.addresses[this.meta[i * WORDS + 2]]);
      offset += size;
    }
  }

  /** Empties the outbox, keeping modest memory for the next burst. */
  clear(): void {
    this.requests.length = 0;
    this.used = 0;
    this.addresses.length = 0;
    this.addressIndex = undefined;
    this.lastAddress = undefined;
    if (this.bytes.byteLength > KEPT_BYTES) this.bytes = Buffer.allocUnsafe(0);
  }

  private indexOf(ip: string): number {
    if (ip === this.lastAddress) return this.lastIndex;
    let index = this.addressIndex ? (this.addressIndex.get(ip) ?? -1) : this.addresses.indexOf(ip);
    if (index === -1) {
      index = this.addresses.length;
      this.addresses.push(ip);
      if (this.addressIndex) this.addressIndex.set(ip, index);
      else if (this.addresses.length > SCANNED_ADDRESSES) this.addressIndex = new Map(this.addresses.map((address, i) => [address, i]));
    }
    this.lastAddress = ip;
    this.lastIndex = index;
    return index;
  }

  /** Room for `count` datagrams and `bytes` bytes, keeping what is there. */
  private reserve(count: number, bytes: number): void {
    if (bytes > this.bytes.byteLength) {
      const grown = Buffer.allocUnsafe(Math.max(bytes, FIRST_BYTES, this.bytes.byteLength * 2));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    if (count * WORDS > this.meta.length) {
      const capacity = Math.max(count, FIRST_COUNT, (this.meta.length / WORDS) * 2);
      const meta = new Uint32Array(capacity * WORDS);
      meta.set(this.meta);
      this.meta = meta;
      this.results = new Int32Array(capacity);
    }
  }
}
