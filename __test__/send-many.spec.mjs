// socket.sendMany(messages[, callback]): fastdgram's addition to node:dgram
// (lib/send-many.ts). Loopback only, except the tests that choose a source
// address among two of one interface or make sends wait for the socket:
// those run in a network namespace each test creates (and deletes).
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { BlockList } from 'node:net';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  IPV6, NETNS, createNetnsWith, implSpecifier, runFixture, skipWithReason, sleep, waitUntil,
} from './fixtures/udp.mjs';
import { timeScaled } from './helpers/emulation.mjs';
import { uvErrno } from './helpers/platform.mjs';

const require = createRequire(import.meta.url);
const dgram = require('..');
const { NativeUdp } = require('../native/index.js');

const LINUX = process.platform === 'linux';
const RCVBUF = 4 * 1024 * 1024;
const rmemMax = (() => {
  try { return Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8')); } catch { return 0; }
})();

/** A socket bound on loopback (or `address`), closed when the test ends. */
async function bound(t, options, address) {
  const type = typeof options === 'string' ? options : options.type;
  const socket = dgram.createSocket(options);
  t.teardown(() => closeQuietly(socket));
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address ?? (type === 'udp4' ? '127.0.0.1' : '::1'), resolve);
  });
  return socket;
}

function unbound(t, options) {
  const socket = dgram.createSocket(options);
  t.teardown(() => closeQuietly(socket));
  return socket;
}

function closeQuietly(socket) {
  try { socket.close(); } catch { /* already closed */ }
}

/** Everything `socket` receives, as { msg, rinfo }. */
function inbox(socket) {
  const box = [];
  socket.on('message', (msg, rinfo) => box.push({ msg, rinfo }));
  return box;
}

async function received(box, count, ms = 3000) {
  await waitUntil(() => box.length >= count, ms);
  return box;
}

/** sendMany's callback: { err, sent, synchronous } once it runs (rejects after 5 s). */
function sendMany(socket, messages) {
  return new Promise((resolve, reject) => {
    let returned = false;
    const timer = setTimeout(() => reject(new Error('sendMany callback not called within 5 s')), 5000);
    socket.sendMany(messages, (err, sent) => {
      clearTimeout(timer);
      resolve({ err, sent, synchronous: !returned });
    });
    returned = true;
  });
}

/** Datagram i: its index in the first 4 bytes (when it has room), then a filler derived from i. */
function payload(i, size) {
  const data = Buffer.alloc(size, (i * 31 + 7) & 0xff);
  if (size >= 4) data.writeUInt32BE(i, 0);
  return data;
}

/** Mixed sizes: empty ones, runs of ten equal sizes (GSO), 1-byte and large ones. */
function sizeOf(i) {
  if (i % 23 === 0) return 0;
  if (i % 37 === 0) return 9000;
  if (Math.floor(i / 10) % 3 === 1) return 1200; // runs of equal sizes
  return 1 + ((i * 97) % 1400);
}

const bigBuffers = rmemMax >= RCVBUF ? test.serial
  : (title) => skipWithReason(title, `net.core.rmem_max is ${rmemMax} (< ${RCVBUF}): a burst sent in one call would overflow the receiver`);

for (const count of [1, 64, 65, 1000]) {
  bigBuffers(`${count} datagram(s) of mixed sizes (0 B, runs of equal sizes, up to 9,000 B) arrive once each, in order, intact`, async (t) => {
    const rx = await bound(t, { type: 'udp4', recvBufferSize: RCVBUF });
    const box = inbox(rx);
    const tx = await bound(t, 'udp4');
    const port = rx.address().port;
    const expected = Array.from({ length: count }, (_, i) => payload(i, sizeOf(i)));
    const result = await sendMany(tx, expected.map((data) => ({ data, port, address: '127.0.0.1' })));
    t.deepEqual(result, { err: null, sent: count, synchronous: false });
    await received(box, count);
    await sleep(50);
    t.is(box.length, count, 'each datagram once');
    const mismatched = box.findIndex(({ msg }, i) => !msg.equals(expected[i]));
    t.is(mismatched, -1, 'in order, byte for byte');
    t.true(box.every(({ rinfo }) => rinfo.port === tx.address().port && rinfo.address === '127.0.0.1'));
    t.deepEqual(box.map(({ rinfo }) => rinfo.size), expected.map((data) => data.length));
  });
}

