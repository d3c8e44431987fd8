// dgram.Socket: node:dgram's semantics — argument handling, bind and connect
// states, the queue of calls made while binding, events and their order —
// over a UdpHandle (handle.ts). The structure follows node's lib/dgram.js so
// that each behaviour can be checked against it side by side.
import { EventEmitter } from 'node:events';
import { BlockList, isIP } from 'node:net';
import { deprecate, promisify } from 'node:util';
import {
  ERR_BUFFER_OUT_OF_BOUNDS,
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_ARG_VALUE,
  ERR_INVALID_FD_TYPE,
  ERR_IP_BLOCKED,
  ERR_MISSING_ARGS,
  ERR_SOCKET_ALREADY_BOUND,
  ERR_SOCKET_BAD_BUFFER_SIZE,
  ERR_SOCKET_BAD_TYPE,
  ERR_SOCKET_BUFFER_SIZE,
  ERR_SOCKET_DGRAM_IS_CONNECTED,
  ERR_SOCKET_DGRAM_NOT_CONNECTED,
  ERR_SOCKET_DGRAM_NOT_RUNNING,
  errnoException,
  exceptionWithHostPort,
  systemErrorContext,
} from './errors';
import {
  isInt32,
  validateAbortSignal,
  validateBoolean,
  validateFunction,
  validateNumber,
  validateObject,
  validatePort,
  validateString,
  validateUint32,
} from './validate';
import { DELIVER_BATCHES, DELIVER_MESSAGES, UdpHandle, reportSendResult } from './handle';
import type { AddressOut, ReceivedMessage, RemoteInfo, SendRequest, SharedNodeHandle } from './handle';
import { DATA_TYPES, NO_DATA, bufferOver, dataBuffer, isData } from './data';
import { rulesOf, usesOwnCheck, watchBlockList } from './block-list-sync';
import { messageIterator } from './message-iterator';
import type { MessagesOptions } from './message-iterator';
import { defaultLookup, lookupForType } from './lookup';
import type { Lookup } from './lookup';
import { guessHandleType, FLAG_REUSE_PORT, UV_UDP_IPV6ONLY, UV_UDP_REUSEADDR } from './native';
import { bindThroughPrimary, isClusterWorker } from './cluster';
import {
  BIND_CALLBACK_LISTENS_FOR_ERROR,
  BIND_LOOKUP_ERROR_AFTER_CLOSE,
  HAS_DEPRECATED_MEMBERS,
  HAS_SYNC_BIND,
  VALIDATES_BUFFER_SIZE_OPTIONS,
} from './node-dgram';
import { readDontFragment, withPathMtu } from './ip-options';
import { abandonPrepared, prepareBatch, sendPrepared } from './send-many';
import type { SendManyTarget } from './send-many';

export type SocketType = 'udp4' | 'udp6';

export interface SocketOptions {
  type: SocketType;
  reuseAddr?: boolean;
  reusePort?: boolean;
  ipv6Only?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
  lookup?: Lookup;
  signal?: AbortSignal;
  receiveBlockList?: BlockList;
  sendBlockList?: BlockList;
  /** fastdgram: rinfo.localAddress says which local address each datagram was sent to. */
  recvDestination?: boolean;
  /** Path-MTU discovery: an oversized datagram fails with EMSGSIZE (and `mtu`) instead of being fragmented. */
  dontFragment?: boolean;
}

/** fastdgram: `socket.stats()`. */
export interface SocketStats {
  receivedDatagrams: number;
  receivedBytes: number;
  receivedBatches: number;
  coalescedBuffers: number;
  blockedDatagrams: number;
  receiveErrors: number;
  sentDatagrams: number;
  sentBytes: number;
  sendErrors: number;
  kernelDrops: number;
}

export interface BindOptions {
  port?: number;
  address?: string;
  exclusive?: boolean;
  fd?: number;
}

/** `socket.bindSync(options)`. */
export interface BindSyncOptions {
  port?: number;
  address?: string;
}

const EMPTY_OPTIONS: BindSyncOptions = Object.freeze(Object.create(null) as BindSyncOptions);

export interface AddressInfo {
  address: string;
  family: string;
  port: number;
}

export type { RemoteInfo };

const enum BindState {
  Unbound,
  Binding,
  Bound,
}

const enum ConnectState {
  Disconnected,
  Connecting,
  Connected,
}

interface SocketState {
  handle: UdpHandle | null;
  receiving: boolean;
  bindState: BindState;
  connectState: ConnectState;
  /** Calls made while binding, run once 'listening' fires. */
  queue: Array<() => void> | undefined;
  /** Told when the bind fails and the queue is dropped (sendMany's callbacks). */
  onQueueDropped: Array<() => void> | undefined;
  reuseAddr: boolean | undefined;
  reusePort: boolean | undefined;
  ipv6Only: boolean | undefined;
  recvBufferSize: number | undefined;
  sendBufferSize: number | undefined;
  /** Datagrams from these addresses are dropped before 'message' (natively; see block-list-sync.ts). */
  receiveBlockList: BlockList | undefined;
  /** Stops passing the receive block list's changes on. */
  unwatchBlockList: (() => void) | undefined;
  /** The native side refused the list's rules: check each datagram here instead. */
  checkBlockListHere: boolean;
  /** Sends and connects to these addresses fail with ERR_IP_BLOCKED. */
  sendBlockList: BlockList | undefined;
}

