// socket.sendMany(messages[, callback]): fastdgram's addition to node:dgram
// (README, "Beyond node:dgram"). Every message is validated before anything
// is sent; then, after every send() issued before the call, the datagrams go
// out in order through one native call (sendmmsg, with UDP GSO for runs of
// equal sizes), and one callback reports how many went out.
import { isIP } from 'node:net';
import type { EventEmitter } from 'node:events';
import {
  ERR_FEATURE_UNAVAILABLE_ON_PLATFORM,
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_ARG_VALUE,
  ERR_IP_BLOCKED,
  ERR_SOCKET_BAD_PORT,
  ERR_SOCKET_DGRAM_IS_CONNECTED,
  ERR_SOCKET_DGRAM_NOT_RUNNING,
  exceptionWithHostPort,
} from './errors';
import { validatePort, validateString } from './validate';
import { ipFamily, type OutgoingBatch, type UdpHandle } from './handle';
import { UV, capabilities } from './native';
import { DATA_TYPES, bytesOfData, isData } from './data';

/** An error of sendMany: `sent` datagrams went out before it. */
export type SendManyError = Error & { sent: number };
export type SendManyCallback = (error: SendManyError | null, sent: number) => void;

/** A validated call, column by column. */
interface PreparedBatch {
  data: Buffer[];
  ports: Uint32Array;
  /** As given: undefined for the default (loopback). */
  addresses: Array<string | undefined>;
  /** Chosen source addresses, '' where none; undefined when no message chose one. */
  froms: string[] | undefined;
  connected: boolean;
  callback: SendManyCallback | undefined;
}

/** What sending needs of the socket (lib/socket.ts). */
export interface SendManyTarget {
  emitter: EventEmitter;
  /** The socket's handle; null once the socket is closed. */
  handle(): UdpHandle | null;
  /** Whether the socket's sendBlockList blocks `ip`. */
  blocked(ip: string): boolean;
}

const LOOPBACK = { 4: '127.0.0.1', 6: '::1' } as const;

/** Checks every argument (throwing node-style errors) and converts the data. */
export function prepareBatch(messages: unknown, callback: unknown, connected: boolean, family: 4 | 6): PreparedBatch {
  if (!Array.isArray(messages)) throw new ERR_INVALID_ARG_TYPE('messages', 'Array', messages);
  if (callback !== undefined && typeof callback !== 'function') {
    throw new ERR_INVALID_ARG_TYPE('callback', 'Function', callback);
  }
  const count = messages.length;
  const batch: PreparedBatch = {
    data: new Array<Buffer>(count),
    ports: new Uint32Array(count),
    addresses: new Array<string | undefined>(count),
    froms: new Array<string>(count),
    connected,
    callback: callback as SendManyCallback | undefined,
  };
  let choosesSource = false;
  for (let i = 0; i < count; i++) {
    prepareMessage(batch, i, messages[i], family);
    if (batch.froms?.[i]) choosesSource = true;
  }
  if (!choosesSource) batch.froms = undefined;
  return batch;
}

function prepareMessage(batch: PreparedBatch, index: number, message: unknown, family: 4 | 6): void {
  const name = `messages[${index}]`;
  const froms = batch.froms as string[];
  if (isData(message)) {
    // Plain data has no destination: only a connected socket has one.
    if (!batch.connected) throw new ERR_SOCKET_BAD_PORT(`${name}.port`, undefined, false);
    batch.data[index] = bytesOfData(message);
    froms[index] = '';
    return;
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw new ERR_INVALID_ARG_TYPE(name, [...DATA_TYPES, 'object'], message);
  }
  const { data, port, address, from } = message as { data?: unknown; port?: unknown; address?: unknown; from?: unknown };
  if (!isData(data)) throw new ERR_INVALID_ARG_TYPE(`${name}.data`, DATA_TYPES, data);
  if (batch.connected) {
    if (port != null || address != null) throw new ERR_SOCKET_DGRAM_IS_CONNECTED();
  } else {
    batch.ports[index] = validatePort(port, `${name}.port`, false);
    if (address != null) validateString(address, `${name}.address`);
    batch.addresses[index] = (address as string | undefined) || undefined;
  }
  batch.data[index] = bytesOfData(data);
  froms[index] = sourceAddress(from, `${name}.from`, family);
}

/** `from` as the native side takes it: an IP literal of the socket's family, or '' for none. */
function sourceAddress(from: unknown, name: string, family: 4 | 6): string {
  if (from == null) return '';
  validateString(from, name);
  if (isIP(from) !== family || from.includes('%')) {
    const reason = family === 4 ? 'must be an IPv4 address' : 'must be an IPv6 address without a zone';
    throw new ERR_INVALID_ARG_VALUE(name, from, reason);
  }
  if (!capabilities.sourceAddress) {
    throw new ERR_FEATURE_UNAVAILABLE_ON_PLATFORM(`${name} (choosing the source address of a datagram)`);
  }
  return from;
}