test('mixed destinations: each receiver gets its datagrams in order; a host name is looked up once per call, IP literals never', async (t) => {
  const looked = [];
  const lookup = (address, family, callback) => {
    looked.push(address);
    process.nextTick(callback, null, address === 'receiver.test' ? '127.0.0.1' : address, family);
  };
  const [a, b] = [await bound(t, 'udp4'), await bound(t, 'udp4')];
  const [boxA, boxB] = [inbox(a), inbox(b)];
  const tx = unbound(t, { type: 'udp4', lookup });
  const messages = Array.from({ length: 40 }, (_, i) => ({
    data: `m${i}`,
    port: (i % 3 === 0 ? b : a).address().port,
    address: i % 3 === 0 ? '127.0.0.1' : 'receiver.test',
  }));
  const result = await sendMany(tx, messages);
  t.is(result.err, null);
  t.is(result.sent, 40);
  await received(boxA, 26);
  await received(boxB, 14);
  t.deepEqual(boxA.map(({ msg }) => msg.toString()), messages.filter((_, i) => i % 3 !== 0).map((m) => m.data));
  t.deepEqual(boxB.map(({ msg }) => msg.toString()), messages.filter((_, i) => i % 3 === 0).map((m) => m.data));
  // The implicit bind looks up the wildcard address; the batch only its one name.
  t.deepEqual(looked.filter((name) => name !== '0.0.0.0'), ['receiver.test']);
});

test('the default address is the loopback of the family (udp4 and udp6)', async (t) => {
  const types = IPV6 ? ['udp4', 'udp6'] : ['udp4'];
  for (const type of types) {
    const rx = await bound(t, type);
    const box = inbox(rx);
    const tx = unbound(t, type);
    const result = await sendMany(tx, [{ data: type, port: rx.address().port }]);
    t.is(result.sent, 1);
    await received(box, 1);
    t.is(box[0].msg.toString(), type);
    t.is(box[0].rinfo.address, type === 'udp4' ? '127.0.0.1' : '::1');
  }
});

test('data as strings, Buffers, TypedArrays (with offsets) and DataViews is sent as its bytes', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const tx = await bound(t, 'udp4');
  const port = rx.address().port;
  const backing = new ArrayBuffer(16);
  new Uint8Array(backing).forEach((_, i, bytes) => { bytes[i] = i; });
  const datas = [
    'héllo ✓',
    '',
    Buffer.from('buffer'),
    new Uint8Array(backing, 3, 4),
    new Uint16Array(backing, 2, 3),
    new Float64Array([1.5]),
    new DataView(backing, 10, 5),
    Buffer.alloc(0),
  ];
  const expected = datas.map((data) => (typeof data === 'string'
    ? Buffer.from(data)
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  const result = await sendMany(tx, datas.map((data) => ({ data, port })));
  t.is(result.sent, datas.length);
  await received(box, datas.length);
  t.deepEqual(box.map(({ msg }) => [...msg]), expected.map((bytes) => [...bytes]));
});

test('connected socket: plain data goes to the peer; a port or address in a message throws ERR_SOCKET_DGRAM_IS_CONNECTED', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const tx = await bound(t, 'udp4');
  await new Promise((resolve) => tx.connect(rx.address().port, '127.0.0.1', resolve));
  const result = await sendMany(tx, ['one', Buffer.from('two'), { data: 'three' }, new Uint8Array([52])]);
  t.deepEqual(result, { err: null, sent: 4, synchronous: false });
  await received(box, 4);
  t.deepEqual(box.map(({ msg }) => msg.toString()), ['one', 'two', 'three', '4']);
  for (const message of [{ data: 'x', port: rx.address().port }, { data: 'x', address: '127.0.0.1' }]) {
    const err = t.throws(() => tx.sendMany(['first', message]));
    t.is(err.code, 'ERR_SOCKET_DGRAM_IS_CONNECTED');
  }
  await sleep(100);
  t.is(box.length, 4, 'nothing of a rejected call was sent');
});

