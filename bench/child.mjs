// One measurement of one scenario for one module, in a fresh process started
// by bench/run.mjs. Usage:
//   node bench/child.mjs SCENARIO MODULE FAMILY SIZE JSON_OPTIONS
// SCENARIO is recv | send | echo | pingpong | reuseport | sendmany |
// batchrecv | batchecho | echoload | capacity | probe, MODULE is node (node:dgram) or fast (fastdgram, this
// repository). Every line written on stdout is one JSON object: {"port":N}
// when a socket is ready, {"mark":"start"|"end"} around the send window,
// {"result":{...}} at the end, {"error":"..."} on failure.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const [scenario, moduleName, familyArg, sizeArg, optsArg] = process.argv.slice(2);
const family = Number(familyArg);
const size = Number(sizeArg);
const opts = JSON.parse(optsArg || '{}');
const dgram = moduleName === 'node' ? require('node:dgram') : require(root);
const type = family === 6 ? 'udp6' : 'udp4';
if (moduleName === 'fast' && (dgram === require('node:dgram') || dgram.Socket === require('node:dgram').Socket)) {
  // e.g. FASTDGRAM_FALLBACK=node with no loadable binary: that is not fastdgram
  process.stdout.write(`${JSON.stringify({ error: 'fastdgram resolved to node:dgram (fallback), not measured' })}\n`);
  process.exit(1);
}
const loopback = family === 6 ? '::1' : '127.0.0.1';

