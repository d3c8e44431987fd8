// Parity: socket lifecycle — createSocket, bind, address, close, asyncDispose,
// methods after close, ref/unref. Every scenario runs on node:dgram and on
// fastdgram and the observations must be deep-equal.
import test from 'ava';
import { EventEmitter } from 'node:events';
import nodeDgram from 'node:dgram';
import {
  parity,
  attemptFull,
  describeErrorFull,
  describeAddress,
  recordEventsFull,
  once,
  delay,
  maskPorts,
  dumpObservations,
  firstOf,
  safeAddress,
  closeQuietly,
} from './helpers/parity.mjs';
import { IS_WINDOWS, UNDER_WINE } from './helpers/platform.mjs';

const FAMILIES = [
  { type: 'udp4', loopback: '127.0.0.1', any: '0.0.0.0', other: '::1' },
  { type: 'udp6', loopback: '::1', any: '::', other: '127.0.0.1' },
];

async function check(t, scenario) {
  const result = await parity(t, scenario);
  dumpObservations(t, result);
  return result;
}




/** Pushes markers for the next microtask, process.nextTick and setImmediate. */
function scheduleMarkers(log) {
  process.nextTick(() => log.push('nextTick'));
  queueMicrotask(() => log.push('microtask'));
  setImmediate(() => log.push('setImmediate'));
}

/**
 * Resolves after the setImmediate callbacks queued so far have run (immediates
 * run in order). A timer alone is not enough: when the loop was busy, a due
 * timer runs before the pending immediates.
 */
function afterImmediates() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A node:dgram socket bound to `address` port 0; resolves with { socket, port }. */
async function nodeBound(type, address) {
  const socket = nodeDgram.createSocket(type);
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, resolve);
  });
  return { socket, port: socket.address().port };
}

/** A port that was free on `address` a moment ago. */
async function freePort(type, address) {
  const { socket, port } = await nodeBound(type, address);
  await new Promise((resolve) => socket.close(resolve));
  return port;
}

// ---------------------------------------------------------------------------
// createSocket
// ---------------------------------------------------------------------------

for (const { type } of FAMILIES) {
  test(`createSocket('${type}') returns an unbound socket of that type`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const log = [];
      const s = dgram.createSocket(type);
      recordEventsFull(s, log);
      const obs = {
        isSocket: s instanceof dgram.Socket,
        isEmitter: s instanceof EventEmitter,
        type: s.type,
        typeDescriptor: (({ writable, enumerable, configurable }) => ({ writable, enumerable, configurable }))(
          Object.getOwnPropertyDescriptor(s, 'type') || {}),
        ownKeys: Object.keys(s).sort(),
        listenerCounts: ['message', 'listening', 'error', 'close', 'connect'].map((e) => s.listenerCount(e)),
        address: attemptFull(() => s.address(), s),
        remoteAddress: attemptFull(() => s.remoteAddress(), s),
        sendQueue: [s.getSendQueueSize(), s.getSendQueueCount()],
      };
      await delay(20);
      obs.eventsWhileIdle = [...log];
      const closed = once(s, 'close');
      s.close();
      await closed;
      obs.events = log;
      return obs;
    });
    t.is(expected.type, type);
    t.true(expected.isSocket);
    t.deepEqual(expected.eventsWhileIdle, []);
  });

  test(`createSocket({ type: '${type}' }) sets socket.type and nothing else observable`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const a = dgram.createSocket({ type });
      const b = dgram.createSocket({ type, reuseAddr: true, ipv6Only: false });
      const obs = {
        types: [a.type, b.type],
        ownKeys: [Object.keys(a).sort(), Object.keys(b).sort()],
        listenerCounts: [a, b].map((s) => s.eventNames().map((e) => [String(e), s.listenerCount(e)])),
      };
      closeQuietly(a, b);
      await delay(5);
      return obs;
    });
    t.deepEqual(expected.types, [type, type]);
  });
}

