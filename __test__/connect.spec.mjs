// Parity: connect() / disconnect() / remoteAddress() and sending on
// connected sockets. Each scenario runs on node:dgram and on fastdgram.
import test from 'ava';
import {
  IPV6, LOOPBACK, Ports, Sockets, skipWithReason, describeMessage, inbox, observeSend, parity, sleep, waitUntil,
} from './fixtures/udp.mjs';
import { IS_WINDOWS, UNDER_WINE, WINE_ICMP_ERROR } from './helpers/platform.mjs';

const skipV6 = (title) => skipWithReason(title, 'IPv6 loopback (::1) is not available');
const eachFamily = (title, macro) => {
  for (const type of ['udp4', 'udp6']) {
    if (type === 'udp6' && !IPV6) skipV6(`${title} (${type})`);
    else test.serial(macro, type);
  }
};

/** Runs body with a bound receiver `rx` (named 'rx'). */
async function withReceiver(dgram, type, body) {
  const S = new Sockets(dgram);
  const ports = new Ports();
  try {
    const rx = await S.bound(type);
    ports.name(rx.address().port, 'rx');
    return await body({ S, ports, rx, box: inbox(rx), P: rx.address().port, LO: LOOPBACK[type] });
  } finally {
    S.closeAll();
  }
}

/** Records events of a socket into log as short strings / objects. */
function events(socket, log, ports, names = ['listening', 'connect', 'error', 'close']) {
  for (const e of names) {
    socket.on(e, (...args) => log.push(e === 'error' ? { event: e, error: ports.err(args[0]) } : `event ${e}${args.length ? ` (${args.length} args)` : ''}`));
  }
}

/** connect() and wait (bounded) for its callback; resolves with what the callback got. */
function connectAndWait(socket, ports, ...args) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ callback: 'not called within 2 s' }), 2000);
    try {
      socket.connect(...args, (...cbArgs) => {
        clearTimeout(timer);
        resolve({ argc: cbArgs.length, err: ports.err(cbArgs[0]) });
      });
    } catch (e) {
      clearTimeout(timer);
      resolve({ threw: ports.err(e) });
    }
  });
}

const basicConnect = test.macro({
  async exec(t, type) {
    const { expected } = await parity(t, (dgram) => withReceiver(dgram, type, async ({ S, ports, box, P, LO }) => {
      const s = S.create(type);
      const log = [];
      events(s, log, ports);
      log.push({ ret: ports.attempt(() => s.connect(P, LO, function (...a) { log.push({ callback: a.length, thisIsSocket: this === s }); }), s) });
      log.push({ remoteWhileConnecting: ports.attempt(() => s.remoteAddress()) });
      log.push({ addressWhileConnecting: ports.attempt(() => s.address()) });
      queueMicrotask(() => log.push('microtask'));
      process.nextTick(() => log.push('nextTick'));
      setImmediate(() => log.push('setImmediate'));
      await waitUntil(() => log.includes('setImmediate') && log.some((l) => l.callback !== undefined));
      await sleep(20);
      ports.name(s.address().port, 's');
      const remote = s.remoteAddress();
      const out = {
        log,
        remoteAddress: ports.addr(remote),
        remoteKeys: Object.keys(remote),
        remoteIsFresh: s.remoteAddress() !== remote,
        address: ports.addr(s.address()),
      };
      out.send = await observeSend(ports, box, (cb) => s.send(`connected-${type}`, cb));
      return out;
    }));
    t.deepEqual(expected.remoteKeys, ['address', 'family', 'port']);
    t.is(expected.send.received.length, 1);
  },
  title: (_, type) => `connect(port, address, cb) (${type}): returns undefined, 'listening' → 'connect' → callback, remoteAddress() is {address, family, port}`,
});
eachFamily('connect(port, address, cb)', basicConnect);

