// UdpHandle: the socket as node:dgram's JavaScript layer sees its C++ UDP
// handle. Calls return 0 or a negative errno (libuv style) instead of
// throwing, so socket.ts can follow node's own error paths. Before bind there
// is no native socket at all, as with libuv (no file descriptor yet).
import {
  NativeUdp,
  KIND_BATCH,
  KIND_RECEIVE_ERROR,
  KIND_SEND_DONE,
  META_IPV6_FLAG,
  META_WORDS,
  FLAG_REUSE_PORT,
  UV_UDP_IPV6ONLY,
  UV,
  libuvRules,
} from './native';
import type { NativeEventArgument, NativeEventCallback, SendResult } from './native';
import { isIP } from 'node:net';
import type { BoundLookup } from './lookup';
import { BATCH_END, holdsReplies, mayWait } from './reply-batch';
import { bytesToSend } from './data';
import { Outbox } from './outbox';
import type { Socket } from './socket';

const UV_EBADF = UV.EBADF;
const UV_EAGAIN = UV.EAGAIN;
const UV_EINVAL = UV.EINVAL;
const UV_EMSGSIZE = UV.EMSGSIZE;
const UV_ECANCELED = UV.ECANCELED;
const UV_EISCONN = UV.EISCONN;
const UV_EDESTADDRREQ = UV.EDESTADDRREQ;
const UV_ENOTSUP = UV.ENOTSUP;
/** `FASTDGRAM_NO_SEND_BATCH=1` sends each datagram by itself (for measuring what batching contributes). */
const SEND_AT_ONCE = process.env.FASTDGRAM_NO_SEND_BATCH !== undefined;
/** The most buffers one datagram may be gathered from (libuv's IOV_MAX). */
const IOV_MAX = 1024;
const INT32_MAX = 2 ** 31 - 1;

export interface RemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
  /** The local address the datagram was sent to (option `recvDestination`). */
  localAddress?: string;
}

/** A received datagram's Buffer: over an ArrayBuffer (what Buffer.alloc returns with the project's @types/node). */
type MessageBuffer = ReturnType<typeof Buffer.alloc>;

/** One datagram of a batch delivered at once (the 'messages' event). */
export interface ReceivedMessage {
  msg: MessageBuffer;
  rinfo: RemoteInfo;
}

/**
 * What the owner wants per received batch: bits of DELIVER_MESSAGES ('message'
 * per datagram) and DELIVER_BATCHES ('messages' per batch). Batches alone let
 * the native side call once per batch ("per batch" below).
 */
export const DELIVER_MESSAGES = 1;
export const DELIVER_BATCHES = 2;

/** Native socket settings made when the socket is created (so also after bind(fd) or an implicit bind). */
interface ReceiveSettings {
  /** Rules as net.BlockList's `rules` prints them, or null. */
  blockListRules: string[] | null;
  receiveDestination: boolean;
}

export interface AddressOut {
  address?: string;
  family?: string;
  port?: number;
}

/** How a send reports its outcome: node's (err, sent), err a negative errno or 0. */
export type SendCompletion = (errno: number, sent: number) => void;

/** A send in progress: node's SendWrap. */
export interface SendRequest {
  /** Completion after waiting for the socket to become writable. */
  oncomplete?: SendCompletion;
  /** Completion of a send that went out (or failed) without waiting. */
  onsent?: SendCompletion;
}

/** A send whose outcome is known, waiting to be reported in order. */
interface CompletedSend {
  request: SendRequest;
  result: SendResult;
}

interface PendingSend {
  request: SendRequest;
  size: number;
}

/** The datagrams of one sendMany (lib/send-many.ts), column by column. */
export interface OutgoingBatch {
  data: Buffer[];
  ports: Uint32Array;
  /** Destination IP addresses; empty strings on a connected socket. */
  ips: string[];
  /** Source addresses (empty: the kernel's choice); undefined when none is chosen. */
  froms: string[] | undefined;
}

/**
 * A UDP handle of node's own (what a cluster primary shares): its descriptor
 * is used, and its `owner` (node's setter on UDP.prototype) is the socket.
 */
export interface SharedNodeHandle {
  fd: number;
  owner?: unknown;
  close(): void;
  ref(): void;
  unref(): void;
}

/** How a batch ended: how many went out before the first failure, and its errno (0: none failed). */
export type BatchDone = (sent: number, errno: number) => void;

const NO_RECEIVE_SETTINGS: ReceiveSettings = { blockListRules: null, receiveDestination: false };

