// Parity: send() in every argument form, and what the receiving side sees.
// Every scenario runs on node:dgram and on fastdgram (parity()) and the
// observations must be deep-equal. Ephemeral ports are replaced by names.
import fs from 'node:fs';
import nodeDgram from 'node:dgram';
import test from 'ava';
import { IS_WINDOWS, NO_SOCKET_FD_ON_WINDOWS } from './helpers/platform.mjs';
import { nodeAtLeast } from './helpers/parity.mjs';
import {
  IPV6, LOOPBACK, NETNS, Ports, parity, skipWithReason, Sockets, createNetns, describeMessage, implSpecifier,
  inbox, observeSend, runFixture, sha, sleep, waitUntil,
} from './fixtures/udp.mjs';

const families = IPV6 ? ['udp4', 'udp6'] : ['udp4'];
const skipV6 = (title) => skipWithReason(title, 'IPv6 loopback (::1) is not available');

/** Runs body(ctx) with a receiver `rx` (named 'rx') and a bound sender `tx` (named 'tx'). */
async function withPair(dgram, type, body, { rxOptions = {} } = {}) {
  const S = new Sockets(dgram);
  const ports = new Ports();
  try {
    const rx = await S.bound({ type, ...rxOptions });
    ports.name(rx.address().port, 'rx');
    const box = inbox(rx);
    const tx = await S.bound(type);
    ports.name(tx.address().port, 'tx');
    return await body({ S, ports, rx, box, tx, P: rx.address().port, LO: LOOPBACK[type], type });
  } finally {
    S.closeAll();
  }
}

// ---------------------------------------------------------------------------
// Argument forms
// ---------------------------------------------------------------------------

const argumentForms = test.macro({
  async exec(t, type) {
    const { expected } = await parity(t, (dgram) => withPair(dgram, type, async ({ ports, box, tx, P, LO }) => {
      const buf = Buffer.from('0123456789');
      const forms = [
        ['send(string, port, address, cb)', (cb) => tx.send('str-port-addr-cb', P, LO, cb)],
        ['send(string, port, address)', () => tx.send('str-port-addr', P, LO), false],
        ['send(string, port, cb) — address omitted', (cb) => tx.send('str-port-cb', P, cb)],
        ['send(string, port) — address omitted, no cb', () => tx.send('str-port', P), false],
        ['send(string, port, undefined, cb)', (cb) => tx.send('undef-addr', P, undefined, cb)],
        ['send(string, port, null, cb)', (cb) => tx.send('null-addr', P, null, cb)],
        ["send(string, port, '', cb)", (cb) => tx.send('empty-addr', P, '', cb)],
        ['send(buffer, port, address, cb)', (cb) => tx.send(buf, P, LO, cb)],
        ['send(buffer, offset, length, port, address, cb)', (cb) => tx.send(buf, 2, 5, P, LO, cb)],
        ['send(buffer, offset, length, port, address)', () => tx.send(buf, 3, 4, P, LO), false],
        ['send(buffer, offset, length, port, cb)', (cb) => tx.send(buf, 1, 2, P, cb)],
        ['send(buffer, offset, length, port)', () => tx.send(buf, 7, 3, P), false],
        ['send(buffer, offset, length, port, undefined, cb)', (cb) => tx.send(buf, 0, 1, P, undefined, cb)],
        ['send(buffer, offset, length, port, null, cb)', (cb) => tx.send(buf, 9, 1, P, null, cb)],
        ['send(list, port, address, cb)', (cb) => tx.send(['li', Buffer.from('st')], P, LO, cb)],
        ['send(list, port, cb)', (cb) => tx.send([Buffer.from('list'), '-cb'], P, cb)],
        ['send(list, port)', () => tx.send(['list', '-nocb'], P), false],
        ['send(string, portAsString, address, cb)', (cb) => tx.send('port-string', String(P), LO, cb)],
        ['send(buffer, offset, length, port, address, nonFunction)', () => tx.send(buf, 4, 2, P, LO, 'x'), false],
        ['send(uint8array, port, address, cb)', (cb) => tx.send(new Uint8Array([1, 2, 3]), P, LO, cb)],
        ['send(string, offset, length, port, address, cb) — string sliced by bytes', (cb) => tx.send('abcdef', 1, 3, P, LO, cb)],
      ];
      const out = [];
      for (const [name, fn, usesCallback = true] of forms) {
        out.push({ name, ...(await observeSend(ports, box, fn, { usesCallback })) });
      }
      await sleep(30);
      out.push({ totalReceived: box.length });
      return out;
    }));
    t.is(expected.at(-1).totalReceived, 21, 'node:dgram delivered every form exactly once');
  },
  title: (_, type) => `send() argument forms deliver the right bytes with the right callback (${type})`,
});

for (const type of ['udp4', 'udp6']) {
  if (type === 'udp6' && !IPV6) skipV6(`send() argument forms (${type})`);
  else test.serial(argumentForms, type);
}

test.serial('every TypedArray kind and DataView is sent as its bytes (whole, sliced, non-zero byteOffset)', async (t) => {
  const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, P, LO }) => {
    const ab = new ArrayBuffer(32);
    new Uint8Array(ab).forEach((_, i, a) => { a[i] = 0x41 + i; });
    const kinds = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
      Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView];
    if (typeof Float16Array === 'function') kinds.push(Float16Array); // eslint-disable-line no-undef
    const out = [];
    for (const K of kinds) {
      // A view over bytes 8..24 of the shared ArrayBuffer: byteOffset 8, byteLength 16.
      const view = K === DataView ? new DataView(ab, 8, 16) : new K(ab, 8, 16 / K.BYTES_PER_ELEMENT);
      out.push({ kind: K.name, whole: await observeSend(ports, box, (cb) => tx.send(view, P, LO, cb)) });
      // offset/length are in bytes, whatever the element size.
      out.push({ kind: K.name, sliced: await observeSend(ports, box, (cb) => tx.send(view, 3, 5, P, LO, cb)) });
      out.push({ kind: K.name, inList: await observeSend(ports, box, (cb) => tx.send([view, view], P, LO, cb)) });
    }
    return out;
  }));
  t.is(expected[0].whole.received[0].bytes, Buffer.from('IJKLMNOPQRSTUVWX').toString('hex'));
});