test.serial('connect() argument forms: (port), (port, cb), (port, address), (port, "localhost", cb), (String(port)), (port, "0.0.0.0"), (port, undefined, cb)', async (t) => {
  const { expected } = await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, box, P }) => {
    const forms = [
      ['(port)', (s, done) => { s.once('connect', done); return s.connect(P); }],
      ['(port, cb)', (s, done) => s.connect(P, done)],
      ['(port, address)', (s, done) => { s.once('connect', done); return s.connect(P, '127.0.0.1'); }],
      ["(port, 'localhost', cb)", (s, done) => s.connect(P, 'localhost', done)],
      ['(String(port), cb)', (s, done) => s.connect(String(P), done)],
      ["(port, '0.0.0.0', cb)", (s, done) => s.connect(P, '0.0.0.0', done)],
      ['(port, undefined, cb)', (s, done) => s.connect(P, undefined, done)],
      ["(port, '', cb)", (s, done) => s.connect(P, '', done)],
    ];
    const out = [];
    for (const [name, fn] of forms) {
      const s = S.create('udp4');
      const errors = [];
      s.on('error', (e) => errors.push(ports.err(e)));
      let doneArgs = null;
      const ret = ports.attempt(() => fn(s, (...a) => { doneArgs = a.map((x) => ports.err(x)); }), s);
      await waitUntil(() => doneArgs || errors.length, 3000);
      ports.name(s.address().port, `s${out.length}`);
      const entry = { name, ret, doneArgs, errors, remote: ports.attempt(() => s.remoteAddress()), local: ports.attempt(() => s.address()) };
      entry.send = await observeSend(ports, box, (cb) => s.send(name, cb));
      out.push(entry);
    }
    return out;
  }));
  t.is(expected.length, 8);
  t.true(expected.every((e) => e.send.received.length === 1));
});

test.serial('connect() twice throws ERR_SOCKET_DGRAM_IS_CONNECTED, while connecting and once connected', async (t) => {
  const { expected } = await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, P }) => {
    const s = S.create('udp4');
    const log = [];
    events(s, log, ports);
    s.connect(P, () => log.push('first callback'));
    log.push({ secondWhileConnecting: ports.attempt(() => s.connect(P, () => log.push('second callback'))) });
    log.push({ secondWithBadPort: ports.attempt(() => s.connect(0)) });
    await waitUntil(() => log.includes('first callback'));
    log.push({ thirdWhenConnected: ports.attempt(() => s.connect(P)) });
    log.push({ toOtherPortWhenConnected: ports.attempt(() => s.connect(P + 1 > 65535 ? P - 1 : P + 1, '127.0.0.1')) });
    await sleep(30);
    log.push({ remote: ports.attempt(() => s.remoteAddress()) });
    return log;
  }));
  t.is(expected[0].secondWhileConnecting.error.code, 'ERR_SOCKET_DGRAM_IS_CONNECTED');
});

test.serial('remoteAddress() and disconnect() when not connected throw ERR_SOCKET_DGRAM_NOT_CONNECTED; disconnect, then connect again', async (t) => {
  const { expected } = await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, box, P }) => {
    const out = {};
    const fresh = S.create('udp4');
    out.unbound = { remote: ports.attempt(() => fresh.remoteAddress()), disconnect: ports.attempt(() => fresh.disconnect()) };
    const bound = await S.bound('udp4');
    ports.name(bound.address().port, 'bound');
    out.bound = { remote: ports.attempt(() => bound.remoteAddress()), disconnect: ports.attempt(() => bound.disconnect()) };
    const s = S.create('udp4');
    const log = [];
    events(s, log, ports);
    s.connect(P);
    out.whileConnecting = { disconnect: ports.attempt(() => s.disconnect()) };
    await waitUntil(() => log.includes('event connect'));
    ports.name(s.address().port, 's');
    out.connected = ports.attempt(() => s.remoteAddress());
    out.disconnect = ports.attempt(() => s.disconnect(), s);
    out.afterDisconnect = {
      remote: ports.attempt(() => s.remoteAddress()),
      disconnectAgain: ports.attempt(() => s.disconnect()),
      address: ports.attempt(() => s.address()),
      sendWithoutPort: ports.attempt(() => s.send('x')),
      sendCallbackOnly: ports.attempt(() => s.send('x', () => {})),
      sendNamedCallbackOnly: ports.attempt(() => s.send('x', function afterSend() {})),
    };
    out.sendWithPortAfterDisconnect = await observeSend(ports, box, (cb) => s.send('after-disconnect', P, '127.0.0.1', cb));
    out.reconnect = await connectAndWait(s, ports, P);
    out.reconnected = ports.attempt(() => s.remoteAddress());
    out.sendAfterReconnect = await observeSend(ports, box, (cb) => s.send('after-reconnect', cb));
    out.log = log;
    return out;
  }));
  t.is(expected.unbound.remote.error.code, 'ERR_SOCKET_DGRAM_NOT_CONNECTED');
  t.is(expected.afterDisconnect.remote.error.code, 'ERR_SOCKET_DGRAM_NOT_CONNECTED');
});

