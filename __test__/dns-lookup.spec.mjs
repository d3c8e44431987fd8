// Parity: a program that replaces dns.lookup (a DNS cache, a test mock, a
// tracer). Node.js 20 and 22 read dns.lookup when a socket is created and
// call it even for IP literals (bind() with no address looks up 0.0.0.0);
// Node.js 24 and 26 resolve a literal of the socket's family themselves and
// read dns.lookup at each call for the rest. Each scenario runs in a child
// process (fixtures/dns-lookup.mjs), once with node:dgram and once with
// fastdgram, on the running Node.js; every call the replacement got (address,
// family, arguments, `this`) and every event, in order, must be the same.
import test from 'ava';
import { IPV6, fixtureParity, skipWithReason } from './fixtures/udp.mjs';

const compare = (t, scenario) => fixtureParity(t, 'dns-lookup.mjs', [scenario]);

const lookups = (result) => result.log.filter((entry) => entry.lookup !== undefined).map((entry) => entry.lookup);
const READS_AT_CREATION = Number(process.versions.node.split('.')[0]) <= 22;

test('dns.lookup replaced after loading: bind() with no address, connect() without an address, sends to a literal and to a name call it as node:dgram does', async (t) => {
  const expected = await compare(t, 'after-load');
  // What the running node:dgram did (the parity above is the test; this says which behaviour it was).
  t.deepEqual(lookups(expected), READS_AT_CREATION
    ? ['0.0.0.0', '0.0.0.0', '0.0.0.0', '127.0.0.1', '127.0.0.1', 'localhost']
    : ['localhost']);
  t.deepEqual(expected.received, ["server got 'to a literal'", "server got 'to a name'", "server got 'to connected peer'"]);
});

test('dns.lookup replaced before the module is loaded: the replacement is called as node:dgram calls it', async (t) => {
  await compare(t, 'before-load');
});

test('dns.lookup replaced after the sockets were made: node:dgram 20/22 keep the one they read, 24/26 ask the new one for names', async (t) => {
  const expected = await compare(t, 'after-socket');
  t.deepEqual(lookups(expected), READS_AT_CREATION ? [] : ['localhost', 'localhost']);
});

test('a replaced dns.lookup that calls back synchronously: events, send callbacks and datagrams in node:dgram\'s order', async (t) => {
  await compare(t, 'synchronous');
});

test('a replaced dns.lookup that fails: the same errors, as events or to send callbacks', async (t) => {
  await compare(t, 'failing');
});

(IPV6 ? test : (title) => skipWithReason(title, 'no ::1 on this machine'))('udp6: the replacement gets :: and ::1 with family 6 as node:dgram gives them', async (t) => {
  const expected = await compare(t, 'udp6');
  if (READS_AT_CREATION) t.true(lookups(expected).includes('::'));
});