test.serial('arrays of mixed chunks are sent as one datagram (strings, Buffers, TypedArrays, DataViews, empty chunks)', async (t) => {
  const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, P, LO }) => {
    const lists = [
      ['ab', Buffer.from('cd'), new Uint16Array([0x6665]), new DataView(Uint8Array.from([0x67]).buffer)],
      ['', 'x', Buffer.alloc(0), 'y', new Uint8Array(0)],
      [Buffer.from('héllo wörld', 'utf8').subarray(1, 5), 'ü'],
      Array.from({ length: 100 }, (_, i) => String.fromCharCode(0x30 + (i % 10))),
      [Buffer.alloc(30000, 1), Buffer.alloc(30000, 2), Buffer.alloc(5507, 3)],
    ];
    const out = [];
    for (const list of lists) out.push(await observeSend(ports, box, (cb) => tx.send(list, P, LO, cb)));
    return out;
  }));
  t.is(expected[0].received[0].bytes, Buffer.from('abcdefg').toString('hex'));
  t.is(expected[4].callback.bytes, 65507);
});

test.serial('empty messages are sent as zero-length datagrams (string, Buffer, [], [\'\'], offset === length)', async (t) => {
  const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, P, LO }) => {
    const out = [];
    out.push(await observeSend(ports, box, (cb) => tx.send('', P, LO, cb)));
    out.push(await observeSend(ports, box, (cb) => tx.send(Buffer.alloc(0), P, LO, cb)));
    out.push(await observeSend(ports, box, (cb) => tx.send([], P, LO, cb)));
    out.push(await observeSend(ports, box, (cb) => tx.send([''], P, LO, cb)));
    out.push(await observeSend(ports, box, (cb) => tx.send(Buffer.from('abc'), 3, 0, P, LO, cb)));
    out.push(await observeSend(ports, box, (cb) => tx.send(new Uint8Array(0), P, cb)));
    out.push(await observeSend(ports, box, () => tx.send('', P), { usesCallback: false }));
    return out;
  }));
  t.deepEqual(expected.map((o) => o.received.length), [1, 1, 1, 1, 1, 1, 1]);
  t.is(expected[0].received[0].rinfo.size, 0);
});

test.serial('multi-byte strings: offset and length count bytes, not characters', async (t) => {
  await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, P, LO }) => {
    const out = [];
    out.push(await observeSend(ports, box, (cb) => tx.send('héllo', 1, 2, P, LO, cb))); // the two bytes of 'é'
    out.push(await observeSend(ports, box, (cb) => tx.send('héllo', 6, 0, P, LO, cb))); // 6 bytes long
    out.push(await observeSend(ports, box, (cb) => tx.send('héllo', 0, 7, P, LO, cb)));
    out.push(await observeSend(ports, box, (cb) => tx.send('日本', 0, 6, P, LO, cb)));
    out.push(await observeSend(ports, box, (cb) => tx.send('😀', P, LO, cb)));
    out.push(await observeSend(ports, box, (cb) => tx.send('\ud800', P, LO, cb))); // lone surrogate → EF BF BD
    return out;
  }));
});

test.serial('offset/length are coerced with >>> 0; out-of-range values throw ERR_BUFFER_OUT_OF_BOUNDS', async (t) => {
  const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, P, LO }) => {
    const buf = Buffer.from('abcdef');
    const cases = [
      ['string offset/length', (cb) => tx.send(buf, '1', '2', P, LO, cb)],
      ['float offset/length', (cb) => tx.send(buf, 1.7, 2.9, P, LO, cb)],
      ['null offset/length', (cb) => tx.send(buf, null, null, P, LO, cb)],
      ['NaN offset/length', (cb) => tx.send(buf, NaN, NaN, P, LO, cb)],
      ['offset === byteLength, length 0', (cb) => tx.send(buf, 6, 0, P, LO, cb)],
      ['offset > byteLength', (cb) => tx.send(buf, 7, 0, P, LO, cb)],
      ['offset + length > byteLength', (cb) => tx.send(buf, 2, 5, P, LO, cb)],
      ['negative offset (wraps to 2**32-1)', (cb) => tx.send(buf, -1, 1, P, LO, cb)],
      ['negative length', (cb) => tx.send(buf, 0, -1, P, LO, cb)],
      ['offset 2**32 + 1 (wraps to 1)', (cb) => tx.send(buf, 2 ** 32 + 1, 1, P, LO, cb)],
      ['typed array: offset in bytes beyond byteLength', (cb) => tx.send(new Uint32Array(2), 9, 0, P, LO, cb)],
      ['typed array: length beyond byteLength', (cb) => tx.send(new Uint32Array(2), 4, 5, P, LO, cb)],
      ['string: length beyond byte length', (cb) => tx.send('héllo', 2, 5, P, LO, cb)],
      ['address given, port invalid, offset out of range → offset checked first', (cb) => tx.send(buf, 9, 0, 0, LO, cb)],
      // 4th argument not a function and truthy: treated as a port, so args 2/3 are offset/length.
      ["send(buf, port, address, 'notAFunction') → offset/length path", () => tx.send(buf, P, LO, 'notAFunction')],
    ];
    const out = [];
    for (const [name, fn] of cases) out.push({ name, ...(await observeSend(ports, box, fn, { ms: 300 })) });
    return out;
  }));
  t.is(expected.find((c) => c.name === 'offset > byteLength').result.error.code, 'ERR_BUFFER_OUT_OF_BOUNDS');
});

// ---------------------------------------------------------------------------
// Validation (synchronous throws) and its order
// ---------------------------------------------------------------------------

test.serial('invalid msg types throw ERR_INVALID_ARG_TYPE synchronously; nothing is sent and the socket stays unbound', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const rx = await S.bound('udp4');
      ports.name(rx.address().port, 'rx');
      const box = inbox(rx);
      const P = rx.address().port;
      const tx = S.create('udp4');
      const events = [];
      for (const e of ['listening', 'error', 'close']) tx.on(e, () => events.push(e));
      const bad = [
        ['number', 5], ['null', null], ['undefined', undefined], ['boolean', true], ['object', {}],
        ['ArrayBuffer', new ArrayBuffer(4)], ['SharedArrayBuffer', new SharedArrayBuffer(4)],
        ['function', function namedFn() {}], ['symbol', Symbol('s')], ['bigint', 5n],
        ['String object', Object('abc')], ['array with a number', ['a', 5]], ['array with null', [null]],
        ['array with an ArrayBuffer', [new ArrayBuffer(2)]], ['nested array', [['a']]], ['array-like', { length: 1, 0: 'a' }],
      ];
      const out = [];
      for (const [name, msg] of bad) {
        out.push({ name, plain: ports.attempt(() => tx.send(msg, P, '127.0.0.1', () => events.push('cb'))) });
        out.push({ name, sliced: ports.attempt(() => tx.send(msg, 0, 1, P, '127.0.0.1', () => events.push('cb'))) });
      }
      await sleep(50);
      out.push({ events, received: box.length, address: ports.attempt(() => tx.address()) });
      return out;
    } finally {
      S.closeAll();
    }
  });
  t.is(expected[0].plain.error.code, 'ERR_INVALID_ARG_TYPE');
  t.deepEqual(expected.at(-1).events, []);
});

