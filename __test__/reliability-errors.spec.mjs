// Reliability, item 2: no panic reaches Node. Every native error path that
// loopback can provoke (EMSGSIZE, EBADF from a descriptor closed behind the
// socket's back or not yet created, EADDRINUSE, EADDRNOTAVAIL, EINVAL,
// EACCES, ECONNREFUSED, foreign descriptors) arrives as a JavaScript error
// with node's code and syscall — checked against fixed expectations and
// against node:dgram in the same scenario — and a generated-argument fuzz of
// every entry point of the native binding never takes the process down.
//
// ENOBUFS is not provoked: on loopback the kernel answers a full send buffer
// with EAGAIN (which fastdgram queues, as libuv does), and neither this
// machine's loopback nor its qdisc ever returns ENOBUFS for UDP. EMFILE is
// provoked in reliability-many.spec.mjs.
import test from 'ava';
import { runFixture, childReport } from './fixtures/reliability-common.mjs';
import { MULTICAST_INTERFACE_UNTRANSLATED } from './helpers/emulation.mjs';
import { IS_WINDOWS, NO_SOCKET_FD_ON_WINDOWS, UNDER_WINE, WINE_ICMP_ERROR, uvErrno } from './helpers/platform.mjs';

const SCENARIOS = ['emsgsize', 'closed-descriptor', 'no-descriptor', 'bind', 'send', 'econnrefused', 'sockopt', 'foreign-descriptor'];