export class UdpHandle {
  readonly family: 4 | 6;
  lookup: BoundLookup;
  /** The socket this handle serves (node's handle[owner_symbol]), passed to the callbacks below. */
  readonly owner: Socket;
  onmessage: ((owner: Socket, msg: Buffer, rinfo: RemoteInfo) => void) | null = null;
  onerror: ((owner: Socket, errno: number) => void) | null = null;
  /** A whole batch at once, when the owner wants batches (see `delivery`). */
  onbatch: ((owner: Socket, messages: ReceivedMessage[]) => void) | null = null;
  /** Asked at each batch: DELIVER_MESSAGES and/or DELIVER_BATCHES. */
  delivery: ((owner: Socket) => number) | null = null;
  /** Made only for sockets that use them: thousands of sockets pay nothing. */
  private receiveSettings: ReceiveSettings | undefined;
  /** The native side calls once per batch (the owner wants only batches). */
  private perBatch = false;
  private paused = false;
  /** Path-MTU discovery on every native socket this handle gets (ip-options.ts). */
  dontFragment = false;
  private native: NativeUdp | null = null;
  private closed = false;
  private referenced = true;
  private receiving = false;
  private connected = false;
  /** Sends waiting for the socket to become writable (made on first need). */
  private pendingSends: Map<number, PendingSend> | undefined;
  private nextSendId = 1;
  private sendQueueSize = 0;
  /** Unconnected sends of the current burst, sent together (see send); made on first need. */
  private outbox: Outbox | undefined;
  /** A flushOutbox is scheduled for the outbox. */
  private flushScheduled = false;
  /** Unconnected sends whose lookup has not answered yet (socket.ts counts them). */
  sendsLookingUp = 0;
  /** Callback-less sends wait for the end of the batch being delivered (lib/reply-batch.ts). */
  private holdingReplies = false;
  /** Outcomes waiting to be reported in order (see completeSoon). */
  private completedEarly: CompletedSend[] | undefined;
  private sharedHandle: SharedNodeHandle | null = null;
  /** Made on the first datagram: sockets that never receive do not pay for it. */
  private batch: CurrentBatch | undefined;

  constructor(family: 4 | 6, lookup: BoundLookup, owner: Socket) {
    this.family = family;
    this.lookup = lookup;
    this.owner = owner;
  }

  /** Creates the socket and binds it; EINVAL if it already exists, as bind(2) says. */
  bind(ip: unknown, port: unknown, flags: number): number {
    const address = toText(ip);
    // node parses the address in the handle's family before libuv sees it
    // (udp_wrap.cc), even when a membership call made the socket of the other family.
    if (ipFamily(address) !== this.family) return UV_EINVAL;
    if (!this.native) {
      // libuv checks the flags before it creates the socket; a bind that
      // fails after that leaves the socket open, unbound, for another try.
      if (flags & FLAG_REUSE_PORT && libuvRules.reusePortRefused) return UV_ENOTSUP;
      if (flags & UV_UDP_IPV6ONLY && this.family !== 6) return UV_EINVAL;
      const err = this.adopt(NativeUdp.create(this.family));
      if (err) return err;
    }
    return (this.native as NativeUdp).bind(address, toPort(port), flags);
  }

  /** Takes over an existing UDP socket's file descriptor. */
  open(fd: number): number {
    return this.adopt(NativeUdp.open(fd));
  }

  /**
   * Uses the socket of a node UDP handle that a cluster primary shared with
   * this worker, through a duplicate of its descriptor. The node handle stays
   * open until this one closes: closing it tells the primary we are gone.
   * As node's socket does, `owner` becomes the handle's owner, so that
   * cluster closes `owner` (not just the handle) when the worker
   * disconnects; and the handle is referenced only while this one is.
   */
  openShared(shared: SharedNodeHandle): number {
    const err = this.adopt(NativeUdp.openDuplicate(shared.fd));
    if (err) return err;
    this.sharedHandle = shared;
    shared.owner = this.owner;
    if (!this.referenced) shared.unref();
    return 0;
  }

  /** The file descriptor (node's `handle.fd`): EBADF before bind, as libuv's. */
  get fd(): number {
    return this.native ? this.native.fd() : UV_EBADF;
  }

  /** libuv binds a socket implicitly (any address, random port) before a membership change. */
  private ensureBound(family: 4 | 6): number {
    if (this.native) return 0;
    return this.adopt(NativeUdp.bindAny(family));
  }

  private adopt(result: NativeUdp | number): number {
    if (typeof result === 'number') return result;
    const err = this.configure(result);
    if (err) {
      result.close();
      return err;
    }
    this.native = result;
    if (!this.referenced) result.unref();
    if (this.receiving) return this.startNative();
    return 0;
  }

  /** The options a new native socket gets before anything else uses it. */
  private configure(native: NativeUdp): number {
    const err = this.dontFragment ? native.setDontFragment() : 0;
    if (err) return err;
    const { blockListRules, receiveDestination } = this.receiveSettings ?? NO_RECEIVE_SETTINGS;
    if (blockListRules) {
      const err = native.setReceiveBlockList(blockListRules);
      if (err) return err;
    }
    return receiveDestination ? native.setReceiveDestination(true) : 0;
  }

