// createSocket({ reusePort: true }) on every Node.js version fastdgram
// supports (node:dgram's own option needs Node.js >= 22.12): sockets sharing a
// port, node's EADDRINUSE when one of them lacks the option, the kernel
// spreading datagrams from many source ports over the sockets, the option's
// handling compared with node:dgram where node has it, the same with one
// socket per worker_threads worker, and examples/reuse-port-workers.mjs.
import test from 'ava';
import nodeDgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  describeErrorFull, firstOf, maskPorts, closeQuietly, valueZoo, nodeAtLeast, implSpecifier,
} from './helpers/parity.mjs';
import { IPV6, LOOPBACK, parity, skipWithReason, waitUntil } from './fixtures/udp.mjs';

const require = createRequire(import.meta.url);
const fastdgram = require('..');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Where the kernel balances datagrams over the sockets of one port (as libuv
// requires for UV_UDP_REUSEPORT); elsewhere bind fails with ENOTSUP.
const BALANCES = ['linux', 'android', 'freebsd', 'dragonfly'].includes(process.platform);
const NO_BALANCE = `${process.platform} has no load-balancing SO_REUSEPORT (bind fails with ENOTSUP, as in Node.js 24)`;
const NODE_HAS_REUSE_PORT = nodeAtLeast(22, 12);
const NODE = `Node ${process.versions.node}`;
// The scenario reads address() after each bind; on Windows libuv refuses
// reusePort before it makes the socket, so node's address() throws EBADF.
// options.spec's "reusePort on Windows" test compares that case.
const REFUSED_BEFORE_SOCKET = "Windows refuses reusePort before the socket exists, so node:dgram's address() afterwards throws EBADF (options.spec compares that case)";

const FAMILIES = [{ type: 'udp4', usable: true }, { type: 'udp6', usable: IPV6 }];

/** A test that needs kernel balancing and, for udp6, ::1; otherwise skipped with the reason. */
function balancedTest(title, type, fn) {
  if (!BALANCES) skipWithReason(title, NO_BALANCE);
  else if (type === 'udp6' && !IPV6) skipWithReason(title, '::1 is not available');
  else test(title, fn);
}

/** Binds `socket` and resolves with 'listening' or the error it emitted. */
async function bindTo(socket, ...args) {
  let error = null;
  socket.once('error', (err) => { error = err; });
  const settled = firstOf(socket, ['listening', 'error']);
  socket.bind(...args);
  const outcome = await settled;
  return { outcome, error };
}

/** `count` sockets of node:dgram bound to loopback, each on its own ephemeral port. */
async function senders(type, count) {
  const list = [];
  for (let i = 0; i < count; i++) {
    const s = nodeDgram.createSocket(type);
    await bindTo(s, 0, LOOPBACK[type]);
    list.push(s);
  }
  return list;
}

/** Sends `perSource` datagrams from every sender to `port`; resolves once all are handed to the kernel. */
function sendFromEach(list, perSource, port, address) {
  const sends = [];
  list.forEach((s, i) => {
    for (let k = 0; k < perSource; k++) {
      sends.push(new Promise((resolve, reject) => {
        s.send(`from ${i} #${k}`, port, address, (err) => (err ? reject(err) : resolve()));
      }));
    }
  });
  return Promise.all(sends);
}

/** Every source port appears in exactly one of the per-socket maps. */
function sourcesSplitCleanly(maps) {
  const owners = new Map();
  for (const [index, map] of maps.entries()) {
    for (const port of Object.keys(map)) {
      if (owners.has(port) && owners.get(port) !== index) return false;
      owners.set(port, index);
    }
  }
  return true;
}

const SOURCES = 32;
const PER_SOURCE = 4;

for (const { type } of FAMILIES) {
  balancedTest(`two fastdgram sockets with reusePort bind one port (${type}, ${NODE})`, type, async (t) => {
    const first = fastdgram.createSocket({ type, reusePort: true });
    const second = fastdgram.createSocket({ type, reusePort: true });
    t.teardown(() => closeQuietly(first, second));
    t.is((await bindTo(first, 0, LOOPBACK[type])).outcome, 'listening');
    const { port } = first.address();
    const bound = await bindTo(second, { port, address: LOOPBACK[type] });
    t.is(bound.outcome, 'listening', bound.error ? bound.error.message : '');
    t.deepEqual(second.address(), first.address());
  });

  balancedTest(`reusePort on one socket only: the second bind fails with node's EADDRINUSE error (${type}, ${NODE})`, type, async (t) => {
    // On Node.js < 22.12 node:dgram ignores reusePort; these pairs fail there too, with the same error.
    const { expected } = await parity(t, async (dgram) => {
      const out = {};
      for (const [a, b] of [[{ reusePort: true }, {}], [{}, { reusePort: true }], [{ reusePort: true }, { reuseAddr: true }]]) {
        const first = dgram.createSocket({ type, ...a });
        const second = dgram.createSocket({ type, ...b });
        await bindTo(first, 0, LOOPBACK[type]);
        const { port } = first.address();
        const { outcome, error } = await bindTo(second, port, LOOPBACK[type]);
        out[`${JSON.stringify(a)} then ${JSON.stringify(b)}`] = maskPorts({ outcome, error: error && describeErrorFull(error) }, [port]);
        closeQuietly(first, second);
      }
      return out;
    });
    for (const pair of Object.values(expected)) {
      t.is(pair.outcome, 'error');
      t.is(pair.error.code, 'EADDRINUSE');
      t.is(pair.error.syscall, 'bind');
    }
  });

  balancedTest(`the kernel spreads datagrams from ${SOURCES} source ports over two reusePort sockets (${type}, ${NODE})`, type, async (t) => {
    const sockets = [0, 1].map(() => fastdgram.createSocket({ type, reusePort: true }));
    const bySource = [{}, {}];
    sockets.forEach((s, i) => s.on('message', (msg, rinfo) => {
      bySource[i][rinfo.port] = (bySource[i][rinfo.port] ?? 0) + 1;
    }));
    const from = await senders(type, SOURCES);
    t.teardown(() => closeQuietly(...sockets, ...from));
    await bindTo(sockets[0], 0, LOOPBACK[type]);
    const { port } = sockets[0].address();
    t.is((await bindTo(sockets[1], port, LOOPBACK[type])).outcome, 'listening');

    await sendFromEach(from, PER_SOURCE, port, LOOPBACK[type]);
    const total = () => bySource.reduce((n, map) => n + Object.values(map).reduce((a, b) => a + b, 0), 0);
    await waitUntil(() => total() >= SOURCES * PER_SOURCE, 3000);

    t.is(total(), SOURCES * PER_SOURCE, 'every datagram arrived once');
    const perSocket = bySource.map((map) => Object.keys(map).length);
    t.true(perSocket[0] > 0 && perSocket[1] > 0, `source ports per socket: ${perSocket.join(' / ')}`);
    t.true(sourcesSplitCleanly(bySource), 'all datagrams of one source port reach the same socket');
  });
}

// ---------------------------------------------------------------------------
// The option's handling, compared with node:dgram where node has it
// ---------------------------------------------------------------------------

{
  const title = 'reusePort takes any value and tests its truthiness at bind, as node:dgram';
  if (!NODE_HAS_REUSE_PORT) {
    skipWithReason(title, `${NODE}'s node:dgram has no reusePort option (added in 22.12) to compare with; fastdgram follows Node.js 24`);
  } else if (process.platform === 'win32') {
    skipWithReason(title, REFUSED_BEFORE_SOCKET);
  } else {
    test(title, async (t) => {
      const zoo = valueZoo();
      const { expected } = await parity(t, async (dgram) => {
        const out = {};
        for (const [label, value] of zoo) {
          const first = dgram.createSocket({ type: 'udp4', reusePort: value });
          const second = dgram.createSocket({ type: 'udp4', reusePort: value });
          const firstBind = await bindTo(first, 0, '127.0.0.1');
          const port = first.address().port;
          // reusePort makes the bind exclusive; outside a cluster that changes nothing
          const secondBind = await bindTo(second, { port, address: '127.0.0.1', exclusive: false });
          out[label] = maskPorts({
            first: firstBind.outcome,
            second: secondBind.outcome,
            error: secondBind.error && describeErrorFull(secondBind.error),
          }, [port]);
          closeQuietly(first, second);
        }
        return out;
      });
      t.is(expected.true.second, BALANCES ? 'listening' : 'error');
      t.is(expected.false.error.code, 'EADDRINUSE');
    });
  }
}

{
  const title = 'reusePort with ipv6Only on udp4, with reuseAddr on udp6, and on an implicit bind, as node:dgram';
  if (!NODE_HAS_REUSE_PORT) {
    skipWithReason(title, `${NODE}'s node:dgram has no reusePort option (added in 22.12) to compare with; fastdgram follows Node.js 24`);
  } else if (process.platform === 'win32') {
    skipWithReason(title, REFUSED_BEFORE_SOCKET);
  } else {
    test(title, async (t) => {
      const { expected } = await parity(t, async (dgram) => {
        const out = {};
        const v4 = dgram.createSocket({ type: 'udp4', reusePort: true, ipv6Only: true });
        const { outcome, error } = await bindTo(v4, 0, '127.0.0.1');
        out.ipv6OnlyOnUdp4 = { outcome, error: error && describeErrorFull(error) };
        closeQuietly(v4);
        if (IPV6) {
          const a = dgram.createSocket({ type: 'udp6', reusePort: true, reuseAddr: true });
          const b = dgram.createSocket({ type: 'udp6', reusePort: true });
          await bindTo(a, 0, '::1');
          out.udp6WithReuseAddr = (await bindTo(b, a.address().port, '::1')).outcome;
          closeQuietly(a, b);
        }
        // send() binds implicitly to the wildcard address with the socket's flags
        const receiver = dgram.createSocket('udp4');
        await bindTo(receiver, 0, '127.0.0.1');
        const implicit = dgram.createSocket({ type: 'udp4', reusePort: true });
        const sent = await new Promise((resolve) => {
          implicit.send('x', receiver.address().port, '127.0.0.1', (err) => resolve(err ? describeErrorFull(err) : 'sent'));
        });
        out.implicitBind = { sent, address: implicit.address().address };
        closeQuietly(receiver, implicit);
        return out;
      });
      t.is(expected.ipv6OnlyOnUdp4.error.code, 'EINVAL');
      t.is(expected.implicitBind.sent, 'sent');
    });
  }
}

// ---------------------------------------------------------------------------
// One socket per worker_threads worker, all on one port
// ---------------------------------------------------------------------------

// The worker binds a reusePort socket, counts datagrams per source port,
// answers 'count', and on 'close' closes the socket, reports and stops
// listening to its port: it must then exit on its own (nothing left alive).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require(workerData.specifier);
const socket = dgram.createSocket({ type: workerData.type, reusePort: true });
const bySource = {};
let count = 0;
socket.on('message', (msg, rinfo) => {
  count++;
  bySource[rinfo.port] = (bySource[rinfo.port] || 0) + 1;
});
socket.on('error', (err) => parentPort.postMessage({ error: { code: err.code, message: err.message } }));
socket.bind(workerData.port, workerData.address, () => parentPort.postMessage({ port: socket.address().port }));
function onRequest(request) {
  if (request === 'count') parentPort.postMessage({ count });
  if (request === 'close') {
    socket.close(() => {
      parentPort.postMessage({ closed: true, count, bySource });
      parentPort.off('message', onRequest);
    });
  }
}
parentPort.on('message', onRequest);
`;

/** A worker running WORKER_SOURCE; `next(key)` resolves with its next message holding `key`. */
function startWorker(type, port) {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { specifier: implSpecifier('fastdgram'), type, port, address: LOOPBACK[type] },
  });
  const inbox = [];
  const waiting = [];
  const deliver = () => {
    for (let i = 0; i < waiting.length;) {
      const idx = inbox.findIndex((m) => m[waiting[i].key] !== undefined || m.error !== undefined);
      if (idx < 0) { i++; continue; }
      const [m] = inbox.splice(idx, 1);
      const [w] = waiting.splice(i, 1);
      clearTimeout(w.timer);
      if (m.error) w.reject(new Error(`worker: ${m.error.code} ${m.error.message}`));
      else w.resolve(m);
    }
  };
  worker.on('message', (m) => { inbox.push(m); deliver(); });
  const exited = new Promise((resolve) => {
    worker.on('error', (err) => resolve({ error: err.message }));
    worker.on('exit', (code) => resolve({ code }));
  });
  return {
    worker,
    exited,
    next(key, ms = 5000) {
      return new Promise((resolve, reject) => {
        const w = { key, resolve, reject };
        w.timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(w), 1);
          reject(new Error(`worker: no "${key}" within ${ms} ms`));
        }, ms);
        waiting.push(w);
        deliver();
      });
    },
  };
}

/** Resolves with what `exited` gives, or 'still running' after ms. */
function exitWithin(exited, ms) {
  let timer;
  return Promise.race([exited, new Promise((resolve) => { timer = setTimeout(() => resolve('still running'), ms); })])
    .finally(() => clearTimeout(timer));
}

for (const { type } of FAMILIES) {
  balancedTest(`two worker_threads workers, each with its own reusePort socket on one port, share the traffic, close and exit on their own (${type}, ${NODE})`, type, async (t) => {
    t.timeout(30000);
    const workers = [];
    let from = [];
    t.teardown(async () => {
      closeQuietly(...from);
      await Promise.all(workers.map((w) => w.worker.terminate()));
    });
    workers.push(startWorker(type, 0));
    const { port } = await workers[0].next('port');
    workers.push(startWorker(type, port));
    t.is((await workers[1].next('port')).port, port);

    from = await senders(type, SOURCES);
    await sendFromEach(from, PER_SOURCE, port, LOOPBACK[type]);
    const counted = async () => {
      const replies = await Promise.all(workers.map(async (w) => {
        w.worker.postMessage('count');
        return (await w.next('count')).count;
      }));
      return replies.reduce((a, b) => a + b, 0);
    };
    const deadline = Date.now() + 5000;
    while ((await counted()) < SOURCES * PER_SOURCE && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));

    const reports = await Promise.all(workers.map(async (w) => {
      w.worker.postMessage('close');
      return w.next('closed');
    }));
    const exits = await Promise.all(workers.map((w) => exitWithin(w.exited, 5000)));

    t.is(reports[0].count + reports[1].count, SOURCES * PER_SOURCE, 'every datagram arrived once');
    t.true(reports[0].count > 0 && reports[1].count > 0, `datagrams per worker: ${reports[0].count} / ${reports[1].count}`);
    t.true(sourcesSplitCleanly(reports.map((r) => r.bySource)), 'all datagrams of one source port reach the same worker');
    t.deepEqual(exits, [{ code: 0 }, { code: 0 }], 'each worker exits with code 0 once its socket is closed, without terminate()');
  });
}

// ---------------------------------------------------------------------------
// examples/reuse-port-workers.mjs
// ---------------------------------------------------------------------------

/** Runs the example with `args` under this node; resolves with exit code, output and whether it was killed. */
function runExample(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'examples', 'reuse-port-workers.mjs'), ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, killed }); });
  });
}

balancedTest(`examples/reuse-port-workers.mjs: 2 workers for 1 s receive the built-in load on one port and exit (${NODE})`, 'udp4', async (t) => {
  t.timeout(30000);
  const run = await runExample(['2', '1'], 20000);
  t.false(run.killed, 'the example ended by itself');
  t.is(run.code, 0, run.stderr);
  const total = /^total: ([\d,]+) datagrams in [\d.]+ s .*; per worker: ([\d, /]+)$/m.exec(run.stdout);
  t.truthy(total, run.stdout);
  const perWorker = total[2].split('/').map((s) => Number(s.trim().replace(/,/g, '')));
  t.is(perWorker.length, 2);
  t.true(perWorker.every((n) => n > 0), `per worker: ${perWorker.join(' / ')}`);
  t.is(perWorker[0] + perWorker[1], Number(total[1].replace(/,/g, '')));
});

test('examples/reuse-port-workers.mjs rejects a worker count that is not a positive integer', async (t) => {
  const run = await runExample(['zero'], 10000);
  t.false(run.killed);
  t.is(run.code, 2);
  t.regex(run.stderr, /workers must be a positive integer/);
});
