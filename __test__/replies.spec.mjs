// Replies sent from 'message' handlers while a burst is delivered: fastdgram
// holds the callback-less ones and sends them together at the end of the
// batch (lib/reply-batch.ts). Everything a program can observe must be what
// node:dgram shows: the order on the wire, callbacks and events in order,
// errors, the send queue read inside the handler.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { childPrelude, describeError, implSpecifier, maskPorts, parity } from './helpers/parity.mjs';

const COUNT = 24;

function bound(socket, address) {
  return new Promise((resolve) => socket.bind(0, address, resolve));
}

/** Stops this event loop for a while, so that a burst piles up in the kernel and arrives as one batch. */
function stall(ms = 50) {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* the kernel queues the burst */ }
}

/**
 * A receiver `rx` and a peer `tx`; `tx` sends COUNT datagrams '0'..'23' to
 * `rx` while `rx`'s loop is stalled, `onMessage(rx, msg, rinfo, log)` answers.
 * Returns the log and what `tx` received, in order, once `expected` replies
 * arrived or 400 ms passed without one.
 */
async function burst(dgram, family, onMessage, { expected = COUNT, rxOptions = {}, connect = false } = {}) {
  const address = family === 'udp4' ? '127.0.0.1' : '::1';
  const rx = dgram.createSocket({ type: family, ...rxOptions });
  const tx = dgram.createSocket(family);
  await bound(rx, address);
  await bound(tx, address);
  if (connect) await new Promise((resolve) => rx.connect(tx.address().port, address, resolve));
  const log = [];
  const wire = [];
  rx.on('message', (msg, rinfo) => onMessage(rx, msg, rinfo, log));
  rx.on('error', (err) => log.push({ event: 'error', error: describeError(err) }));
  const done = new Promise((resolve) => {
    let quiet = setTimeout(resolve, 2000);
    tx.on('message', (msg) => {
      wire.push(msg.toString());
      clearTimeout(quiet);
      quiet = setTimeout(resolve, wire.length >= expected ? 50 : 400);
    });
  });
  for (let i = 0; i < COUNT; i++) tx.send(String(i), rx.address().port, address);
  stall();
  await done;
  try {
    rx.close();
  } catch {
    // closed by the scenario
  }
  tx.close();
  return { log: [...log], wire };
}

