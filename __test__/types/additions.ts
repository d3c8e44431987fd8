// fastdgram's additions to node:dgram's API (sendMany; bindSync/connectSync,
// which are node's own on Node.js 26 but additions on 20 and 22), compiled against
// 'fastdgram' by scripts/test-types.mjs under every module setting: the
// typical calls compile, and each `@ts-expect-error` line must fail.
import { createSocket } from 'fastdgram';
import type { BindSyncOptions, SendManyCallback, SendManyError, SendManyMessage } from 'fastdgram';

const socket = createSocket('udp4');
const messages: SendManyMessage[] = [
  { data: 'text', port: 9, address: '127.0.0.1' },
  { data: Buffer.from('bytes'), port: 9 },
  { data: new Uint8Array(4), port: 9, address: 'localhost', from: '127.0.0.2' },
  { data: new DataView(new ArrayBuffer(2)), port: 9 },
];
socket.sendMany(messages);
socket.sendMany(messages, (error, sent) => {
  const count: number = sent;
  if (error) {
    const before: number = error.sent;
    const code: string | undefined = error.code;
    const syscall: string | undefined = error.syscall;
    void [count, before, code, syscall];
  }
});
const connectedMessages: readonly SendManyMessage[] = ['text', Buffer.alloc(1), new Float32Array(1)];
socket.sendMany(connectedMessages);
const callback: SendManyCallback = (error: SendManyError | null, sent: number) => void [error, sent];
socket.sendMany([], callback);
const nothing: void = socket.sendMany([]);
void nothing;

// @ts-expect-error the messages are an array
socket.sendMany('text');
// @ts-expect-error data must be bytes or a string
socket.sendMany([{ data: 42, port: 9 }]);
// @ts-expect-error ports are numbers
socket.sendMany([{ data: 'x', port: '9' }]);
// @ts-expect-error the callback gets (error, sent)
socket.sendMany([], (error: Error | null, sent: string) => void [error, sent]);

// bindSync/connectSync: Node.js 26's, on every Node.js with fastdgram.
const syncOptions: BindSyncOptions = { port: 0, address: '127.0.0.1' };
const bound: { address: string; family: string; port: number } = socket.bindSync(syncOptions);
createSocket('udp6').bindSync();
createSocket('udp4').connectSync(9);
const connected: void = createSocket('udp4').connectSync(9, '127.0.0.1');
void [bound, connected];
// @ts-expect-error bindSync takes no exclusive (nor fd)
socket.bindSync({ port: 0, exclusive: true });
// @ts-expect-error bindSync takes no callback
socket.bindSync({ port: 0 }, () => {});
// @ts-expect-error connectSync's port is a number
socket.connectSync('9');
// @ts-expect-error connectSync takes no callback
socket.connectSync(9, '127.0.0.1', () => {});