test.serial('invalid ports throw ERR_SOCKET_BAD_PORT; numeric strings and other coercible forms are accepted', async (t) => {
  const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, P, LO }) => {
    const bad = [
      ['undefined', undefined], ['0', 0], ['-1', -1], ['65536', 65536], ['1.5', 1.5],
      ['NaN', NaN], ['Infinity', Infinity], ["''", ''], ["'  '", '  '], ["'abc'", 'abc'], ['null', null],
      ['true', true], ['{}', {}], ['[]', []], ['1n', 1n], ['2**32 + 1', 2 ** 32 + 1], ['Number object', Object(P)],
    ];
    const out = [];
    for (const [name, port] of bad) {
      out.push({ name, result: ports.attempt(() => tx.send('x', port, LO, () => {})) });
      out.push({ name, withOffset: ports.attempt(() => tx.send('x', 0, 1, port, LO, () => {})) });
    }
    await sleep(30);
    out.push({ receivedAfterBadPorts: box.length });
    const good = [
      ['String(port)', String(P)], ["' port '", ` ${P} `], ['hex string', `0x${P.toString(16)}`],
      ["'port.0'", `${P}.0`], ['port + 0.0', P + 0.0], ["'1e0' * port", `${P}e0`],
    ];
    for (const [name, port] of good) {
      out.push({ name, ...(await observeSend(ports, box, (cb) => tx.send(name, port, LO, cb))) });
    }
    return out;
  }));
  t.is(expected[0].result.error.code, 'ERR_SOCKET_BAD_PORT');
  t.is(expected.find((o) => o.receivedAfterBadPorts !== undefined).receivedAfterBadPorts, 0);
});

// Node 20's validatePort let the string '0' through (the check was `port === 0`),
// and send() then failed with EDESTADDRREQ; Node 24 compares `+port === 0` and
// throws. fastdgram follows Node 24, so this runs only where node:dgram is 24+.
(nodeAtLeast(24) ? test.serial : (title) => skipWithReason(title, `node ${process.version}: before Node 24 node:dgram accepted the port '0' (fastdgram follows Node 24)`))(
  "the port '0' (a string) throws ERR_SOCKET_BAD_PORT like 0 does", async (t) => {
    const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, LO }) => {
      const out = [
        ports.attempt(() => tx.send('x', '0', LO, () => {})),
        ports.attempt(() => tx.send('x', 0, 1, '0', LO, () => {})),
        ports.attempt(() => tx.send('x', ' 0 ', LO)),
        ports.attempt(() => tx.send('x', '0x0', LO)),
      ];
      await sleep(30);
      out.push({ received: box.length });
      return out;
    }));
    t.is(expected[0].error.code, 'ERR_SOCKET_BAD_PORT');
  });

test.serial('validation order: msg type, then port, then address type, then socket state', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const s = S.create('udp4');
      const closed = S.create('udp4');
      closed.close();
      const cases = [
        ['bad msg + bad port', () => s.send(5, 0)],
        ['bad msg + no port', () => s.send(5)],
        ['bad msg + bad address', () => s.send({}, 1234, 5)],
        ['bad port + bad address', () => s.send('x', 0, 5)],
        ['no port + bad address', () => s.send('x', undefined, {})],
        ['bad offset + bad port', () => s.send(Buffer.alloc(1), 5, 0, 0, '127.0.0.1')],
        ['bad msg with offset + bad port', () => s.send(null, 0, 0, 0, '127.0.0.1')],
        ['array msg with offset/length', () => s.send(['a', 'b'], 0, 1, 1234, '127.0.0.1')],
        ['address number', () => s.send('x', 1234, 5)],
        ['address object', () => s.send('x', 1234, {})],
        ['address true', () => s.send('x', 1234, true)],
        ['address number, callback given', () => s.send('x', 1234, 7, () => {})],
        ['callback only, no port', () => s.send('x', () => {})],
        ['named callback only, no port', () => s.send('x', function namedCallback() {})],
        ['closed: bad msg', () => closed.send(5, 1234)],
        ['closed: bad port', () => closed.send('x', 0)],
        ['closed: bad address', () => closed.send('x', 1234, 5)],
        ['closed: valid arguments', () => closed.send('x', 1234, '127.0.0.1')],
        ['closed: bad offset', () => closed.send('x', 5, 1, 1234, '127.0.0.1')],
      ];
      const out = cases.map(([name, fn]) => ({ name, ...ports.attempt(fn) }));
      await sleep(20);
      out.push({ unboundAfter: ports.attempt(() => s.address()) });
      return out;
    } finally {
      S.closeAll();
    }
  });
  t.is(expected[0].error.code, 'ERR_INVALID_ARG_TYPE');
  t.is(expected.find((c) => c.name === 'closed: valid arguments').error.code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
});

test.serial('sendto() (legacy): validates offset/length/port/address types, then sends', async (t) => {
  await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, P, LO }) => {
    const out = [];
    out.push(ports.attempt(() => tx.sendto('x', '0', 1, P, LO)));
    out.push(ports.attempt(() => tx.sendto('x', 0, '1', P, LO)));
    out.push(ports.attempt(() => tx.sendto('x', 0, 1, String(P), LO)));
    out.push(ports.attempt(() => tx.sendto('x', 0, 1, P)));
    out.push(await observeSend(ports, box, (cb) => tx.sendto(Buffer.from('sendto!'), 1, 5, P, LO, cb)));
    return out;
  }));
});

// ---------------------------------------------------------------------------
// Asynchrony and ordering
// ---------------------------------------------------------------------------

