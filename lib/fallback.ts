// What require('fastdgram') returns where no native binary loads and
// FASTDGRAM_FALLBACK=node is set (entry/index.js): node:dgram's own sockets,
// with fastdgram's additions present but throwing ERR_FASTDGRAM_NO_BINARY
// that names the addition. So code written for fastdgram fails where it uses
// an addition, saying why, instead of with `s.stats is not a function` or by
// waiting for a 'messages' event that never comes. It loads no native code.
import dgram = require('node:dgram');
import { EventEmitter } from 'node:events';

/**
 * fastdgram's additions to node:dgram. The methods are those lib/socket.ts
 * installs, non-enumerable, on its Socket.prototype (a test compares the two
 * lists).
 */
export const ADDITION_METHODS: readonly (string | symbol)[] = [
  'stats',
  'messages',
  Symbol.asyncIterator,
  'sendMany',
  'setTOS',
  'getTOS',
  'pauseReceiving',
  // Node.js 26's; additions where the running node:dgram lacks them.
  'bindSync',
  'connectSync',
];
const ADDITION_OPTIONS: readonly string[] = ['recvDestination', 'dontFragment'];
const ADDITION_EVENTS: readonly string[] = ['messages'];

/**
 * The options of node:dgram that fastdgram offers on every Node.js version
 * but this Node.js's node:dgram lacks. It would ignore them (a
 * receiveBlockList that blocks nothing), so the fallback refuses them as it
 * refuses the additions.
 */
function optionsMissingFromNode(): string[] {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const missing: string[] = [];
  // reusePort: Node.js 22.12 and 23.1 (node does not validate it, so no probe).
  if (major < 22 || (major === 22 && minor < 12) || (major === 23 && minor < 1)) missing.push('reusePort');
  if (!validatesOption('receiveBlockList')) missing.push('receiveBlockList');
  if (!validatesOption('sendBlockList')) missing.push('sendBlockList');
  return missing;
}

/** Whether node:dgram knows `option`: it rejects a value of the wrong type. */
function validatesOption(option: string): boolean {
  try {
    dgram.createSocket({ type: 'udp4', [option]: 'not a BlockList' } as unknown as dgram.SocketOptions).close();
    return false;
  } catch {
    return true;
  }
}

type NoBinaryError = Error & { code: string };

/** ERR_FASTDGRAM_NO_BINARY for one addition; its cause is why no binary loaded. */
function unavailable(addition: string, described: string, cause: Error): NoBinaryError {
  const error = new Error(
    `${described} needs fastdgram's native binary, which does not load on this host; with FASTDGRAM_FALLBACK=node ` +
      "fastdgram runs on node:dgram, which does not have this addition (the error's cause says why no binary loads).",
    { cause },
  ) as NoBinaryError & { addition: string };
  error.code = 'ERR_FASTDGRAM_NO_BINARY';
  error.addition = addition;
  return error;
}

function describeMethod(key: string | symbol): string {
  return typeof key === 'symbol' ? 'socket[Symbol.asyncIterator]() (for await … of socket)' : `socket.${key}()`;
}

/** Throws for an addition option that asks for something (not undefined or false). */
function rejectAdditionOptions(type: unknown, options: readonly string[], cause: Error): void {
  if (type === null || typeof type !== 'object') return;
  for (const option of options) {
    const value = (type as Record<string, unknown>)[option];
    if (value !== undefined && value !== false) {
      throw unavailable(option, `The ${option} option of dgram.createSocket()`, cause);
    }
  }
}

// Listener methods that lead to EventEmitter's own; `once` and
// `prependOnceListener` go through `on` and `prependListener`.
const LISTENER_METHODS = ['on', 'addListener', 'prependListener'] as const;

interface FallbackModule {
  Socket: typeof dgram.Socket;
  createSocket: typeof dgram.createSocket;
}

type MessageListener = (msg: Buffer, rinfo: dgram.RemoteInfo) => void;
// node's constructor, as lib/dgram.js has it (@types/node declares none).
const NodeSocket = dgram.Socket as unknown as new (
  type: dgram.SocketType | dgram.SocketOptions,
  listener?: MessageListener,
) => dgram.Socket;

/** node:dgram with the additions as throwing stand-ins; `cause`: why no binary loads. */
export function fallbackDgram(cause: Error): FallbackModule {
  const refusedOptions = [...ADDITION_OPTIONS, ...optionsMissingFromNode()];
  class Socket extends NodeSocket {
    constructor(type: dgram.SocketType | dgram.SocketOptions, listener?: MessageListener) {
      rejectAdditionOptions(type, refusedOptions, cause);
      super(type, listener);
    }
  }
  for (const key of ADDITION_METHODS) {
    if (key in NodeSocket.prototype) continue;
    const described = describeMethod(key);
    const addition = typeof key === 'symbol' ? 'Symbol.asyncIterator' : key;
    Object.defineProperty(Socket.prototype, key, {
      value: function unavailableAddition(): never {
        throw unavailable(addition, described, cause);
      },
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  for (const name of LISTENER_METHODS) {
    const inherited = EventEmitter.prototype[name];
    // Enumerable, as EventEmitter's are: a for…in over a socket lists what node's lists.
    Object.defineProperty(Socket.prototype, name, {
      value: function (this: EventEmitter, event: string | symbol, listener: (...args: unknown[]) => void) {
        if (typeof event === 'string' && ADDITION_EVENTS.includes(event)) {
          throw unavailable(`'${event}' event`, `The '${event}' event`, cause);
        }
        return inherited.call(this, event, listener);
      },
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
  function createSocket(type: dgram.SocketType | dgram.SocketOptions, listener?: MessageListener): dgram.Socket {
    return new Socket(type, listener);
  }
  const fallback = { Socket, createSocket } as unknown as FallbackModule;
  // Its own default export, as lib/index.ts's module is (CommonJS interop).
  Object.defineProperty(fallback, 'default', { value: fallback, enumerable: false });
  return fallback;
}