const kState = Symbol('fastdgram state');
/** What bind(callback) listens to for a failure, as the running Node.js (see node-dgram.ts). */
const BIND_ERROR_EVENT = BIND_CALLBACK_LISTENS_FOR_ERROR ? 'error' : EventEmitter.errorMonitor;
type MessageListener = (msg: Buffer, rinfo: RemoteInfo) => void;
type SendCallback = (error: Error | null, bytes?: number) => void;

function newHandle(type: unknown, lookup: Lookup | undefined, owner: Socket): UdpHandle {
  if (lookup === undefined) lookup = defaultLookup();
  else validateFunction(lookup, 'lookup');
  if (type === 'udp4') return new UdpHandle(4, lookupForType('udp4', lookup), owner);
  if (type === 'udp6') return new UdpHandle(6, lookupForType('udp6', lookup), owner);
  throw new ERR_SOCKET_BAD_TYPE();
}

export class Socket extends EventEmitter {
  type: SocketType;
  [kState]: SocketState;

  constructor(type: SocketType | SocketOptions, listener?: MessageListener) {
    super();
    // Each option is read as often and in the order node reads it (getters see it).
    let options: SocketOptions | undefined;
    let lookup: Lookup | undefined;
    let recvBufferSize: number | undefined;
    let sendBufferSize: number | undefined;
    let receiveBlockList: BlockList | undefined;
    let sendBlockList: BlockList | undefined;
    if (type !== null && typeof type === 'object') {
      options = type;
      type = options.type;
      lookup = options.lookup;
      if (VALIDATES_BUFFER_SIZE_OPTIONS) {
        if (options.recvBufferSize) validateUint32(options.recvBufferSize, 'options.recvBufferSize');
        if (options.sendBufferSize) validateUint32(options.sendBufferSize, 'options.sendBufferSize');
      }
      recvBufferSize = options.recvBufferSize;
      sendBufferSize = options.sendBufferSize;
      if (options.receiveBlockList) {
        validateBlockList(options.receiveBlockList, 'options.receiveBlockList');
        receiveBlockList = options.receiveBlockList;
      }
      if (options.sendBlockList) {
        validateBlockList(options.sendBlockList, 'options.sendBlockList');
        sendBlockList = options.sendBlockList;
      }
      if (options.recvDestination !== undefined) validateBoolean(options.recvDestination, 'options.recvDestination');
    }
    const handle = newHandle(type, lookup, this);
    if (options?.recvDestination === true) handle.receiveDestination();
    if (options) handle.dontFragment = readDontFragment(options.dontFragment);
    this.type = type as SocketType;
    if (typeof listener === 'function') this.on('message', listener);
    this[kState] = {
      handle,
      receiving: false,
      bindState: BindState.Unbound,
      connectState: ConnectState.Disconnected,
      queue: undefined,
      onQueueDropped: undefined,
      reuseAddr: options?.reuseAddr,
      reusePort: options?.reusePort,
      ipv6Only: options?.ipv6Only,
      recvBufferSize,
      sendBufferSize,
      receiveBlockList,
      unwatchBlockList: undefined,
      checkBlockListHere: false,
      sendBlockList,
    };
    if (receiveBlockList) applyReceiveBlockList(this, receiveBlockList);
    if (options?.signal !== undefined) closeOnAbort(this, options.signal);
  }

  bind(port?: number | BindOptions | null | (() => void), address?: string | null | (() => void), callback?: () => void): this;
  // Two declared parameters, as node's (bind.length === 2); the callback is always the last argument.
  bind(portArg?: unknown, addressArg?: unknown): this {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments;
    healthCheck(this);
    const state = this[kState];
    if (state.bindState !== BindState.Unbound) throw new ERR_SOCKET_ALREADY_BOUND();
    state.bindState = BindState.Binding;

    const cb = args.length > 0 ? args[args.length - 1] : undefined;
    if (typeof cb === 'function') callOnceListening(this, cb as () => void);

    // A UDP handle of node's own (what a cluster primary hands out) is used as is.
    if (isNodeHandle(portArg)) {
      const errno = handleOf(this).openShared(portArg);
      if (errno) throw errnoException(errno, 'open');
      startListening(this);
      return this;
    }
    if (isFdOptions(portArg)) {
      bindFd(this, portArg);
      return this;
    }
    bindAddress(this, bindTarget(this, portArg, addressArg));
    return this;
  }

  /**
   * Node.js 26's synchronous bind: an IP literal (no DNS), bound before it
   * returns (errors are thrown), receiving at once, 'listening' on the next
   * tick; returns the bound address. Validates everything before it changes
   * the socket's state. No cluster: a worker binds its own socket.
   */
  bindSync(options: BindSyncOptions = EMPTY_OPTIONS): AddressInfo {
    healthCheck(this);
    validateObject(options, 'options');
    const state = this[kState];
    if (state.bindState !== BindState.Unbound) throw new ERR_SOCKET_ALREADY_BOUND();
    const port = validatePort(options.port ?? 0, 'options.port');
    const given = options.address;
    const address = given ? ipLiteral(given, 'options.address', 'bindSync') : this.type === 'udp4' ? '0.0.0.0' : '::';
    state.bindState = BindState.Binding;
    const errno = handleOf(this).bind(address, port, bindFlags(state));
    if (errno) {
      state.bindState = BindState.Unbound;
      throw exceptionWithHostPort(errno, 'bind', address, port);
    }
    startReceiving(this);
    process.nextTick(emitListeningNT, this);
    return this.address();
  }

