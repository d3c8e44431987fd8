// Name resolution for bind, connect and send, as node:dgram does it.
import { isIP } from 'node:net';
import { readsLookupAtCreation } from './node-dgram';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family?: number) => void;
export type Lookup = (address: string, family: number, callback: LookupCallback) => void;
/** A socket's lookup: resolves `address` (or the family's loopback when empty). */
export type BoundLookup = (address: string, callback: LookupCallback) => void;

let dns: { lookup: Lookup } | undefined;
/** Node's own dns.lookup, or null when it was replaced before fastdgram first looked. */
let nodesLookup: Lookup | null = null;

function dnsModule(): { lookup: Lookup } {
  if (dns === undefined) {
    dns = require('node:dns') as unknown as { lookup: Lookup };
    if (hasNodesMark(dns.lookup)) nodesLookup = dns.lookup;
  }
  return dns;
}

/** Node's dns.lookup carries a private symbol that a replacement does not. */
function hasNodesMark(lookup: unknown): boolean {
  if (typeof lookup !== 'function') return false;
  return Object.getOwnPropertySymbols(lookup).some((symbol) => symbol.description === 'customPromisifyArgs');
}

/**
 * The lookup of a socket created without a `lookup` option, chosen when the
 * socket is created, where node:dgram reads `dns.lookup`. While `dns.lookup`
 * is Node's own, a literal of the socket's family resolves to itself without
 * calling it (as Node's own would answer); a replaced one is called as the
 * running Node.js calls it: for every address (Node.js 20, 22) or for all
 * but such literals (Node.js 24, 26).
 */
export function defaultLookup(): Lookup {
  const lookup = dnsModule().lookup;
  if (lookup === nodesLookup || !readsLookupAtCreation()) return literalsFirst;
  return lookup;
}

let lastAddress: string | undefined;
let lastAddressFamily = 0;

/** isIP, with the last answer kept: a server's replies go to few peers (isIP runs a regexp). */
function literalFamily(address: string): number {
  if (address !== lastAddress) {
    lastAddressFamily = isIP(address);
    lastAddress = address;
  }
  return lastAddressFamily;
}

/** A literal of the right family resolves to itself, still asynchronously. */
function literalsFirst(address: string, family: number, callback: LookupCallback): void {
  if (literalFamily(address) === family) {
    process.nextTick(callback, null, address, family);
    return;
  }
  const dns = dnsModule();
  // Replaced since the socket was made: Node.js 20 and 22 still call the one
  // they read then, which was Node's own (else this function was not chosen).
  if (dns.lookup !== nodesLookup && nodesLookup && readsLookupAtCreation()) {
    nodesLookup(address, family, callback);
    return;
  }
  dns.lookup(address, family, callback); // as a method of dns, as Node.js 24 calls it
}

/** Binds a lookup function to a socket type, defaulting empty addresses to loopback. */
export function lookupForType(type: 'udp4' | 'udp6', lookup: Lookup): BoundLookup {
  if (type === 'udp4') {
    return (address, callback) => lookup(address || '127.0.0.1', 4, callback);
  }
  return (address, callback) => lookup(address || '::1', 6, callback);
}
