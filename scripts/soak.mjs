#!/usr/bin/env node
// Soak test for fastdgram (outside CI): `npm run soak -- --minutes 10`.
//
// For the given time, this process keeps doing, all at once:
//   - create → bind → send → receive → close cycles, one after another;
//   - a flood: a sender process (node:dgram) sends as fast as it can to a
//     fastdgram socket here, and every 5 s this process blocks its event loop
//     for 1 s (a slow consumer); kernel drops = sent − delivered (fastdgram
//     does not expose SO_RXQ_OVFL yet);
//   - integrity: every flood datagram carries its sequence number and a
//     checksum; a wrong one is counted as corrupt;
//   - worker_threads workers that open, use and close sockets (every third
//     one terminated while busy);
//   - sockets created and dropped without close().
// Every --interval seconds (default 30) it prints, after a forced GC: RSS,
// open descriptors, threads, cycles, workers, datagrams delivered and
// dropped in the interval and in total. At the end it compares the samples
// of the second fifth of the run with those of the last fifth and exits 1
// unless resident memory stayed within --rss-slack MiB (default 16), the
// descriptors and threads stayed flat (medians within 4 and 1: samples are
// taken while cycles and workers run), no datagram was corrupt and no cycle
// or worker failed. Give it a few minutes: V8 sizes its heap during the first
// minute or two, so a short run judges the warm-up, not the steady state.
import { spawn } from 'node:child_process';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import {
  FASTDGRAM, loadImpl, sleep, rss, openFds, threadCount, blockFor, fnv1a, mib,
} from '../__test__/fixtures/reliability-common.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i !== -1 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const MINUTES = option('minutes', 10);
const INTERVAL_S = option('interval', MINUTES >= 5 ? 30 : 10);
const RSS_SLACK_MIB = option('rss-slack', 16);
if (!(MINUTES > 0) || !(INTERVAL_S > 0)) {
  console.error('usage: npm run soak -- --minutes N [--interval S] [--rss-slack MiB]');
  process.exit(2);
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const forceGc = async () => {
  for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setImmediate(r)); }
};

const dgram = loadImpl('fastdgram');
const END = Date.now() + MINUTES * 60_000;
const running = () => Date.now() < END;
const counters = { cycles: 0, cycleErrors: 0, workers: 0, workerProblems: 0, dropped: 0, delivered: 0, corrupt: 0, sent: 0 };

// ---------------------------------------------------------------------------
// Cycles.
// ---------------------------------------------------------------------------
async function cycles() {
  while (running()) {
    try {
      const s = dgram.createSocket(counters.cycles % 2 ? 'udp6' : 'udp4');
      const address = counters.cycles % 2 ? '::1' : '127.0.0.1';
      await new Promise((resolve, reject) => { s.once('error', reject); s.bind(0, address, resolve); });
      const got = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no datagram within 2 s')), 2000);
        s.once('message', () => { clearTimeout(timer); resolve(); });
      });
      s.send('cycle', s.address().port, address);
      await got;
      await new Promise((resolve) => s.close(resolve));
      counters.cycles += 1;
    } catch {
      counters.cycleErrors += 1;
    }
    if (counters.cycles % 50 === 0) {
      // Sockets dropped without close(), never bound.
      for (let i = 0; i < 20; i++) dgram.createSocket('udp4').on('message', () => {});
      await sleep(1);
    }
  }
}

