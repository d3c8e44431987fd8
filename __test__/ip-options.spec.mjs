// fastdgram's per-socket IP options beyond node:dgram: setTOS()/getTOS() and
// the dontFragment option. node:dgram has neither, so its nearest relatives
// are the reference: setTTL() for setTOS's validation and errors, node's
// boolean option checks for dontFragment, and node's EMSGSIZE send error for
// the error an oversized dontFragment datagram gets. (That the TOS byte is
// really on the wire is checked in Rust: crates/core/src/ip_options.rs.)
//
// The dontFragment tests need a path MTU below loopback's, so they run in a
// network namespace made for each test (deleted in t.teardown) whose `lo` has
// an MTU of 1,500, in a child process (fixtures/ip-options-netns.mjs).
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { attemptFull, describeErrorFull, implementations, implSpecifier } from './helpers/parity.mjs';
import { untranslatedOptions } from './helpers/emulation.mjs';
import { IS_WINDOWS } from './helpers/platform.mjs';
import {
  IPV6, NETNS, Sockets, createNetns, runFixture, skipWithReason,
} from './fixtures/udp.mjs';

const nodeDgram = implementations['node:dgram'];
const fastdgram = implementations.fastdgram;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TYPES = IPV6 ? ['udp4', 'udp6'] : ['udp4'];
const PATH_MTU = 1500;

/** node's setTTL outcome, renamed to what the same outcome of setTOS is called. */
function asSetTos(outcome, method = 'setTOS') {
  return JSON.parse(JSON.stringify(outcome)
    .replaceAll('setTTL', method)
    .replaceAll('\\"ttl\\"', '\\"tos\\"'));
}

/** A socket of each implementation in the same state: 'unbound', 'bound' or 'closed'. */
async function socketIn(sockets, state, type) {
  if (state === 'unbound') return sockets.create(type);
  const socket = await sockets.bound(type);
  if (state === 'closed') socket.close();
  return socket;
}

// Values on which TOS and TTL share a valid range: TOS also accepts 0 (and
// NaN, converted to 0), which TTL refuses; see the round-trip test.
const TOS_VALUES = [
  ['64', 64], ['255', 255], ['1', 1], ['1.5', 1.5], ['2**32 + 5', 2 ** 32 + 5], ['-1', -1], ['256', 256],
  ['1000', 1000], ['-2**31', -(2 ** 31)], ["'64'", '64'], ['undefined', undefined], ['null', null],
  ['true', true], ['{}', {}], ['64n', 64n], ['Symbol', Symbol('tos')],
];

// Windows has no IPV6_TCLASS socket option: there setTOS/getTOS on udp6 give
// ENOTSUP (README, Platforms), checked by the next test instead.
const NO_TCLASS = 'Windows has no IPV6_TCLASS option: setTOS/getTOS on udp6 give ENOTSUP there';
if (IS_WINDOWS && TYPES.includes('udp6')) {
  test('udp6 on Windows: setTOS() and getTOS() on a bound socket throw ENOTSUP (no IPV6_TCLASS)', async (t) => {
    const sockets = new Sockets(fastdgram);
    t.teardown(() => sockets.closeAll());
    const socket = await sockets.bound('udp6');
    t.like(t.throws(() => socket.setTOS(64)), { code: 'ENOTSUP', syscall: 'setTOS' });
    t.like(t.throws(() => socket.getTOS()), { code: 'ENOTSUP', syscall: 'getTOS' });
  });
}
const tosTest = (type, title, ...rest) => (type === 'udp6' && IS_WINDOWS
  ? test.skip(`${title} [skipped: ${NO_TCLASS}]`, ...rest)
  : test(title, ...rest));