test('createSocket(type|options, callback): the callback becomes a \'message\' listener, non-functions are ignored', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const cb = function onMessage() {};
    const forms = {
      'type, fn': () => dgram.createSocket('udp4', cb),
      'options, fn': () => dgram.createSocket({ type: 'udp6' }, cb),
      'type, string': () => dgram.createSocket('udp4', 'cb'),
      'type, object': () => dgram.createSocket('udp4', {}),
      'type, null': () => dgram.createSocket('udp4', null),
      'options, number': () => dgram.createSocket({ type: 'udp4' }, 1),
      'options, undefined': () => dgram.createSocket({ type: 'udp4' }, undefined),
      'type, class': () => dgram.createSocket('udp4', class Listener {}),
    };
    const obs = {};
    for (const [name, make] of Object.entries(forms)) {
      const s = make();
      obs[name] = {
        count: s.listenerCount('message'),
        isCb: s.listeners('message')[0] === cb,
        otherEvents: s.eventNames().filter((e) => e !== 'message').map(String),
      };
      s.close();
    }
    await delay(5);
    return obs;
  });
  t.deepEqual(expected['type, fn'], { count: 1, isCb: true, otherEvents: [] });
  t.is(expected['type, string'].count, 0);
});

for (const { type, loopback } of FAMILIES) {
  test(`createSocket callback receives datagrams (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const calls = [];
      let s;
      const got = new Promise((resolve) => {
        s = dgram.createSocket(type, function onMessage(...args) {
          const [msg, rinfo] = args;
          calls.push({
            argc: args.length,
            thisIsSocket: this === s,
            isBuffer: Buffer.isBuffer(msg),
            msg: msg.toString(),
            rinfoKeys: Object.keys(rinfo),
            rinfo: { address: rinfo.address, family: rinfo.family, size: rinfo.size },
            portMatches: rinfo.port === senderPort,
          });
          resolve();
        });
      });
      let senderPort;
      const listening = firstOf(s, ['listening', 'error']);
      s.bind(0, loopback);
      const outcome = await listening;
      const sender = await nodeBound(type, loopback);
      senderPort = sender.port;
      sender.socket.send('hello', s.address().port, loopback);
      const result = await Promise.race([got.then(() => 'received'), delay(2000).then(() => 'timeout')]);
      sender.socket.close();
      s.close();
      await delay(5);
      return { outcome, result, calls };
    });
    t.is(expected.result, 'received');
    t.is(expected.calls[0].msg, 'hello');
  });
}

// ---------------------------------------------------------------------------
// bind: argument forms
// ---------------------------------------------------------------------------

for (const { type, loopback, any } of FAMILIES) {
  // Each form gets a fresh socket; `port` is a port that was free just before.
  const forms = {
    'bind()': (s) => s.bind(),
    'bind(0)': (s) => s.bind(0),
    'bind(port)': (s, port) => s.bind(port),
    'bind(0, loopback)': (s) => s.bind(0, loopback),
    'bind(0, any)': (s) => s.bind(0, any),
    'bind(port, loopback)': (s, port) => s.bind(port, loopback),
    'bind(cb)': (s, port, cb) => s.bind(cb),
    'bind(0, cb)': (s, port, cb) => s.bind(0, cb),
    'bind(port, cb)': (s, port, cb) => s.bind(port, cb),
    'bind(0, loopback, cb)': (s, port, cb) => s.bind(0, loopback, cb),
    'bind(port, loopback, cb)': (s, port, cb) => s.bind(port, loopback, cb),
    'bind(0, undefined, cb)': (s, port, cb) => s.bind(0, undefined, cb),
    'bind(0, null)': (s) => s.bind(0, null),
    "bind(0, '')": (s) => s.bind(0, ''),
    'bind(undefined, loopback)': (s) => s.bind(undefined, loopback),
    'bind(null, loopback, cb)': (s, port, cb) => s.bind(null, loopback, cb),
    'bind(0, loopback, notAFunction)': (s) => s.bind(0, loopback, 'cb'),
    'bind(0, loopback, cb, extra)': (s, port, cb) => s.bind(0, loopback, cb, 'extra'),
    'bind(0, loopback, undefined, cb)': (s, port, cb) => s.bind(0, loopback, undefined, cb),
    'bind({})': (s) => s.bind({}),
    'bind({ port: 0 })': (s) => s.bind({ port: 0 }),
    'bind({ address: loopback })': (s) => s.bind({ address: loopback }),
    'bind({ port, address: loopback }, cb)': (s, port, cb) => s.bind({ port, address: loopback }, cb),
    'bind({ port: 0, address: loopback, exclusive: true }, cb)': (s, port, cb) => s.bind({ port: 0, address: loopback, exclusive: true }, cb),
    'bind({ port: 0, address: loopback, exclusive: false }, cb)': (s, port, cb) => s.bind({ port: 0, address: loopback, exclusive: false }, cb),
    'bind({ address: loopback }, loopbackIgnored, cb)': (s, port, cb) => s.bind({ address: loopback }, 'ignored', cb),
  };
  for (const [name, form] of Object.entries(forms)) {
    const takesPort = /[({ ]port[,)]/.test(name);
    test(`${name} (${type}): return value, events, callback, address`, async (t) => {
      const { expected } = await check(t, async (dgram) => {
        // A port freed a moment ago can be taken again by another process or
        // test file before the bind: then both modules try another (bounded).
        for (let attempt = 1; ; attempt++) {
          const port = await freePort(type, loopback);
          const obs = await bindOnce(dgram, port);
          if (!(takesPort && obs.portTakenMeanwhile) || attempt === 5) return obs.observed;
        }
      });
      t.is(expected.ret.value, '<self>');
      t.is(expected.outcome, 'listening');

      async function bindOnce(dgram, port) {
        const log = [];
        const s = dgram.createSocket(type);
        recordEventsFull(s, log);
        const cb = function bindCallback(...args) {
          log.push({ callback: true, argc: args.length, thisIsSocket: this === s });
        };
        const settled = firstOf(s, ['listening', 'error']);
        let bindError;
        const noteError = (err) => { bindError = err; };
        s.on('error', noteError);
        const ret = attemptFull(() => form(s, port, cb), s);
        log.push('sync-end');
        const outcome = await settled;
        s.off('error', noteError);
        await delay(5);
        const address = safeAddress(s);
        const obs = {
          ret,
          outcome,
          log: maskPorts(log, [port]),
          address,
          // Only forms that pass the port: a bind to 0 may be given the
          // just-freed port by the kernel's ephemeral allocation.
          usedPort: takesPort && outcome === 'listening' ? s.address().port === port : null,
          listeningListenersAfter: s.listenerCount('listening'),
          errorListenersAfter: s.listenerCount('error'),
        };
        s.close();
        await delay(5);
        return { observed: obs, portTakenMeanwhile: bindError?.code === 'EADDRINUSE' };
      }
    });
  }
}

for (const { type, loopback } of FAMILIES) {
  test(`'listening' and the bind callback run after synchronous code, in listener order (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const log = [];
      const s = dgram.createSocket(type);
      s.on('listening', () => log.push('listener registered before bind'));
      const settled = firstOf(s, ['listening', 'error']);
      s.bind(0, loopback, () => log.push('bind callback'));
      s.on('listening', () => log.push('listener registered after bind'));
      scheduleMarkers(log);
      log.push('sync-end');
      await settled;
      await afterImmediates();
      await delay(5);
      s.close();
      await delay(5);
      return log;
    });
    t.is(expected[0], 'sync-end');
    t.true(expected.includes('bind callback'));
  });
}