// ---------------------------------------------------------------------------
// Flood with a slow consumer, and integrity of what arrives.
// ---------------------------------------------------------------------------
async function flood() {
  const receiver = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  receiver.on('message', (msg) => {
    counters.delivered += 1;
    if (msg.length < 8 || fnv1a(msg, 8) !== msg.readUInt32LE(4)) counters.corrupt += 1;
  });
  await new Promise((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const port = receiver.address().port;
  // An inline sender: sequence number, checksum, payload.
  const code = `
    const s = require('node:dgram').createSocket('udp4');
    const fnv = (b, start) => { let h = 0x811c9dc5; for (let i = start; i < b.length; i++) { h ^= b[i]; h = Math.imul(h, 0x01000193) >>> 0; } return h >>> 0; };
    let seq = 0; let stop = false;
    process.on('message', (m) => { if (m === 'stop') { stop = true; s.close(); process.send({ sent: seq }); process.disconnect(); } else if (m === 'count') process.send({ sent: seq }); });
    const sizes = [64, 512, 1400, 9000, 65507];
    (function go() {
      if (stop) return;
      for (let i = 0; i < 32; i++) {
        const b = Buffer.alloc(sizes[seq % sizes.length], seq & 0xff);
        b.writeUInt32LE(seq, 0); b.writeUInt32LE(fnv(b, 8), 4);
        s.send(b, ${port}, '127.0.0.1'); seq++;
      }
      setTimeout(go, 1);
    })();`;
  const sender = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  floodSender = sender;
  process.on('exit', () => sender.kill('SIGKILL'));
  let nextBlock = Date.now() + 5000;
  while (running()) {
    await sleep(50);
    if (Date.now() >= nextBlock) {
      blockFor(1000);
      nextBlock = Date.now() + 5000;
    }
  }
  floodSender = null;
  const sent = await new Promise((resolve) => { sender.once('message', (m) => resolve(m.sent)); sender.send('stop'); });
  counters.sent = sent;
  await sleep(200);
  receiver.close();
}

let floodSender = null;
/** How many datagrams the flood's sender has sent so far. */
function senderCount(fallback) {
  const sender = floodSender;
  if (!sender) return Promise.resolve(counters.sent || fallback);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), 2000);
    sender.once('message', (m) => { clearTimeout(timer); resolve(m.sent); });
    sender.send('count');
  });
}

// ---------------------------------------------------------------------------
// Workers.
// ---------------------------------------------------------------------------
const workerCode = (terminate) => `
const { parentPort } = require('node:worker_threads');
const dgram = require(${JSON.stringify(FASTDGRAM)});
(async () => {
  const sockets = [];
  for (let i = 0; i < 3; i++) {
    const s = dgram.createSocket('udp4');
    s.on('message', () => {});
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    sockets.push(s);
  }
  const b = Buffer.alloc(800);
  if (${terminate}) {
    const go = () => { for (const s of sockets) for (let i = 0; i < 10; i++) s.send(b, s.address().port, '127.0.0.1'); setImmediate(go); };
    go();
    parentPort.postMessage('busy');
    return;
  }
  for (const s of sockets) s.send(b, s.address().port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 20));
  for (const s of sockets) s.close();
  parentPort.postMessage('done');
})();`;

