// The compiled Rust binding (crates/node), loaded by napi-rs' generated loader.
import binding = require('../native/index.js');

// A method the binding defines itself (crates/node/src/raw_send.rs), so the
// generated declarations lack it.
declare module '../native/index.js' {
  interface NativeUdp {
    /**
     * Sends `data` now if the socket can take it: bytes sent, or a negative
     * errno (`-EAGAIN`: use `sendLater`). `ip` is absent on a connected socket.
     */
    send(data: Uint8Array, port: number, ip?: string | undefined | null): number;
  }
}

export type NativeUdp = binding.NativeUdp;
export type AddressInfo = binding.AddressInfo;
export const NativeUdp = binding.NativeUdp;
export const guessHandleType = binding.guessHandleType;
type NativeCapabilities = binding.NativeCapabilities;

/** What this build does on this machine (probed once by the platform layer). */
export const capabilities: NativeCapabilities = binding.nativeCapabilities();

/** Where libuv's own checks differ by platform (EBADF or ENOTSOCK before a socket exists, the lowest multicast TTL). */
export const libuvRules: binding.NativeLibuvRules = binding.nativeLibuvRules();

/** libuv's (negative) error numbers on this platform: `-errno` on Unix, libuv's own table on Windows. */
export const UV: binding.UvErrorCodes = binding.uvErrorCodes();

/**
 * A send's outcome as the native side reports it (libuv's convention): the
 * bytes sent (>= 0) or a negative errno. Decoded in one place only:
 * handle.ts's reportSendResult.
 */
export type SendResult = number & { readonly [sendResultBrand]: true };
declare const sendResultBrand: unique symbol;

/** Kinds of events the native side reports (crates/node/src/events.rs). */
export const KIND_BATCH = 0;
export const KIND_RECEIVE_ERROR = 1;
export const KIND_SEND_DONE = 2;

/**
 * The event callback's arguments, by kind. Positional, as the binding
 * passes them (`to_event_args` in crates/node/src/events.rs): an object per
 * event would cost an allocation on the send-completion path.
 */
export type NativeEvent =
  | [kind: typeof KIND_BATCH, count: number, unused: number, data: Buffer, addresses: string]
  | [kind: typeof KIND_RECEIVE_ERROR, errno: number, unused: number, data: undefined, addresses: undefined]
  | [kind: typeof KIND_SEND_DONE, sendId: number, result: SendResult, data: undefined, addresses: undefined];

/** The event callback of startReceiving and sendLater, typed by kind. */
export type NativeEventCallback = (...event: NativeEvent) => void;

/** The same callback as the generated declarations type it (one number per field). */
export type NativeEventArgument = Parameters<NativeUdp['sendLater']>[4];

/** Words per datagram in a batch's metadata: length, port | IPv6 flag, address index. */
export const META_WORDS = 3;
export const META_IPV6_FLAG = 1 << 16;

/** Bind flags understood by NativeUdp.bind (libuv's values where node shares them). */
export const UV_UDP_IPV6ONLY = 1;
export const UV_UDP_REUSEADDR = 4;
export const FLAG_REUSE_PORT = 1 << 16;