for (const family of ['udp4', 'udp6']) {
  test.serial(`callback-less replies leave in order; the send queue inside the handler is as node's (${family})`, async (t) => {
    const { expected } = await parity(t, (dgram) =>
      burst(dgram, family, (rx, msg, rinfo, log) => {
        rx.send(`r${msg}`, rinfo.port, rinfo.address);
        log.push(`message ${msg} queue ${rx.getSendQueueCount()} ${rx.getSendQueueSize()}`);
        process.nextTick(() => log.push(`tick ${msg} queue ${rx.getSendQueueCount()} ${rx.getSendQueueSize()}`));
      }),
    );
    t.is(expected.wire.length, COUNT);
    t.deepEqual(expected.wire.slice(0, 3), ['r0', 'r1', 'r2']);
  });

  test.serial(`one Buffer reused for every reply: each reply carries what it held when sent, as node reads it (${family})`, async (t) => {
    const { expected } = await parity(t, (dgram) => {
      const reply = Buffer.alloc(3);
      return burst(dgram, family, (rx, msg, rinfo) => {
        reply.write(`r${String(msg).padStart(2, '0')}`);
        rx.send(reply, rinfo.port, rinfo.address);
      });
    });
    t.is(expected.wire.length, COUNT);
    t.deepEqual(expected.wire.slice(0, 3), ['r00', 'r01', 'r02']);
  });

  test.serial(`replies with and without a callback keep node's order: callbacks before the next message (${family})`, async (t) => {
    const { expected } = await parity(t, (dgram) =>
      burst(dgram, family, (rx, msg, rinfo, log) => {
        const n = Number(msg);
        log.push(`message ${n}`);
        if (n % 3 === 0) rx.send(`c${n}`, rinfo.port, rinfo.address, (err, bytes) => log.push(`callback ${n} ${err} ${bytes}`));
        else rx.send(`r${n}`, rinfo.port, rinfo.address);
        if (n % 4 === 0) rx.send([Buffer.from('x'), Buffer.from(`${n}`)], rinfo.port, rinfo.address);
        Promise.resolve().then(() => log.push(`promise ${n}`));
      }, { expected: COUNT + COUNT / 4 }),
    );
    t.true(expected.log.includes('callback 0 null 2'));
    t.is(expected.wire.length, COUNT + COUNT / 4);
  });

  test.serial(`a connected socket's replies leave in order, with a callback send among them (${family})`, async (t) => {
    const { expected } = await parity(t, (dgram) =>
      burst(dgram, family, (rx, msg, rinfo, log) => {
        const n = Number(msg);
        if (n === 5) rx.send(`c${n}`, (err, bytes) => log.push(`callback ${n} ${err} ${bytes}`));
        else rx.send(`r${n}`);
        log.push(`message ${n}`);
      }, { connect: true }),
    );
    t.is(expected.wire.length, COUNT);
    t.is(expected.wire[5], 'c5');
  });

  test.serial(`a failing callback-less reply is silent, its neighbours still leave; with a callback it reports (${family})`, async (t) => {
    const { expected } = await parity(t, (dgram) =>
      burst(dgram, family, (rx, msg, rinfo, log) => {
        const n = Number(msg);
        if (n === 3) rx.send(Buffer.alloc(70000), rinfo.port, rinfo.address);
        if (n === 4) rx.send(Buffer.alloc(70000), rinfo.port, rinfo.address, (err) => log.push({ n, error: maskPorts(describeError(err), [rinfo.port]) }));
        rx.send(`r${n}`, rinfo.port, rinfo.address);
        log.push(`message ${n}`);
      }),
    );
    t.is(expected.wire.length, COUNT);
    t.is(expected.log.find((entry) => entry.n === 4)?.error.code, 'EMSGSIZE');
    t.false(expected.log.some((entry) => entry.event === 'error'));
  });

  test.serial(`a reply whose lookup fails is an 'error' event; replies that need a lookup arrive (${family})`, async (t) => {
    const ip = family === 'udp4' ? '127.0.0.1' : '::1';
    // A lookup of our own: answers on a later tick, fails for one name.
    const lookup = (name, options, callback) => {
      if (name === 'fails.invalid') setImmediate(callback, Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' }));
      else if (name === 'peer.test') setImmediate(callback, null, ip, family === 'udp4' ? 4 : 6);
      else process.nextTick(callback, null, name, family === 'udp4' ? 4 : 6);
    };
    const { expected, actual } = await parity(t, async (dgram) => {
      const result = await burst(dgram, family, (rx, msg, rinfo, log) => {
        const n = Number(msg);
        if (n === 2) rx.send(`f${n}`, rinfo.port, 'fails.invalid');
        if (n % 5 === 0) rx.send(`l${n}`, rinfo.port, 'peer.test');
        rx.send(`r${n}`, rinfo.port, rinfo.address);
        log.push(`message ${n}`);
      }, { expected: COUNT + 5, rxOptions: { lookup } });
      return result;
    });
    t.is(expected.wire.length, COUNT + 5);
    t.is(expected.log.filter((entry) => entry.event === 'error').length, 1);
    t.deepEqual(actual.wire.filter((m) => m.startsWith('r')), expected.wire.filter((m) => m.startsWith('r')));
  });

  // The reply made just before close() is dropped (its lookup's tick finds the socket closed), as node does.
  test.serial(`close() inside a handler: the replies before it left, nothing after it is delivered (${family})`, async (t) => {
    const { expected } = await parity(t, (dgram) =>
      burst(dgram, family, (rx, msg, rinfo, log) => {
        const n = Number(msg);
        rx.send(`r${n}`, rinfo.port, rinfo.address);
        log.push(`message ${n}`);
        if (n === 7) rx.close(() => log.push('close callback'));
      }, { expected: 7 }),
    );
    t.deepEqual(expected.wire, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  });

  test.serial(`a reply from a socket not yet bound (implicit bind) inside a handler arrives with the others (${family})`, async (t) => {
    const { expected } = await parity(t, async (dgram) => {
      const others = [];
      const result = await burst(dgram, family, (rx, msg, rinfo, log) => {
        const n = Number(msg);
        if (n === 1) {
          const other = dgram.createSocket(family);
          others.push(other);
          other.send(`o${n}`, rinfo.port, rinfo.address);
        }
        rx.send(`r${n}`, rinfo.port, rinfo.address);
        log.push(`message ${n}`);
      }, { expected: COUNT + 1 });
      for (const other of others) other.close();
      // Two sockets: their datagrams interleave as the kernel delivers them.
      return { log: result.log, replies: result.wire.filter((m) => m.startsWith('r')), others: result.wire.filter((m) => m.startsWith('o')) };
    });
    t.is(expected.replies.length, COUNT);
    t.deepEqual(expected.others, ['o1']);
  });
}

/** A child that answers a burst while its handler throws at datagram 3 (an uncaught exception, handled). */
function throwingChild(implName) {
  const script = `${childPrelude()}
const dgram = require(${JSON.stringify(implSpecifier(implName))});
const log = [];
process.on('uncaughtException', (err) => log.push('uncaught ' + err.message));
const rx = dgram.createSocket('udp4');
const tx = dgram.createSocket('udp4');
const wire = [];
rx.on('message', (msg, rinfo) => {
  rx.send('r' + msg, rinfo.port, rinfo.address);
  log.push('message ' + msg);
  if (String(msg) === '3') throw new Error('handler failed at 3');
});
rx.bind(0, '127.0.0.1', () => tx.bind(0, '127.0.0.1', () => {
  let quiet = setTimeout(finish, 2000);
  function finish() { out({ log, wire }); rx.close(); tx.close(); }
  tx.on('message', (msg) => { wire.push(String(msg)); clearTimeout(quiet); quiet = setTimeout(finish, wire.length >= 10 ? 50 : 400); });
  for (let i = 0; i < 10; i++) tx.send(String(i), rx.address().port, '127.0.0.1');
  const until = Date.now() + 50;
  while (Date.now() < until);
}));
`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000 });
  return { status: child.status, result: JSON.parse(child.stdout.trim() || 'null'), stderr: child.stderr };
}