async function workers() {
  while (running()) {
    const terminate = counters.workers % 3 === 2;
    const w = new Worker(workerCode(terminate), { eval: true });
    w.on('error', () => { counters.workerProblems += 1; });
    const exited = new Promise((resolve) => w.once('exit', resolve));
    await new Promise((resolve) => { w.once('message', resolve); w.once('exit', resolve); });
    if (terminate) { await sleep(20); await w.terminate(); }
    const code = await exited;
    if (code !== 0 && !(terminate && code === 1)) counters.workerProblems += 1;
    counters.workers += 1;
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------
// Reporting.
// ---------------------------------------------------------------------------
const samples = [];
let lastDelivered = 0;
let lastSent = 0;
function printSample(sample) {
  const dInt = sample.delivered - lastDelivered;
  const droppedInt = Math.max(0, (sample.sent - lastSent) - dInt);
  const droppedTotal = Math.max(0, sample.sent - sample.delivered);
  lastDelivered = sample.delivered;
  lastSent = sample.sent;
  console.log(`${sample.t.toFixed(1).padStart(5)} ${(sample.rss / 1048576).toFixed(1).padStart(10)} ${String(sample.fds).padStart(4)} ${String(sample.threads).padStart(8)} `
    + `${String(sample.cycles).padStart(9)} ${String(sample.workers).padStart(8)} ${String(dInt).padStart(15)} ${String(droppedInt).padStart(12)} `
    + `${String(sample.delivered).padStart(11)} ${String(droppedTotal).padStart(11)} ${String(counters.corrupt).padStart(8)} ${String(counters.cycleErrors + counters.workerProblems).padStart(7)}`);
}
async function takeSample(started, sent) {
  await forceGc();
  return {
    t: (Date.now() - started) / 60_000, rss: rss(), fds: openFds(), threads: threadCount(),
    cycles: counters.cycles, workers: counters.workers, delivered: counters.delivered, sent,
  };
}
async function report(started) {
  console.log(`soak: ${MINUTES} min, a line every ${INTERVAL_S} s; fastdgram from ${FASTDGRAM}; node ${process.version}`);
  console.log('  min   RSS(MiB)  fds  threads    cycles  workers   delivered/int  dropped/int   delivered     dropped  corrupt  errors');
  for (;;) {
    await sleep(Math.min(INTERVAL_S * 1000, Math.max(0, END - Date.now())));
    if (END - Date.now() < 1000) return; // the last line comes once everything has stopped
    // The sender's count is taken first: delivered can only have grown since.
    const sent = await senderCount(lastSent);
    const sample = await takeSample(started, sent);
    samples.push(sample);
    printSample(sample);
  }
}

const started = Date.now();
await Promise.all([cycles(), workers(), flood(), report(started)]);
{
  const sample = await takeSample(started, counters.sent);
  samples.push(sample);
  printSample(sample);
}

// ---------------------------------------------------------------------------
// Verdict.
// ---------------------------------------------------------------------------
const fifth = Math.max(1, Math.floor(samples.length / 5));
const early = samples.slice(fifth, 2 * fifth);
const late = samples.slice(-fifth);
const avg = (xs, k) => xs.reduce((a, x) => a + x[k], 0) / xs.length;
const median = (xs, k) => { const v = xs.map((x) => x[k]).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
const verdict = [];
if (early.length && late.length) {
  const rssGrowth = avg(late, 'rss') - avg(early, 'rss');
  verdict.push([`RSS ${mib(avg(early, 'rss'))} → ${mib(avg(late, 'rss'))} (within ${RSS_SLACK_MIB} MiB)`, rssGrowth <= RSS_SLACK_MIB * 1048576]);
  // Descriptors and threads are sampled while cycles and workers run, so a
  // sample catches some in use: compare medians, with that much leeway.
  verdict.push([`descriptors (median) ${median(early, 'fds')} → ${median(late, 'fds')} (within 4)`, median(late, 'fds') <= median(early, 'fds') + 4]);
  verdict.push([`threads (median) ${median(early, 'threads')} → ${median(late, 'threads')} (within 1)`, median(late, 'threads') <= median(early, 'threads') + 1]);
} else {
  verdict.push(['too few samples to judge (run longer, or use a shorter --interval)', false]);
}
verdict.push([`corrupt datagrams: ${counters.corrupt}`, counters.corrupt === 0]);
verdict.push([`failed cycles: ${counters.cycleErrors}, worker problems: ${counters.workerProblems}`, counters.cycleErrors === 0 && counters.workerProblems === 0]);
verdict.push([`flood: ${counters.sent} sent, ${counters.delivered} delivered, ${Math.max(0, counters.sent - counters.delivered)} dropped by the kernel (sent − delivered)`, counters.delivered > 0 && counters.delivered <= counters.sent]);
let ok = true;
console.log('soak verdict:');
for (const [text, pass] of verdict) {
  console.log(`  ${pass ? 'ok  ' : 'FAIL'} ${text}`);
  ok &&= pass;
}
process.exit(ok ? 0 : 1);
