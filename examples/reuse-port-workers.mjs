// One UDP port served by N worker_threads, each with its own fastdgram socket
// created with { reusePort: true }: the kernel spreads the datagrams over the
// sockets by a hash of their source and destination (so one sender's
// datagrams always reach the same worker), and every worker receives on its
// own thread. Works on every Node.js version fastdgram supports (node:dgram's
// reusePort needs Node.js >= 22.12); needs Linux (or FreeBSD, DragonFly).
//
//   node examples/reuse-port-workers.mjs [workers] [seconds] [--address A] [--port P] [--no-load]
//
// Prints datagrams/s per worker every second and a total at the end, then
// exits once every worker has closed its socket and ended by itself. The
// workers bind --address (default 127.0.0.1; an IPv6 address makes them udp6
// sockets; 0.0.0.0 or :: to take traffic from other machines). Unless
// --no-load is given, one more worker sends 64-byte datagrams to the port from
// 64 sockets (64 source ports), to the address (to loopback when it is a
// wildcard); with --no-load, point your own traffic at the address and port
// it prints.
import dgram from 'fastdgram';
import { isIP } from 'node:net';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const DEFAULT_ADDRESS = '127.0.0.1';
const LOAD_SOURCES = 64;
const LOAD_SIZE = 64;
const LOAD_MAX_IN_FLIGHT = 1024;

function usage(message) {
  process.stderr.write(
    `${message}\nusage: node examples/reuse-port-workers.mjs [workers] [seconds] [--address A] [--port P] [--no-load]\n`,
  );
  process.exit(2);
}

function positiveInteger(text, what, fallback) {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) usage(`${what} must be a positive integer, got ${text}`);
  return n;
}

function parseArgs(argv) {
  const positional = [];
  let port = 0;
  let address = DEFAULT_ADDRESS;
  let withLoad = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--no-load') withLoad = false;
    else if (argv[i] === '--port') port = positiveInteger(argv[++i], 'the port', 0);
    else if (argv[i] === '--address') address = ipAddress(argv[++i]);
    else positional.push(argv[i]);
  }
  return {
    workers: positiveInteger(positional[0], 'workers', 2),
    seconds: positiveInteger(positional[1], 'seconds', 5),
    address,
    port,
    withLoad,
  };
}

function ipAddress(text) {
  if (text === undefined || isIP(text) === 0) usage(`the address must be an IPv4 or IPv6 address, got ${text}`);
  return text;
}

const socketType = (address) => (isIP(address) === 6 ? 'udp6' : 'udp4');

/** Where the built-in load sends: the address, or loopback when it is a wildcard. */
function loadTarget(address) {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (isIP(address) === 6 && /^[0:]+$/.test(address)) return '::1';
  return address;
}

const hostPort = (address, port) => (isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`);

/** Resolves with the worker's next message that has `key`. */
function nextMessage(worker, key) {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m.error) reject(new Error(m.error));
      else if (m[key] === undefined) return;
      else resolve(m);
      worker.off('message', onMessage);
    };
    worker.on('message', onMessage);
  });
}

const format = (n) => Math.round(n).toLocaleString('en-US');

async function main() {
  const { workers, seconds, address, port: wantedPort, withLoad } = parseArgs(process.argv.slice(2));
  // never outlive the run by much, whatever happens
  setTimeout(() => {
    process.stderr.write('reuse-port-workers: did not finish in time\n');
    process.exit(1);
  }, (seconds + 10) * 1000).unref();

  // one slot per receiver, written only by that receiver
  const counts = new Float64Array(new SharedArrayBuffer(8 * workers));
  const receivers = [];
  let port = wantedPort;
  for (let index = 0; index < workers; index++) {
    const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'receiver', index, address, port, counts } });
    receivers.push(worker);
    port = (await nextMessage(worker, 'port')).port; // the first worker picks it when none is given
  }
  const load = withLoad ? `, load from ${LOAD_SOURCES} source ports to ${hostPort(loadTarget(address), port)}` : '';
  console.log(`${workers} worker${workers > 1 ? 's' : ''} receiving on ${hostPort(address, port)} for ${seconds} s${load}`);
  const loader = withLoad
    ? new Worker(new URL(import.meta.url), { workerData: { role: 'load', address: loadTarget(address), port } })
    : null;

  const started = performance.now();
  let last = Array.from(counts);
  let lastTime = started;
  for (let second = 1; second <= seconds; second++) {
    await new Promise((resolve) => setTimeout(resolve, started + second * 1000 - performance.now()));
    const now = performance.now();
    const rates = Array.from(counts, (c, i) => ((c - last[i]) * 1000) / (now - lastTime));
    console.log(`${second} s: ${format(rates.reduce((a, b) => a + b, 0))} datagrams/s (${rates.map(format).join(' / ')})`);
    last = Array.from(counts);
    lastTime = now;
  }
  const elapsed = (performance.now() - started) / 1000;

  if (loader) {
    loader.postMessage('stop');
    await nextMessage(loader, 'stopped');
  }
  const finals = await Promise.all(receivers.map((w) => {
    w.postMessage('close');
    return nextMessage(w, 'closed');
  }));
  const perWorker = finals.map((f) => f.count);
  const total = perWorker.reduce((a, b) => a + b, 0);
  console.log(`total: ${format(total)} datagrams in ${elapsed.toFixed(1)} s (${format(total / elapsed)}/s); per worker: ${perWorker.map(format).join(' / ')}`);
  // every worker ends by itself once its sockets are closed; then so does this process
}

function receiver({ index, address, port, counts }) {
  const socket = dgram.createSocket({ type: socketType(address), reusePort: true });
  socket.on('message', () => {
    counts[index]++;
  });
  socket.on('error', (err) => parentPort.postMessage({ error: `worker ${index}: ${err.message}` }));
  socket.bind(port, address, () => parentPort.postMessage({ port: socket.address().port }));
  const onRequest = (request) => {
    if (request !== 'close') return;
    socket.close(() => {
      parentPort.postMessage({ closed: true, count: counts[index] });
      parentPort.off('message', onRequest); // nothing keeps the worker alive now
    });
  };
  parentPort.on('message', onRequest);
}

// Sends from LOAD_SOURCES sockets in turn, in bursts of one datagram per
// socket, with a bounded number of sends waiting for their callback.
function load({ address, port }) {
  const sockets = Array.from({ length: LOAD_SOURCES }, () => dgram.createSocket(socketType(address)));
  const payload = Buffer.alloc(LOAD_SIZE, 0x6c);
  let inFlight = 0;
  let stopping = false;
  const sent = () => {
    inFlight--;
  };
  const burst = () => {
    if (stopping) {
      if (inFlight > 0) return setImmediate(burst);
      for (const s of sockets) s.close();
      parentPort.postMessage({ stopped: true });
      parentPort.off('message', onRequest);
      return undefined;
    }
    for (const s of sockets) {
      if (inFlight >= LOAD_MAX_IN_FLIGHT) break;
      inFlight++;
      s.send(payload, port, address, sent);
    }
    return setImmediate(burst);
  };
  const onRequest = (request) => {
    if (request === 'stop') stopping = true;
  };
  parentPort.on('message', onRequest);
  burst();
}

if (isMainThread) await main();
else if (workerData.role === 'receiver') receiver(workerData);
else load(workerData);
