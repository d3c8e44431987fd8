// Pooled batch memory (crates/node/src/batch_memory.rs): a received batch's
// memory is reused only after JavaScript let go of every message in it.
// The scenario runs in its own process (fixtures/kept-messages.mjs,
// --expose-gc): a handler keeps every message of every other round of
// 50 × 4,096-byte datagrams (one batch of 205,400 bytes per round, above the
// 128 KiB from which batches take pooled memory), the rounds between are
// dropped and collected (forced GC), so later rounds reuse their memory;
// every kept message must still hold its own bytes at the end.
import test from 'ava';
import { runFixture, childReport } from './fixtures/reliability-common.mjs';

const ROUNDS = 40;
const PER_ROUND = 50;
const SIZE = 4096;
const POOLED_FROM = 128 * 1024;

for (const impl of ['fastdgram', 'node:dgram']) {
  test(`${impl}: ${ROUNDS / 2 * PER_ROUND} kept messages of ${ROUNDS * PER_ROUND}, received across ${ROUNDS} rounds with forced GC between, are intact at the end`, async (t) => {
    t.timeout(90_000);
    const r = await runFixture('kept-messages.mjs', [impl, ROUNDS, PER_ROUND, SIZE], { timeout: 80_000, t });
    t.is(r.code, 0, childReport(r));
    const out = r.result;
    t.truthy(out, childReport(r));
    t.is(out.received, ROUNDS * PER_ROUND, childReport(r));
    t.is(out.kept, (ROUNDS / 2) * PER_ROUND);
    t.deepEqual(out.damaged, [], `kept messages whose bytes changed (sequence numbers): ${out.damaged}`);
    t.true(out.collected > 0, `no dropped batch was collected: nothing went back to be reused (${JSON.stringify(out)})`);
    if (impl === 'fastdgram') {
      t.true(out.largestBatchBytes >= POOLED_FROM, `no batch reached pooled size: ${JSON.stringify(out)}`);
    }
  });
}