  connect(port: number, address?: string | (() => void), callback?: () => void): void {
    port = validatePort(port, 'Port', false);
    if (typeof address === 'function') {
      callback = address;
      address = '';
    } else if (address === undefined) {
      address = '';
    }
    validateString(address, 'address');
    const state = this[kState];
    if (state.connectState !== ConnectState.Disconnected) throw new ERR_SOCKET_DGRAM_IS_CONNECTED();
    state.connectState = ConnectState.Connecting;
    if (state.bindState === BindState.Unbound) bindImplicitly(this);
    const connectNow = (): void => connectAfterBind(this, port, address as string, callback);
    if (state.bindState !== BindState.Bound) {
      enqueue(this, connectNow);
      return;
    }
    connectNow();
  }

  /**
   * Node.js 26's synchronous connect: an IP literal (default: loopback),
   * binding with bindSync() first if unbound; errors of connect(2) are
   * thrown, 'connect' follows on the next tick.
   */
  connectSync(port: number, address?: string | null): void {
    healthCheck(this);
    port = validatePort(port, 'Port', false);
    const state = this[kState];
    if (state.connectState !== ConnectState.Disconnected) throw new ERR_SOCKET_DGRAM_IS_CONNECTED();
    if (address == null || address === '') address = this.type === 'udp4' ? '127.0.0.1' : '::1';
    else address = ipLiteral(address, 'address', 'connectSync');
    if (state.bindState === BindState.Unbound) this.bindSync();
    else if (state.bindState !== BindState.Bound) throw new ERR_SOCKET_ALREADY_BOUND();
    state.connectState = ConnectState.Connecting;
    if (isSendBlocked(state.sendBlockList, address)) {
      state.connectState = ConnectState.Disconnected;
      throw new ERR_IP_BLOCKED(address);
    }
    const errno = handleOf(this).connect(address, port);
    if (errno) {
      state.connectState = ConnectState.Disconnected;
      throw exceptionWithHostPort(errno, 'connect', address, port);
    }
    state.connectState = ConnectState.Connected;
    process.nextTick(emitConnectNT, this);
  }

  disconnect(): void {
    const state = this[kState];
    if (state.connectState !== ConnectState.Connected) throw new ERR_SOCKET_DGRAM_NOT_CONNECTED();
    const errno = handleOf(this).disconnect();
    if (errno) throw errnoException(errno, 'connect');
    state.connectState = ConnectState.Disconnected;
  }

  // send(msg[, offset, length][, port][, address][, callback]): first the
  // arguments' shapes, read as node reads them; then sendWhenBound.
  send(buffer: unknown, offset?: unknown, length?: unknown, port?: unknown, address?: unknown, callback?: unknown): void {
    const connected = this[kState].connectState === ConnectState.Connected;
    if (!connected) {
      if (address || (port && typeof port !== 'function')) {
        buffer = sliceBuffer(buffer, offset, length);
      } else {
        callback = port;
        port = offset;
        address = length;
      }
    } else {
      if (typeof length === 'number') {
        buffer = sliceBuffer(buffer, offset, length);
        if (typeof port === 'function') {
          callback = port;
          port = null;
        }
      } else {
        callback = offset;
      }
      if (port || address) throw new ERR_SOCKET_DGRAM_IS_CONNECTED();
    }
    const list = dataList(buffer);
    if (!connected) port = validatePort(port, 'Port', false);
    if (typeof callback !== 'function') callback = undefined;
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    } else if (address != null) {
      validateString(address, 'address');
    }
    sendWhenBound(this, {
      list,
      port: port as number,
      address: address as string | undefined,
      callback: callback as SendCallback | undefined,
      connected,
      duringSend: false,
    });
  }

  sendto(buffer: unknown, offset: number, length: number, port: number, address: string, callback?: SendCallback): void {
    validateNumber(offset, 'offset');
    validateNumber(length, 'length');
    validateNumber(port, 'port');
    validateString(address, 'address');
    this.send(buffer, offset, length, port, address, callback);
  }

  close(callback?: () => void): this {
    const state = this[kState];
    if (typeof callback === 'function') this.on('close', callback);
    if (state.queue !== undefined) {
      state.queue.push(() => this.close());
      return this;
    }
    healthCheck(this);
    stopReceiving(this);
    handleOf(this).close();
    state.handle = null;
    state.unwatchBlockList?.();
    process.nextTick(() => this.emit('close'));
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this[kState].handle) return;
    await promisify((cb: () => void) => this.close(cb))();
  }

  address(): AddressInfo {
    healthCheck(this);
    const out: AddressOut = {};
    const errno = handleOf(this).getsockname(out);
    if (errno) throw errnoException(errno, 'getsockname');
    return out as AddressInfo;
  }

  remoteAddress(): AddressInfo {
    healthCheck(this);
    const state = this[kState];
    if (state.connectState !== ConnectState.Connected) throw new ERR_SOCKET_DGRAM_NOT_CONNECTED();
    const out: AddressOut = {};
    const errno = handleOf(this).getpeername(out);
    if (errno) throw errnoException(errno, 'getpeername');
    return out as AddressInfo;
  }

  // The option setters reach the handle without a health check, as node's
  // do: on a closed socket they fail with the TypeError of a null handle.
  setBroadcast(flag: boolean): void {
    const errno = handleOf(this).setBroadcast(flag ? 1 : 0);
    if (errno) throw errnoException(errno, 'setBroadcast');
  }

  setTTL(ttl: number): number {
    validateNumber(ttl, 'ttl');
    const errno = handleOf(this).setTTL(ttl);
    if (errno) throw errnoException(errno, 'setTTL');
    return ttl;
  }

  setMulticastTTL(ttl: number): number {
    validateNumber(ttl, 'ttl');
    const errno = handleOf(this).setMulticastTTL(ttl);
    if (errno) throw errnoException(errno, 'setMulticastTTL');
    return ttl;
  }

  setMulticastLoopback(flag: boolean): boolean {
    const errno = handleOf(this).setMulticastLoopback(flag ? 1 : 0);
    if (errno) throw errnoException(errno, 'setMulticastLoopback');
    return flag;
  }

  setMulticastInterface(interfaceAddress: string): void {
    healthCheck(this);
    validateString(interfaceAddress, 'interfaceAddress');
    const errno = handleOf(this).setMulticastInterface(interfaceAddress);
    if (errno) throw errnoException(errno, 'setMulticastInterface');
  }

  addMembership(multicastAddress: string, interfaceAddress?: string): void {
    healthCheck(this);
    if (!multicastAddress) throw new ERR_MISSING_ARGS('multicastAddress');
    const errno = handleOf(this).addMembership(multicastAddress, interfaceAddress);
    if (errno) throw errnoException(errno, 'addMembership');
  }

  dropMembership(multicastAddress: string, interfaceAddress?: string): void {
    healthCheck(this);
    if (!multicastAddress) throw new ERR_MISSING_ARGS('multicastAddress');
    const errno = handleOf(this).dropMembership(multicastAddress, interfaceAddress);
    if (errno) throw errnoException(errno, 'dropMembership');
  }

  addSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    healthCheck(this);
    validateString(sourceAddress, 'sourceAddress');
    validateString(groupAddress, 'groupAddress');
    const errno = handleOf(this).addSourceSpecificMembership(sourceAddress, groupAddress, interfaceAddress);
    if (errno) throw errnoException(errno, 'addSourceSpecificMembership');
  }

  dropSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    healthCheck(this);
    validateString(sourceAddress, 'sourceAddress');
    validateString(groupAddress, 'groupAddress');
    const errno = handleOf(this).dropSourceSpecificMembership(sourceAddress, groupAddress, interfaceAddress);
    if (errno) throw errnoException(errno, 'dropSourceSpecificMembership');
  }

  ref(): this {
    this[kState].handle?.ref();
    return this;
  }

  unref(): this {
    this[kState].handle?.unref();
    return this;
  }

  setRecvBufferSize(size: number): void {
    bufferSize(this, size, true);
  }

  setSendBufferSize(size: number): void {
    bufferSize(this, size, false);
  }

  getRecvBufferSize(): number {
    return bufferSize(this, 0, true);
  }

  getSendBufferSize(): number {
    return bufferSize(this, 0, false);
  }

  getSendQueueSize(): number {
    return handleOf(this).getSendQueueSize();
  }

  getSendQueueCount(): number {
    return handleOf(this).getSendQueueCount();
  }
}

