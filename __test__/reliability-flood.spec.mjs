// Reliability, items 5, 6 and 7: floods on loopback, each scenario in its
// own process (fixtures/reliability-slow-consumer.mjs, -integrity.mjs,
// -pinning.mjs), one at a time (test.serial: they measure memory and time).
import test from 'ava';
import {
  runFixture, childReport, scaled, countLabel, fmt, mib, MiB,
} from './fixtures/reliability-common.mjs';
import { UNDER_QEMU, assertRss } from './helpers/emulation.mjs';

// ---------------------------------------------------------------------------
// Item 5: slow consumer under a flood.
// Bounds on resident memory:
//   - while the event loop is blocked (the JavaScript heap cannot change, so
//     any growth is native): ≤ 24 MiB over the RSS just before the block. It
//     follows from the bounded native queue: on the I/O-thread path at most 4
//     undelivered batches of at most 64 datagrams of at most 64 KiB (16 MiB)
//     plus the 4 MiB receive area; on the JavaScript-thread path nothing is
//     queued natively (the kernel's buffer, not in RSS, holds the excess).
//     Measured from the RSS read right before the block, over the sampler's
//     samples taken within it and the RSS read right after it. (The former
//     measure ran from the sampler's mark to its answer after the block, and
//     so also counted what the event loop delivered around the block: under
//     load the answer came late, and a fresh-clone run on Node.js 26 saw
//     +31.5 MiB there.)
//   - over the whole flood: ≤ 64 MiB over the RSS before it (after a warm-up
//     and forced GC): the 24 MiB above plus V8's young generation, which
//     holds delivered Buffers until a scavenge and grows under this
//     allocation rate (node:dgram peaks at about +17 MiB under this load).
// Kernel drops = datagrams sent − datagrams delivered (fastdgram does not
// expose SO_RXQ_OVFL yet).
// ---------------------------------------------------------------------------
const BLOCKS = scaled(3, 10);
const BLOCK_MS = scaled(2_000, 3_000);

test.serial(`item 5: a flood while JavaScript blocks its event loop ${BLOCKS} times for ${fmt(BLOCK_MS)} ms${BLOCKS === 10 ? '' : ' (scaled; RELIABILITY_FULL=1 blocks 10 times for 3,000 ms)'}: RSS ≤ +24 MiB while blocked and ≤ +64 MiB overall, kernel drops counted as sent − delivered, delivery resumes after each block, a paced tail arrives in full`, async (t) => {
  t.timeout(BLOCKS * (BLOCK_MS + 1_000) + 60_000);
  const r = await runFixture('reliability-slow-consumer.mjs', ['fastdgram', BLOCKS, BLOCK_MS], { timeout: BLOCKS * (BLOCK_MS + 1_000) + 45_000, t });
  t.is(r.signal, null, `killed by a signal: ${childReport(r)}`);
  t.is(r.code, 0, `exit code ${r.code}: ${childReport(r)}`);
  t.truthy(r.result && !r.result.watchdog, `no result: ${childReport(r)}`);
  if (!r.result || r.result.watchdog) return;
  const x = r.result;
  const peakGrowth = x.peakRss - x.baseline;
  t.log(`RSS ${mib(x.baseline)} before, peak ${mib(x.peakRss)} (+${mib(peakGrowth)}, ${x.samples} samples), ${mib(x.rssAfter)} after; `
    + `sent ${fmt(x.sent)}, delivered ${fmt(x.delivered)}, dropped by the kernel ${fmt(x.dropped)} (sent − delivered); `
    + `phases ${JSON.stringify(x.phases)}; tail ${x.tailReceived}/${x.tailSent}`);
  t.true(x.samples >= (BLOCKS * (BLOCK_MS + 800)) / 20, `the RSS sampler took only ${x.samples} samples`);
  assertRss(t, peakGrowth <= 64 * MiB, `peak RSS grew by ${mib(peakGrowth)} during the flood (bound 64 MiB)`);
  t.true(x.dropped > 0, 'a flood against a blocked event loop made the kernel drop nothing: the flood is not a flood');
  t.true(x.delivered <= x.sent, `delivered ${x.delivered} datagrams of ${x.sent} sent: some twice`);
  t.is(x.phases.length, BLOCKS);
  for (const [i, p] of x.phases.entries()) {
    t.true(p.deliveredWithin300msAfterBlock > 0, `block ${i + 1}: nothing delivered in the 300 ms after the event loop was free again`);
    t.true(p.deliveredWhileRunning > 0, `phase ${i + 1}: nothing delivered while the event loop was free`);
    t.true(p.samplesWhileBlocked >= BLOCK_MS / 20, `block ${i + 1}: the RSS sampler took only ${p.samplesWhileBlocked} samples while JavaScript was blocked`);
    assertRss(t, p.rssGrowthWhileBlocked <= 24 * MiB, `block ${i + 1}: RSS grew by ${mib(p.rssGrowthWhileBlocked)} while JavaScript was blocked (bound 24 MiB; ${mib(p.rssGrowthMarkToAnswer)} from the sampler's mark to its answer)`);
  }
  t.is(x.tailReceived, x.tailSent, 'datagrams of the paced tail lost after JavaScript caught up');
});

// ---------------------------------------------------------------------------
// Item 6: integrity under load.
// ---------------------------------------------------------------------------
const DATAGRAMS = scaled(300_000, 1_000_000);