test.serial('connected send forms deliver to the peer; which extra port/address arguments throw ERR_SOCKET_DGRAM_IS_CONNECTED and which are ignored', async (t) => {
  const { expected } = await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, box, P }) => {
    const s = S.create('udp4');
    await connectAndWait(s, ports, P, '127.0.0.1');
    ports.name(s.address().port, 's');
    const buf = Buffer.from('abcdefgh');
    const forms = [
      ['send(buf)', () => s.send(Buffer.from('plain')), false],
      ['send(buf, cb)', (cb) => s.send(Buffer.from('with-cb'), cb)],
      ['send(string, cb)', (cb) => s.send('string-cb', cb)],
      ['send(buf, offset, length)', () => s.send(buf, 1, 3), false],
      ['send(buf, offset, length, cb)', (cb) => s.send(buf, 2, 4, cb)],
      ['send(list, cb)', (cb) => s.send(['li', 'st'], cb)],
      ['send(list)', () => s.send(['list', '-nocb']), false],
      ['send(empty, cb)', (cb) => s.send('', cb)],
      ['send(buf, offset, length, undefined, undefined, cb)', (cb) => s.send(buf, 0, 2, undefined, undefined, cb)],
      ['send(buf, offset, length, null, null, cb)', (cb) => s.send(buf, 0, 1, null, null, cb)],
      ["send(buf, offset, length, 0, '', cb)", (cb) => s.send(buf, 5, 3, 0, '', cb)],
      // Only the 4th/5th positions are checked: a port in 2nd position becomes the "callback".
      ['send(buf, port) — port ignored, no throw', () => s.send(Buffer.from('port-ignored'), P), false],
      ['send(buf, port, address) — ignored, no throw', () => s.send(Buffer.from('port-addr-ignored'), P, '127.0.0.1'), false],
      ['send(buf, port, address, cb) — cb is in the port slot', (cb) => s.send(Buffer.from('4args'), P, '127.0.0.1', cb), false],
      ['send(buf, offset, length, port) → throws', () => s.send(buf, 0, 1, P), false],
      ['send(buf, offset, length, port, address, cb) → throws', (cb) => s.send(buf, 0, 1, P, '127.0.0.1', cb), false],
      ['send(buf, offset, length, undefined, address) → throws', () => s.send(buf, 0, 1, undefined, '127.0.0.1'), false],
      ['send(buf, offset, length, cb) with length a string → offset form not taken', (cb) => s.send(buf, 0, '1', cb), false],
      ['send(bad msg) → ERR_INVALID_ARG_TYPE', () => s.send(5), false],
      ['send(buf, offset too big, length, cb)', (cb) => s.send(buf, 9, 0, cb), false],
    ];
    const out = [];
    for (const [name, fn, usesCallback = true] of forms) {
      out.push({ name, ...(await observeSend(ports, box, fn, { usesCallback, expect: 'ifSent', ms: 500 })) });
    }
    await sleep(50);
    out.push({ allReceived: box.map((m) => `${m.msg}@${ports.port(m.rinfo.port)}`) });
    return out;
  }));
  t.is(expected.find((f) => f.name.startsWith('send(buf, offset, length, port) →')).result.error.code, 'ERR_SOCKET_DGRAM_IS_CONNECTED');
  t.true(expected.at(-1).allReceived.includes('port-ignored@<s>'));
});

