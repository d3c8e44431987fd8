// Issue 6 item 1 for fastdgram's additions (README, "Beyond node:dgram"):
// node:dgram has no counterpart to compare with, so every generated call
// must either return or throw an Error with node's shape (a `code`, or the
// TypeError node throws for a method called on a closed socket), every
// callback must run exactly once, and the process must stay healthy.
import test from 'ava';
import { createRequire } from 'node:module';
import { valueZoo } from './helpers/parity.mjs';
import { sleep, waitUntil } from './fixtures/udp.mjs';
import { untranslatedOptions } from './helpers/emulation.mjs';

const fastdgram = createRequire(import.meta.url)('..');
const SEED = Number(process.env.RELIABILITY_SEED || Math.floor(Math.random() * 2 ** 31));
const CALLS = 10000;

function generator(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

const zoo = valueZoo().map(([, value]) => value);

function pick(next, list) {
  return list[next(list.length)];
}

/** A sendMany message: mostly plausible, sometimes anything. */
function message(next, port) {
  const valid = [Buffer.from('x'), 'text', new Uint8Array(3), new DataView(new ArrayBuffer(2)), Buffer.alloc(0), Buffer.alloc(70000)];
  const data = next(4) === 0 ? pick(next, zoo) : pick(next, valid);
  switch (next(4)) {
    case 0: return data;
    case 1: return { data, port };
    case 2: return { data, port: pick(next, [port, ...zoo]), address: pick(next, ['127.0.0.1', '::1', 'localhost', 'nope.invalid', ...zoo]) };
    default: return { data, port, address: '127.0.0.1', from: pick(next, ['127.0.0.1', '127.0.0.2', '10.9.9.9', '::1', 'fe80::1%lo', 'x', ...zoo]) };
  }
}

function argumentsFor(method, next, port) {
  switch (method) {
    case 'sendMany': {
      const messages = next(5) === 0 ? pick(next, zoo) : Array.from({ length: next(6) }, () => message(next, port));
      return [messages];
    }
    case 'setTOS': return [pick(next, [0, 46, 0xb8, 255, 256, -1, ...zoo])];
    case 'messages': return next(2) ? [] : [pick(next, [{ highWaterMark: pick(next, zoo) }, ...zoo])];
    case 'pauseReceiving': return [pick(next, [true, false, ...zoo])];
    default: return [pick(next, zoo)];
  }
}

const METHODS = ['sendMany', 'setTOS', 'getTOS', 'stats', 'messages', 'pauseReceiving'];

/** A socket in one of the states a caller may meet: unbound, bound, connected or closed. */
async function socketIn(state, next, peerPort) {
  const options = { type: next(4) === 0 ? 'udp6' : 'udp4' };
  for (const key of ['recvDestination', 'dontFragment']) if (next(3) === 0) options[key] = pick(next, [true, false, ...zoo]);
  // Under qemu-user a udp6 socket with dontFragment cannot bind (IPV6_DONTFRAG
  // is not translated: an 'error' event, no bind callback to wait for).
  if (options.type === 'udp6' && options.dontFragment === true && untranslatedOptions('IPV6_DONTFRAG')) delete options.dontFragment;
  const socket = fastdgram.createSocket(options);
  socket.on('error', () => {});
  const loopback = options.type === 'udp6' ? '::1' : '127.0.0.1';
  if (state === 'bound' || state === 'connected') await new Promise((resolve) => socket.bind(0, loopback, resolve));
  if (state === 'connected') await new Promise((resolve) => socket.connect(peerPort, loopback, resolve));
  if (state === 'closed') socket.close();
  return socket;
}

test.serial(`${CALLS} generated calls of the additions (and their createSocket options): a return or a node-style error, each callback once, no crash (seed ${SEED}; replay with RELIABILITY_SEED=${SEED})`, async (t) => {
  t.timeout(120000);
  t.log(`seed ${SEED}`);
  const next = generator(SEED);
  const peer = fastdgram.createSocket('udp4');
  await new Promise((resolve) => peer.bind(0, '127.0.0.1', resolve));
  t.teardown(() => peer.close());
  const peerPort = peer.address().port;
  const pendingCallbacks = new Map();
  let calls = 0;
  let threw = 0;
  let callbackId = 0;
  const badThrows = [];
  while (calls < CALLS) {
    let socket;
    const state = pick(next, ['unbound', 'bound', 'connected', 'closed']);
    try {
      socket = await socketIn(state, next, peerPort);
    } catch (err) {
      // An invalid option: createSocket must throw node's ERR_INVALID_ARG_TYPE.
      calls++;
      threw++;
      if (err?.code !== 'ERR_INVALID_ARG_TYPE') badThrows.push(`createSocket: ${err?.stack ?? err}`);
      continue;
    }
    for (let i = 0; i < 10 && calls < CALLS; i++, calls++) {
      const method = pick(next, METHODS);
      const args = argumentsFor(method, next, peerPort);
      if (method === 'sendMany' && next(3) > 0) {
        const id = ++callbackId;
        pendingCallbacks.set(id, 0);
        args.push((err, sent) => {
          pendingCallbacks.set(id, pendingCallbacks.get(id) + 1);
          if (err && (!(err instanceof Error) || typeof err.sent !== 'number' || err.sent !== sent)) badThrows.push(`sendMany callback: ${err}`);
        });
      }
      try {
        const result = socket[method](...args);
        if (method === 'messages') await result.return();
      } catch (err) {
        threw++;
        // node's own methods on a closed socket throw a TypeError (its handle is null).
        const nodeShaped = err instanceof Error && (typeof err.code === 'string' || (err instanceof TypeError && state === 'closed'));
        if (!nodeShaped) badThrows.push(`${method}(${args.map(String).join(', ')}): ${err?.stack ?? err}`);
        if (method === 'sendMany' && args.length === 2) pendingCallbacks.delete(callbackId);
      }
    }
    try { socket.close(); } catch { /* closed already */ }
    await sleep(0);
  }
  // Every callback of a sendMany that did not throw runs exactly once.
  await waitUntil(() => [...pendingCallbacks.values()].every((count) => count > 0), 5000);
  await sleep(50);
  const counts = [...pendingCallbacks.values()];
  t.is(counts.filter((count) => count !== 1).length, 0, `callbacks not run exactly once: ${counts.filter((c) => c !== 1).length} of ${counts.length}`);
  t.deepEqual(badThrows.slice(0, 5), []);
  t.true(threw > CALLS / 20, `the generator reached the error paths (${threw} throws)`);
  t.true(threw < calls, 'and the success paths');
  t.log(`${calls} calls, ${threw} threw, ${counts.length} callbacks`);
});