// ---------------------------------------------------------------------------
// address()
// ---------------------------------------------------------------------------

for (const { type, loopback, any } of FAMILIES) {
  test(`address() before bind, while binding, after bind, after close (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const obs = {};
      const s = dgram.createSocket(type);
      obs.beforeBind = safeAddress(s);
      const settled = firstOf(s, ['listening', 'error']);
      s.bind(0, loopback);
      obs.whileBinding = safeAddress(s);
      obs.outcome = await settled;
      obs.afterBind = safeAddress(s);
      obs.twiceEqual = JSON.stringify(s.address()) === JSON.stringify(s.address());
      obs.freshObject = s.address() !== s.address();
      s.close();
      obs.afterClose = safeAddress(s);
      await delay(5);

      const a = dgram.createSocket(type);
      const settledAny = firstOf(a, ['listening', 'error']);
      a.bind(0);
      obs.anyOutcome = await settledAny;
      obs.any = safeAddress(a);
      obs.anyIsAny = a.address().address === any;
      a.close();
      await delay(5);
      return obs;
    });
    t.is(expected.beforeBind.threw.code, 'EBADF');
    t.is(expected.afterBind.address, loopback);
    t.is(expected.afterClose.threw.code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
  });
}

// ---------------------------------------------------------------------------
// bind: already bound, EADDRINUSE, rebinding after a failure
// ---------------------------------------------------------------------------

for (const { type, loopback } of FAMILIES) {
  test(`bind() twice throws ERR_SOCKET_ALREADY_BOUND synchronously, while binding and after (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const log = [];
      const s = dgram.createSocket(type);
      recordEventsFull(s, log);
      const settled = firstOf(s, ['listening', 'error']);
      s.bind(0, loopback, () => log.push('first callback'));
      const whileBinding = attemptFull(() => s.bind(0, loopback, () => log.push('second callback')), s);
      const whileBindingNoArgs = attemptFull(() => s.bind(), s);
      const listenersAfterThrow = s.listenerCount('listening');
      log.push('sync-end');
      const outcome = await settled;
      const afterBound = attemptFull(() => s.bind({ port: 0 }, () => log.push('third callback')), s);
      await delay(20);
      const obs = { whileBinding, whileBindingNoArgs, listenersAfterThrow, outcome, afterBound, log };
      s.close();
      await delay(5);
      return obs;
    });
    t.is(expected.whileBinding.error.code, 'ERR_SOCKET_ALREADY_BOUND');
    t.is(expected.afterBound.error.code, 'ERR_SOCKET_ALREADY_BOUND');
  });

  test(`EADDRINUSE is an asynchronous 'error' with errno/code/syscall/address/port; the socket can bind again (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const a = dgram.createSocket(type);
      const aReady = firstOf(a, ['listening', 'error']);
      a.bind(0, loopback);
      const aOutcome = await aReady;
      const port = a.address().port;

      const log = [];
      const b = dgram.createSocket(type);
      recordEventsFull(b, log);
      const bSettled = firstOf(b, ['listening', 'error']);
      const ret = attemptFull(() => b.bind(port, loopback, () => log.push('bind callback')), b);
      log.push('sync-end');
      const bOutcome = await bSettled;
      await delay(10);
      const afterError = {
        address: safeAddress(b),
        listening: b.listenerCount('listening'),
        error: b.listenerCount('error'),
      };
      // After a failed bind the socket is unbound again and may bind elsewhere.
      const again = firstOf(b, ['listening', 'error']);
      const rebind = attemptFull(() => b.bind(0, loopback), b);
      const againOutcome = await again;
      const rebound = safeAddress(b);
      a.close();
      b.close();
      await delay(5);
      return maskPorts({ aOutcome, ret, bOutcome, log, afterError, rebind, againOutcome, rebound }, [port]);
    });
    t.is(expected.bOutcome, 'error');
    const err = expected.log.find((e) => e.event === 'error').error;
    t.is(err.code, 'EADDRINUSE');
    t.is(err.syscall, 'bind');
    t.is(err.port, '<port 0>');
    t.is(expected.againOutcome, 'listening');
  });

  test(`EADDRINUSE against a node:dgram socket, and any-address vs loopback conflict (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const holder = await nodeBound(type, loopback);
      const log = [];
      const b = dgram.createSocket(type);
      recordEventsFull(b, log, 'loopback');
      const settled = firstOf(b, ['listening', 'error']);
      b.bind({ port: holder.port, address: loopback });
      const outcome = await settled;

      const c = dgram.createSocket(type);
      recordEventsFull(c, log, 'any');
      const settledC = firstOf(c, ['listening', 'error']);
      c.bind(holder.port);
      const outcomeC = await settledC;
      holder.socket.close();
      closeQuietly(b, c);
      await delay(5);
      return maskPorts({ outcome, outcomeC, log }, [holder.port]);
    });
    t.is(expected.outcome, 'error');
  });
}

