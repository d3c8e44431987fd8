// fastdgram: node:dgram's API on a Rust core. `require('fastdgram')` is a
// drop-in for `require('node:dgram')`.
import { Socket, createSocket } from './socket';

export { Socket, createSocket };
export type { SocketType, SocketOptions, BindOptions, AddressInfo, RemoteInfo } from './socket';