test('an unbound socket binds implicitly (once), also when sendMany comes while binding', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const port = rx.address().port;
  const tx = unbound(t, 'udp4');
  let listening = 0;
  tx.on('listening', () => listening++);
  const first = sendMany(tx, [{ data: 'a', port }]);
  const second = sendMany(tx, [{ data: 'b', port }]); // the bind is in progress now
  t.deepEqual([(await first).sent, (await second).sent], [1, 1]);
  t.is(listening, 1);
  await received(box, 2);
  t.deepEqual(box.map(({ msg }) => msg.toString()), ['a', 'b']);
  t.true(box.every(({ rinfo }) => rinfo.port === tx.address().port));
});

test('an empty array: callback (null, 0) on a later tick, nothing sent', async (t) => {
  const tx = unbound(t, 'udp4');
  t.deepEqual(await sendMany(tx, []), { err: null, sent: 0, synchronous: false });
});

test('invalid arguments throw node-style errors before anything is sent', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const port = rx.address().port;
  const tx = await bound(t, 'udp4');
  const ok = { data: 'ok', port };
  const cases = [
    [['text'], TypeError, 'ERR_INVALID_ARG_TYPE', /^The "messages" argument must be an instance of Array\. Received type string \('text'\)$/],
    [[{ 0: ok, length: 1 }], TypeError, 'ERR_INVALID_ARG_TYPE', /"messages" argument must be an instance of Array/],
    [[undefined], TypeError, 'ERR_INVALID_ARG_TYPE', /"messages" argument/],
    [[[ok], 'not a function'], TypeError, 'ERR_INVALID_ARG_TYPE', /^The "callback" argument must be of type function\. Received type string/],
    [[[ok, null]], TypeError, 'ERR_INVALID_ARG_TYPE', /^The "messages\[1\]" argument must be of type string or an instance of Buffer, TypedArray, DataView, or Object\. Received null$/],
    [[[ok, 42]], TypeError, 'ERR_INVALID_ARG_TYPE', /"messages\[1\]" argument .* Received type number \(42\)$/],
    [[[ok, [ok]]], TypeError, 'ERR_INVALID_ARG_TYPE', /"messages\[1\]" argument/],
    [[[ok, { port }]], TypeError, 'ERR_INVALID_ARG_TYPE', /^The "messages\[1\]\.data" property must be of type string or an instance of Buffer, TypedArray, or DataView\. Received undefined$/],
    [[[ok, { data: 7, port }]], TypeError, 'ERR_INVALID_ARG_TYPE', /"messages\[1\]\.data" property/],
    [[[ok, 'plain data has no destination']], RangeError, 'ERR_SOCKET_BAD_PORT', /^messages\[1\]\.port should be > 0 and < 65536\. Received undefined\.$/],
    [[[ok, { data: 'x' }]], RangeError, 'ERR_SOCKET_BAD_PORT', /messages\[1\]\.port/],
    [[[ok, { data: 'x', port: 0 }]], RangeError, 'ERR_SOCKET_BAD_PORT', /Received type number \(0\)/],
    [[[ok, { data: 'x', port: 65536 }]], RangeError, 'ERR_SOCKET_BAD_PORT', /Received type number \(65536\)/],
    [[[ok, { data: 'x', port: 'http' }]], RangeError, 'ERR_SOCKET_BAD_PORT', /Received type string \('http'\)/],
    [[[ok, { data: 'x', port, address: 127 }]], TypeError, 'ERR_INVALID_ARG_TYPE', /^The "messages\[1\]\.address" property must be of type string\. Received type number \(127\)$/],
    [[[ok, { data: 'x', port, from: 1 }]], TypeError, 'ERR_INVALID_ARG_TYPE', /"messages\[1\]\.from" property must be of type string/],
    [[[ok, { data: 'x', port, from: 'localhost' }]], TypeError, 'ERR_INVALID_ARG_VALUE', /^The property 'messages\[1\]\.from' must be an IPv4 address\. Received 'localhost'$/],
    [[[ok, { data: 'x', port, from: '::1' }]], TypeError, 'ERR_INVALID_ARG_VALUE', /must be an IPv4 address/],
    [[[ok, { data: 'x', port, from: '' }]], TypeError, 'ERR_INVALID_ARG_VALUE', /must be an IPv4 address/],
  ];
  for (const [args, ErrorClass, code, message] of cases) {
    const err = t.throws(() => tx.sendMany(...args), { instanceOf: ErrorClass }, JSON.stringify(args));
    t.is(err.code, code, JSON.stringify(args));
    t.regex(err.message, message);
  }
  // A port as node:dgram's send() reads it: a numeric string is a port.
  t.is((await sendMany(tx, [{ data: 'numeric string port', port: String(port) }])).sent, 1);
  await received(box, 1);
  await sleep(100);
  t.deepEqual(box.map(({ msg }) => msg.toString()), ['numeric string port'], 'nothing else was sent');
});