// Node assigns anonymous functions to the prototype, so its methods are
// enumerable (`for...in` over a socket lists them) and have an empty name
// (which error messages quote); class methods are neither, until now.
for (const key of Reflect.ownKeys(Socket.prototype)) {
  if (key === 'constructor') continue;
  Object.defineProperty(Socket.prototype, key, { enumerable: true });
  const method = Reflect.get(Socket.prototype, key);
  if (typeof method === 'function') Object.defineProperty(method, 'name', { value: '' });
}

// Node.js 20 and 22 have no bindSync()/connectSync(): there they are
// fastdgram's additions, not enumerable like the others below.
if (!HAS_SYNC_BIND) {
  for (const key of ['bindSync', 'connectSync']) Object.defineProperty(Socket.prototype, key, { enumerable: false });
}

// ---- Beyond node:dgram: fastdgram's additions. Not enumerable, so that a
// socket looks like node's to code that lists its methods.

const extensions = {
  /** Counters of this socket (zeros before the socket exists natively). */
  stats(this: Socket): SocketStats {
    healthCheck(this);
    const stats = handleOf(this).stats();
    if (typeof stats === 'number') throw errnoException(stats, 'stats');
    return stats ?? { ...NO_STATS };
  },

  /** Received datagrams as an async iterator of `{ msg, rinfo }`, with back-pressure. */
  messages(this: Socket, options?: MessagesOptions): AsyncIterableIterator<ReceivedMessage> {
    return messageIterator(this, options);
  },

  [Symbol.asyncIterator](this: Socket): AsyncIterableIterator<ReceivedMessage> {
    return messageIterator(this);
  },

  /** fastdgram's addition (lib/send-many.ts): many datagrams, one native call, one callback. */
  sendMany(this: Socket, messages: unknown, callback?: unknown): void {
    const state = this[kState];
    const connected = state.connectState === ConnectState.Connected;
    const batch = prepareBatch(messages, callback, connected, this.type === 'udp6' ? 6 : 4);
    healthCheck(this);
    if (state.bindState === BindState.Unbound) bindImplicitly(this);
    const target: SendManyTarget = {
      emitter: this,
      handle: () => state.handle,
      blocked: (ip) => isSendBlocked(state.sendBlockList, ip),
    };
    if (state.bindState !== BindState.Bound) {
      enqueue(this, () => sendPrepared(batch, target), () => abandonPrepared(batch, target));
      return;
    }
    sendPrepared(batch, target);
  },

  /** IP_TOS / IPV6_TCLASS of datagrams sent: checked and converted as setTTL's ttl. */
  setTOS(this: Socket, tos: number): number {
    validateNumber(tos, 'tos');
    const errno = handleOf(this).setTOS(tos);
    if (errno) throw errnoException(errno, 'setTOS');
    return tos;
  },

  getTOS(this: Socket): number {
    const result = handleOf(this).getTOS();
    if (result < 0) throw errnoException(result, 'getTOS');
    return result;
  },

  /** Stops (true) or resumes (false) reading datagrams from the kernel. */
  pauseReceiving(this: Socket, paused: boolean): void {
    validateBoolean(paused, 'paused');
    const err = this[kState].handle?.setPaused(paused);
    if (err) throw errnoException(err, paused ? 'recvstop' : 'recvstart');
  },
};