test.serial('send callbacks are never synchronous: order against sync code, microtasks, nextTick and setImmediate (bound socket)', async (t) => {
  const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, P, LO }) => {
    const log = [];
    const cb = (name) => (err, bytes) => log.push(`cb ${name} err=${err} bytes=${bytes}`);
    tx.send('a', P, LO, cb('a'));
    log.push('sync after a');
    tx.send(['b', 'b'], P, cb('b'));
    tx.send(Buffer.from('ccc'), 0, 3, P, LO, cb('c'));
    log.push('sync after c');
    queueMicrotask(() => log.push('microtask'));
    process.nextTick(() => log.push('nextTick'));
    setImmediate(() => log.push('setImmediate'));
    await waitUntil(() => log.length >= 8 && box.length >= 3);
    await sleep(20);
    return { log, received: box.map((m) => describeMessage(ports, m)) };
  }));
  t.true(expected.log.indexOf('sync after a') < expected.log.findIndex((l) => l.startsWith('cb a')));
});

test.serial('sending to itself: the send callback comes before the message event', async (t) => {
  await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const s = await S.bound('udp4');
      ports.name(s.address().port, 'self');
      const log = [];
      s.on('message', (m, r) => log.push({ message: m.toString(), rinfo: ports.addr(r) }));
      for (const text of ['one', 'two', 'three']) s.send(text, s.address().port, '127.0.0.1', (e, n) => log.push({ cb: text, e, n }));
      await waitUntil(() => log.length >= 6);
      await sleep(20);
      return log;
    } finally {
      S.closeAll();
    }
  });
});

const implicitBind = test.macro({
  async exec(t, type) {
    const { expected } = await parity(t, async (dgram) => {
      const S = new Sockets(dgram);
      const ports = new Ports();
      try {
        const rx = await S.bound(type);
        ports.name(rx.address().port, 'rx');
        const box = inbox(rx);
        const P = rx.address().port;
        const tx = S.create(type);
        const log = [];
        for (const e of ['listening', 'error', 'close', 'connect']) tx.on(e, () => log.push(`event ${e}`));
        log.push({ addressBefore: ports.attempt(() => tx.address()) });
        log.push({ ret: ports.attempt(() => tx.send('first', P, LOOPBACK[type], (e, n) => log.push(`cb first ${e} ${n}`))) });
        log.push({ addressWhileBinding: ports.attempt(() => tx.address()) });
        tx.send('second', P, (e, n) => log.push(`cb second ${e} ${n}`));
        tx.send('third-nocb', P);
        // (list, 0, undefined, cb): the callback moves into the port slot, port becomes 0 → throws
        log.push({ portZero: ports.attempt(() => tx.send(['fourth'], 0, undefined, (e, n) => log.push(`cb fourth ${e} ${n}`))) });
        queueMicrotask(() => log.push('microtask'));
        process.nextTick(() => log.push('nextTick'));
        setImmediate(() => log.push('setImmediate'));
        await waitUntil(() => box.length >= 3 && log.includes('setImmediate'));
        await sleep(30);
        const addr = tx.address();
        ports.name(addr.port, 'tx');
        return {
          log,
          addressAfter: ports.addr(addr),
          received: box.map((m) => describeMessage(ports, m)),
          senderPortMatchesRinfo: box.every((m) => m.rinfo.port === addr.port),
        };
      } finally {
        S.closeAll();
      }
    });
    t.true(expected.senderPortMatchesRinfo);
    t.is(expected.received.length, 3);
  },
  title: (_, type) => `implicit bind on first send (${type}): 'listening' once, address() before/after, queued sends flushed in order`,
});
for (const type of ['udp4', 'udp6']) {
  if (type === 'udp6' && !IPV6) skipV6(`implicit bind on first send (${type})`);
  else test.serial(implicitBind, type);
}

test.serial('sends issued while an explicit bind() is in progress are queued and flushed in order after listening', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const rx = await S.bound('udp4');
      ports.name(rx.address().port, 'rx');
      const box = inbox(rx);
      const P = rx.address().port;
      const tx = S.create('udp4');
      const log = [];
      tx.on('listening', () => log.push('event listening'));
      log.push({ bindRet: ports.attempt(() => tx.bind(0, '127.0.0.1', () => log.push('bind cb')), tx) });
      for (let i = 0; i < 100; i++) {
        if (i % 3 === 0) tx.send(`q${i}`, P, '127.0.0.1');
        else tx.send(`q${i}`, P, (e, n) => log.push(`cb q${i} ${e} ${n}`));
      }
      log.push('sync end');
      await waitUntil(() => box.length >= 100 && log.length >= 69);
      await sleep(20);
      ports.name(tx.address().port, 'tx');
      return { log, received: box.map((m) => `${m.msg}@${ports.port(m.rinfo.port)}`) };
    } finally {
      S.closeAll();
    }
  });
  t.is(expected.received.length, 100);
  t.is(expected.received[99], 'q99@<tx>');
});

test.serial('close() right after send(): the callback never runs and nothing is delivered (bound and unbound sockets)', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const rx = await S.bound('udp4');
      ports.name(rx.address().port, 'rx');
      const box = inbox(rx);
      const P = rx.address().port;
      const out = {};
      for (const variant of ['unbound', 'bound', 'unbound, no address']) {
        const log = [];
        const tx = variant === 'bound' ? await S.bound('udp4') : S.create('udp4');
        for (const e of ['listening', 'error', 'close']) tx.on(e, () => log.push(`event ${e}`));
        if (variant === 'unbound, no address') tx.send('gone', P, (e, n) => log.push(`cb ${e} ${n}`));
        else tx.send('gone', P, '127.0.0.1', (e, n) => log.push(`cb ${e} ${n}`));
        log.push({ closeRet: ports.attempt(() => tx.close(() => log.push('close cb')), tx) });
        await sleep(80);
        out[variant] = log;
      }
      out.received = box.length;
      return out;
    } finally {
      S.closeAll();
    }
  });
  t.is(expected.received, 0);
});

// ---------------------------------------------------------------------------
// Size limits and errors from the kernel
// ---------------------------------------------------------------------------

