// Wrong uses of the node:dgram API. scripts/test-types.mjs compiles this file
// as it is and with 'node:dgram' replaced by 'fastdgram': each line marked
// with an `expect-error` comment must fail to compile, both ways, and no
// other line may.
import dgram from 'node:dgram';
import { createSocket } from 'node:dgram';
import type { RemoteInfo, SocketOptions } from 'node:dgram';

createSocket('udp5'); // expect-error: unknown socket type
createSocket({ reuseAddr: true }); // expect-error: options without type
createSocket({ type: 'udp4', reuseAddr: 'yes' }); // expect-error: boolean option given a string
createSocket({ type: 'udp4', recvBufferSize: '1024' }); // expect-error: number option given a string
createSocket('udp4', (msg: string) => msg); // expect-error: message callback with the wrong msg type
const options: SocketOptions = { type: 'udp4', colour: 'blue' }; // expect-error: unknown option
void options;

const socket = dgram.createSocket('udp4');
socket.bind('41234'); // expect-error: port as a string
socket.bind({ port: '1' }); // expect-error: BindOptions.port as a string
socket.bind(41234, 'localhost', 'callback'); // expect-error: callback not a function
socket.send(42, 41234, 'localhost'); // expect-error: a number is no message
socket.send('hello', '41234'); // expect-error: port as a string
socket.send('hello', 41234, true); // expect-error: address as a boolean
socket.send('hello', 0, 5, 41234, 'localhost', 'cb'); // expect-error: callback not a function
socket.send('hello', 0, 5, 41234, 'localhost', () => {}, 'extra'); // expect-error: too many arguments
socket.connect('41234'); // expect-error: port as a string
socket.setTTL('64'); // expect-error: ttl as a string
socket.setBroadcast(1); // expect-error: flag as a number
socket.addMembership(239); // expect-error: group as a number
const port: string = socket.address().port; // expect-error: port is a number
void port;
socket.on('message', (msg, rinfo) => {
  const n: number = msg; // expect-error: msg is a Buffer
  const s: string = rinfo.port; // expect-error: rinfo.port is a number
  rinfo.hostname; // expect-error: RemoteInfo has no hostname
  void [n, s];
});
socket.on('error', (err) => {
  const n: number = err; // expect-error: err is an Error
  void n;
});
const info: RemoteInfo = { address: '127.0.0.1', family: 'IPv5', port: 1, size: 1 }; // expect-error: bad family
void info;
socket.close('now'); // expect-error: close takes a callback