// ---------------------------------------------------------------------------
// bind: hostnames and addresses that need resolving
// ---------------------------------------------------------------------------

for (const { type } of FAMILIES) {
  for (const host of ['localhost', 'nonexistent.invalid']) {
    test(`bind(0, '${host}') resolves through dns (${type})`, async (t) => {
      const { expected } = await check(t, async (dgram) => {
        const log = [];
        const s = dgram.createSocket(type);
        recordEventsFull(s, log);
        const settled = firstOf(s, ['listening', 'error'], 10000);
        const ret = attemptFull(() => s.bind(0, host), s);
        log.push('sync-end');
        const outcome = await settled;
        const address = safeAddress(s);
        // Whatever happened, a failed bind leaves the socket re-bindable.
        const again = outcome === 'error' ? attemptFull(() => s.bind(0), s) : null;
        if (again) await firstOf(s, ['listening', 'error']);
        s.close();
        await delay(5);
        return { ret, outcome, address, again, log };
      });
      t.is(expected.ret.value, '<self>');
      t.not(expected.outcome, 'timeout');
    });
  }
}

for (const { type, other } of FAMILIES) {
  test(`bind to an address of the other family fails with EINVAL (${type} → ${other})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const log = [];
      const s = dgram.createSocket(type);
      recordEventsFull(s, log);
      const settled = firstOf(s, ['listening', 'error']);
      s.bind(0, other);
      log.push('sync-end');
      const outcome = await settled;
      s.close();
      await delay(5);
      return { outcome, log };
    });
    t.is(expected.outcome, 'error');
    t.is(expected.log[1].error.code, 'EINVAL');
  });
}

test('udp6 bind to an IPv4-mapped address (::ffff:127.0.0.1)', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const s = dgram.createSocket('udp6');
    const settled = firstOf(s, ['listening', 'error']);
    s.bind(0, '::ffff:127.0.0.1');
    const outcome = await settled;
    const address = safeAddress(s);
    s.close();
    await delay(5);
    return { outcome, address };
  });
  t.is(expected.outcome, 'listening');
});

// ---------------------------------------------------------------------------
// close
// ---------------------------------------------------------------------------

for (const { type, loopback } of FAMILIES) {
  for (const state of ['unbound', 'binding', 'bound']) {
    test(`close(cb) on a ${state} socket: returns the socket, 'close' once on the next tick (${type})`, async (t) => {
      const { expected } = await check(t, async (dgram) => {
        const log = [];
        const s = dgram.createSocket(type);
        recordEventsFull(s, log);
        s.on('close', () => log.push('close listener registered before close()'));
        if (state !== 'unbound') {
          const settled = firstOf(s, ['listening', 'error']);
          s.bind(0, loopback, () => log.push('bind callback'));
          if (state === 'bound') await settled;
        }
        log.push('before close');
        const closed = firstOf(s, ['close']);
        const ret = attemptFull(() => s.close(function closeCallback(...args) {
          log.push({ closeCallback: true, argc: args.length, thisIsSocket: this === s });
        }), s);
        s.on('close', () => log.push('close listener registered after close()'));
        scheduleMarkers(log);
        log.push('sync-end');
        const outcome = await closed;
        await afterImmediates();
        await delay(30);
        return {
          ret, outcome, log,
          closeListenersAfter: s.listenerCount('close'),
          addressAfter: safeAddress(s),
        };
      });
      t.is(expected.ret.value, '<self>');
      t.is(expected.log.filter((e) => e.event === 'close').length, 1);
      t.is(expected.log.indexOf('sync-end') < expected.log.findIndex((e) => e.event === 'close'), true);
    });
  }
}

test('close() twice: the second throws ERR_SOCKET_DGRAM_NOT_RUNNING but its callback is still registered', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const log = [];
    const s = dgram.createSocket('udp4');
    recordEventsFull(s, log);
    const settled = firstOf(s, ['listening', 'error']);
    s.bind(0, '127.0.0.1');
    await settled;
    const first = attemptFull(() => s.close(() => log.push('cb1')), s);
    const second = attemptFull(() => s.close(() => log.push('cb2')), s);
    const secondNoCb = attemptFull(() => s.close(), s);
    log.push('sync-end');
    await firstOf(s, ['close']);
    await delay(20);
    const afterClosed = attemptFull(() => s.close(() => log.push('cb3')), s);
    await delay(20);
    return { first, second, secondNoCb, afterClosed, log, closeListeners: s.listenerCount('close') };
  });
  t.is(expected.second.error.code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
  t.true(expected.log.includes('cb2'));
  t.false(expected.log.includes('cb3'));
});

for (const { type, loopback } of FAMILIES) {
  test(`close() while bind is resolving a hostname: no 'listening', no 'error' (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const log = [];
      const s = dgram.createSocket(type);
      recordEventsFull(s, log);
      s.bind(0, 'localhost', () => log.push('bind callback'));
      s.close(() => log.push('close callback'));
      log.push('sync-end');
      await firstOf(s, ['close']);
      await delay(100); // dns answers within this window; nothing may follow
      const lit = dgram.createSocket(type);
      recordEventsFull(lit, log, 'literal');
      lit.bind(0, loopback, () => log.push('literal bind callback'));
      lit.close();
      await delay(30);
      return log;
    });
    t.deepEqual(expected.filter((e) => e.event === 'listening'), []);
  });
}