test.serial(`item 6: ${countLabel(DATAGRAMS, 1_000_000, 'sequence-numbered, checksummed datagrams')} of 0 B to 65,507 B from 3 senders at full speed within a window the 8 MiB receive buffer holds: each delivered once, intact, right rinfo, none lost; Buffers kept from the first batches unchanged after all later datagrams`, async (t) => {
  t.timeout(DATAGRAMS / 5 + 120_000);
  const r = await runFixture('reliability-integrity.mjs', [DATAGRAMS], { timeout: DATAGRAMS / 5 + 100_000, t });
  t.is(r.signal, null, `killed by a signal: ${childReport(r)}`);
  t.is(r.code, 0, `exit code ${r.code}: ${childReport(r)}`);
  t.truthy(r.result && !r.result.watchdog, `no result: ${childReport(r)}`);
  if (!r.result || r.result.watchdog) return;
  const x = r.result;
  t.log(`${fmt(x.total)} datagrams in ${x.ms} ms; receive buffer ${fmt(x.recvBufferSize)} B; per sender ${JSON.stringify(x.perSender.map(({ impl, id, sent, received, unique, stalls }) => ({ impl, id, sent, received, unique, stalls })))}; `
    + `kept ${x.kept} Buffers from ${x.keptBatches} batches, then ${fmt(x.laterDatagrams)} later datagrams; reordered ${x.reordered}`);
  t.deepEqual(x.examples, [], 'first problems found');
  t.is(x.corrupt, 0, 'datagrams with a wrong size, checksum, stream or sequence number');
  t.is(x.duplicates, 0, 'datagrams delivered more than once');
  t.is(x.badRinfo, 0, 'datagrams with a wrong rinfo (address, family, size)');
  t.is(x.unknownSource, 0, 'datagrams from a port that is none of the senders');
  for (const s of x.perSender) {
    const tiny = Object.values(s.tinySent || {}).reduce((a, b) => a + b, 0);
    t.is(s.received, s.sent, `sender ${s.id} (${s.impl}): received ${s.received} of ${s.sent} — lost with a receive buffer that holds the window`);
    t.is(s.unique + tiny, s.sent, `sender ${s.id}: distinct sequence numbers + tiny datagrams`);
    t.deepEqual(s.tinyReceived, s.tinySent, `sender ${s.id}: datagrams of 0 to 11 bytes, per size`);
    t.is(s.sendErrors, 0, `sender ${s.id}: send errors`);
  }
  t.true(x.keptBatches >= 2, `the kept Buffers come from only ${x.keptBatches} batch(es)`);
  t.true(x.laterDatagrams >= DATAGRAMS - x.kept, `only ${x.laterDatagrams} datagrams after the kept ones`);
  t.is(x.changedKept, 0, `${x.changedKept} of the ${x.kept} kept Buffers changed`);
});

// ---------------------------------------------------------------------------
// Item 7: memory a kept message pins.
// Bounds on resident memory retained (after forced GC, against the baseline):
//   ≤ 72 × the bytes kept + 16 MiB. A kept message may pin its whole batch:
//     at most 64 datagrams (one recvmmsg) of 256 B plus 12 B of metadata
//     each, 17,152 B, and its Buffer objects — 67× and a little more for
//     256-byte datagrams. A receive area kept alive behind a view (64 KiB per
//     slot, 4 MiB per batch) would be thousands of times the bytes kept.
//   ≤ 1.25 × (every datagram received, with its 12 B of metadata) + 1 KiB per
//     kept message + 16 MiB: keeping one message of every batch keeps every
//     batch, and a batch is exactly the size of its datagrams.
// ---------------------------------------------------------------------------
const PINNING = scaled(200_000, 1_000_000);

test.serial(`item 7: keeping one message out of every batch for ${countLabel(PINNING, 1_000_000, 'datagrams')} of 256 B retains ≤ 72 × the bytes kept + 16 MiB, and ≤ 1.25 × the batches' exact size + 1 KiB per kept message + 16 MiB`, async (t) => {
  t.timeout(180_000);
  const r = await runFixture('reliability-pinning.mjs', ['fastdgram', PINNING], { timeout: 170_000, t });
  t.is(r.signal, null, `killed by a signal: ${childReport(r)}`);
  t.is(r.code, 0, `exit code ${r.code}: ${childReport(r)}`);
  t.truthy(r.result && !r.result.watchdog, `no result: ${childReport(r)}`);
  if (!r.result || r.result.watchdog) return;
  const x = r.result;
  const bound = 72 * x.keptBytes + 16 * MiB;
  t.log(`${fmt(x.received)} datagrams in ${x.ms} ms; kept ${fmt(x.keptMessages)} messages (${mib(x.keptBytes)}, one per ${x.datagramsPerKept.toFixed(1)} datagrams); `
    + `retained ${mib(x.retained)} RSS (${(x.retained / x.keptBytes).toFixed(1)}× the bytes kept; ArrayBuffers +${mib(x.retainedArrayBuffers)}); bound ${mib(bound)}`);
  t.is(x.received, PINNING);
  t.true(x.keptMessages > 0 && x.intact, 'kept messages are intact');
  // Under qemu the bounds hold the ArrayBuffers retained (where received
  // datagrams live), which the emulator does not inflate; RSS is logged.
  const retained = UNDER_QEMU ? x.retainedArrayBuffers : x.retained;
  const what = UNDER_QEMU ? 'of ArrayBuffers' : 'RSS';
  t.true(retained <= bound, `retained ${mib(retained)} ${what} for ${mib(x.keptBytes)} kept (bound ${mib(bound)})`);
  const exact = 1.25 * x.received * (x.size + 12) + 1024 * x.keptMessages + 16 * MiB;
  t.true(retained <= exact, `retained ${mib(retained)} ${what}, more than the batches' exact size allows (${mib(exact)})`);
});
