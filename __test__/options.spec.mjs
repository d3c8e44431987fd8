// Parity of socket options: createSocket's reuseAddr / reusePort / ipv6Only /
// recvBufferSize / sendBufferSize / lookup / signal, and the option setters and
// getters in every socket state (unbound, binding, bound, closed).
import test from 'ava';
import { getEventListeners } from 'node:events';
import {
  parity,
  attemptFull,
  describeErrorFull,
  describeAddress,
  recordEventsFull,
  delay,
  maskPorts,
  nodeAtLeast,
  dumpObservations,
  closeQuietly,
  firstOf,
  safeAddress,
} from './helpers/parity.mjs';
import { IS_WINDOWS } from './helpers/platform.mjs';
import { MULTICAST_INTERFACE_UNTRANSLATED, withoutMulticastInterfaceUnderQemu } from './helpers/emulation.mjs';

const FAMILIES = [
  { type: 'udp4', loopback: '127.0.0.1', any: '0.0.0.0', other: '::1', group: '224.0.0.114', source: '127.0.0.1', ssmGroup: '232.1.1.1' },
  { type: 'udp6', loopback: '::1', any: '::', other: '127.0.0.1', group: 'ff02::114', source: '::1', ssmGroup: 'ff3e::1234' },
];

// reusePort exists from Node 22.12 / 23.1; fastdgram follows Node 24.
const HAS_REUSE_PORT = nodeAtLeast(22, 12);

async function check(t, scenario) {
  const result = await parity(t, scenario);
  dumpObservations(t, result);
  return result;
}




/** Binds `s` and resolves with what happened: the first event and the events logged. */
async function bindAndSettle(s, ...args) {
  const log = [];
  recordEventsFull(s, log, '', ['listening', 'error']);
  const settled = firstOf(s, ['listening', 'error']);
  const ret = attemptFull(() => s.bind(...args), s);
  const outcome = ret.threw ? 'threw' : await settled;
  return { ret, outcome, log };
}

// ---------------------------------------------------------------------------
// reuseAddr
// ---------------------------------------------------------------------------

