// Public types of fastdgram: the API of `node:dgram`, declared here by hand so
// that a TypeScript user who switches `from 'node:dgram'` to `from 'fastdgram'`
// sees the same overloads, the same typed events and the same option and
// result types. Types that node:dgram takes from other built-in modules
// (AddressInfo, BlockList, dns lookup options, EventEmitter) are imported from
// those modules, so they are the very same types, not look-alikes.
//
// `bindSync()` and `connectSync()` are declared as @types/node 26 declares
// them (on Node.js 20 and 22, whose node:dgram lacks them, they are
// fastdgram's additions). Not declared: node's deprecated internals (DEP0112),
// which @types/node does not declare either. Declared beyond node:dgram
// (README, "Beyond node:dgram"): `sendMany()`, `setTOS()`, `getTOS()`,
// `stats()`, `messages()`, the `'messages'` event and the `dontFragment` /
// `recvDestination` options.
//
// __test__/types/ checks these declarations against @types/node's `dgram`.

import type { AddressInfo, BlockList } from 'node:net';
import type { LookupOneOptions } from 'node:dns';
import { EventEmitter } from 'node:events';

/**
 * The Buffer a `'message'` event carries: `Buffer<ArrayBuffer>` with
 * @types/node ≥ 22.x on TypeScript ≥ 5.7 (what @types/node calls
 * NonSharedBuffer), plain `Buffer` with older @types/node — whatever
 * `Buffer.alloc()` returns with the @types/node the project has.
 */
type MessageBuffer = ReturnType<typeof Buffer.alloc>;

type MessageListener = (msg: MessageBuffer, rinfo: RemoteInfo) => void;
type SendCallback = (error: Error | null, bytes: number) => void;
/** What `send()` accepts as a message without offset and length. */
type SendMessage = string | NodeJS.ArrayBufferView | readonly any[];
/** What `send()` accepts as a message with offset and length. */
type SendMessageSlice = string | NodeJS.ArrayBufferView;

/**
 * One message of `sendMany()`: its data alone (connected socket), or an
 * object with the data and, on an unconnected socket, where it goes.
 */
export type SendManyMessage =
  | string
  | NodeJS.ArrayBufferView
  | {
      data: string | NodeJS.ArrayBufferView;
      /** Destination port: required on an unconnected socket, not allowed on a connected one. */
      port?: number | undefined;
      /** Destination IP address or host name (unconnected socket); default: loopback. */
      address?: string | undefined;
      /** Local IP address the datagram leaves from (Linux only). */
      from?: string | undefined;
    };

/** The error of a `sendMany()` that failed part-way: `sent` datagrams went out before it. */
export interface SendManyError extends NodeJS.ErrnoException {
  sent: number;
}

/** `sent`: how many datagrams went out (before the failure, if any). */
export type SendManyCallback = (error: SendManyError | null, sent: number) => void;

/** Who sent a received datagram, and its size. */
export interface RemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
  /** fastdgram: the local address the datagram was sent to (with `recvDestination: true`). */
  localAddress?: string;
}

/** fastdgram: one datagram of a `'messages'` batch or of `socket.messages()`. */
export interface ReceivedMessage {
  msg: MessageBuffer;
  rinfo: RemoteInfo;
}

/** fastdgram: `socket.messages(options)`. */
export interface MessagesOptions {
  /** Datagrams waiting for the consumer before reading from the kernel pauses (default 1024). */
  highWaterMark?: number | undefined;
}

/** fastdgram: `socket.stats()`. */
export interface SocketStats {
  receivedDatagrams: number;
  receivedBytes: number;
  receivedBatches: number;
  /** Buffers of several datagrams the kernel handed over whole (Linux `UDP_GRO`, from a GSO sender), each split into its datagrams. */
  coalescedBuffers: number;
  /** Dropped on receipt because `receiveBlockList` matched their source. */
  blockedDatagrams: number;
  receiveErrors: number;
  sentDatagrams: number;
  sentBytes: number;
  sendErrors: number;
  /** Datagrams the kernel dropped for this socket (Linux `SO_RXQ_OVFL`; reported with the next datagram received); a coalesced buffer (`UDP_GRO`) counts once. */
  kernelDrops: number;
}

export interface BindOptions {
  port?: number | undefined;
  address?: string | undefined;
  exclusive?: boolean | undefined;
  fd?: number | undefined;
}