test('ERR_INVALID_ARG_TYPE for a non-array reads as node\'s own for an array argument', (t) => {
  const nodeError = t.throws(() => Buffer.concat('text'));
  const ours = t.throws(() => dgram.createSocket('udp4').sendMany('text'));
  t.is(ours.message, nodeError.message.replace('"list"', '"messages"'));
  t.is(ours.constructor, nodeError.constructor);
});

test('udp6: from must be an IPv6 address without a zone', (t) => {
  const tx = dgram.createSocket('udp6');
  t.teardown(() => tx.close());
  for (const from of ['127.0.0.1', 'fe80::1%lo', 'nope']) {
    const err = t.throws(() => tx.sendMany([{ data: 'x', port: 9, from }]));
    t.is(err.code, 'ERR_INVALID_ARG_VALUE');
    t.regex(err.message, /must be an IPv6 address without a zone/);
  }
});

test('a closed socket throws ERR_SOCKET_DGRAM_NOT_RUNNING', (t) => {
  const tx = dgram.createSocket('udp4');
  tx.close();
  const err = t.throws(() => tx.sendMany([{ data: 'x', port: 9 }]));
  t.is(err.code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
  t.is(err.message, 'Not running');
});

test('a failing datagram in the middle (EMSGSIZE): callback (err, sent) with err.sent, node\'s send error, the rest not sent', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const port = rx.address().port;
  const tx = await bound(t, 'udp4');
  const messages = ['a', 'b', 'c', Buffer.alloc(65_508), 'd', 'e'].map((data) => ({ data, port, address: '127.0.0.1' }));
  const { err, sent, synchronous } = await sendMany(tx, messages);
  t.false(synchronous);
  t.is(sent, 3);
  t.true(err instanceof Error);
  t.is(err.code, 'EMSGSIZE');
  t.is(err.syscall, 'send');
  t.is(err.errno, uvErrno('EMSGSIZE'));
  t.is(err.address, '127.0.0.1');
  t.is(err.port, port);
  t.is(err.message, `send EMSGSIZE 127.0.0.1:${port}`);
  t.is(err.sent, 3);
  await sleep(150);
  t.deepEqual(box.map(({ msg }) => msg.toString()), ['a', 'b', 'c']);
});

test('connected socket: a failing datagram reports node\'s connected send error', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const tx = await bound(t, 'udp4');
  await new Promise((resolve) => tx.connect(rx.address().port, '127.0.0.1', resolve));
  const { err, sent } = await sendMany(tx, ['a', Buffer.alloc(70_000), 'b']);
  t.is(sent, 1);
  t.is(err.code, 'EMSGSIZE');
  t.is(err.syscall, 'send');
  t.is(err.message, 'send EMSGSIZE');
  t.is(err.sent, 1);
  await sleep(timeScaled(100));
  t.deepEqual(box.map(({ msg }) => msg.toString()), ['a']);
});