for (const type of TYPES) {
  tosTest(type, `${type}: setTOS() and getTOS() round-trip on a bound socket; tos is converted to an integer as setTTL's ttl`, async (t) => {
    const sockets = new Sockets(fastdgram);
    t.teardown(() => sockets.closeAll());
    const socket = await sockets.bound(type);
    t.is(socket.getTOS(), 0, 'nothing set: 0');
    for (const [tos, expected] of [[0xb8, 0xb8], [0x02, 0x02], [255, 255], [0, 0], [46 << 2 | 1, 0xb9], [2 ** 32 + 46, 46], [7.9, 7], [NaN, 0]]) {
      t.is(socket.setTOS(tos), tos, `setTOS(${tos}) returns its argument`);
      t.is(socket.getTOS(), expected, `after setTOS(${tos})`);
    }
    const other = await sockets.bound(type);
    t.is(other.getTOS(), 0, 'each socket has its own');
  });

  for (const state of ['unbound', 'bound', 'closed']) {
    (state === 'bound' ? tosTest : (_, ...rest) => test(...rest))(type, `${type}, ${state} socket: setTOS(value) throws or returns as node's setTTL(value) does (class, code, errno, syscall, message, keys)`, async (t) => {
      const nodeSockets = new Sockets(nodeDgram);
      const fastSockets = new Sockets(fastdgram);
      t.teardown(() => { nodeSockets.closeAll(); fastSockets.closeAll(); });
      const nodeSocket = await socketIn(nodeSockets, state, type);
      const fastSocket = await socketIn(fastSockets, state, type);
      for (const [label, value] of TOS_VALUES) {
        const expected = asSetTos(attemptFull(() => nodeSocket.setTTL(value)));
        const actual = JSON.parse(JSON.stringify(attemptFull(() => fastSocket.setTOS(value))));
        t.deepEqual(actual, expected, `setTOS(${label})`);
      }
      const nodeUnboundShape = asSetTos(attemptFull(() => nodeSocket.setTTL(64)), 'getTOS');
      const getTos = JSON.parse(JSON.stringify(attemptFull(() => fastSocket.getTOS())));
      if (state === 'bound') t.deepEqual(getTos, { threw: false, value: 5 }, 'the last valid value set (2**32 + 5 → 5)');
      else t.deepEqual(getTos, nodeUnboundShape, 'getTOS() fails as setTTL(64) does');
      if (state === 'unbound') t.is(getTos.error.code, 'EBADF');
      if (state === 'closed') t.is(getTos.error.class, 'TypeError');
    });
  }
}

test('dontFragment: a boolean or undefined; anything else throws ERR_INVALID_ARG_TYPE as node checks a boolean option', (t) => {
  const sockets = new Sockets(fastdgram);
  t.teardown(() => sockets.closeAll());
  for (const value of [undefined, false, true]) {
    const outcome = attemptFull(() => sockets.create({ type: 'udp4', dontFragment: value }));
    t.false(outcome.threw, `dontFragment: ${value}`);
  }
  // EventEmitter checks its (truthy) captureRejections option with node's validateBoolean.
  for (const [label, value] of [["'yes'", 'yes'], ['1', 1], ['{}', {}], ['[]', []], ['Symbol', Symbol('df')]]) {
    const node = describeErrorFull(captureError(() => new EventEmitter({ captureRejections: value })));
    const expected = JSON.parse(JSON.stringify(node).replaceAll('captureRejections', 'dontFragment'));
    const actual = describeErrorFull(captureError(() => fastdgram.createSocket({ type: 'udp4', dontFragment: value })));
    t.deepEqual(actual, expected, `dontFragment: ${label}`);
  }
  for (const [label, value] of [['null', null], ['0', 0], ["''", '']]) {
    const error = captureError(() => fastdgram.createSocket({ type: 'udp6', dontFragment: value }));
    t.is(error?.code, 'ERR_INVALID_ARG_TYPE', `dontFragment: ${label}`);
    t.true(error instanceof TypeError);
    t.regex(error.message, /^The "options\.dontFragment" property must be of type boolean\. Received /);
  }
});

test('dontFragment: the options node:dgram knows are still checked first and as node does', (t) => {
  const bad = { type: 'udp5', dontFragment: 'yes' };
  const expected = describeErrorFull(captureError(() => nodeDgram.createSocket(bad)));
  const actual = describeErrorFull(captureError(() => fastdgram.createSocket(bad)));
  t.deepEqual(actual, expected);
  t.is(actual.code, 'ERR_SOCKET_BAD_TYPE');
});

function captureError(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// In a network namespace whose lo has an MTU of 1,500
// ---------------------------------------------------------------------------

function namespaceWithPathMtu(t) {
  const ns = createNetns(t);
  execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'mtu', String(PATH_MTU)], { stdio: 'ignore', timeout: 10000 });
  return ns;
}

// Each of them sends with dontFragment (IPV6_DONTFRAG) and reads err.mtu (IP_MTU).
const DONT_FRAGMENT_UNTRANSLATED = untranslatedOptions('IP_MTU', 'IPV6_DONTFRAG');

function nsTest(title, body) {
  if (!NETNS.ok || DONT_FRAGMENT_UNTRANSLATED) {
    skipWithReason(title, NETNS.ok ? DONT_FRAGMENT_UNTRANSLATED : NETNS.reason);
    return;
  }
  test.serial(title, async (t) => {
    t.timeout(60000);
    await body(t, namespaceWithPathMtu(t));
  });
}

