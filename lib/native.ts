// The compiled Rust binding (crates/node), loaded by napi-rs' generated loader.
import binding = require('../native/index.js');

export type NativeUdp = binding.NativeUdp;
export type AddressInfo = binding.AddressInfo;
export const NativeUdp = binding.NativeUdp;
export const guessHandleType = binding.guessHandleType;
export type NativeCapabilities = binding.NativeCapabilities;

/** What this build does on this machine (probed once by the platform layer). */
export const capabilities: NativeCapabilities = binding.nativeCapabilities();

/** libuv's (negative) error numbers on this platform: `-errno` on Unix, libuv's own table on Windows. */
export const UV: binding.UvErrorCodes = binding.uvErrorCodes();

/** Kinds of events the native side reports (crates/node/src/events.rs). */
export const KIND_BATCH = 0;
export const KIND_RECEIVE_ERROR = 1;
export const KIND_SEND_DONE = 2;

/** Words per datagram in a batch's metadata: length, port | IPv6 flag, address index. */
export const META_WORDS = 3;
export const META_IPV6_FLAG = 1 << 16;

/** Bind flags understood by NativeUdp.bind (libuv's values where node shares them). */
export const UV_UDP_IPV6ONLY = 1;
export const UV_UDP_REUSEADDR = 4;
export const FLAG_REUSE_PORT = 1 << 16;