test('close() after send() on an unbound socket is queued behind the implicit bind', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const log = [];
    const receiver = await nodeBound('udp4', '127.0.0.1');
    receiver.socket.on('message', (m) => log.push({ receiverGot: m.toString() }));
    const s = dgram.createSocket('udp4');
    recordEventsFull(s, log);
    s.send('queued', receiver.port, '127.0.0.1', (err, n) => log.push({ sendCallback: true, err: err && err.code, n }));
    const ret = attemptFull(() => s.close(() => log.push('close callback')), s);
    const addressRightAfterClose = safeAddress(s);
    log.push('sync-end');
    const outcome = await firstOf(s, ['close']);
    await delay(100);
    receiver.socket.close();
    return maskPorts({ ret, addressRightAfterClose, outcome, log, addressAfter: safeAddress(s) }, [receiver.port]);
  });
  t.is(expected.ret.value, '<self>');
  t.is(expected.outcome, 'close');
});

// ---------------------------------------------------------------------------
// Methods after close
// ---------------------------------------------------------------------------

function everyMethodCall(s, peerPort) {
  return {
    'bind()': () => s.bind(),
    'bind(0, cb)': () => s.bind(0, () => {}),
    'send(msg, port, address)': () => s.send('x', peerPort, '127.0.0.1'),
    'send(msg, port, address, cb)': () => s.send('x', peerPort, '127.0.0.1', () => {}),
    'send(bad msg)': () => s.send(123, peerPort, '127.0.0.1'),
    'connect(port)': () => s.connect(peerPort),
    'disconnect()': () => s.disconnect(),
    'address()': () => s.address(),
    'remoteAddress()': () => s.remoteAddress(),
    'setTTL(1)': () => s.setTTL(1),
    "setTTL('x')": () => s.setTTL('x'),
    'setBroadcast(true)': () => s.setBroadcast(true),
    'setMulticastTTL(1)': () => s.setMulticastTTL(1),
    'setMulticastLoopback(true)': () => s.setMulticastLoopback(true),
    "setMulticastInterface('127.0.0.1')": () => s.setMulticastInterface('127.0.0.1'),
    'setMulticastInterface(1)': () => s.setMulticastInterface(1),
    "addMembership('224.0.0.114')": () => s.addMembership('224.0.0.114'),
    'addMembership()': () => s.addMembership(),
    "dropMembership('224.0.0.114')": () => s.dropMembership('224.0.0.114'),
    "addSourceSpecificMembership('127.0.0.1', '232.1.1.1')": () => s.addSourceSpecificMembership('127.0.0.1', '232.1.1.1'),
    "dropSourceSpecificMembership('127.0.0.1', '232.1.1.1')": () => s.dropSourceSpecificMembership('127.0.0.1', '232.1.1.1'),
    'setRecvBufferSize(4096)': () => s.setRecvBufferSize(4096),
    'setRecvBufferSize(-1)': () => s.setRecvBufferSize(-1),
    'setSendBufferSize(4096)': () => s.setSendBufferSize(4096),
    'getRecvBufferSize()': () => s.getRecvBufferSize(),
    'getSendBufferSize()': () => s.getSendBufferSize(),
    'getSendQueueSize()': () => s.getSendQueueSize(),
    'getSendQueueCount()': () => s.getSendQueueCount(),
    'ref()': () => s.ref(),
    'unref()': () => s.unref(),
    'close()': () => s.close(),
  };
}