/** What a dontFragment send that is too large must give: node's send error plus `mtu`. */
function assertEmsgsize(t, step, label, { address, port = '<receiver>', received = [] } = {}) {
  t.truthy(step.err, `${label}: the callback got an error (${JSON.stringify(step)})`);
  if (!step.err) return;
  t.is(step.err.code, 'EMSGSIZE', label);
  t.is(step.err.syscall, 'send', label);
  t.is(step.err.mtu, PATH_MTU, `${label}: err.mtu is the path MTU`);
  if (address !== undefined) {
    t.is(step.err.address, address, label);
    t.is(step.err.port, port, label);
  }
  t.deepEqual(step.received, received, `${label}: what arrived meanwhile`);
}

nsTest(`dontFragment, path MTU ${PATH_MTU}: a 2,000-byte datagram fails with EMSGSIZE and err.mtu === ${PATH_MTU} (bound, implicitly bound, connected, bind({ fd }), in a burst, callback after close); smaller ones and sockets without it deliver intact; IPv4, IPv6 and IPv4-mapped`, async (t, ns) => {
  const run = await runFixture('ip-options-netns.mjs', [implSpecifier('fastdgram')], { netns: ns, timeout: 25000 });
  const r = run.result;
  t.truthy(r, `the fixture printed a result (exit ${run.exitCode}, stderr: ${run.stderr})`);
  t.is(r.scenarioThrew, undefined);
  t.is(r.watchdog, undefined);
  for (const [type, address] of [['udp4', '127.0.0.1'], ['udp6', '::1']]) {
    const f = r[type];
    const { oversized, fits } = f.expected;
    assertEmsgsize(t, f.oversized, `${type} bound`, { address });
    t.deepEqual(f.fits.received, [fits], `${type}: ${fits.size} bytes fit the path MTU and arrive`);
    t.is(f.fits.err, null);
    assertEmsgsize(t, f.oversizedInBurst, `${type} burst: the datagram sent with it arrives`, { address, received: [fits] });
    assertEmsgsize(t, f.connectedOversized, `${type} connected`);
    t.deepEqual(f.connectedFits.received, [fits]);
    assertEmsgsize(t, f.implicitBindOversized, `${type} implicit bind`, { address });
    assertEmsgsize(t, f.fdOversized, `${type} bind({ fd })`, { address });
    assertEmsgsize(t, f.closedBeforeCallback, `${type} callback after close`, { address });
    t.is(f.closedBeforeCallback.extra, 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'the socket was closed when the callback ran');
    t.is(f.withoutDontFragment.err, null, `${type} without dontFragment`);
    t.is(f.withoutDontFragment.bytes, oversized.size);
    t.deepEqual(f.withoutDontFragment.received, [oversized], `${type}: without dontFragment it leaves in fragments and arrives intact`);
    // The error is node's own EMSGSIZE send error (here for a datagram above
    // 65,507 bytes, which node:dgram cannot send either), plus `mtu`.
    const { mtu, keys, ...shape } = f.oversized.err;
    const { keys: nodeKeys, ...nodeShape } = f.nodeEmsgsize.err;
    t.deepEqual(shape, nodeShape, `${type}: same class, code, errno, syscall, message, address, port as node's`);
    t.deepEqual(keys, [...nodeKeys, 'mtu'].sort(), `${type}: node's keys plus mtu`);
  }
  assertEmsgsize(t, r.udp6.mappedOversized, 'udp6 to an IPv4-mapped address', { address: '::ffff:127.0.0.1' });
});

async function readmeExample() {
  const docs = await readFile(new URL('../docs/api.md', import.meta.url), 'utf8');
  const match = docs.match(/### `options\.dontFragment`\n[\s\S]*?```js\n([\s\S]*?)```/);
  return match?.[1];
}

test('the docs/api.md example of dontFragment and setTOS runs: on host loopback the 2,000 bytes arrive', async (t) => {
  const code = await readmeExample();
  t.truthy(code, 'docs/api.md has the example');
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', code], { cwd: ROOT, timeout: 10_000 });
  t.is(stdout, 'TOS 184\nreceived 2000 bytes\n');
});

nsTest(`the docs/api.md example of dontFragment and setTOS runs: where the path MTU is ${PATH_MTU}, EMSGSIZE with the MTU`, async (t, ns) => {
  const code = await readmeExample();
  t.truthy(code, 'docs/api.md has the example');
  const { stdout } = await promisify(execFile)('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { cwd: ROOT, timeout: 10_000 });
  t.is(stdout, `TOS 184\nEMSGSIZE: path MTU ${PATH_MTU}\n`);
});