  /** Drops datagrams from these sources natively from now on (null: none). */
  setReceiveBlockList(rules: string[] | null): number {
    (this.receiveSettings ??= { ...NO_RECEIVE_SETTINGS }).blockListRules = rules;
    return this.native ? this.native.setReceiveBlockList(rules) : 0;
  }

  /** rinfo.localAddress on every datagram; applied when the native socket is made. */
  receiveDestination(): void {
    (this.receiveSettings ??= { ...NO_RECEIVE_SETTINGS }).receiveDestination = true;
  }

  /** Stops or resumes reading from the kernel (a consumer that is behind). */
  setPaused(paused: boolean): number {
    this.paused = paused;
    return this.native && this.receiving ? this.native.setPaused(paused) : 0;
  }

  stats(): ReturnType<NativeUdp['stats']> | undefined {
    return this.native?.stats();
  }

  recvStart(): number {
    // Already reading (a second bind that libuv on Windows lets succeed):
    // libuv's uv_udp_recv_start answers EALREADY, which node ignores.
    if (this.receiving && this.native) return 0;
    this.receiving = true;
    return this.native ? this.startNative() : 0;
  }

  recvStop(): void {
    this.receiving = false;
  }

  private startNative(): number {
    const native = this.native as NativeUdp;
    // The callbacks are passed, never stored in a property of the handle: V8
    // allocates a function literal assigned to a property in its old
    // generation, where it would keep this handle alive past every scavenge
    // (Node 24's reliability-lifecycle test catches it: RSS +40 MiB).
    const err = native.startReceiving(
      (index, errno, data, count, addresses) => this.onDatagram(index, errno, data, count, addresses),
      this.eventCallback(),
    );
    if (err) return err;
    if (this.perBatch) native.setPerBatch(true);
    return this.paused ? native.setPaused(true) : 0;
  }

  /**
   * One received datagram (or receive error). The native side calls this once
   * per datagram, each as its own callback from the event loop, so what a
   * 'message' handler schedules runs before the next datagram, as in node.
   * A batch's buffer, count and addresses come with its first datagram.
   */
  private onDatagram(index: number, errno: number, data?: Buffer, count?: number, addresses?: string): void {
    if (index === BATCH_END) {
      this.sendHeldReplies();
      return;
    }
    if (!this.accepting) return;
    if (errno) {
      this.onerror?.(this.owner, errno);
      return;
    }
    const batch = data ? this.startBatch(data, count as number, addresses, this.perBatch) : (this.batch ??= new CurrentBatch());
    batch.emit(index, this);
  }

  /** A new batch; `perBatch`: its datagrams are emitted in one go. */
  private startBatch(data: Buffer, count: number, addresses: string | undefined, perBatch: boolean): CurrentBatch {
    const batch = (this.batch ??= new CurrentBatch());
    const delivery = this.delivery ? this.delivery(this.owner) : DELIVER_MESSAGES;
    this.holdingReplies = holdsReplies(count, perBatch);
    batch.start(data, count, addresses, delivery, perBatch);
    this.choosePerBatch(delivery);
    return batch;
  }

  /** From the next batch on, one native call per batch when only batches are wanted. */
  private choosePerBatch(delivery: number): void {
    const perBatch = delivery === DELIVER_BATCHES;
    if (perBatch === this.perBatch) return;
    this.perBatch = perBatch;
    this.native?.setPerBatch(perBatch);
  }

  /**
   * The native side's other callback (crates/node/src/events.rs): send
   * results, and batches and receive errors from the I/O thread. Made per
   * call, never stored on the handle (see startNative).
   */
  private eventCallback(): NativeEventArgument {
    const onEvent: NativeEventCallback = (kind, first, second, data, addresses) => {
      if (this.closed) return;
      if (kind === KIND_BATCH) this.onThreadBatch(data, first, addresses);
      else if (kind === KIND_RECEIVE_ERROR) this.onDatagram(0, first);
      else if (kind === KIND_SEND_DONE) this.completeSend(first, second);
    };
    return onEvent as NativeEventArgument;
  }

  /** A batch from the I/O thread comes whole, in one call: its datagrams are emitted in one go. */
  private onThreadBatch(data: Buffer, count: number, addresses: string): void {
    if (!this.accepting) return;
    this.startBatch(data, count, addresses, true).emit(0, this);
  }


  /** Whether messages should still reach the owner. */
  get accepting(): boolean {
    return !this.closed && this.receiving;
  }