/** `socket.bindSync(options)`: no `exclusive`, no `fd`; `address` must be an IP literal. */
export interface BindSyncOptions {
  port?: number | undefined;
  address?: string | undefined;
}

export type SocketType = 'udp4' | 'udp6';

export interface SocketOptions {
  type: SocketType;
  reuseAddr?: boolean | undefined;
  /**
   * Lets every socket created with it bind the same port; the kernel spreads
   * the datagrams over them by source and destination (`SO_REUSEPORT` on
   * Linux and DragonFly, `SO_REUSEPORT_LB` on FreeBSD; elsewhere bind fails
   * with `ENOTSUP`). As Node.js >= 22.12, and with fastdgram on Node.js 20 too.
   */
  reusePort?: boolean | undefined;
  ipv6Only?: boolean | undefined;
  recvBufferSize?: number | undefined;
  sendBufferSize?: number | undefined;
  lookup?:
    | ((
        hostname: string,
        options: LookupOneOptions,
        callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
      ) => void)
    | undefined;
  receiveBlockList?: BlockList | undefined;
  sendBlockList?: BlockList | undefined;
  /** Closing the socket when the signal aborts (`Abortable` in node:events). */
  signal?: AbortSignal | undefined;
  /** fastdgram: `rinfo.localAddress` on every received datagram (IP_PKTINFO / IPV6_RECVPKTINFO). */
  recvDestination?: boolean | undefined;
  /**
   * fastdgram only (not in node:dgram): path-MTU discovery on. A datagram
   * larger than the path MTU fails with `EMSGSIZE`, whose error carries the
   * path MTU as `mtu`, instead of being sent in fragments. Linux only;
   * elsewhere `true` throws `ENOTSUP`.
   */
  dontFragment?: boolean | undefined;
}

/** Creates a `Socket` of `type`; `callback` becomes a `'message'` listener. */
export function createSocket(type: SocketType, callback?: MessageListener): Socket;
/** Creates a `Socket` from `options`; `callback` becomes a `'message'` listener. */
export function createSocket(options: SocketOptions, callback?: MessageListener): Socket;

export class Socket extends EventEmitter {
  addMembership(multicastAddress: string, multicastInterface?: string): void;
  address(): AddressInfo;

  bind(port?: number, address?: string, callback?: () => void): this;
  bind(port: number, callback: () => void): this;
  bind(callback: () => void): this;
  bind(options: BindOptions, callback?: () => void): this;

  /**
   * Binds at once (Node.js 26's `bindSync`): `address` must be an IP literal
   * (no DNS); a failure such as `EADDRINUSE` is thrown; `'listening'` follows
   * on the next tick. Returns `socket.address()`. Never through a cluster
   * primary. On Node.js 20 and 22 this is fastdgram's addition.
   */
  bindSync(options?: BindSyncOptions): AddressInfo;

  close(callback?: () => void): this;

  connect(port: number, address?: string, callback?: () => void): void;
  connect(port: number, callback: () => void): void;
  /**
   * Connects at once (Node.js 26's `connectSync`), binding with `bindSync()`
   * first if the socket is unbound: `address` must be an IP literal (default
   * loopback); errors are thrown; `'connect'` follows on the next tick. On
   * Node.js 20 and 22 this is fastdgram's addition.
   */
  connectSync(port: number, address?: string): void;
  disconnect(): void;

  dropMembership(multicastAddress: string, multicastInterface?: string): void;
  getRecvBufferSize(): number;
  getSendBufferSize(): number;
  getSendQueueSize(): number;
  getSendQueueCount(): number;
  ref(): this;
  remoteAddress(): AddressInfo;

  send(msg: SendMessage, port?: number, address?: string, callback?: SendCallback): void;
  send(msg: SendMessage, port?: number, callback?: SendCallback): void;
  send(msg: SendMessage, callback?: SendCallback): void;
  send(
    msg: SendMessageSlice,
    offset: number,
    length: number,
    port?: number,
    address?: string,
    callback?: SendCallback,
  ): void;
  send(msg: SendMessageSlice, offset: number, length: number, port?: number, callback?: SendCallback): void;
  send(msg: SendMessageSlice, offset: number, length: number, callback?: SendCallback): void;