test.serial("sending before 'connect' fires: send(buf, cb) throws ERR_SOCKET_BAD_PORT; send(buf, port, address, cb) gets EISCONN once connected", async (t) => {
  const { expected } = await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, box, P }) => {
    const out = {};
    for (const variant of ['unbound', 'bound']) {
      const s = variant === 'bound' ? await S.bound('udp4') : S.create('udp4');
      const log = [];
      events(s, log, ports);
      s.send('queued-before-connect', P, '127.0.0.1', (e, n) => log.push({ cb: 'before connect()', err: ports.err(e), n }));
      s.connect(P, () => log.push('connect callback'));
      log.push({ sendNoPort: ports.attempt(() => s.send('no-port', (e) => log.push({ cb: 'no-port', e }))) });
      s.send('with-port', P, '127.0.0.1', (e, n) => log.push({ cb: 'with-port', err: ports.err(e), n }));
      s.send('with-port-no-cb', P, '127.0.0.1');
      await waitUntil(() => log.includes('connect callback') && log.filter((l) => l.cb).length >= 2);
      await sleep(30);
      ports.name(s.address().port, variant);
      out[variant] = log;
    }
    await sleep(20);
    out.received = box.map((m) => `${m.msg}@${ports.port(m.rinfo.port)}`);
    return out;
  }));
  t.is(expected.bound.find((l) => l.cb === 'with-port').err.code, 'EISCONN');
});

// Giving up the port on disconnect() is Linux's (its AF_UNSPEC connect unbinds
// an autobound socket); libuv on Windows keeps the handle bound, and under Wine
// the socket reports port 0 after the next send, so neither is tested there.
const disconnectTitle = 'a connected socket only receives from its peer; disconnect() gives up an ephemeral port (address() port 0, next send picks a new one) but keeps an explicit one';
(IS_WINDOWS ? test.skip : test.serial)(IS_WINDOWS ? `${disconnectTitle} [skipped: Linux's disconnect() semantics; under Wine the port reads 0 after a resend]` : disconnectTitle, async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const peer = await S.bound('udp4');
      ports.name(peer.address().port, 'peer');
      const stranger = await S.bound('udp4');
      ports.name(stranger.address().port, 'stranger');
      // A port that was free a moment ago, for the explicit-port variant.
      const probe = await S.bound('udp4');
      const fixedPort = probe.address().port;
      ports.name(fixedPort, 'fixed');
      probe.close();
      const out = {};
      for (const variant of ['ephemeral port', 'explicit port']) {
        const s = await S.bound('udp4', variant === 'explicit port' ? fixedPort : 0, '127.0.0.1');
        const firstPort = s.address().port;
        if (variant === 'ephemeral port') ports.name(firstPort, 'first');
        const box = inbox(s);
        const log = [];
        events(s, log, ports);
        await connectAndWait(s, ports, peer.address().port, '127.0.0.1');
        stranger.send('from stranger (dropped)', firstPort, '127.0.0.1');
        await sleep(20);
        peer.send('from peer', firstPort, '127.0.0.1');
        await box.waitFor(1);
        await sleep(50);
        log.push({ whileConnected: box.map((m) => describeMessage(ports, m)) });
        log.push({ disconnect: ports.attempt(() => s.disconnect()) });
        log.push({ addressAfterDisconnect: ports.attempt(() => s.address()) });
        box.length = 0;
        stranger.send('stranger to the first port', firstPort, '127.0.0.1');
        await sleep(50);
        log.push({ atFirstPortAfterDisconnect: box.map((m) => describeMessage(ports, m)) });
        const onPeer = inbox(peer);
        await new Promise((resolve) => s.send('hello again', peer.address().port, '127.0.0.1', resolve));
        await onPeer.waitFor(1);
        peer.removeAllListeners('message');
        const now = s.address().port;
        if (now !== firstPort) ports.name(now, `${variant} after resend`);
        log.push({ addressAfterSend: ports.attempt(() => s.address()), peerSaw: onPeer.map((m) => describeMessage(ports, m)) });
        box.length = 0;
        stranger.send('stranger to the current port', now, '127.0.0.1');
        peer.send('peer to the current port', now, '127.0.0.1');
        await box.waitFor(2);
        await sleep(30);
        log.push({ atCurrentPort: box.map((m) => describeMessage(ports, m)).sort((a, b) => (a.bytes < b.bytes ? -1 : 1)) });
        out[variant] = log;
        s.close();
      }
      return out;
    } finally {
      S.closeAll();
    }
  });
  const eph = Object.assign({}, ...expected['ephemeral port'].filter((l) => typeof l === 'object'));
  t.is(eph.whileConnected.length, 1);
  t.is(eph.addressAfterDisconnect.value.port, 0);
  t.is(eph.atCurrentPort.length, 2);
});

