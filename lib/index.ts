// fastdgram: node:dgram's API on a Rust core. `require('fastdgram')` is a
// drop-in for `require('node:dgram')`.
import { Socket, createSocket } from './socket';

export { Socket, createSocket };
export type { SocketType, SocketOptions, BindOptions, AddressInfo, RemoteInfo } from './socket';

// The module is its own default export. TypeScript marks this file
// `__esModule`, so TypeScript's and bundlers' CommonJS interop compile
// `import dgram from 'fastdgram'` to `require('fastdgram').default`, which
// must be the module — as it is for node:dgram, a CommonJS module without the
// mark, whose interop default is the module itself. Not enumerable:
// Object.keys() lists the API only.
Object.defineProperty(exports, 'default', { value: exports, enumerable: false });
