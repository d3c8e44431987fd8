// fastdgram's declarations against @types/node's dgram module, compiled once
// per module setting by scripts/test-types.mjs. Only bindSync/connectSync
// (newest Node.js, not implemented by fastdgram) and fastdgram's additions
// beyond node:dgram may differ.
import type * as node from 'node:dgram';
import type * as fast from 'fastdgram';

/** true when A and B are the same type (TypeScript's identity, not just assignability). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectTrue<T extends true>(): T | undefined {
  return undefined;
}

type Unimplemented = 'bindSync' | 'connectSync';
/** fastdgram's members beyond node:dgram ("Beyond node:dgram" in the README). */
type Additions = 'setTOS' | 'getTOS';
type OptionAdditions = 'dontFragment';

expectTrue<Equal<fast.RemoteInfo, node.RemoteInfo>>();
expectTrue<Equal<fast.BindOptions, node.BindOptions>>();
expectTrue<Equal<fast.SocketType, node.SocketType>>();
expectTrue<Equal<Required<Omit<fast.SocketOptions, OptionAdditions>>, Required<node.SocketOptions>>>();
expectTrue<Equal<keyof fast.SocketOptions, keyof node.SocketOptions | OptionAdditions>>();
expectTrue<Equal<keyof fast.Socket, Exclude<keyof node.Socket, Unimplemented> | Additions>>();
expectTrue<Equal<ReturnType<fast.Socket['address']>, ReturnType<node.Socket['address']>>>();
// createSocket(options, callback): the options compared above, the same callback.
expectTrue<Equal<Parameters<typeof fast.createSocket>[0], fast.SocketOptions>>();
expectTrue<Equal<Parameters<typeof fast.createSocket>[1], Parameters<typeof node.createSocket>[1]>>();

// A fastdgram socket goes wherever code expects a node:dgram socket once the
// two unimplemented methods are added, and a node:dgram socket goes wherever
// code expects a fastdgram one once fastdgram's additions are. (Assignability
// checks every overload, and methods returning `this` keep returning the
// socket's own type.)
type Completed = fast.Socket & Pick<node.Socket, Extract<keyof node.Socket, Unimplemented>>;
export function toNode(socket: Completed): node.Socket {
  return socket;
}
type Extended = node.Socket & Pick<fast.Socket, Additions>;
export function toFast(socket: Extended): fast.Socket {
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