test('without a callback a failure is emitted as \'error\' (with sent), once', async (t) => {
  const rx = await bound(t, 'udp4');
  const tx = await bound(t, 'udp4');
  const errors = [];
  tx.on('error', (err) => errors.push(err));
  tx.sendMany([{ data: 'ok', port: rx.address().port }, { data: Buffer.alloc(70_000), port: rx.address().port }]);
  await waitUntil(() => errors.length > 0, 2000);
  await sleep(50);
  t.is(errors.length, 1);
  t.is(errors[0].code, 'EMSGSIZE');
  t.is(errors[0].sent, 1);
});

test('a lookup that fails ends the batch there: the datagrams before it go out, its error has sent', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const port = rx.address().port;
  const lookup = (address, family, callback) => {
    if (address === 'missing.test') {
      const err = Object.assign(new Error('getaddrinfo ENOTFOUND missing.test'), { code: 'ENOTFOUND' });
      process.nextTick(callback, err);
    } else {
      process.nextTick(callback, null, address === 'here.test' ? '127.0.0.1' : address, family);
    }
  };
  const tx = unbound(t, { type: 'udp4', lookup });
  const { err, sent } = await sendMany(tx, [
    { data: 'a', port, address: 'here.test' },
    { data: 'b', port, address: '127.0.0.1' },
    { data: 'c', port, address: 'missing.test' },
    { data: 'd', port, address: 'here.test' },
  ]);
  t.is(sent, 2);
  t.is(err.code, 'ENOTFOUND');
  t.is(err.sent, 2);
  await sleep(timeScaled(100));
  t.deepEqual(box.map(({ msg }) => msg.toString()), ['a', 'b']);
});

test('sendBlockList: a blocked destination ends the batch with ERR_IP_BLOCKED', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const port = rx.address().port;
  const sendBlockList = new BlockList();
  sendBlockList.addAddress('127.0.0.2');
  const tx = unbound(t, { type: 'udp4', sendBlockList });
  const { err, sent } = await sendMany(tx, [
    { data: 'a', port, address: '127.0.0.1' },
    { data: 'b', port, address: '127.0.0.2' },
    { data: 'c', port, address: '127.0.0.1' },
  ]);
  t.is(sent, 1);
  t.is(err.code, 'ERR_IP_BLOCKED');
  t.is(err.message, 'IP(127.0.0.2) is blocked by net.BlockList');
  t.is(err.sent, 1);
  await sleep(timeScaled(100));
  t.deepEqual(box.map(({ msg }) => msg.toString()), ['a']);
});

test('order with send(): sends issued before sendMany in the same tick go out (and call back) first, a send after it goes after', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const port = rx.address().port;
  const tx = await bound(t, 'udp4');
  const callbacks = [];
  tx.send('s1', port, '127.0.0.1', () => callbacks.push('s1'));
  tx.send('s2', port, '127.0.0.1', () => callbacks.push('s2'));
  tx.sendMany([{ data: 'm1', port }, { data: 'm2', port, address: '127.0.0.1' }], () => callbacks.push('many'));
  tx.send('s3', port, '127.0.0.1', () => callbacks.push('s3'));
  await received(box, 5);
  await waitUntil(() => callbacks.length === 4, 2000);
  t.deepEqual(box.map(({ msg }) => msg.toString()), ['s1', 's2', 'm1', 'm2', 's3']);
  t.deepEqual(callbacks, ['s1', 's2', 'many', 's3']);
});

test('order with send() on a connected socket', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const tx = await bound(t, 'udp4');
  await new Promise((resolve) => tx.connect(rx.address().port, '127.0.0.1', resolve));
  const callbacks = [];
  tx.send('s1', () => callbacks.push('s1'));
  tx.sendMany(['m1', 'm2'], () => callbacks.push('many'));
  tx.send('s2', () => callbacks.push('s2'));
  await received(box, 4);
  await waitUntil(() => callbacks.length === 3, 2000);
  t.deepEqual(box.map(({ msg }) => msg.toString()), ['s1', 'm1', 'm2', 's2']);
  t.deepEqual(callbacks, ['s1', 'many', 's2']);
});