/** Sends a prepared batch on a bound socket. */
export function sendPrepared(batch: PreparedBatch, target: SendManyTarget): void {
  if (batch.connected) {
    transmit(batch, target, undefined);
    return;
  }
  resolveDestinations(batch, target, (destinations) => transmit(batch, target, destinations));
}

/** Where an address leads: an IP, or why it cannot be used. */
type Destination = { ip: string; error?: undefined } | { ip?: undefined; error: Error };

/**
 * The destination of each distinct address: IP literals as they are, the
 * default as the family's loopback, names through the socket's lookup, once
 * each. `next` runs on a later tick even when nothing needs a lookup, after
 * the lookups of send()s issued before (which take a tick), so that those
 * datagrams go out first.
 */
function resolveDestinations(
  batch: PreparedBatch,
  target: SendManyTarget,
  next: (destinations: Map<string | undefined, Destination>) => void,
): void {
  const handle = target.handle() as UdpHandle;
  const destinations = new Map<string | undefined, Destination>();
  const names = new Set<string>();
  for (const address of batch.addresses) {
    if (address === undefined) destinations.set(address, { ip: LOOPBACK[handle.family] });
    else if (isIP(address)) destinations.set(address, { ip: address });
    else names.add(address);
  }
  if (names.size === 0) {
    process.nextTick(next, destinations);
    return;
  }
  let pending = names.size;
  for (const name of names) {
    let answered = false;
    handle.lookup(name, (err, ip) => {
      if (answered) return;
      answered = true;
      destinations.set(name, err ? { error: err } : { ip });
      if (--pending === 0) next(destinations);
    });
  }
}

/**
 * Hands the batch to the handle: the datagrams up to the first whose
 * destination cannot be used (its lookup failed, the sendBlockList blocks
 * it, or it is of the other family), which then ends the batch with that error.
 */
function transmit(batch: PreparedBatch, target: SendManyTarget, destinations: Map<string | undefined, Destination> | undefined): void {
  const handle = target.handle();
  // Closed in the meantime: nothing was sent, and the callback says so.
  if (!handle) {
    abandonPrepared(batch, target);
    return;
  }
  const count = batch.data.length;
  const ips = new Array<string>(count);
  let usable = count;
  let stop: Error | undefined;
  if (destinations) {
    blockDestinations(destinations, target);
    for (let i = 0; i < count; i++) {
      const destination = destinations.get(batch.addresses[i]) as Destination;
      if (destination.error) {
        stop = destination.error;
        usable = i;
        break;
      }
      ips[i] = destination.ip;
      // send()'s own check (node parses the destination by the socket's
      // family): the other family's address ends the batch with EINVAL.
      if (ipFamily(destination.ip) !== handle.family) {
        stop = sendError(UV.EINVAL, batch, ips, i);
        usable = i;
        break;
      }
    }
  } else {
    ips.fill('');
  }
  if (usable === 0) {
    process.nextTick(finish, batch, target, stop, 0);
    return;
  }
  const outgoing: OutgoingBatch = {
    data: usable === count ? batch.data : batch.data.slice(0, usable),
    ports: usable === count ? batch.ports : batch.ports.subarray(0, usable),
    ips: usable === count ? ips : ips.slice(0, usable),
    froms: usable === count ? batch.froms : batch.froms?.slice(0, usable),
  };
  handle.sendMany(outgoing, (sent, errno) => {
    finish(batch, target, errno ? sendError(errno, batch, ips, sent) : stop, sent);
  });
}

/**
 * Node's send error for datagram `index`, naming its address as given (or,
 * where send() would say `undefined`, the default it went to).
 */
function sendError(errno: number, batch: PreparedBatch, ips: string[], index: number): Error {
  const address = batch.addresses[index] ?? (ips[index] || undefined);
  return exceptionWithHostPort(errno, 'send', address as string, batch.ports[index] || undefined);
}

/** Turns each destination the sendBlockList blocks into ERR_IP_BLOCKED, as send() reports it. */
function blockDestinations(destinations: Map<string | undefined, Destination>, target: SendManyTarget): void {
  for (const [address, destination] of destinations) {
    if (destination.ip !== undefined && target.blocked(destination.ip)) {
      destinations.set(address, { error: new ERR_IP_BLOCKED(destination.ip) });
    }
  }
}

/**
 * A batch that will never be sent (the socket closed, or its implicit bind
 * failed): the callback learns it with ERR_SOCKET_DGRAM_NOT_RUNNING and 0.
 * Without a callback nothing more is emitted (a failed bind was 'error' already).
 */
export function abandonPrepared(batch: PreparedBatch, target: SendManyTarget): void {
  if (batch.callback) process.nextTick(finish, batch, target, new ERR_SOCKET_DGRAM_NOT_RUNNING(), 0);
}

/** The callback, or (without one) an 'error' event for a failure. */
function finish(batch: PreparedBatch, target: SendManyTarget, error: Error | undefined, sent: number): void {
  if (error) Object.assign(error, { sent });
  if (batch.callback) batch.callback((error as SendManyError | undefined) ?? null, sent);
  else if (error) target.emitter.emit('error', error);
}