  /**
   * Sends one datagram made of `list`: its result when it went out (or
   * failed) at once, undefined when it completes later through `request`
   * (oncomplete after waiting for the socket, onsent from the outbox).
   * `ip` is undefined on a connected socket. `duringSend`: called from
   * within socket.send() itself (a connected socket, or a lookup that
   * answered at once), where node reads the bytes and sends.
   */
  send(request: SendRequest, list: Uint8Array[], port: number | undefined, ip: string | undefined, duringSend = false): SendResult | undefined {
    const native = this.native;
    if (!native) return failed(UV_EBADF);
    const destination = ip === undefined ? undefined : toText(ip);
    // Node parses the destination first, then libuv checks that there is one
    // exactly when the socket is not connected.
    if (destination !== undefined && ipFamily(destination) !== this.family) return failed(UV_EINVAL);
    const refused = this.destinationProblem(destination);
    if (refused) return failed(refused);
    if (list.length > IOV_MAX) return failed(UV_EMSGSIZE);
    // Empty parts are skipped: a detached one cannot even be read (node sends nothing of it).
    const data = list.length === 1 ? bytesToSend(list[0]) : Buffer.concat(list.filter((part) => part.byteLength > 0));
    if (this.holdingReplies && mayWait(request)) {
      this.toOutbox(request, data, port, destination ?? '');
      return undefined;
    }
    // Connected, or looked up at once: node reads the bytes during send() itself, so send now.
    // So does a send without a callback that no other send follows (a lone reply):
    // node's doSend sends it right there, and only a burst gains from waiting.
    const lone = this.sendsLookingUp <= 0 && mayWait(request);
    const now = destination === undefined || ((duringSend || lone) && !this.outbox?.count);
    if (now || SEND_AT_ONCE) {
      // Held replies were sent before this one.
      if (this.outbox?.count) this.sendOutboxBeforeChange();
      return this.sendNow(native, request, data, toPort(port), destination);
    }
    // Unconnected sends reach here from their lookup's tick; those of one
    // burst go out together, in one sendmmsg, once their ticks have run.
    this.toOutbox(request, data, port, destination);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushOutbox, this);
    }
    return undefined;
  }

  private toOutbox(request: SendRequest, data: Buffer, port: number | undefined, ip: string): void {
    const outbox = (this.outbox ??= new Outbox());
    // A full outbox leaves first (in node every datagram before this one left already).
    if (!outbox.fits(data.byteLength)) this.sendOutboxBeforeChange();
    outbox.push(request, data, toPort(port), ip);
  }

  /** The end of a batch: the replies its handlers made leave now, together. */
  private sendHeldReplies(): void {
    this.holdingReplies = false;
    const done = this.sendOutbox();
    if (done?.length) this.completeSoon(done);
  }

  /** What a scheduled flushOutbox sends. */
  sendScheduledOutbox(): CompletedSend[] | undefined {
    this.flushScheduled = false;
    return this.sendOutbox();
  }

  /** One datagram at once, or (undefined) behind those already waiting. */
  private sendNow(native: NativeUdp, request: SendRequest, data: Buffer, port: number, ip: string | undefined): SendResult | undefined {
    const waiting = this.pendingSends?.size || this.outbox?.count;
    const result = waiting ? UV_EAGAIN : native.send(data, port, ip);
    if (result !== UV_EAGAIN) return result as SendResult;
    const err = this.sendLater(native, request, data, port, ip);
    return err ? failed(err) : undefined;
  }

  /**
   * Sends the outbox now and returns what completed, in order (only sends
   * someone waits for: the others report nothing); datagrams that would
   * block go to the I/O thread, in order, and complete later.
   */
  sendOutbox(): CompletedSend[] | undefined {
    const outbox = this.outbox;
    if (!outbox?.count) return undefined;
    const { requests } = outbox;
    const native = this.native;
    const done: CompletedSend[] = [];
    const sent = native && !this.pendingSends?.size ? outbox.sendNow(native) : 0;
    for (let i = 0; i < sent; i++) {
      if (!mayWait(requests[i])) done.push({ request: requests[i], result: outbox.result(i) });
    }
    if (sent < requests.length) {
      outbox.forEachFrom(sent, (request, data, port, ip) => {
        const err = native ? this.sendLater(native, request, data, port, ip || undefined) : UV_EBADF;
        if (err && !mayWait(request)) done.push({ request, result: failed(err) });
      });
    }
    outbox.clear();
    return done;
  }

  /**
   * Sends a batch after every send issued before it, in order, as much of
   * it as the socket takes now in one native call; what would block waits
   * for the socket through sendLater. Nothing after the first failure is
   * sent. `done` runs once, on a later tick.
   */
  sendMany(batch: OutgoingBatch, done: BatchDone): void {
    this.sendOutboxBeforeChange();
    const native = this.native;
    const refused = native ? this.destinationProblem(batch.ips[0]) : UV_EBADF;
    if (refused || !native) {
      this.completeSoon([batchOutcome(done, 0, refused)]);
      return;
    }
    const count = batch.data.length;
    const results = this.pendingSends?.size ? [] : (native.sendBatch(batch.data, batch.ports, batch.ips, batch.froms, true) as SendResult[]);
    const last = results.length - 1;
    if (last >= 0 && results[last] < 0) {
      this.completeSoon([batchOutcome(done, last, results[last])]);
      return;
    }
    if (results.length === count) {
      this.completeSoon([batchOutcome(done, count, 0)]);
      return;
    }
    const waiting = new WaitingBatch(count, done);
    // One group: the native queue sends nothing of it after a failure.
    const group = this.nextSendId;
    for (let i = results.length; i < count; i++) {
      const request: WaitingDatagram = { oncomplete: completeWaitingDatagram, waiting, index: i };
      const err = this.sendLater(native, request, batch.data[i], batch.ports[i], batch.ips[i] || undefined, batch.froms?.[i], group);
      if (err) {
        waiting.refuse(i, err);
        break;
      }
      waiting.add();
    }
    if (!waiting.start()) this.completeSoon([batchOutcome(done, waiting.failedAt, waiting.errno)]);
  }

  /** libuv's check: a destination exactly when the socket is not connected. */
  private destinationProblem(ip: string | undefined): number {
    if (ip && this.connected) return UV_EISCONN;
    if (!ip && !this.connected) return UV_EDESTADDRREQ;
    return 0;
  }

  /** Hands a datagram to the I/O thread, to complete through `request.oncomplete`; 0 or a negative errno. */
  private sendLater(native: NativeUdp, request: SendRequest, data: Buffer, port: number, ip: string | undefined, from?: string, group?: number): number {
    const id = this.nextSendId++;
    const err = native.sendLater(data, port, ip, id, this.eventCallback(), from, group);
    if (err < 0) return err;
    (this.pendingSends ??= new Map()).set(id, { request, size: data.byteLength });
    this.sendQueueSize += data.byteLength;
    return 0;
  }

  private completeSend(id: number, result: SendResult): void {
    const pending = this.pendingSends?.get(id);
    if (!pending) return;
    this.pendingSends?.delete(id);
    this.sendQueueSize -= pending.size;
    const { request } = pending;
    if (request.oncomplete) reportSendResult(request, request.oncomplete, result);
  }

  /** As libuv on close: sends still waiting for the socket end with ECANCELED (and their size). */
  private cancelPendingSends(): void {
    const pending = this.pendingSends;
    if (!pending?.size) return;
    this.pendingSends = undefined;
    this.sendQueueSize = 0;
    for (const { request, size } of pending.values()) {
      process.nextTick(() => request.oncomplete?.(UV_ECANCELED, size));
    }
  }

  getSendQueueSize(): number {
    return this.sendQueueSize;
  }

  getSendQueueCount(): number {
    return this.pendingSends?.size ?? 0;
  }

  connect(ip: unknown, port: unknown): number {
    const address = toText(ip);
    // node parses the address in the handle's family before libuv sees it (udp_wrap.cc).
    if (ipFamily(address) !== this.family) return UV_EINVAL;
    this.sendOutboxBeforeChange();
    if (!this.native) {
      const err = this.ensureBound(this.family);
      if (err) return err;
    }
    const err = (this.native as NativeUdp).connect(address, toPort(port));
    if (!err) this.connected = true;
    return err;
  }

  disconnect(): number {
    this.sendOutboxBeforeChange();
    const err = this.native ? this.native.disconnect() : UV_EBADF;
    if (!err) this.connected = false;
    return err;
  }

  getsockname(out: AddressOut): number {
    return this.describe(this.native?.localAddress(), out);
  }

  getpeername(out: AddressOut): number {
    return this.describe(this.native?.remoteAddress(), out);
  }

  private describe(result: ReturnType<NativeUdp['localAddress']> | undefined, out: AddressOut): number {
    if (result === undefined) return UV_EBADF;
    if (typeof result === 'number') return result;
    out.address = result.address;
    out.family = result.family;
    out.port = result.port;
    return 0;
  }

  setBroadcast(on: number): number {
    this.sendOutboxBeforeChange();
    return this.native ? this.native.setBroadcast(on !== 0) : UV_EBADF;
  }

  // libuv checks each argument before it touches the socket, so a bad value
  // is EINVAL even on a socket that does not exist yet (EBADF otherwise).

  setTTL(ttl: number): number {
    this.sendOutboxBeforeChange();
    const value = ttl | 0;
    if (value < 1 || value > 255) return UV_EINVAL;
    return this.native ? this.native.setTtl(value) : UV_EBADF;
  }

  setTOS(tos: number): number {
    this.sendOutboxBeforeChange();
    const value = tos | 0;
    if (value < 0 || value > 255) return UV_EINVAL;
    return this.native ? this.native.setTos(value) : UV_EBADF;
  }

  /** The TOS byte / traffic class, or a negative errno. */
  getTOS(): number {
    return this.native ? this.native.getTos() : UV_EBADF;
  }

  /** The path MTU to ip:port (the connected peer without ip), or a negative errno; works after close too. */
  pathMtu(ip: string | undefined, port: number | undefined): number {
    if (this.native) return this.native.pathMtu(toPort(port), ip);
    return ip === undefined ? UV_EBADF : NativeUdp.pathMtuTo(this.family, ip, toPort(port));
  }

  setMulticastTTL(ttl: number): number {
    this.sendOutboxBeforeChange();
    const value = ttl | 0;
    if (value < libuvRules.lowestMulticastTtl || value > 255) return UV_EINVAL;
    return this.native ? this.native.setMulticastTtl(value) : UV_EBADF;
  }

  setMulticastLoopback(on: number): number {
    this.sendOutboxBeforeChange();
    return this.native ? this.native.setMulticastLoopback(on | 0) : UV_EBADF;
  }

  setMulticastInterface(interfaceAddress: string): number {
    this.sendOutboxBeforeChange();
    const address = toText(interfaceAddress);
    if (!ipFamily(address)) return UV_EINVAL;
    return this.native ? this.native.setMulticastInterface(address) : UV_EBADF;
  }

  addMembership(group: string, interfaceAddress?: string): number {
    return this.membership(group, interfaceAddress, true);
  }

  dropMembership(group: string, interfaceAddress?: string): number {
    return this.membership(group, interfaceAddress, false);
  }

  private membership(group: unknown, interfaceAddress: unknown, join: boolean): number {
    this.sendOutboxBeforeChange();
    const groupText = membershipGroupText(group, interfaceAddress);
    // Node 24 converts the interface, goes on with an empty one if that
    // failed (so the implicit bind still happens), then throws the error.
    let interfaceError: unknown;
    let interfaceText: string | undefined;
    try {
      interfaceText = optionalString(interfaceAddress);
    } catch (err) {
      interfaceError = err;
      interfaceText = '';
    }
    const result = this.joinOrLeave(groupText, interfaceText, join);
    if (interfaceError !== undefined) throw interfaceError;
    return result;
  }

  private joinOrLeave(groupText: string, interfaceText: string | undefined, join: boolean): number {
    // libuv parses the group before the implicit bind, which takes its family.
    const family = ipFamily(groupText);
    if (family === 0) return UV_EINVAL;
    const err = this.ensureBound(family as 4 | 6);
    if (err) return err;
    return (this.native as NativeUdp).setMembership(groupText, interfaceText, join);
  }

  addSourceSpecificMembership(source: string, group: string, interfaceAddress?: string): number {
    return this.sourceMembership(source, group, interfaceAddress, true);
  }

  dropSourceSpecificMembership(source: string, group: string, interfaceAddress?: string): number {
    return this.sourceMembership(source, group, interfaceAddress, false);
  }

  private sourceMembership(sourceArg: string, groupArg: string, interfaceAddress: unknown, join: boolean): number {
    this.sendOutboxBeforeChange();
    const source = cString(sourceArg);
    const group = cString(groupArg);
    const interfaceText = optionalString(interfaceAddress);
    const family = isIP(group);
    if (family === 0 || isIP(source) !== family) return UV_EINVAL;
    const err = this.ensureBound(family as 4 | 6);
    if (err) return err;
    return (this.native as NativeUdp).setSourceMembership(source, group, interfaceText, join);
  }


  /** Reads (size 0) or sets a buffer size: the size, or a negative errno. */
  bufferSize(size: number, receive: boolean): number {
    this.sendOutboxBeforeChange();
    if (size > INT32_MAX) return UV_EINVAL;
    return this.native ? this.native.bufferSize(size, receive) : libuvRules.bufferSizeWithoutSocket;
  }

  ref(): void {
    this.referenced = true;
    this.native?.ref();
    this.sharedHandle?.ref();
  }

  unref(): void {
    this.referenced = false;
    this.native?.unref();
    this.sharedHandle?.unref();
  }

  hasRef(): boolean {
    return this.referenced;
  }

  /**
   * Sends what is waiting in the outbox before a change that would affect
   * it (connect, an option, close): in node those datagrams left already.
   * Their callbacks still run on a later tick.
   */
  private sendOutboxBeforeChange(): void {
    const done = this.sendOutbox();
    if (done?.length) this.completeSoon(done);
  }

  /**
   * Outcomes known now, reported on a later tick in the order they became
   * known: by the next flushOutbox (already scheduled if a send sits in the
   * outbox), before what it sends, or by a tick of their own.
   */
  private completeSoon(done: CompletedSend[]): void {
    if (this.completedEarly) {
      appendTo(this.completedEarly, done);
      return;
    }
    this.completedEarly = done;
    process.nextTick(completeEarly, this);
  }

  /** The outcomes completeSoon collected, handed over once. */
  takeCompletedEarly(): CompletedSend[] | undefined {
    const done = this.completedEarly;
    this.completedEarly = undefined;
    return done;
  }

  /** Closes the socket now: its port is free when this returns. */
  close(): void {
    this.sendOutboxBeforeChange();
    this.holdingReplies = false;
    this.cancelPendingSends();
    this.closed = true;
    this.receiving = false;
    this.native?.close();
    this.native = null;
    this.sharedHandle?.close();
    this.sharedHandle = null;
  }
}