test('close() before an unconnected batch went out: nothing sent (as send() whose lookup is pending), and the callback says so once: ERR_SOCKET_DGRAM_NOT_RUNNING, 0 sent', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const tx = await bound(t, 'udp4');
  const calls = [];
  tx.sendMany([{ data: 'x', port: rx.address().port }], (err, sent) => calls.push([err?.code, err?.sent, sent]));
  tx.close();
  await sleep(150);
  t.deepEqual(calls, [['ERR_SOCKET_DGRAM_NOT_RUNNING', 0, 0]]);
  t.is(box.length, 0);
});

test('an implicit bind that fails drops the batch as node drops queued sends, but its callback still runs once: ERR_SOCKET_DGRAM_NOT_RUNNING, 0 sent', async (t) => {
  const tx = dgram.createSocket({ type: 'udp4', lookup: (host, options, callback) => process.nextTick(callback, new Error('no lookup for the bind')) });
  t.teardown(() => tx.close());
  const errors = [];
  tx.on('error', (err) => errors.push(err.message));
  const calls = [];
  tx.bind(0, 'somewhere.invalid');
  tx.sendMany([{ data: 'x', port: 9, address: '127.0.0.1' }], (err, sent) => calls.push([err?.code, sent]));
  await sleep(100);
  t.deepEqual(errors, ['no lookup for the bind']);
  t.deepEqual(calls, [['ERR_SOCKET_DGRAM_NOT_RUNNING', 0]]);
});

/**
 * The waiting path (EAGAIN) cannot be provoked on loopback, whose send buffer
 * drains at once: here the native batch call sends only the first `sendNow`
 * datagrams, as if the socket had then been full, and the rest take the real
 * waiting path (the native send queue on the I/O thread).
 */
async function withSendBatchLimit(sendNow, fn) {
  const original = NativeUdp.prototype.sendBatch;
  NativeUdp.prototype.sendBatch = function sendSome(buffers, ports, ips, froms, untilFailure) {
    return original.call(this, buffers.slice(0, sendNow), ports.subarray(0, sendNow), ips.slice(0, sendNow), froms?.slice(0, sendNow), untilFailure);
  };
  try {
    return await fn();
  } finally {
    NativeUdp.prototype.sendBatch = original;
  }
}

test.serial('datagrams that would block wait for the socket and go out in order; the callback counts them all', async (t) => {
  const rx = await bound(t, { type: 'udp4', recvBufferSize: 1 << 20 });
  const box = inbox(rx);
  const tx = await bound(t, 'udp4');
  await new Promise((resolve) => tx.connect(rx.address().port, '127.0.0.1', resolve));
  const expected = Array.from({ length: 200 }, (_, i) => payload(i, 100 + (i % 5)));
  const { result, waiting } = await withSendBatchLimit(10, async () => {
    const pending = sendMany(tx, expected);
    return { waiting: tx.getSendQueueCount(), result: await pending };
  });
  t.is(waiting, 190, 'all but the first 10 waited');
  t.is(result.err, null);
  t.is(result.sent, 200);
  t.is(tx.getSendQueueCount(), 0);
  await received(box, 200);
  t.is(box.findIndex(({ msg }, i) => !msg.equals(expected[i])), -1);
});

test.serial('a failure among waiting datagrams ends the batch: err.sent counts those before, none after it is sent', async (t) => {
  const rx = await bound(t, { type: 'udp4', recvBufferSize: 1 << 20 });
  const box = inbox(rx);
  const tx = await bound(t, 'udp4');
  const port = rx.address().port;
  const messages = Array.from({ length: 100 }, (_, i) => ({ data: i === 60 ? Buffer.alloc(70_000) : payload(i, 64), port }));
  const result = await withSendBatchLimit(5, () => sendMany(tx, messages));
  t.is(result.err?.code, 'EMSGSIZE');
  t.is(result.sent, 60);
  t.is(result.err.sent, 60);
  await received(box, 60);
  await sleep(150);
  t.deepEqual(box.map(({ msg }) => msg.readUInt32BE(0)), Array.from({ length: 60 }, (_, i) => i));
  // The socket goes on: a later send is not part of the failed batch.
  t.is((await sendMany(tx, [{ data: 'next', port }])).sent, 1);
});