// What fastdgram must report, per observation (a subset of the fields; the
// rest must equal node:dgram's).
const EXPECT = {
  emsgsize: {
    'udp4 65507 bytes': { error: null, bytes: 65507 },
    'udp4 65508 bytes': { error: { code: 'EMSGSIZE', syscall: 'send', errno: uvErrno('EMSGSIZE') } },
    'udp4 70000 bytes': { error: { code: 'EMSGSIZE', syscall: 'send' } },
    'udp4 list of 60000 + 6000 bytes': { error: { code: 'EMSGSIZE', syscall: 'send' } },
    'udp6 65527 bytes': { error: null, bytes: 65527 },
    'udp6 65528 bytes': { error: { code: 'EMSGSIZE', syscall: 'send' } },
    'connected udp4 65508 bytes': { error: { code: 'EMSGSIZE', syscall: 'send' } },
    'largest datagram the sink received': 65507,
  },
  'closed-descriptor': {
    'new socket descriptors': 1,
    send: { error: { code: 'EBADF', syscall: 'send', errno: uvErrno('EBADF') } },
    'address()': { threw: true, error: { code: 'EBADF', syscall: 'getsockname' } },
    'setTTL(5)': { threw: true, error: { code: 'EBADF', syscall: 'setTTL' } },
    'setBroadcast(true)': { threw: true, error: { code: 'EBADF', syscall: 'setBroadcast' } },
    'getRecvBufferSize()': { threw: true, error: { code: 'ERR_SOCKET_BUFFER_SIZE', info: { code: 'EBADF', syscall: 'uv_recv_buffer_size' } } },
    'setSendBufferSize(65536)': { threw: true, error: { code: 'ERR_SOCKET_BUFFER_SIZE', info: { code: 'EBADF', syscall: 'uv_send_buffer_size' } } },
    'close()': { threw: false },
    'close callback': true,
    alive: true,
  },
  'no-descriptor': {
    'address() unbound': { threw: true, error: { code: 'EBADF', syscall: 'getsockname' } },
    'setTTL(5) unbound': { threw: true, error: { code: 'EBADF', syscall: 'setTTL' } },
    'getRecvBufferSize() unbound': { threw: true, error: { code: 'ERR_SOCKET_BUFFER_SIZE', info: { code: 'EBADF' } } },
    'address() closed': { threw: true, error: { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' } },
    'close() closed': { threw: true, error: { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' } },
  },
  bind: {
    'bind to a taken port': { code: 'EADDRINUSE', syscall: 'bind', address: '127.0.0.1', port: '<taken>' },
    'bind to an address this host does not have': { code: 'EADDRNOTAVAIL', syscall: 'bind', address: '192.0.2.1', port: 4242 },
    'bind a udp6 socket to an IPv4 address': { code: 'EINVAL', syscall: 'bind' },
  },
  send: {
    'to 255.255.255.255 without setBroadcast': { error: { code: 'EACCES', syscall: 'send' } },
    'udp4 socket to ::1': { error: { code: 'EINVAL', syscall: 'send' } },
  },
  econnrefused: {
    "connected socket 'error' event": { code: 'ECONNREFUSED', syscall: 'recvmsg' },
  },
  sockopt: {
    'dropMembership of a group never joined': { threw: true, error: { code: 'EADDRNOTAVAIL', syscall: 'dropMembership' } },
    'addMembership of a unicast address': { threw: true, error: { code: 'EINVAL', syscall: 'addMembership' } },
    'setMulticastInterface to an address this host does not have': { threw: true, error: { code: 'EADDRNOTAVAIL', syscall: 'setMulticastInterface' } },
    'setTTL(0)': { threw: true, error: { code: 'EINVAL', syscall: 'setTTL' } },
    'setMulticastTTL(256)': { threw: true, error: { code: 'EINVAL', syscall: 'setMulticastTTL' } },
  },
  'foreign-descriptor': {
    'bind({ fd }) of a file': { threw: true, error: { code: 'ERR_INVALID_FD_TYPE', message: 'Unsupported fd type: FILE' } },
    'bind({ fd }) of a closed descriptor': { threw: true, error: { code: 'ERR_INVALID_FD_TYPE', message: 'Unsupported fd type: UNKNOWN' } },
    'bind({ fd }) of a TCP socket': { threw: true, error: { code: 'ERR_INVALID_FD_TYPE', message: 'Unsupported fd type: TCP' } },
  },
};

// qemu-user answers ENOPROTOOPT there, to node:dgram too (compared below all the same).
if (MULTICAST_INTERFACE_UNTRANSLATED) delete EXPECT.sockopt['setMulticastInterface to an address this host does not have'];

/** Whether `actual` has every field of `expected` (deeply), with equal values. */
function matches(actual, expected) {
  if (expected === null || typeof expected !== 'object') return Object.is(actual, expected);
  if (actual === null || typeof actual !== 'object') return false;
  return Object.entries(expected).every(([k, v]) => matches(actual[k], v));
}

// Windows: what libuv and node's lib/dgram.js do there (docs/windows-port.md §2).
if (IS_WINDOWS) {
  // libuv has no socket before the first bind: getsockopt(INVALID_SOCKET) is WSAENOTSOCK.
  EXPECT['no-descriptor']['getRecvBufferSize() unbound'].error.info.code = 'ENOTSOCK';
  // Sockets have no descriptor there (fd -1), so bind({ fd }) takes the ordinary bind path.
  EXPECT['foreign-descriptor']['bind({ fd }) of a TCP socket'] = { threw: false };
}
// Wine's answers, which node.exe's own node:dgram gets too (seen here): a
// bind to an address the host does not have succeeds (Wine binds it; Windows
// gives WSAEADDRNOTAVAIL), and the two membership/interface refusals are
// WSAEINVAL where Linux says EADDRNOTAVAIL.
if (UNDER_WINE) {
  EXPECT.bind['bind to an address this host does not have'] = { listening: { address: '192.0.2.1', port: 4242 } };
  EXPECT.sockopt['dropMembership of a group never joined'].error.code = 'EINVAL';
  EXPECT.sockopt['setMulticastInterface to an address this host does not have'].error.code = 'EINVAL';
}

/** Why a scenario cannot run on this platform, or null. */
function skipReason(scenario) {
  if (scenario === 'closed-descriptor' && IS_WINDOWS) return `it closes the socket's descriptor found in /proc/self/fd; ${NO_SOCKET_FD_ON_WINDOWS}`;
  if (scenario === 'econnrefused' && UNDER_WINE) return WINE_ICMP_ERROR;
  return null;
}

for (const scenario of SCENARIOS) {
  const reason = skipReason(scenario);
  const title = `item 2: native error path '${scenario}' gives node's error codes and syscalls, as node:dgram does, and the process survives`;
  if (reason) {
    test.skip(`${title} [skipped: ${reason}]`, () => {});
    continue;
  }
  test(title, async (t) => {
    t.timeout(30_000);
    const [node, fast] = await Promise.all([
      runFixture('reliability-native-errors.mjs', ['node:dgram', scenario], { timeout: 15_000, nodeArgs: [], t }),
      runFixture('reliability-native-errors.mjs', ['fastdgram', scenario], { timeout: 15_000, nodeArgs: [], t }),
    ]);
    t.is(fast.signal, null, `fastdgram's process was killed by a signal: ${childReport(fast)}`);
    t.is(fast.code, 0, `fastdgram's process failed: ${childReport(fast)}`);
    t.truthy(fast.result && fast.result.observations, `no RESULT from fastdgram: ${childReport(fast)}`);
    if (!fast.result || !fast.result.observations) return;
    const got = new Map(fast.result.observations);
    for (const [label, expected] of Object.entries(EXPECT[scenario])) {
      t.true(got.has(label), `fastdgram made no observation '${label}'`);
      t.true(matches(got.get(label), expected), `'${label}': expected ${JSON.stringify(expected)}, fastdgram gave ${JSON.stringify(got.get(label))}`);
    }
    t.false(got.has('uncaught exception'), `uncaught exception in fastdgram: ${JSON.stringify(got.get('uncaught exception'))}`);
    // And the same as node:dgram, observation by observation.
    t.is(node.code, 0, `node:dgram's process failed (the scenario itself is wrong): ${childReport(node)}`);
    if (node.result) t.deepEqual(fast.result.observations, node.result.observations);
  });
}

test('item 2: the binding\'s Buffer arguments (sendLater, sendBatch) given values that are not Buffers throw a JavaScript Error, never abort the process (Node.js 20.11 asserts in napi_get_buffer_info)', async (t) => {
  const r = await runFixture('reliability-non-buffer.mjs', [], { timeout: 30_000, t });
  t.is(r.signal, null, `killed by a signal: ${childReport(r)}`);
  t.is(r.code, 0, `exited with ${r.code}: ${childReport(r)}`);
  t.truthy(r.result, `no RESULT: ${childReport(r)}`);
  if (!r.result) return;
  t.is(r.result.outcomes.length, 24);
  for (const o of r.result.outcomes) t.deepEqual(o, { call: o.call, label: o.label, threw: true, isError: true });
});

test('item 2: every entry point of the native binding, called with 20,000 generated arguments of every type and a wrong `this`, returns or throws a JavaScript Error and never aborts the process', async (t) => {
  t.timeout(60_000);
  const seed = Number(process.env.RELIABILITY_SEED || Math.floor(Math.random() * 2 ** 31));
  t.log(`seed ${seed} (replay: RELIABILITY_SEED=${seed})`);
  const r = await runFixture('reliability-native-fuzz.mjs', [seed, 20000], { timeout: 50_000, t });
  t.is(r.signal, null, `killed by a signal (seed ${seed}): ${childReport(r)}`);
  t.is(r.code, 0, `exited with ${r.code} (seed ${seed}): ${childReport(r)}`);
  t.truthy(r.result, `no RESULT (seed ${seed}): ${childReport(r)}`);
  if (!r.result) return;
  t.log(`${r.result.calls} calls: ${r.result.returned} returned, ${r.result.threw} threw; entry points: ${r.result.entryPoints.join(', ')}`);
  t.true(r.result.calls >= 20000, `only ${r.result.calls} calls ran`);
  t.true(r.result.entryPoints.length >= 10, `found only ${r.result.entryPoints.length} entry points in the binding`);
  t.deepEqual(r.result.nonErrorThrows, [], 'something other than an Error was thrown');
  t.true(r.result.returned > r.result.calls / 5, 'most calls were refused at argument conversion: the fuzz did not reach native code');
  // Native objects the calls dropped without closing are released by GC.
  if (r.result.fdsAtStart === null) {
    t.log('descriptors not counted: this platform has no /proc/self/fd');
    return;
  }
  t.true(r.result.fdsAfterGc <= r.result.fdsAtStart + 4,
    `descriptors: ${r.result.fdsAtStart} at start, ${r.result.fdsBeforeGc} before GC, ${r.result.fdsAfterGc} after GC`);
});