function out(obj) {
  // stdout is a pipe: synchronous on Linux, so marks leave at once
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function fail(message) {
  out({ error: String(message) });
  process.exit(1);
}

// Hard bound on the process's life (the parent also kills it on its own timeout).
const lifetime = setTimeout(() => fail(`${scenario} timed out in the child`), opts.maxMs ?? 30000);
lifetime.unref();

function vmHWMKiB() {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : process.resourceUsage().maxRSS;
}

const cpuNs = (u) => (u.user + u.system) * 1000;

// fastdgram's count of buffers that UDP GRO handed over whole (gsorecv: proof that GRO was used).
const coalescedOf = (sock) => (typeof sock.stats === 'function' ? sock.stats().coalescedBuffers : undefined);

function finish(result) {
  out({ result });
  process.exit(0);
}

// The receiving socket of the flood scenarios: the default receive buffer,
// or opts.recvBufferSize (the bench's --recv-buffer).
function receiver() {
  return opts.recvBufferSize ? dgram.createSocket({ type, recvBufferSize: opts.recvBufferSize }) : dgram.createSocket(type);
}

// recv: count the datagrams the C blaster gets delivered to 'message'.
function recv() {
  underFlood(null);
}

// echoload: every datagram of the blaster's flood sent back with send(), no
// callback (an offered load node:dgram cannot keep up with): the datagrams
// handled and the CPU per datagram.
function echoload() {
  underFlood((sock, msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
}

// Counts the datagrams the C blaster gets delivered to 'message', where
// `answer(sock, msg, rinfo)` (if given) also runs, over the window after the warm-up.
function underFlood(answer) {
  const sock = receiver();
  let count = 0;
  let bytes = 0;
  sock.on('message', (msg, rinfo) => {
    count++;
    bytes += msg.length;
    if (answer) answer(sock, msg, rinfo);
  });
  sock.on('error', fail);
  sock.once('message', () => {
    setTimeout(() => {
      const c0 = count;
      const b0 = bytes;
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      setTimeout(() => {
        const n = count - c0;
        const cpu = process.cpuUsage(cpu0);
        const ns = Number(process.hrtime.bigint() - t0);
        finish({ count: n, ns, cpuNs: cpuNs(cpu), maxRssKiB: vmHWMKiB(), badSize: n * size - (bytes - b0), coalesced: coalescedOf(sock) });
      }, opts.windowMs);
    }, opts.warmupMs);
  });
  sock.bind(0, loopback, () => out({ port: sock.address().port }));
}

// send: socket.send(buf, port, addr, cb) as fast as possible with at most
// opts.inflight callbacks outstanding, to the C sink at opts.port.
function send() {
  const sock = dgram.createSocket(type);
  sock.on('error', fail);
  const buf = Buffer.alloc(size, 0x73);
  const limit = opts.inflight;
  const port = opts.port;
  let inflight = 0;
  let completed = 0;
  let errors = 0;
  let firstError = null;
  let stopped = false;
  let sinceYield = 0;
  let yielding = false;
  let onDrained = null;

  function onSent(err) {
    inflight--;
    if (err) {
      errors++;
      firstError ??= err.code || String(err);
    } else {
      completed++;
    }
    if (stopped) {
      if (inflight === 0 && onDrained) onDrained();
    } else if (!yielding) {
      pump();
    }
  }
  function resume() {
    yielding = false;
    pump();
  }
  function pump() {
    while (inflight < limit && !stopped) {
      inflight++;
      sock.send(buf, port, loopback, onSent);
      // callbacks arrive on later ticks; give the event loop (timers) a turn
      // now and then so that the window can end
      if (++sinceYield >= 256) {
        sinceYield = 0;
        yielding = true;
        setImmediate(resume);
        return;
      }
    }
  }

  sendWindow(() => completed, (window) => {
    stopped = true;
    const result = { ...window, errors, firstError };
    if (inflight === 0) finish(result);
    onDrained = () => finish(result);
  });
  pump();
}

// After the warm-up, marks the send window on stdout and measures it: how
// far `completed()` advanced, in how long, with how much CPU.
function sendWindow(completed, onEnd) {
  setTimeout(() => {
    out({ mark: 'start' });
    const c0 = completed();
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    setTimeout(() => {
      const count = completed() - c0;
      const cpu = process.cpuUsage(cpu0);
      const ns = Number(process.hrtime.bigint() - t0);
      out({ mark: 'end' });
      onEnd({ count, ns, cpuNs: cpuNs(cpu) });
    }, opts.windowMs);
  }, opts.warmupMs);
}

// echo: send every datagram back to its sender until stdin closes.
function echo() {
  echoServer((sock, counted) => {
    sock.on('message', (msg, rinfo) => {
      counted(1);
      sock.send(msg, rinfo.port, rinfo.address);
    });
  });
}

// batchecho: echo with fastdgram's batch APIs: each 'messages' batch goes
// back with one sendMany (one sendmmsg).
function batchecho() {
  echoServer((sock, counted) => {
    if (typeof sock.sendMany !== 'function') fail('not available: socket.sendMany is not a function');
    sock.on('messages', (batch) => {
      counted(batch.length);
      sock.sendMany(batch.map(({ msg, rinfo }) => ({ data: msg, port: rinfo.port, address: rinfo.address })));
    });
  });
}

// An echo server: `answer(sock, counted)` sets up the replies; the port goes
// out when bound, the count of echoed datagrams when stdin closes.
function echoServer(answer) {
  const sock = dgram.createSocket(type);
  let echoed = 0;
  answer(sock, (n) => { echoed += n; });
  sock.on('error', fail);
  sock.bind(0, loopback, () => out({ port: sock.address().port }));
  process.stdin.resume();
  process.stdin.on('end', () => finish({ echoed, maxRssKiB: vmHWMKiB() }));
}

// capacity: how fast the echo server (send() without a callback) drains a
// full receive queue at 100 % of its CPU, whatever the blaster manages: the
// parent stops this process (SIGSTOP) while the blaster fills the queue, stops
// the blaster, continues this process (SIGCONT) and, once it is quiet, asks
// with "r" on stdin for the datagrams drained and the time from the first to
// the last; "z" starts a new drain, "q" ends.
function capacity() {
  const sock = dgram.createSocket({ type, recvBufferSize: opts.recvBufferSize });
  let count = 0;
  let first = 0n;
  let last = 0n;
  sock.on('message', (msg, rinfo) => {
    last = process.hrtime.bigint();
    if (count++ === 0) first = last;
    sock.send(msg, rinfo.port, rinfo.address);
  });
  sock.on('error', fail);
  sock.bind(0, loopback, () => out({ port: sock.address().port, recvBufferSize: sock.getRecvBufferSize() }));
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'r') {
      out({ drain: { count, ns: Number(last - first) } });
    } else if (line === 'z') {
      count = 0;
      out({ zeroed: true });
    } else if (line === 'q') {
      finish({ maxRssKiB: vmHWMKiB() });
    }
  });
}

