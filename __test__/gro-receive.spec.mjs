// UDP GRO receive (Linux UDP_GRO, crates/core/src/sys/linux.rs and
// batch.rs): a GSO sender's buffers reach a fastdgram socket whole and are
// split again natively, so JavaScript sees ordinary datagrams. Every test
// checks stats().coalescedBuffers > 0: without it GRO was not used and the
// test would prove nothing. The senders are fastdgram's sendMany, which
// sends equal-sized runs to one destination as one UDP_SEGMENT buffer
// (crates/core's own tests also use a raw UDP_SEGMENT sender). Loopback only.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { BlockList } from 'node:net';
import { Sockets, skipWithReason, sleep, waitUntil } from './fixtures/udp.mjs';

const require = createRequire(import.meta.url);
const fastdgram = require('..');
const { nativeCapabilities } = require('../native/index.js');

const { gro, gsoSegments } = nativeCapabilities();
const RCVBUF = 4 * 1024 * 1024;

/** Datagram `number` of sender `tag`, `size` bytes: its tag and number, then a pattern of both. */
function datagram(tag, number, size) {
  const bytes = Buffer.alloc(size);
  for (let at = 0; at < size; at++) bytes[at] = (tag * 31 + number * 7 + at) & 0xff;
  if (size >= 3) bytes.writeUInt8(tag, 0);
  if (size >= 3) bytes.writeUInt16BE(number & 0xffff, 1);
  return bytes;
}

/** `sizes.length` datagrams of sender `tag`, numbered from `first`. */
function numbered(tag, first, sizes) {
  return sizes.map((size, index) => datagram(tag, first + index, size));
}

/** 63 datagrams of `size` and a shorter last one: one GSO buffer. */
function gsoRun(size, last) {
  return [...Array(63).fill(size), last];
}

async function receiverWith(t, sockets, options = {}) {
  const receiver = await sockets.bound({ type: 'udp4', recvBufferSize: RCVBUF, ...options }, 0, '127.0.0.1');
  return receiver;
}

function sendMany(socket, port, payloads) {
  return new Promise((resolve, reject) => {
    socket.sendMany(payloads.map((data) => ({ data, port, address: '127.0.0.1' })), (err, sent) => {
      if (err) reject(err);
      else resolve(sent);
    });
  });
}

/** 'message' events as { msg (a copy), rinfo }, in order. */
function collect(socket) {
  const box = [];
  socket.on('message', (msg, rinfo) => box.push({ msg: Buffer.from(msg), rinfo }));
  return box;
}

/** Each sender's datagrams in arrival order, keyed by port. */
function bySender(box) {
  const map = new Map();
  for (const { msg, rinfo } of box) {
    if (!map.has(rinfo.port)) map.set(rinfo.port, []);
    map.get(rinfo.port).push(msg);
  }
  return map;
}

function sameBuffers(t, actual, expected, what) {
  t.is(actual.length, expected.length, `${what}: count`);
  const wrong = actual.findIndex((msg, index) => !msg.equals(expected[index]));
  t.is(wrong, -1, `${what}: datagram ${wrong} differs (size ${actual[wrong]?.length} vs ${expected[wrong]?.length})`);
}

