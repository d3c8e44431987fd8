// Reliability, item 4: close() during traffic (fixtures/reliability-close.mjs,
// one process per implementation, the same seed for both).
//
// What it requires of fastdgram:
//   - every send callback runs at most once;
//   - every send that reached the socket before close() — close() on the next
//     tick, from inside another send's callback, after a setImmediate — has
//     its callback run exactly once, with success or an error (oversized
//     datagrams among them fail with EMSGSIZE);
//   - sends whose address lookup had not finished when close() was called
//     (close() in the same tick as send(), or a hostname still resolving):
//     node:dgram drops them without calling back (lib/dgram.js doSend returns
//     when the handle is gone); fastdgram must call back exactly as often as
//     node:dgram does for the same seeded sequence;
//   - no 'message' after close() returned, none after 'close', 'close'
//     exactly once — closing from inside a 'message' handler in the middle of
//     a burst, from a microtask or process.nextTick it queued, or from a timer;
//   - afterwards: descriptors back to the start, a round trip on a new
//     socket works, no uncaught exception. (On Windows the descriptors are
//     not counted: there is no /proc/self/fd; the title says so.)
import test from 'ava';
import { runFixture, childReport, scaled, countLabel } from './fixtures/reliability-common.mjs';
import { IS_WINDOWS, NO_PROC_ON_WINDOWS } from './helpers/platform.mjs';

const ROUNDS = scaled(150, 1_000);
const SEED = Number(process.env.RELIABILITY_SEED || Math.floor(Math.random() * 2 ** 31));

test(`item 4: ${countLabel(ROUNDS, 1_000, 'rounds of close() during sends and during delivery')}: callbacks exactly once (as node:dgram where it drops them), no 'message' after close, 'close' once, process healthy (seed ${SEED})${IS_WINDOWS ? ` (descriptors not counted on Windows: ${NO_PROC_ON_WINDOWS})` : ''}`, async (t) => {
  t.timeout(ROUNDS * 400 + 60_000);
  const [node, fast] = await Promise.all([
    runFixture('reliability-close.mjs', ['node:dgram', ROUNDS, SEED], { timeout: ROUNDS * 300 + 30_000, t }),
    runFixture('reliability-close.mjs', ['fastdgram', ROUNDS, SEED], { timeout: ROUNDS * 300 + 30_000, t }),
  ]);
  t.is(fast.signal, null, `fastdgram: killed by a signal: ${childReport(fast)}`);
  t.is(fast.code, 0, `fastdgram: exit code ${fast.code}: ${childReport(fast)}`);
  t.truthy(fast.result && fast.result.stats && !fast.result.watchdog, `fastdgram: no result: ${childReport(fast)}`);
  if (!fast.result || !fast.result.stats || fast.result.watchdog) return;
  const s = fast.result.stats;
  const n = (k) => s[k] || 0;
  t.log(`fastdgram: ${fast.result.ms} ms; ${JSON.stringify(s)}`);

  for (const mode of ['same-tick', 'next-tick', 'in-callback', 'immediate', 'lookup-pending']) {
    t.true(n(`send-${mode}: sends`) > 0, `no sends in mode ${mode}`);
    t.is(n(`send-${mode}: callbacks run more than once`), 0, `send-${mode}: a callback ran more than once`);
  }
  for (const mode of ['next-tick', 'in-callback', 'immediate']) {
    t.is(n(`send-${mode}: callbacks run once`), n(`send-${mode}: sends`), `send-${mode}: every send that reached the socket calls back exactly once`);
    t.true(n(`send-${mode}: callbacks with an error`) > 0, `send-${mode}: oversized datagrams were sent, yet no callback got an error`);
  }
  for (const mode of ['in-handler', 'in-microtask', 'timer']) {
    const rounds = n(`deliver-${mode}: rounds`);
    t.true(rounds > 0, `no delivery rounds in mode ${mode}`);
    t.is(n(`deliver-${mode}: messages after close() returned`), 0, `deliver-${mode}: 'message' after close() returned`);
    t.is(n(`deliver-${mode}: messages after 'close'`), 0, `deliver-${mode}: 'message' after 'close'`);
    t.is(n(`deliver-${mode}: rounds with 'close' emitted 1 times`), rounds, `deliver-${mode}: 'close' not emitted exactly once in every round`);
    t.is(n(`deliver-${mode}: rounds where the close point was not reached`), 0, `deliver-${mode}: datagrams were lost before the close point`);
  }
  if (!IS_WINDOWS) t.is(fast.result.fdsAtEnd, fast.result.fdsAtStart, 'open descriptors after all rounds');
  t.true(fast.result.echoed, 'a round trip on a new socket after all rounds');
  t.deepEqual(fast.result.uncaught, [], 'uncaught exceptions');

  // Where node:dgram drops callbacks (close before the lookup finished), the same counts.
  t.is(node.code, 0, `node:dgram's run failed: ${childReport(node)}`);
  if (!node.result || !node.result.stats) return;
  for (const mode of ['same-tick', 'lookup-pending']) {
    for (const what of ['sends', 'callbacks run 0 times', 'callbacks run once', 'callbacks with an error']) {
      const key = `send-${mode}: ${what}`;
      t.is(n(key), node.result.stats[key] || 0, `${key}: fastdgram ${n(key)}, node:dgram ${node.result.stats[key] || 0}`);
    }
  }
});