for (const { type, loopback } of FAMILIES) {
  test(`reuseAddr: which pairs of sockets may share a port (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const out = {};
      for (const [a, b] of [[true, true], [false, true], [true, false], [false, false]]) {
        const first = dgram.createSocket({ type, reuseAddr: a });
        const firstResult = await bindAndSettle(first, 0, loopback);
        const port = first.address().port;
        const second = dgram.createSocket({ type, reuseAddr: b });
        const secondResult = await bindAndSettle(second, port, loopback);
        out[`first ${a}, second ${b}`] = maskPorts({
          first: firstResult.outcome,
          second: secondResult,
          secondAddress: safeAddress(second),
          samePort: secondResult.outcome === 'listening' && second.address().port === port,
        }, [port]);
        closeQuietly(first, second);
      }
      // Three sockets with reuseAddr on one port.
      const trio = [0, 1, 2].map(() => dgram.createSocket({ type, reuseAddr: true }));
      await bindAndSettle(trio[0], 0, loopback);
      const port = trio[0].address().port;
      out.trio = [await bindAndSettle(trio[1], port, loopback), await bindAndSettle(trio[2], { port, address: loopback })]
        .map((r) => r.outcome);
      closeQuietly(...trio);
      await delay(5);
      return out;
    });
    t.is(expected['first true, second true'].second.outcome, 'listening');
    t.is(expected['first false, second false'].second.outcome, 'error');
    t.deepEqual(expected.trio, ['listening', 'listening']);
  });
}

// ---------------------------------------------------------------------------
// reusePort (Node >= 22.12)
// ---------------------------------------------------------------------------

for (const { type, loopback } of FAMILIES) {
  const title = `reusePort: which pairs of sockets may share a port (${type})`;
  const skipReason = !HAS_REUSE_PORT
    ? `Node ${process.versions.node} has no reusePort option (added in 22.12); fastdgram follows Node 24`
    : IS_WINDOWS ? 'Windows has no SO_REUSEPORT: every reusePort bind fails there (tested below)' : undefined;
  (skipReason ? test.skip : test)(
    skipReason ? `${title} [skipped: ${skipReason}]` : title,
    async (t) => {
      const { expected } = await check(t, async (dgram) => {
        const out = {};
        const combos = [
          [{ reusePort: true }, { reusePort: true }],
          [{ reusePort: true }, {}],
          [{}, { reusePort: true }],
          [{ reusePort: true }, { reuseAddr: true }],
          [{ reuseAddr: true }, { reusePort: true }],
          [{ reusePort: true, reuseAddr: true }, { reusePort: true, reuseAddr: true }],
          [{ reusePort: 1 }, { reusePort: 'yes' }],
          [{ reusePort: false }, { reusePort: false }],
        ];
        for (const [a, b] of combos) {
          const first = dgram.createSocket({ type, ...a });
          const firstResult = await bindAndSettle(first, 0, loopback);
          const port = first.address().port;
          const second = dgram.createSocket({ type, ...b });
          // exclusive: false is overridden by reusePort (it forces exclusive) — outside cluster it changes nothing
          const secondResult = await bindAndSettle(second, { port, address: loopback, exclusive: false });
          out[`${JSON.stringify(a)} then ${JSON.stringify(b)}`] = maskPorts({
            first: firstResult.outcome,
            second: secondResult,
          }, [port]);
          closeQuietly(first, second);
        }
        await delay(5);
        return out;
      });
      t.is(expected['{"reusePort":true} then {"reusePort":true}'].second.outcome, 'listening');
      t.is(expected['{"reusePort":true} then {}'].second.outcome, 'error');
    },
  );
}

// libuv's src/win/udp.c refuses UV_UDP_REUSEPORT before it creates or binds
// anything: the bind fails with ENOTSUP and the socket stays unbound.
for (const { type, loopback } of FAMILIES) {
  const title = `reusePort on Windows: bind() fails with ENOTSUP as an 'error' event (${type})`;
  (HAS_REUSE_PORT && IS_WINDOWS ? test : test.skip)(
    HAS_REUSE_PORT && IS_WINDOWS ? title : `${title} [skipped: ${IS_WINDOWS ? `Node ${process.versions.node} has no reusePort option` : 'Windows only'}]`,
    async (t) => {
      const { expected } = await check(t, async (dgram) => {
        const s = dgram.createSocket({ type, reusePort: true });
        const result = await bindAndSettle(s, 0, loopback);
        let address;
        try { address = s.address(); } catch (err) { address = { threw: err.code }; }
        closeQuietly(s);
        return { ...result, address };
      });
      t.is(expected.outcome, 'error');
      t.like(expected.log[0].error, { code: 'ENOTSUP', syscall: 'bind', address: loopback });
    },
  );
}

// ---------------------------------------------------------------------------
// ipv6Only
// ---------------------------------------------------------------------------

test('ipv6Only: a udp6 socket on :: leaves the IPv4 port free only when ipv6Only is set', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const out = {};
    for (const ipv6Only of [true, false, undefined]) {
      const v6 = dgram.createSocket({ type: 'udp6', ipv6Only });
      const v6Result = await bindAndSettle(v6, 0, '::');
      const port = v6.address().port;
      const v4 = dgram.createSocket('udp4');
      const v4Result = await bindAndSettle(v4, port, '0.0.0.0');
      const v4Loopback = dgram.createSocket('udp4');
      const v4LoopbackResult = await bindAndSettle(v4Loopback, port, '127.0.0.1');
      out[`ipv6Only ${ipv6Only}`] = maskPorts({
        v6: v6Result.outcome, v6Address: safeAddress(v6), v4: v4Result, v4Loopback: v4LoopbackResult,
      }, [port]);
      closeQuietly(v6, v4, v4Loopback);
    }
    // The other order: IPv4 first, then udp6 on ::
    for (const ipv6Only of [true, false]) {
      const v4 = dgram.createSocket('udp4');
      await bindAndSettle(v4, 0, '0.0.0.0');
      const port = v4.address().port;
      const v6 = dgram.createSocket({ type: 'udp6', ipv6Only });
      out[`udp4 first, then udp6 ipv6Only ${ipv6Only}`] = maskPorts(await bindAndSettle(v6, port, '::'), [port]);
      closeQuietly(v4, v6);
    }
    await delay(5);
    return out;
  });
  t.is(expected['ipv6Only true'].v4.outcome, 'listening');
  t.is(expected['ipv6Only false'].v4.outcome, 'error');
});

test('ipv6Only: binding to IPv4-mapped addresses and on udp4 sockets', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const out = {};
    for (const [name, options, address] of [
      ['udp6 ipv6Only, ::ffff:127.0.0.1', { type: 'udp6', ipv6Only: true }, '::ffff:127.0.0.1'],
      ['udp6 ipv6Only, ::1', { type: 'udp6', ipv6Only: true }, '::1'],
      ['udp4 ipv6Only, 127.0.0.1', { type: 'udp4', ipv6Only: true }, '127.0.0.1'],
      ['udp4 ipv6Only, no address', { type: 'udp4', ipv6Only: true }, undefined],
      ['udp4 ipv6Only false, 127.0.0.1', { type: 'udp4', ipv6Only: false }, '127.0.0.1'],
    ]) {
      const s = dgram.createSocket(options);
      const r = await bindAndSettle(s, 0, address);
      out[name] = { ...r, address: safeAddress(s) };
      // After an EINVAL the socket is unbound again; does a second bind hit the same flag?
      if (r.outcome === 'error') out[name].again = (await bindAndSettle(s, 0)).outcome;
      s.close();
    }
    await delay(5);
    return out;
  });
  t.is(expected['udp4 ipv6Only, 127.0.0.1'].outcome, 'error');
  t.is(expected['udp4 ipv6Only, 127.0.0.1'].log[0].error.code, 'EINVAL');
});

// ---------------------------------------------------------------------------
// recvBufferSize / sendBufferSize options
// ---------------------------------------------------------------------------

for (const { type, loopback } of FAMILIES) {
  test(`recvBufferSize / sendBufferSize options are applied at bind, read back with the getters (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const out = {};
      for (const size of [undefined, 0, 1, 2048, 4096, 65536, 2 ** 20, 2 ** 23, 2 ** 31 - 1]) {
        const s = dgram.createSocket({ type, recvBufferSize: size, sendBufferSize: size });
        const beforeBind = [attemptFull(() => s.getRecvBufferSize(), s), attemptFull(() => s.getSendBufferSize(), s)];
        const bound = await bindAndSettle(s, 0, loopback);
        out[String(size)] = {
          beforeBind,
          outcome: bound.outcome,
          recv: attemptFull(() => s.getRecvBufferSize(), s),
          send: attemptFull(() => s.getSendBufferSize(), s),
        };
        s.close();
      }
      await delay(5);
      return out;
    });
    t.is(expected['4096'].outcome, 'listening');
    t.is(typeof expected['4096'].recv.value, 'number');
    t.is(expected['4096'].beforeBind[0].error.code, 'ERR_SOCKET_BUFFER_SIZE');
  });

  test(`buffer sizes are applied before 'listening' and before the bind callback (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const seen = [];
      const s = dgram.createSocket({ type, recvBufferSize: 8192, sendBufferSize: 16384 });
      s.on('listening', () => seen.push({ listening: [s.getRecvBufferSize(), s.getSendBufferSize()] }));
      const settled = firstOf(s, ['listening', 'error']);
      s.bind(0, loopback, () => seen.push({ callback: [s.getRecvBufferSize(), s.getSendBufferSize()] }));
      await settled;
      s.close();
      await delay(5);
      return seen;
    });
    t.is(expected.length, 2);
  });
}

// ---------------------------------------------------------------------------
// lookup option
// ---------------------------------------------------------------------------

/** A lookup function that records its calls and answers with `answer(address, family)`. */
function recordingLookup(calls, answer) {
  return function lookup(...args) {
    const [address, family, callback] = args;
    calls.push({
      argc: args.length,
      address,
      family,
      callbackType: typeof callback,
      thisValue: this === undefined ? 'undefined' : typeof this,
    });
    return answer(address, family, callback);
  };
}

for (const { type, loopback, any, other } of FAMILIES) {
  const family = type === 'udp4' ? 4 : 6;

  test(`lookup: called with (address, family, callback) for bind(), bind(port, host), bind({ address }) (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const out = {};
      for (const [name, args] of [
        ['bind()', []],
        ['bind(0)', [0]],
        ["bind(0, 'example.test')", [0, 'example.test']],
        ['bind(0, loopback)', [0, loopback]],
        ["bind({ address: 'example.test' })", [{ address: 'example.test' }]],
        ["bind(0, '')", [0, '']],
      ]) {
        const calls = [];
        const lookup = recordingLookup(calls, (address, fam, cb) => setImmediate(cb, null, loopback, family));
        const s = dgram.createSocket({ type, lookup });
        const r = await bindAndSettle(s, ...args);
        out[name] = { calls, outcome: r.outcome, address: safeAddress(s), returnValueIgnored: true };
        s.close();
      }
      await delay(5);
      return out;
    });
    t.deepEqual(expected['bind()'].calls[0].address, any);
    t.is(expected["bind(0, 'example.test')"].calls[0].family, family);
    t.is(expected["bind(0, 'example.test')"].address.address, loopback);
  });

  test(`lookup: a synchronous lookup makes 'listening' synchronous; an asynchronous one does not (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const out = {};
      for (const mode of ['sync', 'nextTick', 'setImmediate']) {
        const log = [];
        const lookup = (address, fam, cb) => {
          if (mode === 'sync') cb(null, loopback, family);
          else if (mode === 'nextTick') process.nextTick(cb, null, loopback, family);
          else setImmediate(cb, null, loopback, family);
        };
        const s = dgram.createSocket({ type, lookup });
        s.on('listening', () => log.push('listening'));
        const settled = firstOf(s, ['listening', 'error']);
        const ret = attemptFull(() => s.bind(0, 'example.test', () => log.push('callback')), s);
        log.push('sync-end');
        await settled;
        await delay(5);
        out[mode] = { ret, log };
        s.close();
      }
      await delay(5);
      return out;
    });
    t.deepEqual(expected.sync.log, ['listening', 'callback', 'sync-end']);
  });

  test(`lookup: errors, throws, wrong answers, no answer, double answers (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const theError = Object.assign(new Error('lookup says no'), { code: 'ECUSTOM' });
      const behaviours = {
        'callback(error)': (a, f, cb) => setImmediate(cb, theError),
        'callback(error) synchronously': (a, f, cb) => cb(theError),
        'callback(non-Error value)': (a, f, cb) => setImmediate(cb, 'just a string'),
        'throws': () => { throw theError; },
        'answers the other family': (a, f, cb) => setImmediate(cb, null, other, f === 4 ? 6 : 4),
        'answers a hostname': (a, f, cb) => setImmediate(cb, null, 'not-an-ip', f),
        'answers undefined': (a, f, cb) => setImmediate(cb, null, undefined, f),
        'answers with no family': (a, f, cb) => setImmediate(cb, null, loopback),
        'answers an array': (a, f, cb) => setImmediate(cb, null, [{ address: loopback, family: f }]),
        'answers twice': (a, f, cb) => { setImmediate(cb, null, loopback, f); setTimeout(cb, 20, null, loopback, f); },
        'answers then errors': (a, f, cb) => { setImmediate(cb, null, loopback, f); setTimeout(cb, 20, theError); },
        'never answers': () => {},
      };
      const out = {};
      for (const [name, behaviour] of Object.entries(behaviours)) {
        const log = [];
        const s = dgram.createSocket({ type, lookup: behaviour });
        recordEventsFull(s, log);
        s.on('error', (e) => log.push({ sameErrorObject: e === theError }));
        const settled = firstOf(s, ['listening', 'error'], 300);
        let thrownIsTheError = null;
        const ret = attemptFull(() => {
          try {
            return s.bind(0, 'example.test', () => log.push('bind callback'));
          } catch (err) {
            thrownIsTheError = err === theError;
            throw err;
          }
        }, s);
        ret.thrownIsTheError = thrownIsTheError;
        log.push('sync-end');
        const outcome = ret.threw ? 'threw' : await settled;
        await delay(40);
        const after = {
          address: safeAddress(s),
          bindAgain: attemptFull(() => s.bind(0), s),
        };
        await delay(20);
        s.close();
        await delay(5);
        out[name] = { ret, outcome, log, after };
      }
      return out;
    });
    t.is(expected['callback(error)'].outcome, 'error');
    t.is(expected.throws.ret.error.message, 'lookup says no');
    t.is(expected['never answers'].outcome, 'timeout');
  });

  test(`lookup: also used by send() and connect() to a hostname (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const calls = [];
      const lookup = recordingLookup(calls, (address, fam, cb) => setImmediate(cb, null, loopback, family));
      const receiver = dgram.createSocket(type);
      await bindAndSettle(receiver, 0, loopback);
      const got = firstOf(receiver, ['message'], 2000);
      const s = dgram.createSocket({ type, lookup });
      const sent = new Promise((resolve) => {
        s.send('via lookup', receiver.address().port, 'example.test', (err, n) => resolve({ err: err && err.code, n }));
      });
      const sendResult = await sent;
      const received = await got;
      const c = dgram.createSocket({ type, lookup });
      const connected = new Promise((resolve) => c.connect(receiver.address().port, 'peer.example.test', (err) => resolve(err ? describeErrorFull(err) : 'connected')));
      const connectResult = await connected;
      const remote = safeAddress({ address: () => c.remoteAddress() });
      closeQuietly(receiver, s, c);
      await delay(5);
      return { calls, sendResult, received, connectResult, remote };
    });
    t.is(expected.received, 'message');
    t.true(expected.calls.some((c) => c.address === 'example.test'));
  });
}

// ---------------------------------------------------------------------------
// signal option
// ---------------------------------------------------------------------------

for (const { type, loopback } of FAMILIES) {
  test(`signal: already aborted — the socket is closed on creation (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const log = [];
      const signal = AbortSignal.abort(new Error('reason'));
      let s;
      const created = attemptFull(() => { s = dgram.createSocket({ type, signal }); return s; });
      recordEventsFull(s, log);
      const immediately = {
        address: safeAddress(s),
        bind: attemptFull(() => s.bind(0, loopback), s),
        close: attemptFull(() => s.close(), s),
        abortListeners: getEventListeners(signal, 'abort').length,
      };
      log.push('sync-end');
      await firstOf(s, ['close'], 500);
      await delay(20);
      return { created, immediately, log, closeListeners: s.listenerCount('close') };
    });
    t.is(expected.immediately.bind.error.code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
    t.is(expected.log.filter((e) => e.event === 'close').length, 1);
  });

  test(`signal: aborted later — unbound, while binding, bound, after close (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const out = {};
      for (const when of ['unbound', 'binding', 'bound', 'after close']) {
        const log = [];
        const controller = new AbortController();
        const s = dgram.createSocket({ type, signal: controller.signal });
        recordEventsFull(s, log);
        const listenersAtCreate = getEventListeners(controller.signal, 'abort').length;
        if (when !== 'unbound') {
          const settled = firstOf(s, ['listening', 'error']);
          s.bind(0, loopback, () => log.push('bind callback'));
          if (when !== 'binding') await settled;
        }
        if (when === 'after close') {
          s.close();
          await firstOf(s, ['close'], 500);
        }
        const abort = attemptFull(() => controller.abort());
        const right = { address: safeAddress(s), listeners: getEventListeners(controller.signal, 'abort').length };
        log.push('sync-end');
        await delay(30);
        out[when] = {
          listenersAtCreate, abort, right, log,
          listenersAfter: getEventListeners(controller.signal, 'abort').length,
        };
      }
      return out;
    });
    t.is(expected.bound.log.filter((e) => e.event === 'close').length, 1);
    t.is(expected.bound.right.address.threw.code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
  });

  test(`signal: one signal shared by two sockets, and close() removes the abort listener (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const controller = new AbortController();
      const log = [];
      const a = dgram.createSocket({ type, signal: controller.signal });
      const b = dgram.createSocket({ type, signal: controller.signal });
      recordEventsFull(a, log, 'a');
      recordEventsFull(b, log, 'b');
      await bindAndSettle(a, 0, loopback);
      const listeners = [getEventListeners(controller.signal, 'abort').length];
      b.close();
      await firstOf(b, ['close'], 500);
      listeners.push(getEventListeners(controller.signal, 'abort').length);
      controller.abort();
      await delay(20);
      listeners.push(getEventListeners(controller.signal, 'abort').length);
      return { log: log.filter((e) => e.event !== 'listening'), listeners };
    });
    t.deepEqual(expected.listeners, [2, 1, 0]);
  });
}