/** One datagram of a sendMany batch that waits for the socket (a shared completion, no closure). */
interface WaitingDatagram extends SendRequest {
  waiting: WaitingBatch;
  index: number;
}

function completeWaitingDatagram(this: WaitingDatagram, errno: number): void {
  this.waiting.complete(this.index, errno);
}

/**
 * The datagrams of a sendMany that wait for the socket. Each completes on
 * its own; the batch is done when all have, having sent those before the
 * first that failed.
 */
class WaitingBatch {
  private outstanding = 0;
  private started = false;
  /** Where the batch ended: its size, or the first failure and its errno. */
  failedAt: number;
  errno = 0;

  /** `count`: the batch's size, what it reports as sent when nothing fails. */
  constructor(
    count: number,
    private readonly done: BatchDone,
  ) {
    this.failedAt = count;
  }

  add(): void {
    this.outstanding++;
  }

  /** Datagram `index` could not even be handed over: it and the rest stay unsent. */
  refuse(index: number, errno: number): void {
    this.fail(index, errno);
  }

  complete(index: number, errno: number): void {
    this.outstanding--;
    if (errno) this.fail(index, errno);
    if (this.started && this.outstanding === 0) this.done(this.failedAt, this.errno);
  }

  /**
   * Every datagram is handed over: from now on the last completion ends the
   * batch. False if none is waiting (the batch ended already).
   */
  start(): boolean {
    this.started = true;
    return this.outstanding > 0;
  }