const NO_STATS: SocketStats = {
  receivedDatagrams: 0,
  receivedBytes: 0,
  receivedBatches: 0,
  coalescedBuffers: 0,
  blockedDatagrams: 0,
  receiveErrors: 0,
  sentDatagrams: 0,
  sentBytes: 0,
  sendErrors: 0,
  kernelDrops: 0,
};

for (const key of Reflect.ownKeys(extensions)) {
  const value = Reflect.get(extensions, key);
  Object.defineProperty(Socket.prototype, key, { value, writable: true, configurable: true, enumerable: false });
}

export interface Socket {
  stats(): SocketStats;
  messages(options?: MessagesOptions): AsyncIterableIterator<ReceivedMessage>;
  [Symbol.asyncIterator](): AsyncIterableIterator<ReceivedMessage>;
  pauseReceiving(paused: boolean): void;
  setTOS(tos: number): number;
  getTOS(): number;
  sendMany(messages: unknown, callback?: unknown): void;
}

// ---- Node's deprecated private members (DEP0112), where the running
// Node.js still has them (up to 25). util.deprecate is node's own: the
// warning is emitted once per process for the code, node:dgram's uses included.

type DeprecatedState = 'handle' | 'receiving' | 'bindState' | 'queue' | 'reuseAddr';

function defineDeprecatedAccessor(name: string, key: DeprecatedState): void {
  const message = `Socket.prototype.${name} is deprecated`;
  Object.defineProperty(Socket.prototype, name, {
    get: deprecate(function (this: Socket) {
      return this[kState][key];
    }, message, 'DEP0112'),
    set: deprecate(function (this: Socket, value: unknown) {
      (this[kState] as unknown as Record<DeprecatedState, unknown>)[key] = value;
    }, message, 'DEP0112'),
  });
}

function defineDeprecatedMethod(name: string, method: (socket: Socket) => void): void {
  const value = deprecate(function (this: Socket) {
    method(this);
  }, `Socket.prototype.${name}() is deprecated`, 'DEP0112');
  Object.defineProperty(Socket.prototype, name, { value, writable: true, enumerable: true, configurable: true });
}

if (HAS_DEPRECATED_MEMBERS) {
  defineDeprecatedAccessor('_handle', 'handle');
  defineDeprecatedAccessor('_receiving', 'receiving');
  defineDeprecatedAccessor('_bindState', 'bindState');
  defineDeprecatedAccessor('_queue', 'queue');
  defineDeprecatedAccessor('_reuseAddr', 'reuseAddr');
  defineDeprecatedMethod('_healthCheck', healthCheck);
  defineDeprecatedMethod('_stopReceiving', stopReceiving);
}

/**
 * The one way to the handle. It is null after close: a caller that skips
 * healthCheck then fails with the TypeError of a null handle, as node's do.
 */
function handleOf(socket: Socket): UdpHandle {
  return socket[kState].handle as UdpHandle;
}

function closeOnAbort(socket: Socket, signal: AbortSignal): void {
  validateAbortSignal(signal, 'options.signal');
  const onAborted = (): void => {
    if (socket[kState].handle) socket.close();
  };
  if (signal.aborted) {
    onAborted();
    return;
  }
  signal.addEventListener('abort', onAborted, { once: true });
  socket.once('close', () => signal.removeEventListener('abort', onAborted));
}

// ---- bind(): the argument's shape picks the way (node's handle, a
// descriptor, an address to look up), then the work.

/** bind(callback) runs the callback on 'listening' unless an error comes first. */
function callOnceListening(socket: Socket, cb: () => void): void {
  const removeListeners = (): void => {
    socket.removeListener(BIND_ERROR_EVENT, removeListeners);
    socket.removeListener('listening', onListening);
  };
  const onListening = (): void => {
    removeListeners();
    cb.call(socket);
  };
  socket.on(BIND_ERROR_EVENT, removeListeners);
  socket.on('listening', onListening);
}

function isNodeHandle(value: unknown): value is SharedNodeHandle {
  return isObject(value) && typeof (value as { recvStart?: unknown }).recvStart === 'function';
}

/** Options naming a descriptor to open (`fd` read twice, as node reads it). */
function isFdOptions(value: unknown): value is BindOptions & { fd: number } {
  return isObject(value) && isInt32((value as BindOptions).fd) && ((value as BindOptions).fd as number) > 0;
}

/** Where bind(port, address) or bind(options) binds: read in node's order, the address defaulted. */
interface BindTarget {
  address: string;
  /** As given: the native side converts it as node's C++ layer does. */
  port: unknown;
  exclusive: boolean;
}

function bindTarget(socket: Socket, portArg: unknown, addressArg: unknown): BindTarget {
  let port: unknown = portArg;
  let address: unknown;
  let exclusive: boolean;
  if (isObject(portArg)) {
    const options = portArg as BindOptions;
    address = options.address || '';
    exclusive = !!options.exclusive;
    port = options.port;
  } else {
    address = typeof addressArg === 'function' ? '' : addressArg;
    exclusive = false;
  }
  if (!address) address = socket.type === 'udp4' ? '0.0.0.0' : '::';
  return { address: address as string, port, exclusive };
}

