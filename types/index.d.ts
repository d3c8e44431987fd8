// Public types of fastdgram: the API of `node:dgram`, declared here by hand so
// that a TypeScript user who switches `from 'node:dgram'` to `from 'fastdgram'`
// sees the same overloads, the same typed events and the same option and
// result types. Types that node:dgram takes from other built-in modules
// (AddressInfo, BlockList, dns lookup options, EventEmitter) are imported from
// those modules, so they are the very same types, not look-alikes.
//
// Not declared: `bindSync()` and `connectSync()` (newest Node.js only, not
// implemented by fastdgram yet) and node's deprecated internals.
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

/** Who sent a received datagram, and its size. */
export interface RemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
}

export interface BindOptions {
  port?: number | undefined;
  address?: string | undefined;
  exclusive?: boolean | undefined;
  fd?: number | undefined;
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

  close(callback?: () => void): this;

  connect(port: number, address?: string, callback?: () => void): void;
  connect(port: number, callback: () => void): void;
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

  setBroadcast(flag: boolean): void;
  setMulticastInterface(multicastInterface: string): void;
  setMulticastLoopback(flag: boolean): boolean;
  setMulticastTTL(ttl: number): number;
  setRecvBufferSize(size: number): void;
  setSendBufferSize(size: number): void;
  setTTL(ttl: number): number;
  unref(): this;
  addSourceSpecificMembership(sourceAddress: string, groupAddress: string, multicastInterface?: string): void;
  dropSourceSpecificMembership(sourceAddress: string, groupAddress: string, multicastInterface?: string): void;

  // Events: 'close', 'connect', 'error', 'listening', 'message'.
  addListener(event: string, listener: (...args: any[]) => void): this;
  addListener(event: 'close', listener: () => void): this;
  addListener(event: 'connect', listener: () => void): this;
  addListener(event: 'error', listener: (err: Error) => void): this;
  addListener(event: 'listening', listener: () => void): this;
  addListener(event: 'message', listener: MessageListener): this;

  emit(event: string | symbol, ...args: any[]): boolean;
  emit(event: 'close'): boolean;
  emit(event: 'connect'): boolean;
  emit(event: 'error', err: Error): boolean;
  emit(event: 'listening'): boolean;
  emit(event: 'message', msg: MessageBuffer, rinfo: RemoteInfo): boolean;

  on(event: string, listener: (...args: any[]) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'connect', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'listening', listener: () => void): this;
  on(event: 'message', listener: MessageListener): this;

  once(event: string, listener: (...args: any[]) => void): this;
  once(event: 'close', listener: () => void): this;
  once(event: 'connect', listener: () => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: 'listening', listener: () => void): this;
  once(event: 'message', listener: MessageListener): this;

  prependListener(event: string, listener: (...args: any[]) => void): this;
  prependListener(event: 'close', listener: () => void): this;
  prependListener(event: 'connect', listener: () => void): this;
  prependListener(event: 'error', listener: (err: Error) => void): this;
  prependListener(event: 'listening', listener: () => void): this;
  prependListener(event: 'message', listener: MessageListener): this;

  prependOnceListener(event: string, listener: (...args: any[]) => void): this;
  prependOnceListener(event: 'close', listener: () => void): this;
  prependOnceListener(event: 'connect', listener: () => void): this;
  prependOnceListener(event: 'error', listener: (err: Error) => void): this;
  prependOnceListener(event: 'listening', listener: () => void): this;
  prependOnceListener(event: 'message', listener: MessageListener): this;

  /** Closes the socket; resolves once it is closed. */
  [Symbol.asyncDispose](): Promise<void>;
}