  private fail(index: number, errno: number): void {
    if (index >= this.failedAt) return;
    this.failedAt = index;
    this.errno = errno;
  }
}

/** Sends what accumulated in a handle's outbox; the callbacks run in send order. */
function flushOutbox(handle: UdpHandle): void {
  const early = handle.takeCompletedEarly();
  const done = handle.sendScheduledOutbox();
  if (early && done) appendTo(early, done);
  const all = early ?? done;
  if (all) completeInOrder(all);
}

function completeEarly(handle: UdpHandle): void {
  const early = handle.takeCompletedEarly();
  if (early) completeInOrder(early);
}

/** Appends without spreading: an outbox can outgrow the arguments a call may take. */
function appendTo<T>(list: T[], more: T[]): void {
  for (let i = 0; i < more.length; i++) list.push(more[i]);
}

/** A batch's outcome as a completed send, to be reported in order with the others. */
function batchOutcome(done: BatchDone, sent: number, errno: number): CompletedSend {
  return { request: { onsent: () => done(sent, errno) }, result: 0 as SendResult };
}

/** Runs send callbacks in order; one that throws does not lose the rest. */
function completeInOrder(done: CompletedSend[]): void {
  for (let i = 0; i < done.length; i++) {
    const { request, result } = done[i];
    try {
      if (request.onsent) reportSendResult(request, request.onsent, result);
    } catch (err) {
      if (i + 1 < done.length) process.nextTick(completeInOrder, done.slice(i + 1));
      throw err;
    }
  }
}