test.serial('EMSGSIZE: a 65,508-byte IPv4 datagram fails in the callback (syscall send, address, port); without a callback nothing is emitted', async (t) => {
  const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, P, LO }) => {
    const errors = [];
    tx.on('error', (e) => errors.push(ports.err(e)));
    const out = {};
    out.withCallback = await observeSend(ports, box, (cb) => tx.send(Buffer.alloc(65508), P, LO, cb), { expect: 0 });
    out.addressOmitted = await observeSend(ports, box, (cb) => tx.send(Buffer.alloc(65508), P, cb), { expect: 0 });
    out.listTooBig = await observeSend(ports, box, (cb) => tx.send([Buffer.alloc(65500), Buffer.alloc(8)], P, LO, cb), { expect: 0 });
    out.sliceTooBig = await observeSend(ports, box, (cb) => tx.send(Buffer.alloc(70000), 0, 65508, P, LO, cb), { expect: 0 });
    out.hugeWithCallback = await observeSend(ports, box, (cb) => tx.send(Buffer.alloc(70000), P, LO, cb), { expect: 0 });
    out.withoutCallback = await observeSend(ports, box, () => tx.send(Buffer.alloc(65508), P, LO), { usesCallback: false, expect: 0, ms: 100 });
    await sleep(50);
    out.errorEvents = errors;
    // The socket still works afterwards.
    out.after = await observeSend(ports, box, (cb) => tx.send('still alive', P, LO, cb));
    return out;
  }));
  t.is(expected.withCallback.callback.err.code, 'EMSGSIZE');
  t.deepEqual(expected.errorEvents, []);
});

test.serial('EMSGSIZE on an implicitly bound socket (first send too big) and queued sends after it', async (t) => {
  await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const rx = await S.bound('udp4');
      ports.name(rx.address().port, 'rx');
      const box = inbox(rx);
      const P = rx.address().port;
      const tx = S.create('udp4');
      const log = [];
      tx.on('listening', () => log.push('listening'));
      tx.on('error', (e) => log.push({ errorEvent: ports.err(e) }));
      tx.send(Buffer.alloc(65508), P, '127.0.0.1', (e, n) => log.push({ cb: 'big', err: ports.err(e), n }));
      tx.send('small', P, '127.0.0.1', (e, n) => log.push({ cb: 'small', err: ports.err(e), n }));
      tx.send(Buffer.alloc(65508), P);
      tx.send('small-2', P, (e, n) => log.push({ cb: 'small-2', err: ports.err(e), n }));
      await waitUntil(() => box.length >= 2 && log.length >= 4);
      await sleep(50);
      return { log, received: box.map((m) => m.msg.toString()) };
    } finally {
      S.closeAll();
    }
  });
});

(IPV6 ? test.serial : skipV6)('EMSGSIZE over IPv6: 65,528 bytes fail, 65,527 bytes arrive', async (t) => {
  const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp6', async ({ ports, box, tx, P, LO }) => {
    const out = {};
    out.tooBig = await observeSend(ports, box, (cb) => tx.send(Buffer.alloc(65528, 9), P, LO, cb), { expect: 0 });
    out.max = await observeSend(ports, box, (cb) => tx.send(Buffer.alloc(65527, 9), P, LO, cb));
    return out;
  }));
  t.is(expected.tooBig.callback.err.code, 'EMSGSIZE');
  t.is(expected.max.received.length, 1);
});

test.serial('the largest IPv4 datagram (65,507 bytes) and a zero-length one arrive intact', async (t) => {
  const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ ports, box, tx, P, LO }) => {
    const big = Buffer.alloc(65507);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
    const out = [];
    out.push(await observeSend(ports, box, (cb) => tx.send(big, P, LO, cb)));
    out.push(await observeSend(ports, box, (cb) => tx.send(Buffer.alloc(0), P, LO, cb)));
    out.push(await observeSend(ports, box, (cb) => tx.send(big, 1, 65506, P, LO, cb)));
    out.push({ exactCopy: box[0].msg.equals(big), sha: sha(big) });
    return out;
  }));
  t.true(expected[3].exactCopy);
  t.is(expected[0].received[0].rinfo.size, 65507);
});

test.serial('unconnected send to a port nobody listens on: callbacks succeed, no ECONNREFUSED is reported anywhere', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const dead = await S.bound('udp4');
      const deadPort = dead.address().port;
      ports.name(deadPort, 'dead');
      dead.close();
      const tx = await S.bound('udp4');
      const log = [];
      tx.on('error', (e) => log.push({ errorEvent: ports.err(e) }));
      tx.on('message', () => log.push('message'));
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => {
          tx.send(`to-dead-${i}`, deadPort, '127.0.0.1', (e, n) => { log.push({ cb: i, err: ports.err(e), n }); resolve(); });
        });
        await sleep(40);
      }
      tx.send('no-cb', deadPort, '127.0.0.1');
      await sleep(60);
      return log;
    } finally {
      S.closeAll();
    }
  });
  t.is(expected.length, 3);
});

// ---------------------------------------------------------------------------
// Name resolution
// ---------------------------------------------------------------------------

test.serial('custom lookup option: called for the implicit bind and each send (arguments), its address is used', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const rx = await S.bound('udp4');
      ports.name(rx.address().port, 'rx');
      const box = inbox(rx);
      const P = rx.address().port;
      const calls = [];
      function lookup(host, family, callback) {
        calls.push({ host, family, typeofCallback: typeof callback, argc: arguments.length });
        setTimeout(() => callback(null, '127.0.0.1', 4), 1);
      }
      const tx = S.create({ type: 'udp4', lookup });
      const log = [];
      tx.on('listening', () => log.push({ listening: ports.addr({ ...tx.address(), port: 0 }) }));
      tx.send('via-name', P, 'some.name.example', (e, n) => log.push({ cb: 'via-name', e, n }));
      tx.send('omitted', P, (e, n) => log.push({ cb: 'omitted', e, n }));
      tx.send('literal', P, '127.0.0.1', (e, n) => log.push({ cb: 'literal', e, n }));
      tx.send('literal-v6', P, '::1', (e, n) => log.push({ cb: 'literal-v6', e, n }));
      await waitUntil(() => box.length >= 4 && log.length >= 5);
      await sleep(20);
      return { calls, log, received: box.map((m) => describeMessage(ports, m)) };
    } finally {
      S.closeAll();
    }
  });
  t.is(expected.calls[0].host, '0.0.0.0');
  t.is(expected.received.length, 4);
});