/** Looks the address up, then binds (in a cluster worker, through the primary unless exclusive). */
function bindAddress(socket: Socket, target: BindTarget): void {
  const state = socket[kState];
  handleOf(socket).lookup(target.address, (err, ip) => {
    if (err && BIND_LOOKUP_ERROR_AFTER_CLOSE) {
      bindFailed(socket, err);
      return;
    }
    if (!state.handle) return; // closed in the meantime
    if (err) {
      bindFailed(socket, err);
      return;
    }
    const { port } = target;
    const flags = bindFlags(state);
    const exclusive = target.exclusive || !!state.reusePort;
    if (isClusterWorker() && !exclusive) {
      const options: ClusterBindOptions = { address: ip, port: port as number, addressType: socket.type, fd: -1, flags };
      bindShared(socket, options, (errno) => bindFailed(socket, exceptionWithHostPort(errno, 'bind', ip, port as number)));
      return;
    }
    const errno = handleOf(socket).bind(ip, (port as number) || 0, flags);
    if (errno) {
      bindFailed(socket, exceptionWithHostPort(errno, 'bind', ip, port as number));
      return;
    }
    startListening(socket);
  });
}

function bindFailed(socket: Socket, err: Error): void {
  socket[kState].bindState = BindState.Unbound;
  socket.emit('error', err);
}

function bindFd(socket: Socket, options: BindOptions & { fd: number }): void {
  const { fd } = options;
  if (isClusterWorker() && !options.exclusive) {
    const shared: ClusterBindOptions = { address: null, port: null, addressType: socket.type, fd, flags: null };
    bindShared(socket, shared, (errno) => bindFailed(socket, errnoException(errno, 'open')));
    return;
  }
  const type = guessHandleType(fd);
  if (type !== 'UDP') throw new ERR_INVALID_FD_TYPE(type);
  const errno = handleOf(socket).open(fd);
  if (errno) throw errnoException(errno, 'open');
  startListening(socket);
}

/** In a cluster worker: use the socket the primary holds for everyone. */
function bindShared(socket: Socket, options: ClusterBindOptions, onError: (errno: number) => void): void {
  const state = socket[kState];
  bindThroughPrimary(socket, options, (errno, sharedHandle) => {
    if (errno) {
      if (state.handle) onError(errno);
      return;
    }
    if (!state.handle) {
      sharedHandle?.close();
      return;
    }
    const err = handleOf(socket).openShared(sharedHandle as SharedNodeHandle);
    if (err) {
      onError(err);
      return;
    }
    startListening(socket);
  });
}

function validateBlockList(value: unknown, name: string): void {
  const isBlockList = (BlockList as unknown as { isBlockList?: (v: unknown) => boolean }).isBlockList;
  const valid = isBlockList ? isBlockList(value) : value instanceof BlockList;
  if (!valid) throw new ERR_INVALID_ARG_TYPE(name, 'net.BlockList', value);
}

// A list's `check` is called as node calls it (it may be a replaced one).
function isSendBlocked(list: BlockList | undefined, ip: string): boolean {
  return list ? list.check(ip, `ipv${isIP(ip)}` as 'ipv4') : false;
}

