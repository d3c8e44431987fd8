// Typical node:dgram usage, written against 'node:dgram'. scripts/test-types.mjs
// compiles it as it is and again with 'node:dgram' replaced by 'fastdgram',
// under several module settings: it must compile without error both ways.
import dgram from 'node:dgram';
import * as ns from 'node:dgram';
import { createSocket, Socket } from 'node:dgram';
import type { BindOptions, RemoteInfo, SocketOptions, SocketType } from 'node:dgram';
import { BlockList } from 'node:net';

const type: SocketType = 'udp4';
const options: SocketOptions = {
  type: 'udp6',
  reuseAddr: true,
  reusePort: false,
  ipv6Only: false,
  recvBufferSize: 1 << 20,
  sendBufferSize: 1 << 20,
  lookup: (hostname, lookupOptions, callback) => {
    const family: number | undefined = lookupOptions.family === 6 ? 6 : undefined;
    callback(null, hostname === 'localhost' ? '::1' : hostname, family ?? 6);
  },
  receiveBlockList: new BlockList(),
  sendBlockList: undefined,
  signal: new AbortController().signal,
};
const bindOptions: BindOptions = { port: 0, address: '127.0.0.1', exclusive: true };

const server: Socket = createSocket(type);
const other = dgram.createSocket(options, (msg, rinfo) => {
  const size: number = msg.length + rinfo.size;
  void size;
});
const third: ns.Socket = ns.createSocket({ type: 'udp4' });
const isSocket: boolean = server instanceof Socket && other instanceof dgram.Socket;
void isSocket;

server.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
  server.send(msg, rinfo.port, rinfo.address);
});
server.on('message', (msg, rinfo) => {
  const copy: Buffer = Buffer.from(msg);
  const first: number = msg.readUInt8(0);
  const family: 'IPv4' | 'IPv6' = rinfo.family;
  const address: string = rinfo.address;
  void [copy, first, family, address];
  server.send(msg, 0, msg.length, rinfo.port, rinfo.address, (err, bytes) => {
    if (err) throw err;
    const sent: number = bytes;
    void sent;
  });
});
server.on('error', (err) => {
  console.error(err.message);
  server.close();
});
server.once('listening', () => {
  const { address, family, port } = server.address();
  console.log(`${family} ${address}:${port}`);
});
server.on('close', () => {});
server.prependListener('connect', () => {});
server.addListener('custom-event', (...args: unknown[]) => args);
const emitted: boolean = server.emit('message', Buffer.alloc(1), { address: '127.0.0.1', family: 'IPv4', port: 1, size: 1 });
void emitted;

server.bind(41234);
other.bind(41234, 'localhost');
other.bind(41234, () => {});
other.bind(() => {});
other.bind(bindOptions, () => {});
third.bind({ fd: 3 });
const chained: Socket = server.bind(0).unref().ref();
void chained;

const client = dgram.createSocket('udp4');
client.send('hello', 41234, 'localhost');
client.send(Buffer.from('hello'), 41234);
client.send([Buffer.from('a'), 'b', new Uint8Array(1)], 41234, 'localhost', (err) => {
  if (err) client.close();
});
client.send(new Uint8Array(4), 0, 4, 41234, 'localhost');
client.send(new DataView(new ArrayBuffer(2)), 0, 2, 41234, (err: Error | null, bytes: number) => {
  void [err, bytes];
});
client.connect(41234, 'localhost', () => {
  client.send('connected');
  client.send('connected', (err, bytes) => void [err, bytes]);
  const remote: number = client.remoteAddress().port;
  void remote;
  client.disconnect();
});
client.connect(41234, () => {});

client.setBroadcast(true);
const ttl: number = client.setTTL(64) + client.setMulticastTTL(1);
const loopback: boolean = client.setMulticastLoopback(true);
client.setMulticastInterface('0.0.0.0');
client.addMembership('239.1.2.3');
client.addMembership('239.1.2.3', '0.0.0.0');
client.dropMembership('239.1.2.3');
client.addSourceSpecificMembership('10.0.0.1', '232.1.1.1');
client.dropSourceSpecificMembership('10.0.0.1', '232.1.1.1', '0.0.0.0');
client.setRecvBufferSize(1 << 16);
client.setSendBufferSize(1 << 16);
const sizes: number[] = [
  client.getRecvBufferSize(),
  client.getSendBufferSize(),
  client.getSendQueueSize(),
  client.getSendQueueCount(),
];
void [ttl, loopback, sizes];
const closed: Socket = client.close(() => {});
void closed;

export async function dispose(socket: Socket): Promise<void> {
  await socket[Symbol.asyncDispose]();
}