test.serial('lookup errors go to the send callback when given, else to an error event (sync and async lookups, same error object)', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const rx = await S.bound('udp4');
      ports.name(rx.address().port, 'rx');
      const box = inbox(rx);
      const P = rx.address().port;
      const injected = Object.assign(new Error('lookup refused this name'), { code: 'EFAKE', hostname: 'bad' });
      const lookup = (host, family, callback) => {
        if (host === 'bad-sync') return callback(injected);
        if (host === 'bad-async') return setImmediate(() => callback(injected));
        if (host === 'good-sync') return callback(null, '127.0.0.1', 4);
        return setImmediate(() => callback(null, '127.0.0.1', 4));
      };
      const tx = S.create({ type: 'udp4', lookup });
      const log = [];
      tx.on('error', (e) => log.push({ errorEvent: ports.err(e), same: e === injected }));
      tx.on('listening', () => log.push('listening'));
      await new Promise((resolve) => tx.bind(0, '127.0.0.1', resolve));
      log.length = 0;
      for (const host of ['bad-sync', 'bad-async', 'good-sync']) {
        tx.send(host, P, host, (e, n) => log.push({ cb: host, err: ports.err(e), same: e === injected, n }));
        log.push(`sync after ${host}`);
        process.nextTick(() => log.push(`nextTick after ${host}`));
        await sleep(20);
      }
      tx.send('no-cb-sync', P, 'bad-sync');
      log.push('sync after no-cb-sync');
      process.nextTick(() => log.push('nextTick after no-cb-sync'));
      await sleep(20);
      tx.send('no-cb-async', P, 'bad-async');
      await sleep(20);
      tx.send('after errors', P, 'good-async', (e, n) => log.push({ cb: 'after errors', e, n }));
      await waitUntil(() => box.length >= 2);
      await sleep(20);
      return { log, received: box.map((m) => m.msg.toString()) };
    } finally {
      S.closeAll();
    }
  });
  t.true(expected.log.some((l) => l.errorEvent));
});

test.serial('lookup result of the wrong family: EINVAL in the callback (address = the name), nothing without a callback', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const rx = await S.bound('udp4');
      ports.name(rx.address().port, 'rx');
      const lookup = (host, family, callback) => process.nextTick(callback, null, host === 'v6name' ? '::1' : '127.0.0.1', host === 'v6name' ? 6 : 4);
      const tx = S.create({ type: 'udp4', lookup });
      const log = [];
      tx.on('error', (e) => log.push({ errorEvent: ports.err(e) }));
      tx.send('x', rx.address().port, 'v6name', (e, n) => log.push({ cb: ports.err(e), n }));
      await sleep(50);
      tx.send('x', rx.address().port, 'v6name');
      await sleep(50);
      return log;
    } finally {
      S.closeAll();
    }
  });
  t.is(expected[0].cb.code, 'EINVAL');
});

test.serial("hostname 'localhost' and an unresolvable name (.invalid) via the system resolver", async (t) => {
  await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const out = {};
      for (const type of families) {
        const rx = await S.bound(type);
        ports.name(rx.address().port, `rx-${type}`);
        const box = inbox(rx);
        const tx = await S.bound(type);
        ports.name(tx.address().port, `tx-${type}`);
        out[`${type} localhost`] = await observeSend(ports, box, (cb) => tx.send(`lh-${type}`, rx.address().port, 'localhost', cb), { ms: 5000, expect: 'ifSent' });
        const errors = [];
        tx.on('error', (e) => errors.push(ports.err(e)));
        out[`${type} invalid, callback`] = await observeSend(ports, box, (cb) => tx.send('x', rx.address().port, 'no-such-host.invalid', cb), { ms: 8000, expect: 0 });
        tx.send('x', rx.address().port, 'no-such-host.invalid');
        await waitUntil(() => errors.length > 0, 8000);
        await sleep(20);
        out[`${type} invalid, no callback → error events`] = errors;
      }
      return out;
    } finally {
      S.closeAll();
    }
  });
});

// ---------------------------------------------------------------------------
// Receiving side
// ---------------------------------------------------------------------------

const receiverView = test.macro({
  async exec(t, type) {
    const { expected } = await parity(t, async (dgram) => {
      const S = new Sockets(dgram);
      const ports = new Ports();
      try {
        const seen = [];
        // listener passed to createSocket is a 'message' listener
        const rx = S.create(type, function onMessage(msg, rinfo, ...rest) {
          seen.push({
            thisIsSocket: this === rx,
            extraArgs: rest.length,
            isBuffer: Buffer.isBuffer(msg),
            proto: Object.getPrototypeOf(msg) === Buffer.prototype,
            bytes: msg.toString('hex'),
            rinfoKeys: Object.keys(rinfo),
            rinfo: ports.addr(rinfo),
            types: Object.fromEntries(Object.entries(rinfo).map(([k, v]) => [k, typeof v])),
            rinfoProto: Object.getPrototypeOf(rinfo) === Object.prototype,
          });
        });
        await new Promise((resolve) => rx.bind(0, LOOPBACK[type], resolve));
        ports.name(rx.address().port, 'rx');
        const tx = await S.bound(type);
        ports.name(tx.address().port, 'tx');
        const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 0x7f, 0x0a, 0x0d]);
        tx.send(bytes, rx.address().port, LOOPBACK[type]);
        tx.send('', rx.address().port, LOOPBACK[type]);
        tx.send('third', rx.address().port, LOOPBACK[type]);
        await waitUntil(() => seen.length >= 3);
        await sleep(20);
        return seen;
      } finally {
        S.closeAll();
      }
    });
    t.deepEqual(expected[0].rinfoKeys, ['address', 'family', 'port', 'size']);
    t.is(expected[0].rinfo.port, '<tx>');
  },
  title: (_, type) => `'message' event (${type}): msg is a Buffer of the exact bytes, rinfo is {address, family, port, size} with the sender's port`,
});
for (const type of ['udp4', 'udp6']) {
  if (type === 'udp6' && !IPV6) skipV6(`'message' event (${type})`);
  else test.serial(receiverView, type);
}

