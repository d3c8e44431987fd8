// fastdgram's declarations against @types/node's dgram module, compiled once
// per module setting and @types/node version by scripts/test-types.mjs. Only
// fastdgram's own additions ("Beyond node:dgram" in the README, listed below
// exactly) may differ — and bindSync/connectSync where the @types/node in use
// (22) does not declare them: fastdgram has them on every Node.js.
import type * as node from 'node:dgram';
import type * as fast from 'fastdgram';

/** true when A and B are the same type (TypeScript's identity, not just assignability). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectTrue<T extends true>(): T | undefined {
  return undefined;
}

/** bindSync/connectSync unless this @types/node declares them (@types/node >= 24.x has them). */
type SyncBindBeyondNode = Exclude<'bindSync' | 'connectSync', keyof node.Socket>;
type SocketExtensions =
  | 'stats'
  | 'messages'
  | 'pauseReceiving'
  | typeof Symbol.asyncIterator
  | 'setTOS'
  | 'getTOS'
  | 'sendMany'
  | SyncBindBeyondNode;
type OptionExtensions = 'recvDestination' | 'dontFragment';
type RemoteInfoExtensions = 'localAddress';

expectTrue<Equal<Omit<fast.RemoteInfo, RemoteInfoExtensions>, node.RemoteInfo>>();
expectTrue<Equal<Exclude<keyof fast.RemoteInfo, keyof node.RemoteInfo>, RemoteInfoExtensions>>();
expectTrue<Equal<fast.BindOptions, node.BindOptions>>();
expectTrue<Equal<fast.SocketType, node.SocketType>>();
expectTrue<Equal<Required<Omit<fast.SocketOptions, OptionExtensions>>, Required<node.SocketOptions>>>();
expectTrue<Equal<Exclude<keyof fast.SocketOptions, OptionExtensions>, keyof node.SocketOptions>>();
expectTrue<Equal<Exclude<keyof fast.SocketOptions, keyof node.SocketOptions>, OptionExtensions>>();
expectTrue<Equal<Exclude<keyof fast.Socket, SocketExtensions>, keyof node.Socket>>();
// Where @types/node declares them, bindSync and connectSync are declared the same.
type NodeMethod<K extends string> = node.Socket extends Record<K, infer M> ? M : fast.Socket[K & keyof fast.Socket];
expectTrue<Equal<fast.Socket['bindSync'], NodeMethod<'bindSync'>>>();
expectTrue<Equal<fast.Socket['connectSync'], NodeMethod<'connectSync'>>>();
expectTrue<Equal<ReturnType<fast.Socket['address']>, ReturnType<node.Socket['address']>>>();
// Every createSocket call node accepts, fastdgram accepts (its options only add keys).
expectTrue<Parameters<typeof node.createSocket> extends Parameters<typeof fast.createSocket> ? true : false>();

// A fastdgram socket goes wherever code expects a node:dgram socket, and a
// node:dgram socket goes wherever code expects a fastdgram one once
// fastdgram's additions are. (Assignability checks every overload, and
// methods returning `this` keep returning the socket's own type.)
export function toNode(socket: fast.Socket): node.Socket {
  return socket;
}
export function toFast(socket: node.Socket & Pick<fast.Socket, SocketExtensions>): fast.Socket {
  return socket;
}
// node:dgram's options are fastdgram's options.
export function optionsToFast(options: node.SocketOptions): fast.SocketOptions {
  return options;
}
// fastdgram's createSocket, with its overloads, has node's createSocket's
// parameters (returning fastdgram's Socket).
export const createSocketAsNode: {
  (type: node.SocketType, callback?: (msg: Buffer, rinfo: node.RemoteInfo) => void): fast.Socket;
  (options: node.SocketOptions, callback?: (msg: Buffer, rinfo: node.RemoteInfo) => void): fast.Socket;
} = (null as unknown as typeof fast).createSocket;