const refused = test.macro({
  async exec(t, type) {
    const { expected } = await parity(t, async (dgram) => {
      const S = new Sockets(dgram);
      const ports = new Ports();
      try {
        const dead = await S.bound(type);
        const deadPort = dead.address().port;
        ports.name(deadPort, 'dead');
        dead.close();
        const s = S.create(type);
        const log = [];
        events(s, log, ports, ['listening', 'connect', 'error', 'close', 'message']);
        log.push({ connect: await connectAndWait(s, ports, deadPort) });
        ports.name(s.address().port, 's');
        const errorsSoFar = () => log.filter((l) => l.event === 'error').length;
        for (const [i, withCallback] of [[1, true], [2, true], [3, false], [4, true]]) {
          const before = errorsSoFar();
          let called = false;
          if (withCallback) s.send(`d${i}`, (e, n) => { called = true; log.push({ cb: i, err: ports.err(e), n }); });
          else s.send(`d${i}`);
          await waitUntil(() => errorsSoFar() > before && (!withCallback || called), 2000);
          await sleep(20);
        }
        log.push({ stillConnected: ports.attempt(() => s.remoteAddress()) });
        return log;
      } finally {
        S.closeAll();
      }
    });
    const errors = expected.filter((l) => l.event === 'error');
    if (!IS_WINDOWS) {
      t.is(errors.length, 4);
      t.is(errors[0].error.syscall, 'recvmsg');
      return;
    }
    // libuv on Windows ignores the WSAECONNRESET that the port-unreachable
    // answer causes (src/win/udp.c).
    t.deepEqual(expected.filter((l) => typeof l === 'object' && 'cb' in l).map((l) => l.err), [null, null, null]);
    t.is(errors.length, 0);
  },
  title: (_, type) => (IS_WINDOWS
    ? `connected to a port nobody listens on (${type}), Windows: send callbacks succeed and no 'error' arrives (libuv ignores WSAECONNRESET)`
    : `connected to a port nobody listens on (${type}): send callbacks succeed, each datagram brings an 'error' event ECONNREFUSED from recvmsg`),
});
if (UNDER_WINE) {
  for (const type of ['udp4', 'udp6']) skipWithReason(`connected to a port nobody listens on (${type})`, WINE_ICMP_ERROR);
} else {
  eachFamily('connected to a port nobody listens on', refused);
}

test.serial('connect() argument validation: bad ports (RangeError) before bad address types (TypeError); nothing is bound afterwards', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const S = new Sockets(dgram);
    const ports = new Ports();
    try {
      const s = S.create('udp4');
      const log = [];
      events(s, log, ports);
      const cases = [
        ['()', []], ['(0)', [0]], ['(65536)', [65536]], ['(-1)', [-1]], ['(1.5)', [1.5]], ["('abc')", ['abc']],
        ["('')", ['']], ['(null)', [null]], ['(NaN)', [NaN]], ['({})', [{}]], ['(true)', [true]], ['(cb)', [() => {}]],
        ['(0, 5)', [0, 5]], ['(1234, 5)', [1234, 5]], ['(1234, {})', [1234, {}]], ['(1234, null)', [1234, null]],
        ['(1234, true, cb)', [1234, true, () => {}]], ['(1234, [], cb)', [1234, [], () => {}]],
      ];
      const out = cases.map(([name, args]) => ({ name, r: ports.attempt(() => s.connect(...args)) }));
      await sleep(30);
      out.push({ events: log, remote: ports.attempt(() => s.remoteAddress()), address: ports.attempt(() => s.address()) });
      return out;
    } finally {
      S.closeAll();
    }
  });
  t.is(expected[0].r.error.code, 'ERR_SOCKET_BAD_PORT');
  t.deepEqual(expected.at(-1).events, []);
});