// pingpong: one datagram between two sockets of the module, RTT per trip.
function pingpong() {
  const a = dgram.createSocket(type);
  const b = dgram.createSocket(type);
  a.on('error', fail);
  b.on('error', fail);
  const warm = opts.warmup;
  const count = opts.count;
  const rtt = new Float64Array(count);
  const buf = Buffer.alloc(size, 0x70);
  let trips = 0;
  let n = 0;
  let t0 = 0n;
  let lost = 0;
  let lastProgress = 0;
  let deadline = 0;
  let bPort = 0;

  b.on('message', (msg, rinfo) => b.send(msg, rinfo.port, rinfo.address));
  a.on('message', (msg) => {
    const t1 = process.hrtime.bigint();
    if (msg.readUInt32LE(0) !== (trips >>> 0)) return; // a stale copy after a resend
    if (trips >= warm) rtt[n++] = Number(t1 - t0);
    trips++;
    if (n >= count || Date.now() > deadline) return done();
    buf.writeUInt32LE(trips >>> 0, 0);
    t0 = process.hrtime.bigint();
    a.send(buf, bPort, loopback);
  });
  function done() {
    clearInterval(watchdog);
    if (n === 0) fail('no round trip measured');
    const s = Array.from(rtt.subarray(0, n)).sort((x, y) => x - y);
    const pct = (p) => s[Math.ceil((p / 100) * n) - 1];
    finish({ n, p50Ns: pct(50), p99Ns: pct(99), lost });
  }
  // a datagram lost on a busy machine must not stall the run: resend it
  const watchdog = setInterval(() => {
    if (trips === lastProgress && t0 !== 0n) {
      lost++;
      t0 = process.hrtime.bigint();
      a.send(buf, bPort, loopback);
    }
    lastProgress = trips;
  }, 1000);
  b.bind(0, loopback, () => {
    bPort = b.address().port;
    a.bind(0, loopback, () => {
      buf.writeUInt32LE(0, 0);
      deadline = Date.now() + opts.maxMeasureMs;
      t0 = process.hrtime.bigint();
      a.send(buf, bPort, loopback);
    });
  });
}