// Node's C++ layer converts arguments the way JavaScript does (ToString,
// ToUint32, port truncated to 16 bits); these do the same before the native
// call, which would otherwise reject a value of the wrong type.
function toText(value: unknown): string {
  return cString(`${value}`);
}

/**
 * The group of add/dropMembership as Node 24 converts it: a group that
 * cannot become a string (a Symbol, a throwing toString) is an empty string,
 * so EINVAL — except beside a string interface, when the conversion's error
 * is thrown (what Node 24 does, observed side by side).
 */
function membershipGroupText(group: unknown, interfaceAddress: unknown): string {
  try {
    return toText(group);
  } catch (err) {
    if (typeof interfaceAddress === 'string') throw err;
    return '';
  }
}

let lastText: string | undefined;
let lastFamily = 0;

/**
 * 4 or 6 for an IP literal (an IPv6 one may carry a `%zone`), else 0.
 * Replies go to few peers: the last answer is kept (isIP runs a regexp).
 */
export function ipFamily(text: string): number {
  if (text === lastText) return lastFamily;
  const zone = text.indexOf('%');
  lastFamily = isIP(zone === -1 ? text : text.slice(0, zone));
  lastText = text;
  return lastFamily;
}

/** Node hands libuv C strings: a string ends at its first NUL. */
function cString(text: string): string {
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}