if (!gro || gsoSegments < 2) {
  skipWithReason('UDP GRO receive', 'no UDP_GRO or no UDP GSO here (or FASTDGRAM_NO_GRO / FASTDGRAM_NO_GSO set)');
} else {
  test('a GSO buffer arrives as its datagrams: each its own message, once, intact, in order, exact sizes, the last shorter, the same rinfo', async (t) => {
    const sockets = new Sockets(fastdgram);
    t.teardown(() => sockets.closeAll());
    const receiver = await receiverWith(t, sockets);
    const box = collect(receiver);
    const sender = await sockets.bound('udp4', 0, '127.0.0.1');
    const sizes = gsoRun(100, 37);
    const payloads = numbered(1, 0, sizes);
    t.is(await sendMany(sender, receiver.address().port, payloads), 64);
    t.true(await waitUntil(() => box.length >= 64, 3000));
    await sleep(20);
    sameBuffers(t, box.map((m) => m.msg), payloads, 'payloads');
    const port = sender.address().port;
    t.deepEqual(box.map((m) => m.rinfo), sizes.map((size) => ({ address: '127.0.0.1', family: 'IPv4', port, size })));
    const stats = receiver.stats();
    t.true(stats.coalescedBuffers > 0, 'GRO handed over the buffer whole');
    t.is(stats.receivedDatagrams, 64);
    t.is(stats.receivedBytes, sizes.reduce((a, b) => a + b, 0));
  });

  test("node:dgram and fastdgram see the same 'message' stream for the same GSO traffic", async (t) => {
    const sizes = [...gsoRun(1200, 1), 500, 500, 7, ...Array(10).fill(64)];
    const observe = async (impl) => {
      const sockets = new Sockets(impl);
      const senders = new Sockets(fastdgram);
      try {
        const receiver = await sockets.bound({ type: 'udp4', recvBufferSize: RCVBUF }, 0, '127.0.0.1');
        const box = collect(receiver);
        const sender = await senders.bound('udp4', 0, '127.0.0.1');
        await sendMany(sender, receiver.address().port, numbered(2, 0, sizes));
        await waitUntil(() => box.length >= sizes.length, 3000);
        await sleep(20);
        const port = sender.address().port;
        const stream = box.map(({ msg, rinfo }) => ({ hex: msg.toString('hex'), rinfo: { ...rinfo, port: rinfo.port === port } }));
        return { stream, stats: impl === fastdgram ? receiver.stats() : undefined };
      } finally {
        sockets.closeAll();
        senders.closeAll();
      }
    };
    const expected = await observe(dgram);
    const actual = await observe(fastdgram);
    t.is(expected.stream.length, sizes.length);
    t.deepEqual(actual.stream, expected.stream);
    t.true(actual.stats.coalescedBuffers > 0);
  });

  test("'messages': the batches hold every datagram once, in order, each with its rinfo", async (t) => {
    const sockets = new Sockets(fastdgram);
    t.teardown(() => sockets.closeAll());
    const receiver = await receiverWith(t, sockets);
    const batches = [];
    receiver.on('messages', (batch) => batches.push(batch.map(({ msg, rinfo }) => ({ msg: Buffer.from(msg), rinfo }))));
    const sender = await sockets.bound('udp4', 0, '127.0.0.1');
    const payloads = [];
    for (let round = 0; round < 8; round++) {
      const chunk = numbered(3, payloads.length, gsoRun(200 + round, 1 + round));
      payloads.push(...chunk);
      await sendMany(sender, receiver.address().port, chunk);
    }
    t.true(await waitUntil(() => batches.flat().length >= payloads.length, 3000));
    await sleep(20);
    const all = batches.flat();
    sameBuffers(t, all.map((m) => m.msg), payloads, 'payloads');
    t.true(all.every(({ msg, rinfo }) => rinfo.size === msg.length && rinfo.port === sender.address().port));
    t.true(receiver.stats().coalescedBuffers > 0);
  });

  test('several interleaved senders, one of them mixing sizes: every datagram once, intact, in order per sender', async (t) => {
    const sockets = new Sockets(fastdgram);
    t.teardown(() => sockets.closeAll());
    const receiver = await receiverWith(t, sockets);
    const box = collect(receiver);
    const port = receiver.address().port;
    const senders = [];
    for (let i = 0; i < 3; i++) senders.push(await sockets.bound('udp4', 0, '127.0.0.1'));
    const expected = new Map(senders.map((s) => [s.address().port, []]));
    const plan = (tag, round) => {
      if (tag === 0) return gsoRun(1000, 999);
      if (tag === 1) return Array.from({ length: 40 }, () => 64 + round);
      // Mixed: runs of equal sizes, single datagrams and a size that grows.
      return [300, 300, 300, 12, 900, 900, 1, 64, 64, 64, 65, 70, 70, 10];
    };
    const sends = [];
    for (let round = 0; round < 6; round++) {
      senders.forEach((sender, tag) => {
        const list = expected.get(sender.address().port);
        const chunk = numbered(tag, list.length, plan(tag, round));
        list.push(...chunk);
        sends.push(sendMany(sender, port, chunk));
      });
    }
    await Promise.all(sends);
    const total = [...expected.values()].reduce((sum, list) => sum + list.length, 0);
    t.true(await waitUntil(() => box.length >= total, 5000), `${box.length} of ${total}`);
    await sleep(20);
    t.is(box.length, total);
    const received = bySender(box);
    for (const [from, list] of expected) sameBuffers(t, received.get(from) ?? [], list, `sender ${from}`);
    t.true(receiver.stats().coalescedBuffers > 0);
  });

  test('recvDestination: every datagram of a coalesced buffer carries its localAddress', async (t) => {
    const sockets = new Sockets(fastdgram);
    t.teardown(() => sockets.closeAll());
    const receiver = await receiverWith(t, sockets, { recvDestination: true });
    const box = collect(receiver);
    const sender = await sockets.bound('udp4', 0, '127.0.0.1');
    const payloads = numbered(4, 0, gsoRun(50, 5));
    await sendMany(sender, receiver.address().port, payloads);
    t.true(await waitUntil(() => box.length >= 64, 3000));
    sameBuffers(t, box.map((m) => m.msg), payloads, 'payloads');
    t.true(box.every(({ rinfo }) => rinfo.localAddress === '127.0.0.1'));
    t.true(receiver.stats().coalescedBuffers > 0);
  });

  test('receiveBlockList: a blocked sender\'s coalesced buffers are dropped whole and counted per datagram', async (t) => {
    const sockets = new Sockets(fastdgram);
    t.teardown(() => sockets.closeAll());
    const receiveBlockList = new BlockList();
    receiveBlockList.addAddress('127.0.0.2');
    const receiver = await receiverWith(t, sockets, { receiveBlockList });
    const box = collect(receiver);
    const good = await sockets.bound('udp4', 0, '127.0.0.1');
    const bad = await sockets.bound('udp4', 0, '127.0.0.2');
    const port = receiver.address().port;
    const expected = [];
    for (let round = 0; round < 4; round++) {
      await sendMany(bad, port, numbered(9, round * 20, Array(20).fill(30)));
      const chunk = numbered(5, expected.length, [...Array(19).fill(30), 3]);
      expected.push(...chunk);
      await sendMany(good, port, chunk);
    }
    t.true(await waitUntil(() => box.length >= expected.length, 3000));
    await sleep(20);
    sameBuffers(t, box.map((m) => m.msg), expected, 'payloads');
    t.true(box.every(({ rinfo }) => rinfo.address === '127.0.0.1'));
    const stats = receiver.stats();
    t.is(stats.blockedDatagrams, 80);
    t.is(stats.receivedDatagrams, 80);
    t.true(stats.coalescedBuffers > 0);
  });

  test('the async iterator: once more than highWaterMark wait, reading stops (after the batch that crossed it); every datagram reaches the consumer once, in order', async (t) => {
    const sockets = new Sockets(fastdgram);
    t.teardown(() => sockets.closeAll());
    const receiver = await receiverWith(t, sockets);
    const sender = await sockets.bound('udp4', 0, '127.0.0.1');
    const highWaterMark = 32;
    const iterator = receiver.messages({ highWaterMark });
    const payloads = [];
    const sendRounds = async (rounds) => {
      for (let round = 0; round < rounds; round++) {
        const chunk = numbered(6, payloads.length, gsoRun(400, 40));
        payloads.push(...chunk);
        await sendMany(sender, receiver.address().port, chunk);
      }
      await sleep(100);
    };
    await sendRounds(4);
    const first = receiver.stats().receivedDatagrams;
    t.true(first >= highWaterMark, `read ${first} before pausing`);
    await sendRounds(4);
    t.is(receiver.stats().receivedDatagrams, first, 'nothing more was read while the consumer was behind');
    const received = [];
    while (received.length < payloads.length) {
      const next = await Promise.race([iterator.next(), sleep(2000).then(() => 'idle')]);
      if (next === 'idle') break;
      received.push(Buffer.from(next.value.msg));
    }
    await iterator.return();
    sameBuffers(t, received, payloads, 'payloads');
    t.true(receiver.stats().coalescedBuffers > 0);
  });
}

test('FASTDGRAM_NO_GRO=1 switches GRO off: the capability says so and nothing is coalesced', (t) => {
  const script = `
    const fastdgram = require(${JSON.stringify(require.resolve('..'))});
    const { nativeCapabilities } = require(${JSON.stringify(require.resolve('../native/index.js'))});
    const receiver = fastdgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 22 });
    const sender = fastdgram.createSocket('udp4');
    let count = 0;
    const timer = setTimeout(() => process.exit(2), 5000);
    receiver.on('message', () => {
      if (++count < 64) return;
      console.log(JSON.stringify({ gro: nativeCapabilities().gro, count, coalesced: receiver.stats().coalescedBuffers }));
      clearTimeout(timer);
      receiver.close();
      sender.close();
    });
    receiver.bind(0, '127.0.0.1', () => {
      const port = receiver.address().port;
      sender.sendMany(Array.from({ length: 64 }, () => ({ data: Buffer.alloc(100, 1), port })));
    });`;
  const child = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, FASTDGRAM_NO_GRO: '1' }, encoding: 'utf8', timeout: 10000,
  });
  t.is(child.status, 0, child.stderr);
  t.deepEqual(JSON.parse(child.stdout), { gro: false, count: 64, coalesced: 0 });
});