// reuseport: opts.workers worker_threads, each with its own reusePort socket
// on one port, counting 'message' into its slot of a shared array.
const REUSEPORT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require(workerData.root);
const counts = workerData.counts;
const i = workerData.index;
const sock = dgram.createSocket({ type: workerData.type, reusePort: true });
sock.on('message', () => { counts[i]++; });
sock.on('error', (err) => parentPort.postMessage({ error: String(err && err.message) }));
sock.bind(workerData.port, workerData.address, () => parentPort.postMessage({ port: sock.address().port }));
`;

function startReusePortWorker(index, port, counts) {
  const worker = new Worker(REUSEPORT_WORKER, { eval: true, workerData: { root, type, address: loopback, index, port, counts } });
  worker.on('error', (err) => fail(`worker ${index}: ${err && err.stack ? err.stack : err}`));
  return new Promise((resolve) => {
    worker.on('message', (m) => {
      if (m.error) fail(`worker ${index}: ${m.error}`);
      else resolve(m.port);
    });
  });
}

async function reuseport() {
  const workers = opts.workers;
  const counts = new Float64Array(new SharedArrayBuffer(8 * workers));
  const total = () => counts.reduce((a, b) => a + b, 0);
  let port = 0;
  for (let i = 0; i < workers; i++) port = await startReusePortWorker(i, port, counts);
  out({ port });
  const waitFirst = setInterval(() => {
    if (total() === 0) return;
    clearInterval(waitFirst);
    setTimeout(() => {
      const c0 = total();
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      setTimeout(() => {
        const n = total() - c0;
        const cpu = process.cpuUsage(cpu0);
        const ns = Number(process.hrtime.bigint() - t0);
        finish({ count: n, ns, cpuNs: cpuNs(cpu), perWorker: Array.from(counts) });
      }, opts.windowMs);
    }, opts.warmupMs);
  }, 2);
}

// probe: which of fastdgram's batch APIs this build has.
function probe() {
  const sock = dgram.createSocket(type);
  const result = { sendMany: typeof sock.sendMany === 'function', messages: typeof sock.messages === 'function' };
  sock.close();
  finish(result);
}

// sendmany: socket.sendMany(64 messages, cb) with at most opts.inflight calls
// outstanding, to the C sink at opts.port.
function sendmany() {
  const sock = dgram.createSocket(type);
  if (typeof sock.sendMany !== 'function') fail('not available: socket.sendMany is not a function');
  sock.on('error', fail);
  const data = Buffer.alloc(size, 0x6d);
  const batch = Array.from({ length: 64 }, () => ({ data, port: opts.port, address: loopback }));
  let inflight = 0;
  let completed = 0;
  let errors = 0;
  let firstError = null;
  let stopped = false;
  let onDrained = null;

  function onSent(err, sent) {
    inflight--;
    if (err) {
      errors++;
      firstError ??= err.code || String(err);
    }
    // the callback gets the number sent, or an error that says how many went out
    const went = typeof sent === 'number' ? sent : err && typeof err.sent === 'number' ? err.sent : err ? 0 : batch.length;
    completed += went;
    if (stopped) {
      if (inflight === 0 && onDrained) onDrained();
    } else {
      setImmediate(pump); // a turn for the event loop (timers) between calls
    }
  }
  function pump() {
    while (inflight < opts.inflight && !stopped) {
      inflight++;
      sock.sendMany(batch, onSent);
    }
  }
  sendWindow(() => completed, (window) => {
    stopped = true;
    const result = { ...window, errors, firstError };
    if (inflight === 0) finish(result);
    onDrained = () => finish(result);
  });
  pump();
}

// batchrecv: count the datagrams the C blaster gets delivered to 'messages'
// (arrays of { msg, rinfo }); no 'message' listener.
function batchrecv() {
  const sock = receiver();
  if (typeof sock.messages !== 'function') fail('not available: socket.messages is not a function');
  let count = 0;
  let batches = 0;
  sock.on('messages', (batch) => {
    count += batch.length;
    batches++;
  });
  sock.on('error', fail);
  sock.once('messages', (batch) => {
    const badSize = batch[0] && batch[0].msg.length !== size ? 1 : 0;
    setTimeout(() => {
      const c0 = count;
      const k0 = batches;
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      setTimeout(() => {
        const n = count - c0;
        const cpu = process.cpuUsage(cpu0);
        const ns = Number(process.hrtime.bigint() - t0);
        finish({ count: n, ns, cpuNs: cpuNs(cpu), batches: batches - k0, badSize, maxRssKiB: vmHWMKiB(), coalesced: coalescedOf(sock) });
      }, opts.windowMs);
    }, opts.warmupMs);
  });
  sock.bind(0, loopback, () => out({ port: sock.address().port }));
}

const scenarios = { recv, send, echo, pingpong, reuseport, probe, sendmany, batchrecv, batchecho, echoload, capacity };
if (!scenarios[scenario]) fail(`unknown scenario ${scenario}`);
try {
  Promise.resolve(scenarios[scenario]()).catch((err) => fail(err && err.stack ? err.stack : err));
} catch (err) {
  fail(err && err.stack ? err.stack : err);
}