function isReceiveBlocked(list: BlockList | undefined, rinfo: RemoteInfo): boolean {
  return list ? list.check(rinfo.address, rinfo.family?.toLocaleLowerCase() as 'ipv4') : false;
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

function healthCheck(socket: Socket): void {
  if (!socket[kState].handle) throw new ERR_SOCKET_DGRAM_NOT_RUNNING();
}

function startReceiving(socket: Socket): void {
  const state = socket[kState];
  const handle = handleOf(socket);
  // Shared functions and an owner, as node's handles have: no closures per socket.
  handle.onmessage = onMessage;
  handle.onerror = onReceiveError;
  handle.onbatch = onBatch;
  handle.delivery = deliveryWanted;
  handle.recvStart();
  state.receiving = true;
  state.bindState = BindState.Bound;
  if (state.recvBufferSize) bufferSize(socket, state.recvBufferSize, true);
  if (state.sendBufferSize) bufferSize(socket, state.sendBufferSize, false);
}

function onMessage(socket: Socket, msg: Buffer, rinfo: RemoteInfo): void {
  const state = socket[kState];
  if (state.checkBlockListHere && isReceiveBlocked(state.receiveBlockList, rinfo)) return;
  socket.emit('message', msg, rinfo);
}

function onBatch(socket: Socket, messages: ReceivedMessage[]): void {
  const state = socket[kState];
  if (state.checkBlockListHere) {
    messages = messages.filter(({ rinfo }) => !isReceiveBlocked(state.receiveBlockList, rinfo));
    if (messages.length === 0) return;
  }
  socket.emit('messages', messages);
}

/** 'message' per datagram (node's event), 'messages' per batch (fastdgram's), or both. */
function deliveryWanted(socket: Socket): number {
  if (socket.listenerCount('messages') === 0) return DELIVER_MESSAGES;
  return socket.listenerCount('message') > 0 ? DELIVER_MESSAGES | DELIVER_BATCHES : DELIVER_BATCHES;
}

/** Hands the list's rules to the native side now and whenever the list changes. */
function applyReceiveBlockList(socket: Socket, list: BlockList): void {
  // Weakly: a long-lived list shared by many sockets must not keep a dropped one alive.
  const stateRef = new WeakRef(socket[kState]);
  const apply = (rules: string[]): boolean => {
    const state = stateRef.deref();
    if (!state?.handle) return false;
    // A `check` of the list's own, or a rule the native side cannot read:
    // ask the list for every datagram here, as node does.
    state.checkBlockListHere = usesOwnCheck(list) || state.handle.setReceiveBlockList(rules) !== 0;
    if (state.checkBlockListHere) state.handle.setReceiveBlockList(null);
    return true;
  };
  apply(rulesOf(list));
  socket[kState].unwatchBlockList = watchBlockList(list, apply);
}

function onReceiveError(socket: Socket, errno: number): void {
  socket.emit('error', errnoException(errno, 'recvmsg'));
}

/** An address of bindSync() or connectSync(): a string, and an IP literal (they do no DNS). */
function ipLiteral(address: unknown, name: string, method: string): string {
  validateString(address, name);
  if (isIP(address) === 0) {
    throw new ERR_INVALID_ARG_VALUE(name, address, `must be a numeric IP address; ${method} does not perform DNS resolution`);
  }
  return address;
}

function connectAfterBind(socket: Socket, port: number, address: string, callback: (() => void) | undefined): void {
  const state = socket[kState];
  if (callback) socket.once('connect', callback);
  handleOf(socket).lookup(address, (lookupError, ip) => {
    if (!state.handle) return;
    let ex: Error | null = lookupError;
    if (!ex && isSendBlocked(state.sendBlockList, ip)) ex = new ERR_IP_BLOCKED(ip);
    if (!ex) {
      const errno = handleOf(socket).connect(ip, port);
      if (errno) ex = exceptionWithHostPort(errno, 'connect', address, port);
    }
    if (ex) {
      state.connectState = ConnectState.Disconnected;
      const error = ex;
      process.nextTick(() => {
        if (callback) {
          socket.removeListener('connect', callback);
          (callback as (err: Error) => void)(error);
        } else {
          socket.emit('error', error);
        }
      });
      return;
    }
    state.connectState = ConnectState.Connected;
    process.nextTick(() => socket.emit('connect'));
  });
}

function bindFlags(state: SocketState): number {
  let flags = 0;
  if (state.reuseAddr) flags |= UV_UDP_REUSEADDR;
  if (state.ipv6Only) flags |= UV_UDP_IPV6ONLY;
  if (state.reusePort) flags |= FLAG_REUSE_PORT;
  return flags;
}

/** The events of bindSync() and connectSync(), unless the socket was closed before the next tick. */
function emitListeningNT(socket: Socket): void {
  if (socket[kState].handle) socket.emit('listening');
}

function emitConnectNT(socket: Socket): void {
  if (socket[kState].handle) socket.emit('connect');
}

function startListening(socket: Socket): void {
  startReceiving(socket);
  socket.emit('listening');
}

function stopReceiving(socket: Socket): void {
  const state = socket[kState];
  if (!state.receiving) return;
  handleOf(socket).recvStop();
  state.receiving = false;
}

function bufferSize(socket: Socket, size: number, receive: boolean): number {
  if (size >>> 0 !== size) throw new ERR_SOCKET_BAD_BUFFER_SIZE();
  const result = handleOf(socket).bufferSize(size, receive);
  if (result < 0) throw new ERR_SOCKET_BUFFER_SIZE(systemErrorContext(result, receive ? 'uv_recv_buffer_size' : 'uv_send_buffer_size'));
  return result;
}

function sliceBuffer(buffer: unknown, offset: unknown, length: unknown): Buffer {
  if (typeof buffer === 'string') {
    buffer = Buffer.from(buffer);
  } else if (!ArrayBuffer.isView(buffer)) {
    throw new ERR_INVALID_ARG_TYPE('buffer', DATA_TYPES, buffer);
  }
  const view = buffer as ArrayBufferView;
  const start = (offset as number) >>> 0;
  const count = (length as number) >>> 0;
  if (start > view.byteLength) throw new ERR_BUFFER_OUT_OF_BOUNDS('offset');
  if (start + count > view.byteLength) throw new ERR_BUFFER_OUT_OF_BOUNDS('length');
  return bufferOver(view, start, count);
}

/** send()'s data as a list of parts: a string encoded, a view as it is, a list converted part by part. */
function dataList(buffer: unknown): Uint8Array[] {
  if (Array.isArray(buffer)) {
    const fixed = fixBufferList(buffer);
    if (!fixed) throw new ERR_INVALID_ARG_TYPE('buffer list arguments', DATA_TYPES, buffer);
    return fixed;
  }
  if (typeof buffer === 'string') return [Buffer.from(buffer)];
  if (!ArrayBuffer.isView(buffer)) throw new ERR_INVALID_ARG_TYPE('buffer', DATA_TYPES, buffer);
  return [buffer as Uint8Array];
}

function fixBufferList(list: unknown[]): Buffer[] | null {
  const fixed = new Array<Buffer>(list.length);
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isData(item)) return null;
    fixed[i] = dataBuffer(item);
  }
  return fixed;
}

/** send(), connect() and sendMany() on an unbound socket bind it as node does (null included: a replaced bind() sees it). */
function bindImplicitly(socket: Socket): void {
  socket.bind({ port: 0, exclusive: true }, null);
}

function enqueue(socket: Socket, call: () => void, dropped?: () => void): void {
  const state = socket[kState];
  if (state.queue === undefined) {
    state.queue = [];
    socket.once(EventEmitter.errorMonitor, onListenError);
    socket.once('listening', onListenSuccess);
  }
  state.queue.push(call);
  if (dropped) (state.onQueueDropped ??= []).push(dropped);
}