for (const { type, loopback } of FAMILIES) {
  for (const before of ['bound', 'never bound']) {
    test(`every method after close() on a ${before} socket (${type})`, async (t) => {
      const { expected } = await check(t, async (dgram) => {
        const log = [];
        const s = dgram.createSocket(type);
        if (before === 'bound') {
          const settled = firstOf(s, ['listening', 'error']);
          s.bind(0, loopback);
          await settled;
        }
        recordEventsFull(s, log);
        s.close();
        await firstOf(s, ['close']);
        const results = {};
        for (const [name, call] of Object.entries(everyMethodCall(s, 9))) {
          results[name] = attemptFull(call, s);
        }
        await delay(30);
        return { results, log };
      });
      t.is(expected.results['bind()'].error.code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
      t.is(expected.results['ref()'].value, '<self>');
      t.is(expected.results['setTTL(1)'].error.class, 'TypeError');
    });
  }
}

// ---------------------------------------------------------------------------
// Symbol.asyncDispose
// ---------------------------------------------------------------------------

for (const { type, loopback } of FAMILIES) {
  test(`[Symbol.asyncDispose]() closes the socket; twice, and on a closed socket (${type})`, async (t) => {
    const { expected } = await check(t, async (dgram) => {
      const log = [];
      const s = dgram.createSocket(type);
      recordEventsFull(s, log);
      const settled = firstOf(s, ['listening', 'error']);
      s.bind(0, loopback);
      await settled;
      const p1 = s[Symbol.asyncDispose]();
      const afterFirstCall = { isPromise: p1 instanceof Promise, address: safeAddress(s) };
      const p2 = s[Symbol.asyncDispose]();
      p1.then((v) => log.push({ p1: 'fulfilled', value: v }), (e) => log.push({ p1: 'rejected', e: describeErrorFull(e) }));
      p2.then((v) => log.push({ p2: 'fulfilled', value: v }), (e) => log.push({ p2: 'rejected', e: describeErrorFull(e) }));
      scheduleMarkers(log);
      log.push('sync-end');
      await Promise.race([Promise.allSettled([p1, p2]), delay(2000)]);
      await afterImmediates();
      await delay(20);
      const p3 = s[Symbol.asyncDispose]();
      const third = await Promise.race([p3.then((v) => ({ fulfilled: v }), (e) => ({ rejected: describeErrorFull(e) })), delay(2000).then(() => 'timeout')]);

      const u = dgram.createSocket(type);
      const unboundLog = [];
      recordEventsFull(u, unboundLog);
      const unbound = await Promise.race([u[Symbol.asyncDispose]().then((v) => ({ fulfilled: v })), delay(2000).then(() => 'timeout')]);
      return { afterFirstCall, log, third, unbound, unboundLog, methodLength: s[Symbol.asyncDispose].length };
    });
    t.true(expected.afterFirstCall.isPromise);
    t.deepEqual(expected.third, { fulfilled: undefined });
  });
}

// ---------------------------------------------------------------------------
// close() releases the port at once
// ---------------------------------------------------------------------------

for (const { type, loopback } of FAMILIES) {
  for (const rebinder of ['same implementation', 'node:dgram']) {
    test(`the port is free right after close(): ${rebinder} binds it in the same tick (${type})`, async (t) => {
      const { expected } = await check(t, async (dgram) => {
        const a = dgram.createSocket(type);
        const settled = firstOf(a, ['listening', 'error']);
        a.bind(0, loopback);
        await settled;
        const port = a.address().port;
        const log = [];
        a.close();
        const b = (rebinder === 'node:dgram' ? nodeDgram : dgram).createSocket(type);
        recordEventsFull(b, log);
        const bSettled = firstOf(b, ['listening', 'error']);
        b.bind(port, loopback);
        const outcome = await bSettled;
        const samePort = outcome === 'listening' && b.address().port === port;
        b.close();
        await delay(5);
        return maskPorts({ outcome, samePort, log }, [port]);
      });
      t.is(expected.outcome, 'listening');
      t.true(expected.samePort);
    });
  }
}

// ---------------------------------------------------------------------------
// ref / unref return the socket
// ---------------------------------------------------------------------------

test('ref() and unref() return the socket when unbound, bound, closed, and chain', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const s = dgram.createSocket('udp4');
    const obs = {
      unbound: [attemptFull(() => s.ref(), s), attemptFull(() => s.unref(), s), attemptFull(() => s.unref(), s)],
      chained: attemptFull(() => s.unref().ref().unref(), s),
      withArgs: attemptFull(() => s.ref(false), s),
      lengths: [s.ref.length, s.unref.length],
    };
    const settled = firstOf(s, ['listening', 'error']);
    s.bind(0, '127.0.0.1');
    await settled;
    obs.bound = [attemptFull(() => s.unref(), s), attemptFull(() => s.ref(), s)];
    s.close();
    obs.closed = [attemptFull(() => s.unref(), s), attemptFull(() => s.ref(), s)];
    await delay(5);
    return obs;
  });
  t.deepEqual(expected.closed.map((r) => r.value), ['<self>', '<self>']);
});