  /**
   * fastdgram's addition, not in node:dgram: sends `messages` in order,
   * after every `send()` issued before, with one native call (sendmmsg, UDP
   * GSO for runs of equal sizes). Invalid arguments throw before anything is
   * sent; nothing after a failing datagram is sent. `callback` runs once, on
   * a later tick; without it a failure is emitted as `'error'`.
   */
  sendMany(messages: readonly SendManyMessage[], callback?: SendManyCallback): void;

  setBroadcast(flag: boolean): void;
  setMulticastInterface(multicastInterface: string): void;
  setMulticastLoopback(flag: boolean): boolean;
  setMulticastTTL(ttl: number): number;
  setRecvBufferSize(size: number): void;
  setSendBufferSize(size: number): void;
  setTTL(ttl: number): number;
  /**
   * fastdgram only (not in node:dgram): sets the TOS byte (IPv4) or traffic
   * class (IPv6) of sent datagrams, DSCP and ECN bits, 0 to 255; returns `tos`.
   */
  setTOS(tos: number): number;
  /** fastdgram only (not in node:dgram): the TOS byte or traffic class set by `setTOS()`. */
  getTOS(): number;
  unref(): this;
  addSourceSpecificMembership(sourceAddress: string, groupAddress: string, multicastInterface?: string): void;
  dropSourceSpecificMembership(sourceAddress: string, groupAddress: string, multicastInterface?: string): void;

  // ---- fastdgram's additions (not in node:dgram).
  /** Counters of this socket; zeros before it is bound. */
  stats(): SocketStats;
  /** Received datagrams as an async iterator; reading pauses while `highWaterMark` wait. */
  messages(options?: MessagesOptions): AsyncIterableIterator<ReceivedMessage>;
  [Symbol.asyncIterator](): AsyncIterableIterator<ReceivedMessage>;
  /** Stops (`true`) or resumes (`false`) reading datagrams from the kernel. */
  pauseReceiving(paused: boolean): void;

  // Events: 'close', 'connect', 'error', 'listening', 'message', and fastdgram's 'messages'.
  addListener(event: string, listener: (...args: any[]) => void): this;
  addListener(event: 'close', listener: () => void): this;
  addListener(event: 'connect', listener: () => void): this;
  addListener(event: 'error', listener: (err: Error) => void): this;
  addListener(event: 'listening', listener: () => void): this;
  addListener(event: 'message', listener: MessageListener): this;
  addListener(event: 'messages', listener: (batch: ReceivedMessage[]) => void): this;

  emit(event: string | symbol, ...args: any[]): boolean;
  emit(event: 'close'): boolean;
  emit(event: 'connect'): boolean;
  emit(event: 'error', err: Error): boolean;
  emit(event: 'listening'): boolean;
  emit(event: 'message', msg: MessageBuffer, rinfo: RemoteInfo): boolean;
  emit(event: 'messages', batch: ReceivedMessage[]): boolean;

  on(event: string, listener: (...args: any[]) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'connect', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'listening', listener: () => void): this;
  on(event: 'message', listener: MessageListener): this;
  on(event: 'messages', listener: (batch: ReceivedMessage[]) => void): this;

  once(event: string, listener: (...args: any[]) => void): this;
  once(event: 'close', listener: () => void): this;
  once(event: 'connect', listener: () => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: 'listening', listener: () => void): this;
  once(event: 'message', listener: MessageListener): this;
  once(event: 'messages', listener: (batch: ReceivedMessage[]) => void): this;

  prependListener(event: string, listener: (...args: any[]) => void): this;
  prependListener(event: 'close', listener: () => void): this;
  prependListener(event: 'connect', listener: () => void): this;
  prependListener(event: 'error', listener: (err: Error) => void): this;
  prependListener(event: 'listening', listener: () => void): this;
  prependListener(event: 'message', listener: MessageListener): this;
  prependListener(event: 'messages', listener: (batch: ReceivedMessage[]) => void): this;

  prependOnceListener(event: string, listener: (...args: any[]) => void): this;
  prependOnceListener(event: 'close', listener: () => void): this;
  prependOnceListener(event: 'connect', listener: () => void): this;
  prependOnceListener(event: 'error', listener: (err: Error) => void): this;
  prependOnceListener(event: 'listening', listener: () => void): this;
  prependOnceListener(event: 'message', listener: MessageListener): this;
  prependOnceListener(event: 'messages', listener: (batch: ReceivedMessage[]) => void): this;

  /** Closes the socket; resolves once it is closed. */
  [Symbol.asyncDispose](): Promise<void>;
}