function toPort(value: unknown): number {
  return (+(value as number) >>> 0) & 0xffff;
}

function optionalString(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : toText(value);
}


/**
 * The one place a SendResult is read: `report` gets node's (err, sent) —
 * the negative errno and 0, or 0 and the bytes sent — with `target` as this.
 */
export function reportSendResult<T>(target: T, report: (this: T, errno: number, sent: number) => void, result: SendResult): void {
  if (result < 0) report.call(target, result, 0);
  else report.call(target, 0, result);
}

function failed(errno: number): SendResult {
  return errno as SendResult;
}

const NO_BYTES = new ArrayBuffer(0);
const NO_META = new Uint32Array(0);
const LOCAL_SHIFT = 16;

/**
 * The batch whose datagrams are being emitted. Its buffer holds the payloads
 * back to back, then three u32 words per datagram (length, port | IPv6 flag,
 * address indices into the comma-joined addresses): crates/node/src/encoding.rs.
 */
class CurrentBatch {
  private bytes: ArrayBuffer = NO_BYTES;
  private base = 0;
  private meta: Uint32Array = NO_META;
  private addresses: string[] = [];
  private joinedAddresses = '';
  private nextIndex = 0;
  private offset = 0;
  private delivery = DELIVER_MESSAGES;
  /** Emitted in one go: the native side called once for the whole batch. */
  private perBatch = false;
  private collected: ReceivedMessage[] | undefined;

  /**
   * `view` is the batch's Buffer (from the JavaScript thread's receive or the
   * I/O thread); `addresses` is undefined when they are the previous batch's.
   */
  start(view: Buffer, count: number, addresses: string | undefined, delivery: number, perBatch: boolean): void {
    const metaBytes = count * META_WORDS * 4;
    this.bytes = view.buffer as ArrayBuffer;
    this.base = view.byteOffset;
    this.meta = new Uint32Array(this.bytes, this.base + view.byteLength - metaBytes, count * META_WORDS);
    // Consecutive batches usually come from the same peers: reuse the strings.
    if (addresses !== undefined && addresses !== this.joinedAddresses) {
      this.joinedAddresses = addresses;
      this.addresses = addresses.split(',');
    }
    this.nextIndex = 0;
    this.offset = this.base;
    this.delivery = delivery;
    this.perBatch = perBatch;
    this.collected = delivery & DELIVER_BATCHES ? [] : undefined;
  }

  /** Datagrams arrive in order; `index` says which one this is (the first, when all come at once). */
  emit(index: number, handle: UdpHandle): void {
    if (index !== this.nextIndex) return;
    if (!this.perBatch) {
      this.emitNext(handle);
      return;
    }
    // A listener that throws must not lose the rest of the batch: they are
    // delivered, then the first error is thrown (an uncaught exception, as in node).
    let failed = false;
    let failure: unknown;
    while (this.nextIndex * META_WORDS < this.meta.length && handle.accepting) {
      try {
        this.emitNext(handle);
      } catch (err) {
        if (!failed) failure = err;
        failed = true;
      }
    }
    if (failed) throw failure;
  }

  private emitNext(handle: UdpHandle): void {
    const index = this.nextIndex;
    const word = index * META_WORDS;
    const size = this.meta[word];
    const portWord = this.meta[word + 1];
    const addressWord = this.meta[word + 2];
    const start = this.offset;
    this.offset += size;
    this.nextIndex += 1;
    const rinfo: RemoteInfo = {
      address: this.addresses[addressWord & 0xffff],
      family: portWord & META_IPV6_FLAG ? 'IPv6' : 'IPv4',
      port: portWord & 0xffff,
      size,
    };
    if (addressWord >>> LOCAL_SHIFT) rinfo.localAddress = this.addresses[(addressWord >>> LOCAL_SHIFT) - 1];
    const msg = Buffer.from(this.bytes, start, size);
    const last = this.nextIndex * META_WORDS === this.meta.length;
    // After the last datagram only the messages a handler keeps hold the batch.
    if (last) {
      this.bytes = NO_BYTES;
      this.meta = NO_META;
    }
    const collected = this.collected;
    collected?.push({ msg, rinfo });
    if (this.delivery & DELIVER_MESSAGES) handle.onmessage?.(handle.owner, msg, rinfo);
    if (last && collected && handle.accepting) {
      this.collected = undefined;
      handle.onbatch?.(handle.owner, collected);
    }
  }
}
