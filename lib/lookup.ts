// Name resolution for bind, connect and send, as node:dgram does it.
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';

export type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family?: number) => void;
export type Lookup = (address: string, family: number, callback: LookupCallback) => void;
/** A socket's lookup: resolves `address` (or the family's loopback when empty). */
export type BoundLookup = (address: string, callback: LookupCallback) => void;

let dns: typeof import('node:dns') | undefined;

/** A literal of the right family resolves to itself, still asynchronously. */
export function defaultLookup(address: string, family: number, callback: LookupCallback): void {
  if (isIP(address) === family) {
    process.nextTick(callback, null, address, family);
    return;
  }
  dns ??= require('node:dns') as typeof import('node:dns');
  (dns.lookup as unknown as LookupFunction)(address, family as unknown as object, callback as never);
}

/** Binds a lookup function to a socket type, defaulting empty addresses to loopback. */
export function lookupForType(type: 'udp4' | 'udp6', lookup: Lookup): BoundLookup {
  if (type === 'udp4') {
    return (address, callback) => lookup(address || '127.0.0.1', 4, callback);
  }
  return (address, callback) => lookup(address || '::1', 6, callback);
}