test.serial('close() while datagrams wait: the callback gets ECANCELED with the count sent before', async (t) => {
  const rx = await bound(t, 'udp4');
  const tx = await bound(t, 'udp4');
  await new Promise((resolve) => tx.connect(rx.address().port, '127.0.0.1', resolve));
  const result = await withSendBatchLimit(3, () => {
    const pending = sendMany(tx, Array.from({ length: 50 }, (_, i) => payload(i, 1000)));
    tx.close();
    return pending;
  });
  t.is(result.err?.code, 'ECANCELED');
  t.is(result.sent, 3, 'close() ran before any waiting datagram was reported sent');
  t.is(result.err.sent, 3);
});

const linuxOnly = LINUX ? test : (title) => skipWithReason(title, 'choosing the source address needs Linux (IP_PKTINFO)');

linuxOnly('from on loopback: a socket bound to 0.0.0.0 sends from 127.0.0.2 (single datagrams and an equal-size run), unconnected and connected', async (t) => {
  const rx = await bound(t, 'udp4');
  const box = inbox(rx);
  const port = rx.address().port;
  const tx = await bound(t, 'udp4', '0.0.0.0');
  const run = Array.from({ length: 6 }, () => ({ data: Buffer.alloc(500, 1), port, from: '127.0.0.2' }));
  const result = await sendMany(tx, [{ data: 'kernel', port }, { data: 'chosen', port, from: '127.0.0.2' }, ...run]);
  t.is(result.sent, 8);
  await received(box, 8);
  t.deepEqual(box.map(({ rinfo }) => rinfo.address), ['127.0.0.1', ...Array(7).fill('127.0.0.2')]);
  const connected = await bound(t, 'udp4', '0.0.0.0');
  await new Promise((resolve) => connected.connect(port, '127.0.0.1', resolve));
  t.is((await sendMany(connected, [{ data: 'c', from: '127.0.0.3' }])).sent, 1);
  await received(box, 9);
  t.is(box[8].rinfo.address, '127.0.0.3');
});

test('the docs/api.md example runs as written', async (t) => {
  const docs = await readFile(new URL('../docs/api.md', import.meta.url), 'utf8');
  const match = docs.match(/## `socket\.sendMany\(messages\[, callback\]\)`\n[\s\S]*?```js\n([\s\S]*?)```/);
  t.truthy(match, 'docs/api.md has a js block under the sendMany heading');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', match[1]], { cwd: root, timeout: 10_000 });
  t.regex(stdout, /^sent 3 datagrams\nreceived: one, two, three\n$/);
});

// ---------------------------------------------------------------------------
// In a network namespace: two addresses on one interface; a slow qdisc.

const SEND_MANY_NETNS = [
  'set -e',
  'ip link set lo up',
  'ip addr add 10.200.0.1/24 dev lo',
  'ip addr add 10.200.0.2/24 dev lo',
].join('\n');
const IPV6_SETUP = ['ip addr add fd00:200::1/64 dev lo nodad', 'ip addr add fd00:200::2/64 dev lo nodad'].join('\n');
const SLOW_QDISC = 'tc qdisc add dev lo root tbf rate 20mbit burst 20kb latency 2s';

/** Whether `setup` works in a fresh namespace: { ok } or { ok: false, reason }. */
function probeNamespace(setup, what) {
  if (!NETNS.ok) return NETNS;
  const name = `fdgram-${process.pid}-probe-send-many`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  } catch (err) {
    return { ok: false, reason: `cannot create a network namespace (${String(err.stderr || err.message).trim()})` };
  }
  try {
    execFileSync('ip', ['netns', 'exec', name, 'sh', '-c', `ip link set lo up\n${setup}`], { stdio: 'pipe' });
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `${what} refused in a namespace (${String(err.stderr || err.message).trim()})` };
  } finally {
    try { execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' }); } catch { /* gone */ }
  }
}