test.serial('connect() lookup failure: with a callback → callback(err) after listening, no error event; without → error event; connect() works again afterwards', async (t) => {
  const { expected } = await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, box, P }) => {
    const injected = Object.assign(new Error('no such peer'), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'nowhere' });
    const calls = [];
    const lookup = (host, family, cb) => {
      calls.push([host, family]);
      if (host === 'nowhere') setImmediate(() => cb(injected));
      else setImmediate(() => cb(null, '127.0.0.1', 4));
    };
    const out = {};
    for (const withCallback of [true, false]) {
      const s = S.create({ type: 'udp4', lookup });
      const log = [];
      events(s, log, ports);
      if (withCallback) s.connect(P, 'nowhere', (...a) => log.push({ callback: a.map((e) => ports.err(e)), same: a[0] === injected }));
      else s.connect(P, 'nowhere');
      await waitUntil(() => log.some((l) => l.callback || l.event === 'error'));
      await sleep(20);
      log.push({ remote: ports.attempt(() => s.remoteAddress()) });
      log.push({ again: await connectAndWait(s, ports, P, 'somewhere') });
      ports.name(s.address().port, withCallback ? 'withCb' : 'noCb');
      log.push({ remoteAfter: ports.attempt(() => s.remoteAddress()) });
      log.push({ send: await observeSend(ports, box, (cb) => s.send(`retry-${withCallback}`, cb)) });
      out[withCallback ? 'withCallback' : 'withoutCallback'] = log;
    }
    out.lookupCalls = calls;
    return out;
  }));
  t.false(expected.withCallback.some((l) => l.event === 'error'));
  t.true(expected.withoutCallback.some((l) => l.event === 'error'));
});

test.serial("connect() to an unresolvable name via the system resolver ('.invalid'): callback vs error event", async (t) => {
  await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, P }) => {
    const out = {};
    const a = S.create('udp4');
    const logA = [];
    events(a, logA, ports);
    logA.push({ result: await connectAndWait(a, ports, P, 'no-such-host.invalid') });
    out.withCallback = logA;
    const b = S.create('udp4');
    const logB = [];
    events(b, logB, ports);
    b.connect(P, 'no-such-host.invalid');
    await waitUntil(() => logB.some((l) => l.event === 'error'), 8000);
    await sleep(20);
    out.withoutCallback = logB;
    return out;
  }));
});

test.serial('connect() with a lookup result of the wrong family fails with EINVAL (syscall connect, address = the name given)', async (t) => {
  const { expected } = await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, P }) => {
    const lookup = (host, family, cb) => process.nextTick(cb, null, host === 'six' ? '::1' : '127.0.0.1', host === 'six' ? 6 : 4);
    const out = {};
    const a = S.create({ type: 'udp4', lookup });
    const logA = [];
    events(a, logA, ports);
    logA.push({ result: await connectAndWait(a, ports, P, 'six') });
    logA.push({ remote: ports.attempt(() => a.remoteAddress()) });
    out.withCallback = logA;
    const b = S.create({ type: 'udp4', lookup });
    const logB = [];
    events(b, logB, ports);
    b.connect(P, 'six');
    await waitUntil(() => logB.some((l) => l.event === 'error'));
    await sleep(20);
    out.withoutCallback = logB;
    return out;
  }));
  t.is(expected.withCallback.at(-2).result.err.code, 'EINVAL');
});

test.serial('connect() on an unbound socket binds it implicitly (listening → connect); the local address becomes the route source', async (t) => {
  const { expected } = await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, box, P }) => {
    const calls = [];
    const lookup = (host, family, cb) => { calls.push([host, family]); process.nextTick(cb, null, host === '0.0.0.0' ? host : '127.0.0.1', 4); };
    const s = S.create({ type: 'udp4', lookup });
    const log = [];
    events(s, log, ports);
    log.push({ addressBefore: ports.attempt(() => s.address()) });
    s.connect(P, () => log.push('callback'));
    log.push({ bindWhileConnecting: ports.attempt(() => s.bind(0)) });
    await waitUntil(() => log.includes('callback'));
    ports.name(s.address().port, 's');
    log.push({ address: ports.attempt(() => s.address()) });
    log.push({ send: await observeSend(ports, box, (cb) => s.send('implicit', cb)) });
    return { log, lookupCalls: calls };
  }));
  t.deepEqual(expected.lookupCalls[0], ['0.0.0.0', 4]);
});