// A documented difference (README, compatibility table): node gives each
// message its own ArrayBuffer; fastdgram's messages are views into their
// batch's one allocation (sized to the batch's bytes, never a receive area).
// What both guarantee is compared; the layout of each is asserted as such.
test.serial('received Buffers: node gives each its own ArrayBuffer, fastdgram views of its batch\'s exactly-sized memory', async (t) => {
  const sizes = [0, 1, 100, 1500, 9000, 65507];
  const layouts = {};
  const { expected } = await parity(t, (dgram, implName) => withPair(dgram, 'udp4', async ({ box, tx, P, LO }) => {
    for (const n of sizes) tx.send(Buffer.alloc(n, 1), P, LO);
    await box.waitFor(6);
    await sleep(20);
    layouts[implName] = box.map(({ msg }) => ({ byteOffset: msg.byteOffset, arrayBufferByteLength: msg.buffer.byteLength, buffer: msg.buffer }));
    return box.map(({ msg }) => ({ length: msg.length, isBuffer: Buffer.isBuffer(msg), allOnes: msg.every((b) => b === 1) }));
  }));
  t.is(expected.length, 6);
  t.deepEqual(layouts['node:dgram'].map((l) => [l.byteOffset, l.arrayBufferByteLength]), sizes.map((n) => [0, n]));
  const fast = layouts.fastdgram;
  for (const [i, layout] of fast.entries()) {
    const batchMates = fast.filter((other) => other.buffer === layout.buffer);
    t.true(layout.byteOffset + sizes[i] <= layout.arrayBufferByteLength, 'the view lies inside its batch');
    // A batch's memory holds its payloads plus 12 bytes of metadata per datagram, nothing more.
    const ownBatchSizes = fast.map((o, j) => (o.buffer === layout.buffer ? sizes[j] : 0)).reduce((a, b) => a + b, 0);
    t.true(layout.arrayBufferByteLength <= ownBatchSizes + 3 + 12 * batchMates.length, `batch memory ${layout.arrayBufferByteLength} for ${ownBatchSizes} payload bytes`);
  }
});

test.serial('a received Buffer is never rewritten, and mutating it does not affect other messages', async (t) => {
  const { expected } = await parity(t, (dgram) => withPair(dgram, 'udp4', async ({ rx, box, tx, P, LO }) => {
    const N = 300;
    const snapshots = [];
    rx.on('message', (msg) => {
      snapshots.push(Buffer.from(msg)); // a private copy of what was delivered
      msg.fill(0xee); // the application scribbles over the Buffer it got
    });
    // In rounds of 100 so that the default receive buffer never overflows.
    for (let round = 0; round < N / 100; round++) {
      for (let i = round * 100; i < (round + 1) * 100; i++) tx.send(Buffer.alloc(64 + (i % 50), i & 0xff), P, LO);
      await box.waitFor((round + 1) * 100);
    }
    await sleep(20);
    return {
      count: box.length,
      eachDeliveredIntact: snapshots.every((s, i) => s.length === 64 + (i % 50) && s.every((b) => b === (i & 0xff))),
      scribbleKept: box.every(({ msg }) => msg.every((b) => b === 0xee)),
    };
  }));
  t.deepEqual(expected, { count: 300, eachDeliveredIntact: true, scribbleKept: true });
});

