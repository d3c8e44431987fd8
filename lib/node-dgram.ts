// What the running Node.js's own node:dgram does where Node.js versions
// differ, read from node:dgram itself rather than from a table of version
// numbers: fastdgram follows the Node.js it runs on for what that version
// has or removed, and adds what only newer versions have.
import dgram = require('node:dgram');

const nodePrototype = dgram.Socket.prototype as unknown as Record<string, unknown>;

/**
 * DEP0112's private members (`_handle`, `_healthCheck()`, …): Node.js ≤ 25
 * has them, Node.js 26 removed them.
 */
export const HAS_DEPRECATED_MEMBERS = Object.getOwnPropertyDescriptor(nodePrototype, '_handle') !== undefined;

/**
 * `socket.bindSync()` and `socket.connectSync()` are node's own (Node.js 26,
 * and 24 from the release that has them); elsewhere they are fastdgram's
 * additions.
 */
export const HAS_SYNC_BIND = typeof nodePrototype.bindSync === 'function';

/**
 * `bind(..., callback)` of Node.js 20 and 22 waits for a failure with an
 * 'error' listener, so a failed bind with a callback throws nothing; newer
 * versions use `errorMonitor`, and the error is thrown when no one listens.
 * Node's source text of bind() says which (the newer way where it cannot be read).
 */
export const BIND_CALLBACK_LISTENS_FOR_ERROR = Function.prototype.toString
  .call(nodePrototype.bind)
  .includes("this.on('error', removeListeners)");

/**
 * createSocket() validates `recvBufferSize`/`sendBufferSize` (validateUint32)
 * since nodejs/node#56084 (absent in Node.js 20.11.0, present in 20.20.2);
 * before, a bad size was reported only at bind (ERR_SOCKET_BAD_BUFFER_SIZE).
 * Node's source text of its Socket constructor says which (the newer way
 * where it cannot be read).
 */
const socketSource = Function.prototype.toString.call(dgram.Socket);
export const VALIDATES_BUFFER_SIZE_OPTIONS =
  socketSource.includes('validateUint32(options.recvBufferSize') || !socketSource.includes('options.recvBufferSize');

/**
 * A bind whose address lookup fails after close() still emits 'error' in
 * older Node.js 20 releases (20.11.0: the lookup callback tests the error
 * before the handle); newer ones return first (20.20.2 and later majors).
 * Read from node's bind() (the newer way where it cannot be read).
 */
export const BIND_LOOKUP_ERROR_AFTER_CLOSE = /lookup\(address, \(err, ip\) => \{\s*if \(err\)/.test(
  Function.prototype.toString.call(nodePrototype.bind),
);

const STATE_SYMBOL_DESCRIPTION = 'state symbol';
let lookupReadAtCreation: boolean | undefined;

/**
 * Whether node:dgram reads `dns.lookup` when a socket is created and calls
 * it even for IP literals (Node.js 20, 22), rather than resolving a literal
 * of the socket's family itself and reading `dns.lookup` at each call for
 * the rest (Node.js 24, 26). Asked once, of a node:dgram socket, by
 * replacing `dns.lookup` while it is created: only programs that replace
 * `dns.lookup` need the answer.
 */
export function readsLookupAtCreation(): boolean {
  lookupReadAtCreation ??= probeLookupAtCreation();
  return lookupReadAtCreation;
}

function probeLookupAtCreation(): boolean {
  const dns = require('node:dns') as { lookup: unknown };
  const saved = dns.lookup;
  let called = false;
  const probe = (): void => {
    called = true;
  };
  if (!Reflect.set(dns, 'lookup', probe)) return false;
  let socket: dgram.Socket;
  try {
    socket = dgram.createSocket('udp4');
  } finally {
    Reflect.set(dns, 'lookup', saved);
  }
  try {
    stateOf(socket)?.handle?.lookup?.('127.0.0.1', () => {});
  } finally {
    socket.close();
  }
  return called;
}

function stateOf(socket: object): { handle?: { lookup?: (address: string, cb: () => void) => void } } | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === STATE_SYMBOL_DESCRIPTION);
  return key === undefined ? undefined : Reflect.get(socket, key);
}