// ---------------------------------------------------------------------------
// Option setters and getters in every state
// ---------------------------------------------------------------------------

function setterCalls(s, { loopback, any }, state) {
  const calls = {
    'setBroadcast(true)': () => s.setBroadcast(true),
    'setBroadcast(false)': () => s.setBroadcast(false),
    'setBroadcast()': () => s.setBroadcast(),
    'setTTL(1)': () => s.setTTL(1),
    'setTTL(64)': () => s.setTTL(64),
    'setTTL(255)': () => s.setTTL(255),
    'setTTL(0)': () => s.setTTL(0),
    'setTTL(256)': () => s.setTTL(256),
    'setTTL(-1)': () => s.setTTL(-1),
    "setTTL('x')": () => s.setTTL('x'),
    'setTTL(1.5)': () => s.setTTL(1.5),
    'setMulticastTTL(0)': () => s.setMulticastTTL(0),
    'setMulticastTTL(1)': () => s.setMulticastTTL(1),
    'setMulticastTTL(255)': () => s.setMulticastTTL(255),
    'setMulticastTTL(256)': () => s.setMulticastTTL(256),
    'setMulticastTTL(-1)': () => s.setMulticastTTL(-1),
    "setMulticastTTL('x')": () => s.setMulticastTTL('x'),
    'setMulticastLoopback(true)': () => s.setMulticastLoopback(true),
    'setMulticastLoopback(false)': () => s.setMulticastLoopback(false),
    'setMulticastLoopback(0)': () => s.setMulticastLoopback(0),
    "setMulticastLoopback('yes')": () => s.setMulticastLoopback('yes'),
    'setMulticastInterface(loopback)': () => s.setMulticastInterface(loopback),
    'setMulticastInterface(any)': () => s.setMulticastInterface(any),
    "setMulticastInterface('bad')": () => s.setMulticastInterface('bad'),
    'setMulticastInterface(1)': () => s.setMulticastInterface(1),
    'setRecvBufferSize(8192)': () => s.setRecvBufferSize(8192),
    'getRecvBufferSize()': () => s.getRecvBufferSize(),
    'setSendBufferSize(8192)': () => s.setSendBufferSize(8192),
    'getSendBufferSize()': () => s.getSendBufferSize(),
    'setRecvBufferSize(0)': () => s.setRecvBufferSize(0),
    'setRecvBufferSize(-1)': () => s.setRecvBufferSize(-1),
    "setSendBufferSize('1')": () => s.setSendBufferSize('1'),
    'getSendQueueSize()': () => s.getSendQueueSize(),
    'getSendQueueCount()': () => s.getSendQueueCount(),
    'remoteAddress()': () => s.remoteAddress(),
    'disconnect()': () => s.disconnect(),
  };
  // Before bind there is no descriptor, which qemu-user does not look at for these.
  return state === 'unbound' || state === 'binding' ? withoutMulticastInterfaceUnderQemu(calls) : calls;
}

