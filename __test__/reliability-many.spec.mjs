// Reliability, item 8: many sockets (fixtures/reliability-many.mjs).
//   - 5,000 sockets bound at once on loopback, each receiving a datagram:
//     resident memory per socket (after forced GC, against a baseline with
//     one socket already used) ≤ 1.5 × node:dgram's, measured the same way in
//     a process of its own just before; no thread per socket (threads grow by
//     at most 2 for all 5,000); descriptors back after closing them.
//   - At the descriptor limit (`ulimit -n 256` in the child's shell), EMFILE
//     arrives as node:dgram's error — same class, code, errno, syscall,
//     message — not a crash or a hang, also when the limit is already reached
//     before the first socket is created; freeing descriptors makes sockets
//     work again.
// On Windows both skip, each saying why (no /proc, no `ulimit -n`).
import test from 'ava';
import { runFixture, childReport, fmt, KiB } from './fixtures/reliability-common.mjs';
import { NO_PROC_ON_WINDOWS, NO_ULIMIT_ON_WINDOWS, unlessWindows } from './helpers/platform.mjs';

const SOCKETS = 5_000;

unlessWindows(test.serial, NO_PROC_ON_WINDOWS)(`item 8: ${fmt(SOCKETS)} sockets bound at once, each receiving a datagram: RSS per socket ≤ 1.5 × node:dgram's, no thread per socket, descriptors back after close`, async (t) => {
  t.timeout(120_000);
  const node = await runFixture('reliability-many.mjs', ['node:dgram', 'memory', SOCKETS], { timeout: 50_000, t });
  const fast = await runFixture('reliability-many.mjs', ['fastdgram', 'memory', SOCKETS], { timeout: 50_000, t });
  for (const [name, r] of [['node:dgram', node], ['fastdgram', fast]]) {
    t.is(r.signal, null, `${name}: killed by a signal: ${childReport(r)}`);
    t.is(r.code, 0, `${name}: exit code ${r.code}: ${childReport(r)}`);
    t.truthy(r.result && !r.result.watchdog, `${name}: no result: ${childReport(r)}`);
  }
  if (!node.result || !fast.result || node.result.watchdog || fast.result.watchdog) return;
  const f = fast.result;
  const n = node.result;
  t.log(`RSS per socket: fastdgram ${(f.perSocket / KiB).toFixed(2)} KiB (JS heap ${(f.heapPerSocket / KiB).toFixed(2)} KiB), `
    + `node:dgram ${(n.perSocket / KiB).toFixed(2)} KiB (JS heap ${(n.heapPerSocket / KiB).toFixed(2)} KiB), ratio ${(f.perSocket / n.perSocket).toFixed(2)}; `
    + `threads ${f.threadsBefore} → ${f.threadsWithAll}; set-up ${f.setupMs} ms`);
  t.is(f.bindErrors, 0, `bind errors: ${JSON.stringify(f.firstBindError)}`);
  t.true(f.allReceived, `${f.received} of ${SOCKETS} sockets received their datagram`);
  t.true(f.perSocket <= 1.5 * n.perSocket,
    `fastdgram uses ${(f.perSocket / KiB).toFixed(2)} KiB per socket, node:dgram ${(n.perSocket / KiB).toFixed(2)} KiB: ${(f.perSocket / n.perSocket).toFixed(2)}× (bound 1.5×)`);
  t.true(f.threadsWithAll <= f.threadsBefore + 2, `threads: ${f.threadsBefore} with one socket, ${f.threadsWithAll} with ${SOCKETS}`);
  t.is(f.fdsAfterClose, f.fdsBefore, 'descriptors after closing every socket');
});

for (const prefill of [false, true]) {
  unlessWindows(test, NO_ULIMIT_ON_WINDOWS)(`item 8: at the descriptor limit (ulimit -n 256)${prefill ? ', reached before the first socket is created,' : ''} EMFILE arrives as node:dgram's error, no crash or hang, and sockets work again once descriptors are free`, async (t) => {
    t.timeout(60_000);
    const run = (impl) => runFixture('reliability-many.mjs', [impl, 'emfile', prefill ? 1 : 0], { timeout: 30_000, shellPrefix: 'ulimit -n 256;', t });
    const [node, fast] = await Promise.all([run('node:dgram'), run('fastdgram')]);
    t.is(fast.signal, null, `fastdgram: killed by a signal: ${childReport(fast)}`);
    t.false(fast.timedOut, `fastdgram: hung at the limit: ${childReport(fast)}`);
    t.is(fast.code, 0, `fastdgram: exit code ${fast.code}: ${childReport(fast)}`);
    t.truthy(fast.result && !fast.result.watchdog, `fastdgram: no result: ${childReport(fast)}`);
    if (!fast.result || fast.result.watchdog) return;
    const f = fast.result;
    t.log(`fastdgram: limit ${f.limit}, ${f.opened} sockets opened in ${f.msToLimit} ms, then ${JSON.stringify(f.firstError)}; after freeing: ${JSON.stringify(f.afterFreeing)}`);
    t.is(f.limit, 256);
    t.truthy(f.firstError, 'no error at the descriptor limit');
    t.is(f.firstError && f.firstError.code, 'EMFILE');
    t.is(f.firstError && f.firstError.syscall, 'bind');
    t.is(f.afterFreeing, 'bound', 'a socket after descriptors were freed');
    t.is(f.roundTrip, 'round trip', 'a round trip after descriptors were freed');
    t.is(f.closeAfterErrorThrew, undefined, 'close() after the EMFILE error threw');
    t.is(node.code, 0, `node:dgram's run failed: ${childReport(node)}`);
    if (!node.result) return;
    t.deepEqual(f.firstError, node.result.firstError, 'the EMFILE error, as node:dgram gives it');
    if (!prefill) t.true(Math.abs(f.opened - node.result.opened) <= 8, `sockets before the limit: fastdgram ${f.opened}, node:dgram ${node.result.opened}`);
  });
}
