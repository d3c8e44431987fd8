// receiveBlockList applied natively: datagrams from blocked sources never
// reach JavaScript. What is blocked must be exactly what the list's own
// check() says — node:dgram's rule — also after the list changes, for
// generated rules; where node:dgram has the option (Node >= 22.13), also
// side by side with it.
import test from 'ava';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { BlockList } from 'node:net';
import { Sockets, parity, sleep, waitUntil } from './fixtures/udp.mjs';
import { timeScaled } from './helpers/emulation.mjs';
import { nodeAtLeast } from './helpers/parity.mjs';
import { UNDER_WINE, WINE_LOOPBACK_SOURCES } from './helpers/platform.mjs';

// Every test here sends from several loopback addresses.
const serial = UNDER_WINE ? (title) => test.skip(`${title} [skipped: ${WINE_LOOPBACK_SOURCES}]`, () => {}) : test.serial;

const fastdgram = createRequire(import.meta.url)('..');
const NODE_HAS_BLOCK_LISTS = nodeAtLeast(22, 13);

/** Loopback sources 127.0.0.1 … 127.0.0.SOURCES: all local, so any can send. */
const SOURCES = 14;
const source = (n) => `127.0.0.${n}`;

/** Sends one datagram from each source and returns the sources whose datagram arrived. */
async function deliveredSources(dgram, list, change, out = {}) {
  const sockets = new Sockets(dgram);
  try {
    const receiver = await sockets.bound({ type: 'udp4', receiveBlockList: list }, 0, '127.0.0.1');
    const port = receiver.address().port;
    const senders = [];
    for (let n = 1; n <= SOURCES; n++) senders.push(await sockets.bound('udp4', 0, source(n)));
    const round = async (tag) => {
      const seen = new Set();
      const onMessage = (msg, rinfo) => { if (String(msg) === tag) seen.add(rinfo.address); };
      receiver.on('message', onMessage);
      for (const sender of senders) sender.send(tag, port, '127.0.0.1');
      // Then one from a source never blocked marks the end of the round.
      await sleep(timeScaled(30));
      receiver.off('message', onMessage);
      return [...seen].sort();
    };
    const before = await round('before');
    change?.(list);
    const after = await round('after');
    if (typeof receiver.stats === 'function') out.blocked = receiver.stats().blockedDatagrams;
    return { before, after };
  } finally {
    sockets.closeAll();
  }
}

/** A small deterministic generator (the seed is in the test title). */
function generator(seed) {
  let x = seed >>> 0;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

function randomRule(next) {
  const a = 1 + next(SOURCES);
  const b = Math.min(SOURCES, a + next(4));
  switch (next(6)) {
    case 0: return (l) => l.addAddress(source(a));
    case 1: return (l) => l.addRange(source(a), source(b));
    case 2: return (l) => l.addSubnet(source(a & ~3), 30);
    case 3: return (l) => l.addAddress(`::ffff:${source(a)}`, 'ipv6');
    case 4: return (l) => l.addSubnet(`::ffff:${source(a & ~7)}`, 125, 'ipv6');
    default: return (l) => l.addRange(`::ffff:${source(a)}`, `::ffff:${source(b)}`, 'ipv6');
  }
}

/** The sources the list does not block, as check() says. */
function unblocked(list) {
  const sources = [];
  for (let n = 1; n <= SOURCES; n++) if (!list.check(source(n))) sources.push(source(n));
  return sources.sort();
}

for (const seed of [1, 7, 42, 2024, 99991]) {
  serial(`seed ${seed}: generated rules, then a rule added after bind, block exactly the sources check() blocks${NODE_HAS_BLOCK_LISTS ? ', as node:dgram' : ''}`, async (t) => {
    const next = generator(seed);
    const rules = Array.from({ length: 1 + next(3) }, () => randomRule(next));
    const later = randomRule(next);
    const make = () => {
      const list = new BlockList();
      for (const rule of rules) rule(list);
      return list;
    };
    const reference = make();
    const expected = { before: unblocked(reference) };
    later(reference);
    expected.after = unblocked(reference);
    const out = {};
    const actual = await deliveredSources(fastdgram, make(), later, out);
    if (NODE_HAS_BLOCK_LISTS) t.deepEqual(await deliveredSources(dgram, make(), later), expected, 'node:dgram blocks what check() says');
    // The lists really split the sources (the comparison is not vacuous).
    t.true(expected.before.length < SOURCES, 'some sources blocked');
    t.deepEqual(actual.before, expected.before);
    t.deepEqual(actual.after, expected.after);
    const blockedCount = (SOURCES - expected.before.length) + (SOURCES - expected.after.length);
    t.is(out.blocked, blockedCount, 'stats().blockedDatagrams counts what was dropped natively');
  });
}

const REMOVE_TITLE = 'Node 24: a rule removed after bind (removeAddress) lets its source through again, as node:dgram';
const removeAfterBind = UNDER_WINE ? serial
  : nodeAtLeast(24) ? test.serial
    : (title, fn) => test.serial.skip(`${title} [skipped: node ${process.version}: compared from Node 24 on (node 20's net.BlockList has no removeAddress)]`, fn);
removeAfterBind(REMOVE_TITLE, async (t) => {
  const { actual, expected } = await parity(t, (dgram) => {
    const list = new BlockList();
    list.addAddress(source(3));
    list.addAddress(source(5));
    return deliveredSources(dgram, list, (l) => l.removeAddress(source(3)));
  });
  t.false(expected.before.includes(source(3)));
  t.true(expected.after.includes(source(3)));
  t.deepEqual(actual.before, expected.before);
  t.deepEqual(actual.after, expected.after);
});

serial("blocked datagrams are dropped before batching: 'messages' never carries them either", async (t) => {
  const { createRequire } = await import('node:module');
  const fastdgram = createRequire(import.meta.url)('..');
  const sockets = new Sockets(fastdgram);
  t.teardown(() => sockets.closeAll());
  const list = new BlockList();
  list.addAddress(source(2));
  const receiver = await sockets.bound({ type: 'udp4', receiveBlockList: list }, 0, '127.0.0.1');
  const port = receiver.address().port;
  const good = await sockets.bound('udp4', 0, source(1));
  const bad = await sockets.bound('udp4', 0, source(2));
  const seen = [];
  receiver.on('messages', (batch) => seen.push(...batch.map(({ rinfo }) => rinfo.address)));
  for (let i = 0; i < 100; i++) {
    bad.send('x', port, '127.0.0.1');
    good.send('y', port, '127.0.0.1');
  }
  t.true(await waitUntil(() => seen.length >= 100, 3000));
  await sleep(30);
  t.deepEqual([...new Set(seen)], [source(1)]);
  t.is(seen.length, 100);
  t.is(receiver.stats().blockedDatagrams, 100);
});