for (const fam of FAMILIES) {
  const { type, loopback } = fam;
  for (const state of ['unbound', 'binding', 'bound', 'closed']) {
    test(`setters and getters on a ${state} socket (${type})`, async (t) => {
      const { expected } = await check(t, async (dgram) => {
        const s = dgram.createSocket(type);
        const log = [];
        recordEventsFull(s, log);
        let settled;
        if (state !== 'unbound') {
          settled = firstOf(s, ['listening', 'error']);
          s.bind(0, loopback);
          if (state !== 'binding') await settled;
        }
        if (state === 'closed') {
          s.close();
          await firstOf(s, ['close'], 500);
        }
        const results = {};
        for (const [name, call] of Object.entries(setterCalls(s, fam, state))) results[name] = attemptFull(call, s);
        if (state === 'binding') await settled;
        await delay(10);
        if (state !== 'closed') s.close();
        await delay(5);
        return { results, log };
      });
      t.is(Object.keys(expected.results).length, Object.keys(setterCalls({}, fam, state)).length);
      if (state === 'unbound') t.is(expected.results['getRecvBufferSize()'].error.code, 'ERR_SOCKET_BUFFER_SIZE');
      if (state === 'bound') t.deepEqual(expected.results['setTTL(64)'], { threw: false, value: 64 });
      if (state === 'closed') t.is(expected.results['setTTL(64)'].error.class, 'TypeError');
    });
  }

  test(`buffer sizes read back after setting them (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const s = dgram.createSocket(type);
      await bindAndSettle(s, 0, loopback);
      const out = { defaults: [s.getRecvBufferSize(), s.getSendBufferSize()] };
      for (const size of [1, 1024, 2048, 4096, 65536, 2 ** 20, 2 ** 22 + 1, 2 ** 31 - 1]) {
        out[size] = {
          setRecv: attemptFull(() => s.setRecvBufferSize(size), s),
          recv: s.getRecvBufferSize(),
          setSend: attemptFull(() => s.setSendBufferSize(size), s),
          send: s.getSendBufferSize(),
        };
      }
      s.close();
      await delay(5);
      return out;
    });
    t.is(typeof expected.defaults[0], 'number');
    t.false(expected['4096'].setRecv.threw);
  });

  test(`getSendQueueSize/getSendQueueCount are 0 when idle, in every state (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const s = dgram.createSocket(type);
      const read = () => [attemptFull(() => s.getSendQueueSize(), s), attemptFull(() => s.getSendQueueCount(), s)];
      const out = { unbound: read() };
      const settled = firstOf(s, ['listening', 'error']);
      s.bind(0, loopback);
      out.binding = read();
      await settled;
      out.bound = read();
      const sent = new Promise((resolve) => s.send('x', s.address().port, loopback, resolve));
      out.rightAfterSend = read();
      await sent;
      out.afterSendCallback = read();
      s.close();
      out.closed = read();
      await delay(5);
      return out;
    });
    t.deepEqual(expected.bound.map((r) => r.value), [0, 0]);
  });

  // -------------------------------------------------------------------------
  // Membership on an unbound socket: libuv binds implicitly
  // -------------------------------------------------------------------------

  test(`membership calls on an unbound socket: implicit bind, then bind() (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const out = {};
      const calls = withoutMulticastInterfaceUnderQemu({
        addMembership: (s) => s.addMembership(fam.group),
        dropMembership: (s) => s.dropMembership(fam.group),
        addSourceSpecificMembership: (s) => s.addSourceSpecificMembership(fam.source, fam.ssmGroup),
        dropSourceSpecificMembership: (s) => s.dropSourceSpecificMembership(fam.source, fam.ssmGroup),
        "addMembership('bad')": (s) => s.addMembership('bad'),
        'setMulticastInterface(loopback)': (s) => s.setMulticastInterface(loopback),
      });
      for (const [name, call] of Object.entries(calls)) {
        const log = [];
        const s = dgram.createSocket(type);
        recordEventsFull(s, log);
        const result = attemptFull(() => call(s), s);
        const addressAfter = safeAddress(s);
        const bindAfter = await bindAndSettle(s, 0, loopback);
        await delay(10);
        out[name] = { result, addressAfter, bindAfter: bindAfter.outcome, addressAfterBind: safeAddress(s), log };
        s.close();
      }
      await delay(5);
      return out;
    });
    t.is(Object.keys(expected).length, MULTICAST_INTERFACE_UNTRANSLATED ? 5 : 6);
  });

  test(`remoteAddress() and disconnect() when not connected (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const s = dgram.createSocket(type);
      const out = { unbound: [attemptFull(() => s.remoteAddress(), s), attemptFull(() => s.disconnect(), s)] };
      await bindAndSettle(s, 0, loopback);
      out.bound = [attemptFull(() => s.remoteAddress(), s), attemptFull(() => s.disconnect(), s)];
      s.close();
      out.closed = [attemptFull(() => s.remoteAddress(), s), attemptFull(() => s.disconnect(), s)];
      await delay(5);
      return out;
    });
    t.is(expected.bound[0].error.code, 'ERR_SOCKET_DGRAM_NOT_CONNECTED');
    t.is(expected.bound[1].error.code, 'ERR_SOCKET_DGRAM_NOT_CONNECTED');
  });
}