test.serial('connect() while an explicit bind() is in progress, and a bind() callback alongside', async (t) => {
  await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, P }) => {
    const s = S.create('udp4');
    const log = [];
    events(s, log, ports);
    s.bind(0, '127.0.0.1', () => log.push('bind callback'));
    s.connect(P, () => log.push('connect callback'));
    log.push('sync');
    process.nextTick(() => log.push('nextTick'));
    await waitUntil(() => log.includes('connect callback'));
    await sleep(20);
    ports.name(s.address().port, 's');
    log.push({ address: ports.attempt(() => s.address()), remote: ports.attempt(() => s.remoteAddress()) });
    return log;
  }));
});

test.serial('close() before connect completes: no connect event, callback never called (unbound and bound sockets)', async (t) => {
  const { expected } = await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, P }) => {
    const out = {};
    for (const variant of ['unbound', 'bound']) {
      const s = variant === 'bound' ? await S.bound('udp4') : S.create('udp4');
      const log = [];
      events(s, log, ports);
      s.connect(P, () => log.push('connect callback'));
      log.push({ close: ports.attempt(() => s.close(), s) });
      await sleep(80);
      out[variant] = log;
    }
    return out;
  }));
  t.false(expected.bound.includes('connect callback'));
});

test.serial('connect() on a closed socket, and disconnect() on a closed connected socket (node quirks: state left behind, TypeError)', async (t) => {
  const { expected } = await parity(t, (dgram) => withReceiver(dgram, 'udp4', async ({ S, ports, P }) => {
    const out = {};
    const a = S.create('udp4');
    a.close();
    out.closedUnbound = {
      connect: ports.attempt(() => a.connect(P)),
      connectAgain: ports.attempt(() => a.connect(P)),
      remote: ports.attempt(() => a.remoteAddress()),
      disconnect: ports.attempt(() => a.disconnect()),
    };
    const b = S.create('udp4');
    await connectAndWait(b, ports, P);
    b.close();
    out.closedConnected = {
      remote: ports.attempt(() => b.remoteAddress()),
      disconnect: ports.attempt(() => b.disconnect()),
      connect: ports.attempt(() => b.connect(P)),
      send: ports.attempt(() => b.send('x')),
    };
    await sleep(20);
    return out;
  }));
  t.is(expected.closedUnbound.connect.error.code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
});

// A datagram larger than the send buffer makes the kernel answer ENOBUFS:
// libuv (and so node) treats that as "wait until writable", so the send
// waits in the queue; close() then ends it with ECANCELED and its size.
test.serial('a send the send buffer cannot take waits in the queue, and close() cancels it (ECANCELED)', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const peer = dgram.createSocket('udp6');
    await new Promise((resolve) => peer.bind(0, '::1', resolve));
    const s = dgram.createSocket('udp6');
    await new Promise((resolve) => s.connect(peer.address().port, '::1', resolve));
    s.setSendBufferSize(1);
    const outcome = new Promise((resolve) => {
      s.send(Buffer.alloc(65_527), (err, bytes) => resolve({ code: err?.code, syscall: err?.syscall, bytes }));
    });
    await new Promise((resolve) => setImmediate(resolve));
    const queued = { count: s.getSendQueueCount(), size: s.getSendQueueSize() };
    s.close();
    const result = await outcome;
    peer.close();
    return { queued, result };
  });
  // libuv on Windows has no wait-for-writable queue (WSASendTo is overlapped);
  // under Wine the send fails with EINVAL. Only parity is checked there.
  if (IS_WINDOWS) return;
  t.deepEqual(expected.result, { code: 'ECANCELED', syscall: 'send', bytes: 65_527 });
  t.deepEqual(expected.queued, { count: 1, size: 65_527 });
});