test.serial('a handler that throws: the rest of the batch is delivered and every reply leaves, in order', async (t) => {
  const { expected } = await parity(t, (_dgram, implName) => throwingChild(implName));
  t.is(expected.status, 0);
  t.deepEqual(expected.result.wire, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
  t.true(expected.result.log.includes('uncaught handler failed at 3'));
});

/**
 * How many native send calls a child's echo of one 24-datagram burst makes
 * (white box: counts calls of NativeUdp's send methods on the receiver).
 */
function nativeSendCalls(env) {
  const root = implSpecifier('fastdgram');
  const script = `
const { NativeUdp } = require(${JSON.stringify(`${root}/native/index.js`)});
const dgram = require(${JSON.stringify(root)});
const calls = { nativeCalls: 0, datagrams: 0, most: 0 };
const count = (datagrams) => { calls.nativeCalls++; calls.datagrams += datagrams; calls.most = Math.max(calls.most, datagrams); };
const { send, sendBatch, sendPacked } = NativeUdp.prototype;
NativeUdp.prototype.send = function (...args) { if (this === rxNative) count(1); return send.apply(this, args); };
NativeUdp.prototype.sendBatch = function (...args) { if (this === rxNative) count(args[0].length); return sendBatch.apply(this, args); };
// sendPacked(bytes, meta, addresses, results): three meta words per datagram.
NativeUdp.prototype.sendPacked = function (...args) { if (this === rxNative) count(args[1].length / 3); return sendPacked.apply(this, args); };
let rxNative;
const rx = dgram.createSocket('udp4');
const tx = dgram.createSocket('udp4');
let replies = 0;
rx.on('message', (msg, rinfo) => { rxNative ??= findNative(rx); rx.send(msg, rinfo.port, rinfo.address); });
function findNative(socket) {
  const state = socket[Object.getOwnPropertySymbols(socket).find((k) => String(k).includes('state'))];
  return state.handle.native;
}
rx.bind(0, '127.0.0.1', () => tx.bind(0, '127.0.0.1', () => {
  tx.on('message', () => { if (++replies === 24) { process.stdout.write(JSON.stringify(calls)); rx.close(); tx.close(); } });
  for (let i = 0; i < 24; i++) tx.send(String(i).padStart(2, '0'), rx.address().port, '127.0.0.1');
  const until = Date.now() + 50;
  while (Date.now() < until);
}));
setTimeout(() => { process.stdout.write(JSON.stringify({ timedOut: replies })); process.exit(1); }, 5000).unref();
`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000, env: { ...process.env, ...env } });
  return { status: child.status, calls: JSON.parse(child.stdout || 'null'), stderr: child.stderr };
}

test.serial('fastdgram sends the replies to one burst with one native call; FASTDGRAM_NO_REPLY_BATCH=1 one by one', (t) => {
  const together = nativeSendCalls({});
  t.is(together.status, 0, together.stderr);
  // One batch usually; under load the burst may come in two reads.
  t.log(together.calls);
  t.true(together.calls.nativeCalls >= 1 && together.calls.nativeCalls <= 2, JSON.stringify(together.calls));
  t.is(together.calls.datagrams, 24);
  const apart = nativeSendCalls({ FASTDGRAM_NO_REPLY_BATCH: '1' });
  t.is(apart.status, 0, apart.stderr);
  t.deepEqual(apart.calls, { nativeCalls: 24, datagrams: 24, most: 1 });
});