function onListenSuccess(this: Socket): void {
  this.removeListener(EventEmitter.errorMonitor, onListenError);
  const state = this[kState];
  const queue = state.queue as Array<() => void>;
  state.queue = undefined;
  state.onQueueDropped = undefined;
  for (const call of queue) call();
}

function onListenError(this: Socket): void {
  this.removeListener('listening', onListenSuccess);
  const state = this[kState];
  const dropped = state.onQueueDropped;
  state.queue = undefined;
  state.onQueueDropped = undefined;
  // node drops the queued calls; those that promised a callback still get one.
  for (const call of dropped ?? []) process.nextTick(call);
}

/** A send whose caller wants to know how it went. */
interface SendWithCallback extends SendRequest {
  callback: SendCallback;
  handle: UdpHandle;
  address: string | undefined;
  port: number;
  /** The resolved IP on an unconnected socket. */
  destination: string | undefined;
}

/** After waiting for the socket: as node's afterSend. */
function afterSend(this: SendWithCallback, errno: number, sent: number): void {
  this.callback(errno ? sendError(errno, this.handle, this.address, this.port, this.destination) : null, sent);
}

/** Sent (or refused) without waiting, in a burst: as node's synchronous outcomes. */
function afterSendNow(this: SendWithCallback, errno: number, sent: number): void {
  if (errno) this.callback(sendError(errno, this.handle, this.address, this.port, this.destination));
  else this.callback(null, sent);
}

/** Sent (or refused) during send() itself: the callback runs on the next tick, as node's. */
function afterSendDuringSend(this: SendWithCallback, errno: number, sent: number): void {
  if (errno) process.nextTick(this.callback, sendError(errno, this.handle, this.address, this.port, this.destination));
  else process.nextTick(this.callback, null, sent);
}

/** Every send without a callback: nothing is read from it but the absence of completions. */
const NO_CALLBACK: SendRequest = Object.freeze({});

/** send()'s arguments, read (send's first step) and validated. */
interface OutgoingSend {
  list: Uint8Array[];
  /** Validated; on a connected socket, whatever falsy value was given. */
  port: number;
  /** As given: undefined for the default (loopback). */
  address: string | undefined;
  callback: SendCallback | undefined;
  /** As send() found the socket: connected sends skip the lookup. */
  connected: boolean;
  /** True while send() itself runs: a lookup that answers at once sends then, as in node. */
  duringSend: boolean;
}

/** send()'s second step: the socket's state (implicitly bound, or the call queued while binding). */
function sendWhenBound(socket: Socket, outgoing: OutgoingSend): void {
  healthCheck(socket);
  const state = socket[kState];
  if (state.bindState === BindState.Unbound) bindImplicitly(socket);
  const { list, port, address, callback } = outgoing;
  if (list.length === 0) list.push(NO_DATA);
  if (state.bindState !== BindState.Bound) {
    enqueue(socket, () => socket.send(list, port, address, callback));
    return;
  }
  outgoing.duringSend = true;
  if (outgoing.connected) doSend(socket, outgoing, null, undefined);
  else lookUpAndSend(socket, outgoing);
  outgoing.duringSend = false;
}

/** An unconnected send's lookup; the handle counts those in flight (a send that none follows may go out at once). */
function lookUpAndSend(socket: Socket, outgoing: OutgoingSend): void {
  const handle = handleOf(socket);
  handle.sendsLookingUp++;
  handle.lookup(outgoing.address as string, (ex, ip) => {
    handle.sendsLookingUp--;
    doSend(socket, outgoing, ex, ip);
  });
}

/** send()'s last step, once the destination is known: node's doSend. */
function doSend(socket: Socket, outgoing: OutgoingSend, ex: Error | null, ip: string | undefined): void {
  const { callback } = outgoing;
  if (ex) {
    if (typeof callback === 'function') {
      process.nextTick(callback, ex);
      return;
    }
    process.nextTick(() => socket.emit('error', ex));
    return;
  }
  const state = socket[kState];
  if (!state.handle) return;
  if (ip && isSendBlocked(state.sendBlockList, ip)) {
    if (callback) process.nextTick(callback, new ERR_IP_BLOCKED(ip));
    return;
  }

  // Shared functions reading the request, as node's SendWrap, not closures:
  // V8 allocates a function literal assigned to a property in its old
  // generation, and its young context (this socket and all it reaches) would
  // then survive every scavenge until the next full GC.
  const handle = handleOf(socket);
  const { list, address, port } = outgoing;
  const destination = port ? ip : undefined;
  const request: SendWithCallback | SendRequest = callback
    ? { callback, handle, address, port, destination, oncomplete: afterSend, onsent: afterSendNow }
    : NO_CALLBACK;
  const result = handle.send(request, list, port || undefined, destination, outgoing.duringSend);
  if (result !== undefined && callback) reportSendResult(request as SendWithCallback, afterSendDuringSend, result);
}

/** A send's error as node makes it; with dontFragment, EMSGSIZE also says the path MTU. */
function sendError(errno: number, handle: UdpHandle, address: string | undefined, port: number, ip: string | undefined): Error {
  return withPathMtu(exceptionWithHostPort(errno, 'send', address as string, port), errno, handle, ip, port);
}

/** What a cluster primary needs to open or find the shared socket. */
export interface ClusterBindOptions {
  address: string | null;
  port: number | null;
  addressType: SocketType;
  fd: number;
  flags: number | null;
}

export function createSocket(type: SocketType | SocketOptions, listener?: MessageListener): Socket {
  return new Socket(type, listener);
}