const NETNS_V6 = probeNamespace(IPV6_SETUP, 'IPv6 addresses');
const NETNS_QDISC = probeNamespace(SLOW_QDISC, "a tbf qdisc ('tc')");

function nsTest(title, probe, setup, scenario, check) {
  if (!probe.ok) {
    skipWithReason(title, probe.reason);
    return;
  }
  test.serial(title, async (t) => {
    t.timeout(40000);
    const ns = createNetnsWith(t, setup);
    const run = await runFixture('send-many-netns.mjs', [implSpecifier('fastdgram'), scenario], { netns: ns, timeout: 20000 });
    t.truthy(run.result, `the scenario printed a result (exit ${run.exitCode}, ${run.stderr})`);
    t.is(run.result.scenarioThrew, undefined, JSON.stringify(run.result.scenarioThrew));
    t.is(run.result.watchdog, undefined);
    check(t, run.result);
  });
}

function checkChosenSources(t, r) {
  const { first, second } = r.addresses;
  t.deepEqual(r.unconnected, { err: null, sent: 8 });
  t.deepEqual(r.afterUnconnected, [
    { data: 'kernel', from: first },
    { data: 'second', from: second },
    { data: 'first', from: first },
    ...Array(5).fill({ data: '1000 B', from: second }),
  ]);
  t.deepEqual(r.connected, { err: null, sent: 2 });
  t.deepEqual(r.afterConnected, [{ data: 'plain', from: first }, { data: 'chosen', from: second }]);
  t.is(r.unassignedSource.sent, 1);
  t.is(r.unassignedSource.err.sent, 1);
  t.is(r.unassignedSource.err.syscall, 'send');
  t.regex(r.unassignedSource.err.code, /^E[A-Z]+$/);
  t.log(`a source address on no interface: ${r.unassignedSource.err.code}`);
  t.deepEqual(r.afterUnassigned, [{ data: 'before', from: second }]);
}

nsTest('from (IPv4, network namespace): a socket bound to 0.0.0.0 sends from the second address of lo; rinfo.address shows it; an unassigned one fails with sent',
  NETNS, SEND_MANY_NETNS, 'from4', checkChosenSources);

nsTest('from (IPv6, network namespace): a socket bound to :: sends from the second address of lo',
  NETNS_V6, `${SEND_MANY_NETNS}\n${IPV6_SETUP}`, 'from6', checkChosenSources);

nsTest('behind a slow qdisc (real EAGAIN): 400 datagrams wait and arrive in order from the chosen address; a failure among them ends the batch; plain send() keeps its order too',
  NETNS_QDISC, `${SEND_MANY_NETNS}\n${SLOW_QDISC}`, 'wait', (t, r) => {
    const upTo = (n) => Array.from({ length: n }, (_, i) => i);
    t.true(r.waitingAfterCall > 0, `the send buffer filled: ${r.waitingAfterCall} datagrams waited`);
    t.deepEqual(r.whole, { err: null, sent: 400 });
    t.deepEqual(r.wholeArrived, { indexes: upTo(400), sources: ['10.200.0.2'] });
    t.true(r.failingWaitingAfterCall > 100, 'the failing datagram (index 300) was among the waiting ones');
    t.is(r.failing.sent, 300);
    t.is(r.failing.err.code, 'EMSGSIZE');
    t.is(r.failing.err.sent, 300);
    t.deepEqual(r.failingArrived, { indexes: upTo(300), sources: ['10.200.0.1'] });
    t.true(r.sendWaitingAfterCalls > 0);
    t.deepEqual(r.sendArrived, { indexes: upTo(400), sources: ['10.200.0.1'] });
  });