const rmemMax = (() => {
  try { return Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8')); } catch { return 0; }
})();
const BURST_RCVBUF = 4 * 1024 * 1024;
const burstSkipReason = rmemMax >= BURST_RCVBUF ? null
  : `net.core.rmem_max is ${rmemMax}, below ${BURST_RCVBUF}: node:dgram itself would drop datagrams of a burst`;

const burst = test.macro({
  async exec(t, type) {
    const N = 2000;
    const { expected } = await parity(t, (dgram) => withPair(dgram, type, async ({ ports, rx, box, tx, P, LO }) => {
      const sizeOf = (i) => (i % 97 === 0 ? 0 : i % 101 === 0 ? 9000 : 4 + ((i * 37) % 1400));
      const payload = (i) => {
        const b = Buffer.alloc(sizeOf(i), i & 0xff);
        if (b.length >= 4) b.writeUInt32BE(i, 0);
        return b;
      };
      let callbacks = 0;
      let callbackOrderOk = true;
      // Copies of the first 300 messages taken when they arrive, to check later that the
      // Buffers handed out were never rewritten by the receive path.
      const early = [];
      rx.on('message', (msg) => { if (early.length < 300) early.push({ ref: msg, copy: Buffer.from(msg) }); });
      for (let i = 0; i < N; i++) {
        tx.send(payload(i), P, LO, (err, bytes) => {
          if (err || bytes !== sizeOf(i) || callbacks !== i) callbackOrderOk = false;
          callbacks++;
        });
      }
      await waitUntil(() => box.length >= N && callbacks >= N, 10000);
      await sleep(30);
      const mismatches = [];
      box.forEach(({ msg, rinfo }, i) => {
        if (!msg.equals(payload(i)) || rinfo.size !== msg.length || rinfo.port !== tx.address().port) mismatches.push(i);
      });
      return {
        received: box.length,
        callbacks,
        callbackOrderOk,
        firstMismatches: mismatches.slice(0, 10),
        earlyBuffersUnchanged: early.length === 300 && early.every(({ ref, copy }) => ref.equals(copy)),
        rinfoSample: [0, 64, 65, 1999].map((i) => box[i] && ports.addr(box[i].rinfo)),
      };
    }, { rxOptions: { recvBufferSize: BURST_RCVBUF } }));
    t.is(expected.received, N);
    t.deepEqual(expected.firstMismatches, []);
    t.true(expected.earlyBuffersUnchanged);
  },
  title: (_, type) => `2,000 datagrams sent in one burst (mixed sizes incl. 0 and 9,000 bytes) all arrive, in order, intact (${type})`,
});
for (const type of ['udp4', 'udp6']) {
  const title = `2,000-datagram burst (${type})`;
  if (type === 'udp6' && !IPV6) skipV6(title);
  else if (burstSkipReason) skipWithReason(title, burstSkipReason);
  else test.serial(burst, type);
}

if (IPV6) {
  test.serial("dual-stack udp6 socket receives an IPv4 sender as '::ffff:127.0.0.1'; with ipv6Only it does not", async (t) => {
    const { expected } = await parity(t, async (dgram) => {
      const S = new Sockets(dgram);
      const ports = new Ports();
      try {
        const out = {};
        const dual = await S.bound('udp6', 0, '::');
        ports.name(dual.address().port, 'dual');
        const only = await S.bound({ type: 'udp6', ipv6Only: true }, 0, '::');
        ports.name(only.address().port, 'v6only');
        const tx4 = await S.bound('udp4', 0, '127.0.0.1');
        ports.name(tx4.address().port, 'tx4');
        const boxDual = inbox(dual);
        const boxOnly = inbox(only);
        out.dualAddress = ports.addr(dual.address());
        out.toDual = await observeSend(ports, boxDual, (cb) => tx4.send('v4-to-dual', dual.address().port, '127.0.0.1', cb));
        out.toV6Only = await observeSend(ports, boxOnly, (cb) => tx4.send('v4-to-v6only', only.address().port, '127.0.0.1', cb), { ms: 200, expect: 1 });
        // udp6 with the address omitted sends to ::1
        const tx6 = S.create('udp6');
        out.v6DefaultAddress = await observeSend(ports, boxDual, (cb) => tx6.send('v6-default', dual.address().port, cb));
        out.tx6Address = ports.addr({ ...tx6.address(), port: 0 });
        return out;
      } finally {
        S.closeAll();
      }
    });
    t.is(expected.toDual.received[0].rinfo.address, '::ffff:127.0.0.1');
    t.is(expected.toV6Only.received.length, 0);
  });
} else {
  skipV6('dual-stack udp6 socket receives IPv4 senders');
}

// ---------------------------------------------------------------------------
// Link-local IPv6 (needs a namespace with a veth pair)
// ---------------------------------------------------------------------------

if (NETNS.ok) {
  test.serial("link-local IPv6: rinfo.address carries the '%zone' of the receiving interface, address() of a socket bound to fe80::1%va too", async (t) => {
    t.timeout(60000);
    const ns = createNetns(t);
    const { expected } = await parity(t, async (_dgram, implName) => {
      const run = await runFixture('netns-scenario.mjs', [implSpecifier(implName), 'linkLocal'], { netns: ns, timeout: 20000 });
      return run.result ?? { noResult: run };
    });
    t.is(expected.sent[0].rinfo.address, 'fe80::1%vb');
  });
} else {
  skipWithReason("link-local IPv6 rinfo '%zone'", NETNS.reason);
}

// ---------------------------------------------------------------------------
// bind({ fd }): wrapping an existing UDP socket
// ---------------------------------------------------------------------------
//
// A UDP fd is taken from a node:dgram socket in this process (its handle's
// `fd`, reached through the socket's internal state symbol), handed to a child
// process as its fd 3 (stdio), and the parent's socket is closed at once so
// only the child reads from it. The child wraps fd 3 with bind({ fd: 3 }) using
// the implementation under test, echoes what it receives, and reports.

const UDP_FD = (() => {
  if (IS_WINDOWS) return { ok: false, reason: NO_SOCKET_FD_ON_WINDOWS };
  const s = nodeDgram.createSocket('udp4');
  try {
    const sym = Object.getOwnPropertySymbols(s).find((x) => x.description === 'state symbol');
    if (!sym || !s[sym]?.handle || !('fd' in s[sym].handle)) return { ok: false, reason: "node:dgram's handle does not expose its fd here" };
    return { ok: true, fdOf: (socket) => socket[sym].handle.fd };
  } finally {
    s.close();
  }
})();

const fdWrap = test.macro({
  async exec(t, type) {
    t.timeout(60000);
    const { expected } = await parity(t, async (_dgram, implName) => {
      const S = new Sockets(nodeDgram);
      try {
        const holder = await S.bound(type);
        const fdPort = holder.address().port;
        const fd = UDP_FD.fdOf(holder);
        const peer = await S.bound(type);
        const peerPort = peer.address().port;
        const echoes = [];
        peer.on('message', (m, r) => echoes.push({ text: m.toString(), fromFdSocket: r.port === fdPort, address: r.address }));
        const parentView = [];
        const texts = ['one', 'two', '', 'three'];
        let next = 0;
        const run = await runFixture('fd-child.mjs', [implSpecifier(implName), type, String(fdPort)], {
          timeout: 20000,
          stdio: ['ignore', 'pipe', 'pipe', fd, 'ipc'],
          onChild(child) {
            holder.close(); // from now on only the child reads the socket
            const sendNext = () => {
              if (next < texts.length) peer.send(texts[next++], fdPort, LOOPBACK[type]);
              else waitUntil(() => echoes.length >= texts.length, 3000).then(() => child.send({ type: 'finish' }));
            };
            child.on('message', (m) => {
              parentView.push(m.type === 'listening' ? m : m.type);
              if (m.type === 'listening' || m.type === 'echoed') sendNext();
            });
          },
        });
        const masked = new Ports();
        masked.name(peerPort, 'peer');
        masked.name(fdPort, 'fd');
        return {
          child: JSON.parse(masked.text(JSON.stringify(run.result ?? { noResult: { exitCode: run.exitCode, timedOut: run.timedOut, stderr: run.stderr } }))),
          parentView,
          echoes,
        };
      } finally {
        S.closeAll();
      }
    });
    t.is(expected.echoes.length, 4);
    t.true(expected.echoes.every((e) => e.fromFdSocket));
  },
  title: (_, type) => `bind({ fd }) wraps an inherited ${type} socket: listening with its address, messages arrive and replies leave through it`,
});

if (!UDP_FD.ok) {
  skipWithReason('bind({ fd }) wraps an inherited UDP socket', UDP_FD.reason);
} else {
  for (const type of ['udp4', 'udp6']) {
    if (type === 'udp6' && !IPV6) skipV6(`bind({ fd }) wraps an inherited ${type} socket`);
    else test.serial(fdWrap, type);
  }
}

test.serial('bind({ fd }) with a non-UDP fd throws ERR_INVALID_FD_TYPE; the socket then refuses another bind()', async (t) => {
  const file = fs.openSync(process.execPath, 'r');
  t.teardown(() => fs.closeSync(file));
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const out = [];
      for (const [name, fd] of [['a regular file', file], ['stderr (pipe or tty)', 2], ['a closed fd', 1_000_000]]) {
        const s = S.create('udp4');
        const events = [];
        for (const e of ['listening', 'error']) s.on(e, () => events.push(e));
        const first = ports.attempt(() => s.bind({ fd }));
        const again = ports.attempt(() => s.bind(0));
        await sleep(30);
        out.push({ name, first, again, events });
      }
      return out;
    } finally {
      S.closeAll();
    }
  });
  t.is(expected[0].first.error.code, 'ERR_INVALID_FD_TYPE');
});
