// Reliability, item 1: bad input, everywhere. A fast-check property
// (fixtures/reliability-fuzz.mjs, in a child process so that a crash is a
// failure with the seed on record, not a lost test worker) calls every
// documented method of dgram.Socket in every state (unbound, binding, bound,
// connected, closed) and dgram.createSocket, with generated arguments of every
// JavaScript type and edge value — negative, fractional, huge, NaN, empty,
// wrong-typed nested arrays, detached ArrayBuffers, closed sockets, strings
// with NUL bytes, oversized datagrams, throwing proxies and getters, lookup
// functions that throw or never answer — on node:dgram and on fastdgram, and
// requires for every call the same throw or no-throw, the same error class,
// code and message, the same return value, then the same asynchronous
// outcomes (events, callbacks, uncaught exceptions), and a process that
// never crashes.
//
// The seed is random per run and printed in the test title; replay a failure
// with RELIABILITY_SEED=<seed> (and RELIABILITY_FUZZ_PATH=<path> from the
// failure report to go straight to the shrunk counterexample).
import test from 'ava';
import { runFixture, childReport, fmt } from './fixtures/reliability-common.mjs';

const SEED = Number(process.env.RELIABILITY_SEED || Math.floor(Math.random() * 2 ** 31));
const MIN_CALLS = 10_000;
const BUDGET_MS = 100_000;

test(`item 1: at least ${fmt(MIN_CALLS)} generated calls on node:dgram and fastdgram side by side: same throw/no-throw, error class, code and message, same asynchronous outcomes, no crash (seed ${SEED}; replay with RELIABILITY_SEED=${SEED})`, async (t) => {
  t.timeout(BUDGET_MS + 60_000);
  const args = [SEED, MIN_CALLS, BUDGET_MS];
  if (process.env.RELIABILITY_FUZZ_PATH) args.push(process.env.RELIABILITY_FUZZ_PATH);
  const r = await runFixture('reliability-fuzz.mjs', args, { timeout: BUDGET_MS + 45_000, t });
  t.log(`seed ${SEED}: ${r.result ? `${fmt(r.result.totalCalls)} calls in ${r.result.numRuns} runs, ${r.result.ms} ms` : 'no result'}`);
  t.true(r.stdout.startsWith(`SEED ${SEED}\n`), 'the fixture printed its seed first');
  t.is(r.signal, null, `the fuzz process was killed by a signal (seed ${SEED}): ${childReport(r)}`);
  t.is(r.code, 0, `the fuzz process exited with ${r.code} (seed ${SEED}): ${childReport(r)}`);
  t.truthy(r.result, `no RESULT line (seed ${SEED}): ${childReport(r)}`);
  if (!r.result) return;
  t.falsy(r.result.watchdog, `the fuzz process ran out of time: ${JSON.stringify(r.result)}`);
  if (r.result.failure) {
    const f = r.result.failure;
    t.fail(`node:dgram and fastdgram differ (seed ${SEED}, path ${f.path}${f.interrupted ? ', interrupted by the time budget' : ''}; `
      + `replay: RELIABILITY_SEED=${SEED} RELIABILITY_FUZZ_PATH=${f.path}):\n${f.error}\n`
      + `counterexample: ${JSON.stringify(f.counterexample, null, 2)}`);
  }
  t.false(r.result.failed, 'the property failed');
  t.true(r.result.totalCalls >= MIN_CALLS, `only ${r.result.totalCalls} generated calls ran`);
  t.deepEqual(r.result.stray, [], 'uncaught errors outside any scenario');
});

// What the property found, as fixed cases (fixtures/reliability-corpus.mjs):
// each runs on every run, whatever the seed, on both implementations in
// processes of their own. Cases where Node.js 24 changed node:dgram's
// behaviour (fastdgram follows 24) are compared under Node.js >= 24 only.
const NODE24 = Number(process.versions.node.split('.')[0]) >= 24;
const corpus = (async () => {
  const [node, fast] = await Promise.all([
    runFixture('reliability-corpus.mjs', ['node:dgram'], { timeout: 30_000, nodeArgs: [] }),
    runFixture('reliability-corpus.mjs', ['fastdgram'], { timeout: 30_000, nodeArgs: [] }),
  ]);
  return { node, fast };
})();

const CORPUS = [
  'send(detached Uint8Array, port, address, cb) on a bound socket',
  'bind(a closed socket)',
  'addMembership(Symbol(), "127.0.0.1")',
  'dropMembership(Symbol(), "x") on an unbound socket',
  'dropMembership("127.0.0.1\\0", "127.0.0.1") on an unbound udp6 socket, then address()',
  'setMulticastInterface("127.0.0.1\\0") on a bound udp4 socket',
  'send(buf, port, "127.0.0.1") on a udp6 socket connect()ing in the same tick',
];
const CORPUS_24 = [
  'addMembership(Symbol()) without an interface',
  'dropMembership([Symbol()])',
  'addMembership(a Proxy whose traps throw)',
  'dropMembership(a detached Uint8Array)',
];

for (const [name, group] of [...CORPUS.map((n) => [n, 'cases']), ...CORPUS_24.map((n) => [n, 'cases24'])]) {
  const only24 = group === 'cases24';
  const title = `item 1 (found by the property, kept): ${name} — as node:dgram, no uncaught exception${only24 ? ' (Node.js 24 behaviour)' : ''}`;
  if (only24 && !NODE24) {
    test.skip(`${title} — skipped: node ${process.versions.node} predates the behaviour fastdgram follows`, (t) => t.fail());
    continue;
  }
  test(title, async (t) => {
    t.timeout(60_000);
    const { node, fast } = await corpus;
    t.is(fast.signal, null, `fastdgram: killed by a signal: ${childReport(fast)}`);
    t.is(fast.code, 0, `fastdgram: exit code ${fast.code}: ${childReport(fast)}`);
    t.is(node.code, 0, `node:dgram: exit code ${node.code}: ${childReport(node)}`);
    const got = fast.result && fast.result[group] && fast.result[group][name];
    const want = node.result && node.result[group] && node.result[group][name];
    t.truthy(got, `fastdgram ran no case '${name}': ${childReport(fast)}`);
    t.truthy(want, `node:dgram ran no case '${name}': ${childReport(node)}`);
    t.deepEqual(got, want);
  });
}