// ---------------------------------------------------------------------------
// Where libuv on Windows (or Wine) answers otherwise than on Linux
// ---------------------------------------------------------------------------

test('an IPv4 addMembership on an unbound udp6 socket, then bind(::1) and a send to 127.0.0.1: as node:dgram (Windows: the bind of the IPv4 socket the membership made is a no-op, listening; Linux: bind EINVAL)', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const log = [];
    const s = dgram.createSocket('udp6');
    recordEventsFull(s, log, '', ['listening', 'error']);
    const membership = attemptFull(() => s.addMembership('224.0.0.114'), s);
    const afterMembership = safeAddress(s);
    const settled = firstOf(s, ['listening', 'error']);
    s.bind(0, '::1');
    await settled;
    const sent = await new Promise((resolve) => {
      s.send('x', 9, '127.0.0.1', (err) => resolve(err ? describeErrorFull(err) : null));
      setTimeout(() => resolve('no callback within 500 ms'), 500);
    });
    await delay(20);
    const afterBind = safeAddress(s);
    closeQuietly(s);
    return { membership, afterMembership, afterBind, log, sent };
  });
  t.is(expected.afterMembership.family, 'IPv4', 'libuv made an IPv4 socket for the IPv4 group');
  t.is(expected.log[0].event, IS_WINDOWS ? 'listening' : 'error');
  if (!IS_WINDOWS) t.is(expected.log[0].error.code, 'EINVAL');
});

test('dropMembership of a group never joined and a bind to an address the host does not have (192.0.2.1): as node:dgram (Linux: EADDRNOTAVAIL both; under Wine: EINVAL, and the bind succeeds)', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const s = dgram.createSocket('udp4');
    await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
    const drop = attemptFull(() => s.dropMembership('224.0.0.251', '127.0.0.1'), s);
    closeQuietly(s);
    const log = [];
    const notLocal = dgram.createSocket('udp4');
    recordEventsFull(notLocal, log, '', ['listening', 'error']);
    const settled = firstOf(notLocal, ['listening', 'error']);
    notLocal.bind(4242, '192.0.2.1');
    await settled;
    closeQuietly(notLocal);
    return { drop, log };
  });
  t.is(expected.drop.error.code, UNDER_WINE ? 'EINVAL' : 'EADDRNOTAVAIL');
  if (UNDER_WINE) t.is(expected.log[0].event, 'listening');
  else t.is(expected.log[0].error.code, 'EADDRNOTAVAIL');
});
