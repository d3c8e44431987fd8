// `npm run bench`: node:dgram against fastdgram against a C limit, on
// loopback. See bench/README.md. Progress goes to stderr, the Markdown table
// of medians to stdout; --json FILE and --chart FILE.svg write the same
// figures. Every measurement runs in a fresh process, bounded in time and
// killed on timeout.
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart } from './svg.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const cSource = path.join(here, 'native', 'udpbench.c');
const outDir = path.join(here, 'out');
const cBinary = path.join(outDir, 'udpbench');
const childScript = path.join(here, 'child.mjs');

// The first four compare node:dgram, fastdgram and C; the others measure
// what only fastdgram has (its "Beyond node:dgram" features) against C.
const BASE_SCENARIOS = ['recv', 'send', 'echo', 'pingpong'];
// node:dgram against fastdgram only (no C program does the same), on one family and size.
const LOAD_SCENARIOS = ['echoload', 'capacity'];
// From a sender that uses UDP GSO: what receive offload (GRO) gives (the GSO block below).
const GSO_SCENARIOS = ['gsorecv', 'gsopair'];
const SCENARIOS = [...BASE_SCENARIOS, ...LOAD_SCENARIOS, 'reuseport', 'sendmany', 'batchrecv', 'batchecho', ...GSO_SCENARIOS];
const MODULE_LABEL = {
  node: 'node:dgram', fast: 'fastdgram', c: 'C limit',
  'fast:messages': "fastdgram 'messages'", 'fast:nogro': 'fastdgram, no GRO',
};
// --switches: fastdgram again with one technique switched off ('fast:<name>'), to show what it contributes.
const SWITCHES = [
  { name: 'noreply', env: { FASTDGRAM_NO_REPLY_BATCH: '1' }, label: 'replies one by one (FASTDGRAM_NO_REPLY_BATCH=1)' },
];
const switchOf = (variant) => SWITCHES.find((x) => variant === `fast:${x.name}`);
// reuseport's fastdgram variants: 'fast:<N>w' = N worker threads
const workersOf = (variant) => Number(/^fast:(\d+)w$/.exec(variant)?.[1] ?? 0);
const workersLabel = (n) => `${n} worker${n === 1 ? '' : 's'}`;
const variantLabel = (v) => MODULE_LABEL[v] ?? (switchOf(v) ? `fastdgram, ${switchOf(v).label}` : `fastdgram, ${workersLabel(workersOf(v))}`);
// What each batch API's availability is checked by (in a child: --node may differ).
const BATCH_API = { sendmany: 'sendMany', batchrecv: 'messages', batchecho: 'sendMany' };

const HELP = `Usage: npm run bench -- [options]

  --quick               smoke run (~30 s): 1 repetition, short windows
  --reps N              repetitions per measurement (default 3; --quick: 1)
  --scenarios LIST      recv,send,echo,pingpong,memory,echoload,capacity,reuseport,sendmany,batchrecv,
                        batchecho,gsorecv,gsopair (default all; memory comes from recv)
  --switches            echoload, capacity: also fastdgram with each technique switched off
  --drains N            capacity: fill-and-drain cycles per measurement (default 5; --quick: 3)
  --recv-buffer BYTES   recv, echoload, batchrecv, gsorecv: the receivers' SO_RCVBUF, for node:dgram,
                        fastdgram and C alike (recvBufferSize; default: the system's)
  --sizes LIST          datagram sizes in bytes (default 64,1400)
  --families LIST       4,6 (default both)
  --window MS           measured window of recv/send/echo/reuseport/sendmany/batchrecv
                        (default 700; --quick: 300)
  --warmup MS           warm-up before each window (default 200; --quick: 100)
  --echo-rate N         datagrams/s the C echo client offers (default 100000)
  --pingpong-count N    measured round trips (default 20000; --quick: 3000), after N/10 warm-up
  --inflight N          send: most uncompleted send callbacks (default 64)
  --workers LIST        reuseport: worker threads per measurement (default 1,2)
  --sources N           reuseport: source ports the blaster sends from (default 64)
  --many-inflight N     sendmany: most uncompleted sendMany calls of 64 datagrams (default 4)
  --node PATH           node binary for the children (default: this one)
  --no-c                skip the C limit measurements
  --build               run \`npm run build\` first even if dist/ and native/ exist
  --json FILE           write the figures as JSON
  --chart FILE.svg      draw the medians as an SVG bar chart
  -h, --help            this text
`;

function parseArgs(argv) {
  const o = {
    quick: false, reps: null, scenarios: SCENARIOS.slice(), memory: true, sizes: [64, 1400], families: [4, 6],
    window: null, warmup: null, echoRate: 100000, pingpongCount: null, inflight: 64,
    workers: [1, 2], sources: 64, manyInflight: 4, switches: false, drains: null, recvBuffer: null,
    node: process.execPath, c: true, build: false, json: null, chart: null,
  };
  const list = (v) => String(v).split(',').map((s) => s.trim()).filter(Boolean);
  const int = (name, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) usage(`${name} needs a positive integer, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--reps': o.reps = int(a, val()); break;
      case '--scenarios': {
        const s = list(val());
        for (const x of s) if (![...SCENARIOS, 'memory', 'ping-pong'].includes(x)) usage(`unknown scenario ${x}`);
        o.memory = s.includes('memory');
        o.scenarios = SCENARIOS.filter((x) => s.includes(x) || (x === 'pingpong' && s.includes('ping-pong')) || (x === 'recv' && o.memory));
        break;
      }
      case '--sizes': o.sizes = list(val()).map((x) => int('--sizes', x)); break;
      case '--families': {
        o.families = list(val()).map((x) => Number(String(x).replace(/^(ipv|udp)/i, '')));
        for (const f of o.families) if (f !== 4 && f !== 6) usage('--families takes 4 and/or 6');
        break;
      }
      case '--window': o.window = int(a, val()); break;
      case '--warmup': o.warmup = int(a, val()); break;
      case '--echo-rate': o.echoRate = int(a, val()); break;
      case '--pingpong-count': o.pingpongCount = int(a, val()); break;
      case '--inflight': o.inflight = int(a, val()); break;
      case '--workers': o.workers = list(val()).map((x) => int('--workers', x)); break;
      case '--sources': o.sources = int(a, val()); break;
      case '--many-inflight': o.manyInflight = int(a, val()); break;
      case '--switches': o.switches = true; break;
      case '--drains': o.drains = int(a, val()); break;
      case '--recv-buffer': o.recvBuffer = int(a, val()); break;
      case '--node': o.node = path.resolve(val()); break;
      case '--no-c': o.c = false; break;
      case '--build': o.build = true; break;
      case '--json': o.json = path.resolve(val()); break;
      case '--chart': o.chart = path.resolve(val()); break;
      case '-h': case '--help': process.stdout.write(HELP); process.exit(0); break;
      default: usage(`unknown option ${a}`);
    }
  }
  for (const s of o.sizes) if (s < 8 || s > 65000) usage('--sizes must be between 8 and 65000 bytes');
  if (o.sources > 1024) usage('--sources must be at most 1024');
  if (o.workers.some((w) => w > 64)) usage('--workers must be at most 64');
  o.reps ??= o.quick ? 1 : 3;
  o.window ??= o.quick ? 300 : 700;
  o.warmup ??= o.quick ? 100 : 200;
  o.pingpongCount ??= o.quick ? 3000 : 20000;
  o.drains ??= o.quick ? 3 : 5;
  o.pingpongWarmup = Math.max(100, Math.round(o.pingpongCount / 10));
  o.drain = o.quick ? 100 : 200;
  if (o.scenarios.length === 0) usage('no scenario selected');
  return o;
}

function usage(msg) {
  process.stderr.write(`bench: ${msg}\n\n${HELP}`);
  process.exit(2);
}

const log = (s) => process.stderr.write(`${s}\n`);

// ---- building -------------------------------------------------------------

function buildC() {
  if (existsSync(cBinary) && statSync(cBinary).mtimeMs >= statSync(cSource).mtimeMs) return;
  mkdirSync(outDir, { recursive: true });
  log(`bench: compiling ${path.relative(root, cSource)} -> ${path.relative(root, cBinary)}`);
  const tmp = `${cBinary}.${process.pid}.tmp`;
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-pthread', '-o', tmp, cSource], { stdio: 'inherit', timeout: 120000 });
  renameSync(tmp, cBinary);
}

function buildFastdgram(force) {
  const hasJs = existsSync(path.join(root, 'dist', 'index.js'));
  const nativeDir = path.join(root, 'native');
  const hasAddon = existsSync(nativeDir) && readdirSync(nativeDir).some((f) => f.endsWith('.node'));
  if (hasJs && hasAddon && !force) return;
  log('bench: building fastdgram (npm run build)');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 2, 2], timeout: 15 * 60000 });
}

// Which fastdgram is measured: a hash of the addon and dist/*.js, and the
// commit (with "+changes" when lib/ or crates/ differ from it).
function buildIdentity() {
  const h = createHash('sha256');
  for (const dir of ['native', 'dist']) {
    const abs = path.join(root, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs).sort()) {
      if (f.endsWith('.node') || f.endsWith('.js')) h.update(f).update(readFileSync(path.join(abs, f)));
    }
  }
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--', 'lib', 'crates'], { cwd: root, encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (changed) commit += '+changes';
  } catch {
    // not a git checkout
  }
  return { build: h.digest('hex').slice(0, 12), commit };
}

async function ipv6Available() {
  return new Promise((resolve) => {
    const s = createSocket('udp6');
    s.on('error', () => { s.close(); resolve(false); });
    s.bind(0, '::1', () => { s.close(); resolve(true); });
  });
}

// ---- processes ------------------------------------------------------------

const live = new Set();

function killAll() {
  for (const c of live) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

// Starts a process whose stdout is JSON lines; next(key) resolves with the
// first unread line that has `key`, rejects on an {"error"} line, on exit or
// after timeoutMs. The process is SIGKILLed after its own timeout.
function start(label, cmd, args, timeoutMs, env) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
  live.add(child);
  const lines = [];
  const waiters = [];
  let stderr = '';
  let exit = null;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  child.stdin.on('error', () => {});
  child.stderr.on('data', (d) => {
    if (stderr.length < 4000) stderr += d;
  });
  const why = () => {
    const tail = stderr.trim().split('\n').slice(-3).join(' | ');
    const how = timedOut ? `killed after ${timeoutMs} ms` : exit ? `exited (${exit.signal || exit.code})` : 'running';
    return `${label} ${how}${tail ? `: ${tail}` : ''}`;
  };
  const settle = () => {
    for (let i = 0; i < waiters.length; ) {
      const w = waiters[i];
      const idx = lines.findIndex((l) => l[w.key] !== undefined || l.error !== undefined);
      if (idx >= 0) {
        const [line] = lines.splice(idx, 1);
        waiters.splice(i, 1);
        clearTimeout(w.timer);
        if (line.error !== undefined) w.reject(new Error(`${label}: ${line.error}`));
        else w.resolve(line);
      } else if (exit) {
        waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.reject(new Error(`${why()} before "${w.key}"`));
      } else {
        i++;
      }
    }
  };
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line;
    try {
      line = JSON.parse(text);
    } catch {
      line = { text };
    }
    lines.push(line);
    settle();
  });
  const exited = new Promise((resolve) => {
    const done = (code, signal) => {
      if (exit) return;
      exit = { code, signal };
      live.delete(child);
      clearTimeout(timer);
      setImmediate(settle); // after the last 'line' events
      resolve(exit);
    };
    child.on('close', done);
    child.on('error', (err) => {
      stderr += String(err.message);
      done(-1, null);
    });
  });
  return {
    next(key, ms = timeoutMs) {
      return new Promise((resolve, reject) => {
        const w = { key, resolve, reject };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`${label}: no "${key}" within ${ms} ms`));
        }, ms);
        waiters.push(w);
        settle();
      });
    },
    write(s) {
      if (!exit) child.stdin.write(s);
    },
    endInput() {
      if (!exit) child.stdin.end();
    },
    signal(name) {
      if (!exit) child.kill(name);
    },
    async stop(graceMs = 2000) {
      if (!exit) {
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      return exit;
    },
    kill() {
      if (!exit) child.kill('SIGKILL');
      return exited;
    },
  };
}

// ---- one measurement per scenario and module --------------------------------

let opts;
// scenario -> why it is skipped (a batch API missing from this build)
const unavailableApis = {};

// The (family, size) pairs a scenario runs: the base scenarios every pair; the
// fastdgram-only ones, kept cheap, the first family only (reuseport: its
// smallest size only).
function combos(scenario) {
  const pairs = (families, sizes) => families.flatMap((f) => sizes.map((s) => [f, s]));
  if (BASE_SCENARIOS.includes(scenario)) return pairs(opts.families, opts.sizes);
  if (scenario === 'reuseport' || LOAD_SCENARIOS.includes(scenario)) return pairs(opts.families.slice(0, 1), [Math.min(...opts.sizes)]);
  return pairs(opts.families.slice(0, 1), opts.sizes);
}

// What is measured for a scenario: node:dgram, fastdgram and C for the base
// ones; fastdgram's variants and C for the others, whose C limit is taken from
// recv's or send's measurements when those run too.
function variants(scenario) {
  if (BASE_SCENARIOS.includes(scenario)) return opts.c ? ['node', 'fast', 'c'] : ['node', 'fast'];
  if (LOAD_SCENARIOS.includes(scenario)) return ['node', 'fast', ...(opts.switches ? SWITCHES.map((x) => `fast:${x.name}`) : [])];
  if (GSO_VARIANTS[scenario]) return GSO_VARIANTS[scenario].filter((v) => opts.c || v !== 'c');
  if (scenario === 'reuseport') return [...opts.workers.map((w) => `fast:${w}w`), ...(opts.c ? ['c'] : [])];
  if (unavailableApis[scenario]) return [];
  const cFrom = { sendmany: 'send', batchecho: 'echo' }[scenario] ?? 'recv';
  return opts.c && !opts.scenarios.includes(cFrom) ? ['fast', 'c'] : ['fast'];
}

function subject(scenario, mod, family, size, extra, timeoutMs, env) {
  const label = `${scenario}/${variantLabel(mod)}`;
  const childOpts = { warmupMs: opts.warmup, windowMs: opts.window, maxMs: timeoutMs - 500, ...(opts.recvBuffer ? { recvBufferSize: opts.recvBuffer } : {}), ...extra };
  const switched = switchOf(mod);
  const module = switched ? 'fast' : mod;
  return start(label, opts.node, [childScript, scenario, module, String(family), String(size), JSON.stringify(childOpts)], timeoutMs, switched?.env ?? env);
}

const budget = () => opts.warmup + opts.window + 8000;
// The C receivers' optional last argument: --recv-buffer's SO_RCVBUF.
const cRecvBuffer = () => (opts.recvBuffer ? [opts.recvBuffer] : []);

// Starts the receiver `rx` resolves from, floods its port with the C blaster
// (from `sources` source ports) and returns the receiver's result.
async function underBlaster(rx, family, size, sources, timeoutMs, mode = 'blast') {
  let blast;
  try {
    const { port } = await rx.next('port');
    // the blaster outlasts the receiver's window; it is killed once the result is in
    const args = mode === 'blast' ? [mode, family, port, size, opts.warmup + opts.window + 8000, sources] : [mode, family, port, size, opts.warmup + opts.window + 8000];
    blast = start('blaster', cBinary, args.map(String), timeoutMs);
    const { result: r } = await rx.next('result');
    if (r.count <= 0) throw new Error('no datagram in the window');
    return r;
  } finally {
    await Promise.all([rx.kill(), blast && blast.kill()]);
  }
}

// recv, and batchrecv (fastdgram's 'messages' event) whose C limit is recv's.
async function measureRecv(mod, family, size, scenario = 'recv') {
  const timeoutMs = budget();
  const rx = mod === 'c'
    ? start('recv/C', cBinary, ['recv', family, size, opts.warmup, opts.window, timeoutMs - 1000, ...cRecvBuffer()].map(String), timeoutMs)
    : subject(scenario, mod, family, size, {}, timeoutMs);
  const r = await underBlaster(rx, family, size, 1, timeoutMs);
  const key = mod === 'c' ? 'recv' : scenario;
  const figures = { [`${key}.rate`]: (r.count / r.ns) * 1e9, [`${key}.cpu`]: r.cpuNs / r.count / 1000 };
  if (key === 'recv') figures['memory.peak'] = r.maxRssKiB / 1024;
  return { ...figures, _detail: { count: r.count, ns: r.ns, badSize: r.badSize, batches: r.batches } };
}

// reuseport: N worker threads with a reusePort socket each, or the C receiver
// with one thread per socket for as many sockets as the most workers measured.
async function measureReuseport(variant, family, size) {
  const timeoutMs = budget() + 2000; // starting the workers
  const rx = variant === 'c'
    ? start('reuseport/C', cBinary, ['recv-reuseport', family, size, opts.warmup, opts.window, timeoutMs - 1000, Math.max(...opts.workers)].map(String), timeoutMs)
    : subject('reuseport', 'fast', family, size, { workers: workersOf(variant) }, timeoutMs);
  const r = await underBlaster(rx, family, size, opts.sources, timeoutMs);
  return {
    'reuseport.rate': (r.count / r.ns) * 1e9,
    'reuseport.cpu': r.cpuNs / r.count / 1000,
    _detail: { count: r.count, ns: r.ns, perReceiver: r.perWorker ?? r.perThread },
  };
}

// send, and sendmany (fastdgram's sendMany) whose C limit is send's.
async function measureSend(mod, family, size, scenario = 'send') {
  const timeoutMs = budget();
  const sink = start('sink', cBinary, ['sink', family, timeoutMs].map(String), timeoutMs);
  let tx;
  try {
    const { port } = await sink.next('port');
    const inflight = scenario === 'sendmany' ? opts.manyInflight : opts.inflight;
    tx = mod === 'c'
      ? start('send/C', cBinary, ['send', family, port, size, opts.warmup, opts.window].map(String), timeoutMs)
      : subject(scenario, mod, family, size, { port, inflight }, timeoutMs);
    await tx.next('mark');
    sink.write('m\n');
    const s0 = await sink.next('count');
    await tx.next('mark');
    sink.write('m\n');
    const s1 = await sink.next('count');
    const { result: r } = await tx.next('result');
    const received = s1.count - s0.count;
    if (r.count <= 0 || received <= 0) throw new Error(`nothing sent (${r.firstError || 'no error'})`);
    const key = mod === 'c' ? 'send' : scenario;
    return {
      [`${key}.rate`]: (received / (s1.ns - s0.ns)) * 1e9,
      [`${key}.cpu`]: r.cpuNs / r.count / 1000,
      _detail: { completed: r.count, sinkCount: received, errors: r.errors, firstError: r.firstError },
    };
  } finally {
    sink.write('q\n');
    await Promise.all([sink.stop(1000), tx && tx.kill()]);
  }
}

// echo, and batchecho (fastdgram's 'messages' + sendMany) whose C limit is echo's.
async function measureEcho(mod, family, size, scenario = 'echo') {
  const timeoutMs = budget() + opts.drain;
  const srv = mod === 'c'
    ? start('echo/C', cBinary, ['echo-server', family, timeoutMs].map(String), timeoutMs)
    : subject(scenario, mod, family, size, {}, timeoutMs);
  const key = mod === 'c' ? 'echo' : scenario;
  let cli;
  try {
    const { port } = await srv.next('port');
    cli = start('echo client', cBinary,
      ['echo-client', family, port, size, opts.echoRate, opts.warmup, opts.window, opts.drain].map(String), timeoutMs);
    const { result: r } = await cli.next('result');
    if (r.offered <= 0) throw new Error('no load offered');
    return {
      [`${key}.rate`]: (r.echoed / r.ns) * 1e9,
      [`${key}.loss`]: 100 * (1 - r.echoed / r.offered),
      _detail: { offered: r.offered, echoed: r.echoed },
    };
  } finally {
    srv.endInput();
    await Promise.all([mod === 'c' ? srv.kill() : srv.stop(1000), cli && cli.kill()]);
  }
}

// echoload: the echo server under the recv scenario's blaster (every datagram
// sent back with send(), no callback): datagrams handled, CPU per datagram.
async function measureEchoload(mod, family, size) {
  const timeoutMs = budget();
  const r = await underBlaster(subject('echoload', mod, family, size, {}, timeoutMs), family, size, 1, timeoutMs);
  return { 'echoload.rate': (r.count / r.ns) * 1e9, 'echoload.cpu': r.cpuNs / r.count / 1000, _detail: { count: r.count, ns: r.ns } };
}

const CAPACITY_RECV_BUFFER = 4 * 1024 * 1024;
const FILL_MS = 100;

// capacity: the echo server's rate draining a full receive queue, stopped
// while the blaster fills it (see child.mjs capacity); the median of
// opts.drains cycles. The blaster is stopped too while the server drains,
// so that only the server runs, and its socket stays open for the echoes.
async function measureCapacity(mod, family, size) {
  const timeoutMs = opts.drains * (FILL_MS + 3000) + 8000;
  const srv = subject('capacity', mod, family, size, { recvBufferSize: CAPACITY_RECV_BUFFER }, timeoutMs);
  const rates = [];
  const drained = [];
  try {
    const { port } = await srv.next('port');
    for (let cycle = 0; cycle < opts.drains; cycle++) {
      srv.write('z\n');
      await srv.next('zeroed');
      srv.signal('SIGSTOP');
      const blast = start('blaster', cBinary, ['blast', family, port, size, 10000, 1].map(String), 15000);
      try {
        await sleep(FILL_MS);
        blast.signal('SIGSTOP');
        srv.signal('SIGCONT');
        const drain = await quietDrain(srv);
        if (drain.count < 2 || drain.ns <= 0) throw new Error(`nothing drained in cycle ${cycle + 1}`);
        rates.push(((drain.count - 1) / drain.ns) * 1e9);
        drained.push(drain.count);
      } finally {
        blast.signal('SIGCONT');
        await blast.kill();
      }
    }
    return { 'capacity.rate': median(rates), _detail: { rates, drained } };
  } finally {
    srv.signal('SIGCONT');
    srv.write('q\n');
    await srv.stop(1000);
  }
}

// Asks the capacity server for its drain until two answers 50 ms apart agree (at most 3 s).
async function quietDrain(srv) {
  let previous = -1;
  for (let i = 0; i < 60; i++) {
    await sleep(50);
    srv.write('r\n');
    const { drain } = await srv.next('drain');
    if (drain.count === previous) return drain;
    previous = drain.count;
  }
  throw new Error('the drain did not end within 3 s');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function measurePingpong(mod, family, size) {
  const maxMeasureMs = opts.quick ? 1500 : 3000; // fewer round trips if the machine is that slow
  const timeoutMs = maxMeasureMs + 8000;
  const p = mod === 'c'
    ? start('pingpong/C', cBinary, ['pingpong', family, size, opts.pingpongWarmup, opts.pingpongCount, maxMeasureMs].map(String), timeoutMs)
    : subject('pingpong', mod, family, size, { warmup: opts.pingpongWarmup, count: opts.pingpongCount, maxMeasureMs }, timeoutMs);
  try {
    const { result: r } = await p.next('result');
    return { 'pingpong.p50': r.p50Ns / 1000, 'pingpong.p99': r.p99Ns / 1000, _detail: { n: r.n, lost: r.lost } };
  } finally {
    await p.kill();
  }
}

const MEASURE = {
  recv: measureRecv,
  send: measureSend,
  echo: measureEcho,
  pingpong: measurePingpong,
  echoload: measureEchoload,
  capacity: measureCapacity,
  reuseport: measureReuseport,
  sendmany: (mod, family, size) => measureSend(mod, family, size, 'sendmany'),
  batchrecv: (mod, family, size) => measureRecv(mod, family, size, 'batchrecv'),
  batchecho: (mod, family, size) => measureEcho(mod, family, size, 'batchecho'),
  gsorecv: measureGsoRecv,
  gsopair: measureGsoPair,
};

// ---- the GSO block: receiving from a sender that uses UDP GSO ---------------

// gsorecv: the C blaster sends UDP_SEGMENT buffers of 64 datagrams (fewer
// where 64 × size > 65,507 bytes); fastdgram takes them whole with UDP_GRO
// and splits them, node:dgram (and 'fast:nogro', FASTDGRAM_NO_GRO=1) gets
// them split by the kernel. gsopair: fastdgram's sendMany (GSO) to a
// fastdgram 'message' receiver, against node:dgram's send() loop to a
// node:dgram receiver.
const GSO_VARIANTS = {
  gsorecv: ['node', 'fast', 'fast:messages', 'fast:nogro', 'c'],
  gsopair: ['node', 'fast', 'fast:nogro'],
};
const NO_GRO = { FASTDGRAM_NO_GRO: '1' };

function gsoReceiver(scenario, mod, family, size, timeoutMs) {
  if (mod === 'c') return start(`${scenario}/C`, cBinary, ['recv-gro', family, size, opts.warmup, opts.window, timeoutMs - 1000, ...cRecvBuffer()].map(String), timeoutMs);
  const child = mod === 'fast:messages' ? 'batchrecv' : 'recv';
  const module = mod === 'node' ? 'node' : 'fast';
  return subject(child, module, family, size, {}, timeoutMs, mod === 'fast:nogro' ? NO_GRO : undefined);
}

function gsoFigures(key, r) {
  return {
    [`${key}.rate`]: (r.count / r.ns) * 1e9,
    [`${key}.cpu`]: r.cpuNs / r.count / 1000,
    ...(r.maxRssKiB ? { [`${key}.rss`]: r.maxRssKiB / 1024 } : {}),
    _detail: { count: r.count, ns: r.ns, badSize: r.badSize, batches: r.batches, coalesced: r.coalesced },
  };
}

async function measureGsoRecv(mod, family, size) {
  const timeoutMs = budget();
  const rx = gsoReceiver('gsorecv', mod, family, size, timeoutMs);
  return gsoFigures('gsorecv', await underBlaster(rx, family, size, 1, timeoutMs, 'blast-gso'));
}

async function measureGsoPair(mod, family, size) {
  const timeoutMs = budget() + 4000;
  const rx = gsoReceiver('gsopair', mod, family, size, timeoutMs);
  let tx;
  try {
    const { port } = await rx.next('port');
    // The sender's own window outlasts the receiver's; it is killed once the result is in.
    const sending = { port, inflight: mod === 'node' ? opts.inflight : opts.manyInflight, warmupMs: opts.warmup + opts.window + 3000, windowMs: 100 };
    tx = mod === 'node'
      ? subject('send', 'node', family, size, sending, timeoutMs)
      : subject('sendmany', 'fast', family, size, sending, timeoutMs);
    const { result: r } = await rx.next('result');
    if (r.count <= 0) throw new Error('no datagram in the window');
    return gsoFigures('gsopair', r);
  } finally {
    await Promise.all([rx.kill(), tx && tx.kill()]);
  }
}

const GSO_METRICS = [
  { key: 'gsorecv.rate', scenario: 'gsorecv', title: 'from a GSO sender: datagrams delivered to JS', unit: 'dgram/s', better: 'higher', goals: { fast: [{ vs: 'node', min: 8 }], 'fast:messages': [{ vs: 'node', min: 15 }] } },
  { key: 'gsorecv.cpu', scenario: 'gsorecv', title: 'from a GSO sender: CPU per datagram', unit: 'µs', better: 'lower' },
  { key: 'gsorecv.rss', scenario: 'gsorecv', title: 'from a GSO sender: receiver peak RSS (VmHWM)', unit: 'MiB', better: 'lower', goals: { fast: [{ vs: 'node', max: 1.2 }], 'fast:messages': [{ vs: 'node', max: 1.2 }] } },
  { key: 'gsopair.rate', scenario: 'gsopair', title: "sendMany (GSO) → 'message' (GRO): datagrams delivered to JS", unit: 'dgram/s', better: 'higher' },
  { key: 'gsopair.cpu', scenario: 'gsopair', title: "sendMany (GSO) → 'message' (GRO): receiver CPU per datagram", unit: 'µs', better: 'lower' },
  { key: 'gsopair.rss', scenario: 'gsopair', title: "sendMany (GSO) → 'message' (GRO): receiver peak RSS", unit: 'MiB', better: 'lower' },
];

// One row per metric, size and receiver, with its ratio to node:dgram's and to C's in this run.
function summarizeGso(samples) {
  const rows = [];
  for (const m of GSO_METRICS) {
    if (!opts.scenarios.includes(m.scenario)) continue;
    for (const [family, size] of combos(m.scenario)) {
      const pick = (mod) => median(samples.filter((s) => s.scenario === m.scenario && s.mod === mod && s.family === family && s.size === size && s.metrics && s.metrics[m.key] !== undefined).map((s) => s.metrics[m.key]));
      const node = pick('node');
      const c = pick('c');
      for (const variant of variants(m.scenario)) {
        const value = pick(variant);
        if (value === null && variant === 'c') continue;
        const overNode = ratio(value, node);
        const overC = ratio(value, c);
        const goals = goalsMet(m.goals && m.goals[variant], { node: overNode, c: overC });
        rows.push({ scenario: m.scenario, metric: m.key, title: m.title, unit: m.unit, better: m.better, family, size, variant, median: value, overNode, overC, goals });
      }
    }
  }
  return rows;
}

function markdownGso(rows) {
  const out = [
    '',
    'From a sender that uses UDP GSO:',
    "gsorecv: the C blaster sends UDP_SEGMENT buffers of 64 datagrams (46 at 1,400 B: 64 would exceed 65,507 bytes), 8 per sendmmsg; C limit = a recvmmsg receiver with UDP_GRO that counts each buffer's datagrams. gsopair: fastdgram's sendMany (64 datagrams per call, GSO) to a fastdgram 'message' receiver, against node:dgram's send() loop to a node:dgram receiver. 'no GRO': the same fastdgram with FASTDGRAM_NO_GRO=1.",
    '',
    '| scenario | family | size | receiver | median | / node:dgram | / C | goal |',
    '|---|---|---:|---|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    out.push(`| ${r.title} (${r.better} is better) | ${famLabel(r.family)} | ${sizeLabel(r.size)} | ${MODULE_LABEL[r.variant]} | ${fmt(r.median, r.unit)} | ${r.variant === 'node' ? '—' : fmtRatio(r.overNode)} | ${r.variant === 'c' ? '—' : fmtRatio(r.overC)} | ${goalsCell(r.goals)} |`);
  }
  return out.join('\n');
}

// Which of the batch APIs (built on other branches) this fastdgram has: the
// scenarios of those it lacks are skipped with a printed "not available".
async function probeBatchApis(family) {
  const p = subject('probe', 'fast', family, 64, {}, 10000);
  try {
    const { result } = await p.next('result');
    return result;
  } finally {
    await p.kill();
  }
}

// ---- metrics, medians, output ---------------------------------------------

const METRICS = [
  // the recv rate is bounded by what the blaster manages to send: fastdgram / C is no target there
  { key: 'recv.rate', scenario: 'recv', title: 'recv: datagrams delivered to JS', unit: 'dgram/s', better: 'higher', noRatioC: true },
  { key: 'recv.cpu', scenario: 'recv', title: 'recv: CPU per datagram', unit: 'µs', better: 'lower', goals: [{ vs: 'node', max: 0.4 }, { vs: 'c', max: 1.2 }] },
  { key: 'send.rate', scenario: 'send', title: 'send: datagrams/s at the sink', unit: 'dgram/s', better: 'higher', goals: [{ vs: 'node', min: 1.6 }, { vs: 'c', min: 0.85 }] },
  { key: 'send.cpu', scenario: 'send', title: 'send: sender CPU per datagram', unit: 'µs', better: 'lower' },
  { key: 'echo.rate', scenario: 'echo', title: 'echo: datagrams/s echoed', unit: 'dgram/s', better: 'higher' },
  { key: 'echo.loss', scenario: 'echo', title: 'echo: loss', unit: '%', better: 'lower', noRatioC: true },
  { key: 'pingpong.p50', scenario: 'pingpong', title: 'ping-pong: round trip p50', unit: 'µs', better: 'lower', goals: [{ vs: 'node', max: 0.9 }] },
  { key: 'pingpong.p99', scenario: 'pingpong', title: 'ping-pong: round trip p99', unit: 'µs', better: 'lower', goals: [{ vs: 'node', max: 1.0 }] },
  { key: 'memory.peak', scenario: 'recv', title: 'memory: receiver peak RSS (VmHWM)', unit: 'MiB', better: 'lower', memory: true, noRatioC: true, goals: [{ vs: 'node', max: 1.2 }] },
  { key: 'echoload.rate', scenario: 'echoload', title: 'echo under flood: datagrams/s handled', unit: 'dgram/s', better: 'higher', noRatioC: true, switches: true },
  { key: 'echoload.cpu', scenario: 'echoload', title: 'echo under flood: CPU per datagram', unit: 'µs', better: 'lower', noRatioC: true, switches: true, goals: [{ vs: 'node', max: 0.5 }] },
  { key: 'capacity.rate', scenario: 'capacity', title: 'echo capacity: datagrams/s draining a full queue', unit: 'dgram/s', better: 'higher', noRatioC: true, switches: true },
];

// fastdgram-only scenarios; cFrom: the C limit's key when it comes from a
// base scenario's C measurement (the same program under the same load).
const EXTRA_METRICS = [
  { key: 'reuseport.rate', scenario: 'reuseport', title: 'reuseport: datagrams delivered to JS', unit: 'dgram/s', better: 'higher', perVariant: true },
  { key: 'reuseport.cpu', scenario: 'reuseport', title: 'reuseport: CPU per datagram', unit: 'µs', better: 'lower', perVariant: true },
  { key: 'sendmany.rate', scenario: 'sendmany', title: 'sendMany: datagrams/s at the sink', unit: 'dgram/s', better: 'higher', cFrom: 'send.rate', goals: [{ vs: 'c', min: 0.9 }] },
  { key: 'sendmany.cpu', scenario: 'sendmany', title: 'sendMany: sender CPU per datagram', unit: 'µs', better: 'lower', cFrom: 'send.cpu' },
  { key: 'batchrecv.rate', scenario: 'batchrecv', title: "batch receive ('messages'): datagrams delivered to JS", unit: 'dgram/s', better: 'higher', cFrom: 'recv.rate', goals: [{ vs: 'c', min: 0.9 }] },
  { key: 'batchrecv.cpu', scenario: 'batchrecv', title: "batch receive ('messages'): CPU per datagram", unit: 'µs', better: 'lower', cFrom: 'recv.cpu' },
  // nodeFrom: node:dgram's figure for the same traffic, when that scenario ran too.
  { key: 'batchecho.rate', scenario: 'batchecho', title: "echo with 'messages' + sendMany: datagrams/s echoed", unit: 'dgram/s', better: 'higher', cFrom: 'echo.rate', nodeFrom: 'echo.rate' },
  { key: 'batchecho.loss', scenario: 'batchecho', title: "echo with 'messages' + sendMany: loss", unit: '%', better: 'lower', cFrom: 'echo.loss', noRatioC: true },
];
const ALL_METRICS = [...METRICS, ...EXTRA_METRICS, ...GSO_METRICS];

// The goals a metric states (issue 14's; sendMany and batch receive: their
// own issues'), each checked against this run's ratio of fastdgram to
// node:dgram (`vs: 'node'`) or to C; a goal whose ratio is missing is left out.
function goalsMet(goals, ratios) {
  return (goals || []).flatMap((goal) => {
    const r = ratios[goal.vs];
    if (r === null || r === undefined) return [];
    const met = goal.max !== undefined ? r <= goal.max : r >= goal.min;
    const bound = goal.max !== undefined ? `≤ ${goal.max.toFixed(2)}×` : `≥ ${goal.min.toFixed(2)}×`;
    return [{ text: `${bound} ${goal.vs === 'node' ? 'node:dgram' : 'C'}`, met }];
  });
}

const goalsCell = (goals) => (goals || []).map((g) => `${g.text}: ${g.met ? 'met' : 'not met'}`).join('; ');

function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(v, unit) {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  let s;
  if (unit === 'dgram/s') s = Math.round(v).toLocaleString('en-US');
  else if (unit === '%') s = v.toFixed(2);
  else if (unit === 'MiB') s = v.toFixed(1);
  else s = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${s} ${unit}`;
}

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);
const fmtRatio = (r) => (r === null ? '—' : `${r.toFixed(2)}×`);
const famLabel = (f) => `IPv${f}`;
const sizeLabel = (s) => `${s.toLocaleString('en-US')} B`;

function summarize(samples) {
  const rows = [];
  for (const m of METRICS) {
    if (!opts.scenarios.includes(m.scenario)) continue;
    if (m.memory && !opts.memory) continue;
    for (const [family, size] of combos(m.scenario)) {
      const pick = (mod) => samples.filter((s) => s.mod === mod && s.family === family && s.size === size && s.metrics && s.metrics[m.key] !== undefined).map((s) => s.metrics[m.key]);
      const values = { node: pick('node'), fast: pick('fast'), c: opts.c ? pick('c') : [] };
      const med = { node: median(values.node), fast: median(values.fast), c: median(values.c) };
      const vsNode = m.key === 'echo.loss' ? null : ratio(med.fast, med.node);
      const vsC = m.noRatioC ? null : ratio(med.fast, med.c);
      const goals = goalsMet(m.goals, { node: vsNode, c: vsC });
      rows.push({ metric: m.key, title: m.title, unit: m.unit, better: m.better, family, size, median: med, samples: values, fastOverNode: vsNode, fastOverC: vsC, goals });
      // --switches: the same figure with one technique off, in the fastdgram column.
      for (const variant of m.switches && opts.switches ? variants(m.scenario).filter(switchOf) : []) {
        const off = pick(variant);
        const fast = median(off);
        rows.push({ metric: m.key, title: `${m.title}, ${switchOf(variant).label}`, variant, unit: m.unit, better: m.better, family, size, median: { node: med.node, fast, c: null }, samples: { node: values.node, fast: off, c: [] }, fastOverNode: ratio(fast, med.node), fastOverC: null, goals: [] });
      }
    }
  }
  return rows;
}

// Rows of the fastdgram-only scenarios: one per size (and, for reuseport, per
// number of workers), with the C limit and, where one is stated, its goal.
function summarizeExtras(samples) {
  const rows = [];
  for (const m of EXTRA_METRICS) {
    if (!opts.scenarios.includes(m.scenario)) continue;
    const unavailable = unavailableApis[m.scenario];
    if (unavailable) {
      // one row for the scenario: its first metric, every size
      if (rows.some((r) => r.unavailable && r.scenario === m.scenario)) continue;
      const pairs = combos(m.scenario);
      rows.push({ scenario: m.scenario, metric: m.key, title: m.title, unit: m.unit, better: m.better, family: pairs[0][0], size: null, sizes: pairs.map(([, size]) => size), unavailable, median: {}, samples: {}, fastOverC: null, goals: [] });
      continue;
    }
    for (const [family, size] of combos(m.scenario)) {
      const at = (s) => s.family === family && s.size === size && s.metrics;
      const cKey = m.cFrom ?? m.key;
      const cValues = opts.c ? samples.filter((s) => at(s) && s.mod === 'c' && s.metrics[cKey] !== undefined).map((s) => s.metrics[cKey]) : [];
      const c = median(cValues);
      const variants = m.perVariant ? opts.workers.map((w) => `fast:${w}w`) : ['fast'];
      for (const variant of variants) {
        const values = samples.filter((s) => at(s) && s.scenario === m.scenario && s.mod === variant && s.metrics[m.key] !== undefined).map((s) => s.metrics[m.key]);
        const fast = median(values);
        const vsC = m.noRatioC ? null : ratio(fast, c);
        const node = m.nodeFrom ? median(samples.filter((s) => at(s) && s.mod === 'node' && s.metrics[m.nodeFrom] !== undefined).map((s) => s.metrics[m.nodeFrom])) : null;
        const overNode = node === null ? null : ratio(fast, node);
        rows.push({ scenario: m.scenario, metric: m.key, title: m.title, unit: m.unit, better: m.better, family, size, variant, workers: workersOf(variant) || null, unavailable: null, median: { fast, c, node }, samples: { fast: values, c: cValues }, fastOverC: vsC, overNode, goals: goalsMet(m.goals, { c: vsC }) });
      }
      // reuseport: how the rate scales with the workers
      const mine = rows.filter((r) => r.metric === m.key && r.family === family && r.size === size && r.workers);
      if (m.key === 'reuseport.rate' && mine.length > 1) {
        const base = mine[0];
        for (const r of mine.slice(1)) r.overFirst = { workers: base.workers, ratio: ratio(r.median.fast, base.median.fast) };
      }
    }
  }
  return rows;
}

function extraDescriptions() {
  const text = {
    reuseport: `reuseport: ${opts.workers.map(workersLabel).join(' vs ')}, each a worker_thread with its own reusePort socket on one port, counting 'message'; the blaster sends from ${opts.sources} source ports; C limit = recvmmsg in ${Math.max(...opts.workers)} threads, one SO_REUSEPORT socket each, under the same blaster.`,
    sendmany: `sendMany: 64 messages ({ data, port, address }) per call, ≤ ${opts.manyInflight} calls in flight, to the C sink; C limit = the sendmmsg sender.`,
    batchrecv: "batch receive: a 'messages' listener only (no 'message'), under the recv blaster; C limit = the recvmmsg receiver.",
    batchecho: `echo with the batch APIs: each 'messages' batch sent back with one sendMany, under the echo client's ${opts.echoRate.toLocaleString('en-US')} dgram/s; C limit = the recvmmsg/sendmmsg echo server.`,
  };
  return opts.scenarios.filter((x) => text[x]).map((x) => text[x]);
}

function markdownExtras(rows, header) {
  const out = [header, ''];
  out.push('| scenario | family | size | fastdgram | C limit | fastdgram / C | note |');
  out.push('|---|---|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const title = r.workers ? `${r.title}, ${workersLabel(r.workers)}` : r.title;
    const notes = [];
    if (r.unavailable) notes.push(r.unavailable);
    if (r.overNode != null) notes.push(`${fmtRatio(r.overNode)} node:dgram's 'message' + send() echo in this run`);
    if (r.overFirst) notes.push(`${workersLabel(r.workers)} / ${workersLabel(r.overFirst.workers)}: ${fmtRatio(r.overFirst.ratio)}`);
    if (r.goals.length) notes.push(goalsCell(r.goals));
    const size = r.unavailable ? r.sizes.map(sizeLabel).join(', ') : sizeLabel(r.size);
    const fast = r.unavailable ? 'not available' : fmt(r.median.fast, r.unit);
    const c = opts.c && !r.unavailable ? fmt(r.median.c, r.unit) : '—';
    out.push(`| ${title} (${r.better} is better) | ${famLabel(r.family)} | ${size} | ${fast} | ${c} | ${fmtRatio(r.fastOverC)} | ${notes.join('; ')} |`);
  }
  return out.join('\n');
}

function markdown(rows, header) {
  const out = [];
  out.push(header);
  out.push('');
  out.push('| scenario | family | size | node:dgram | fastdgram | fastdgram / node:dgram | C limit | fastdgram / C | goal |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    out.push(`| ${r.title} (${r.better} is better) | ${famLabel(r.family)} | ${sizeLabel(r.size)} | ${fmt(r.median.node, r.unit)} | ${fmt(r.median.fast, r.unit)} | ${fmtRatio(r.fastOverNode)} | ${opts.c && !LOAD_SCENARIOS.includes(r.metric.split('.')[0]) ? fmt(r.median.c, r.unit) : '—'} | ${fmtRatio(r.fastOverC)} | ${goalsCell(r.goals)} |`);
  }
  return out.join('\n');
}

function chart(rows, subtitle) {
  const metrics = [];
  for (const m of ALL_METRICS) {
    const mine = rows.filter((r) => r.metric === m.key && !r.unavailable);
    if (mine.length === 0) continue;
    metrics.push({
      title: m.title,
      unit: m.unit,
      better: m.better,
      // node: undefined (no bar) where node:dgram has no such feature
      groups: mine.map((r) => ({ label: `${famLabel(r.family)} ${sizeLabel(r.size)}${r.workers ? `, ${workersLabel(r.workers)}` : ''}${switchOf(r.variant) ? `, ${switchOf(r.variant).name}` : ''}`, fast: r.median.fast, node: r.median.node, c: r.median.c })),
    });
  }
  return barChart({ title: 'fastdgram vs node:dgram vs C (medians, loopback)', subtitle, metrics });
}

// ---- main -----------------------------------------------------------------

async function main() {
  opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  buildC();
  buildFastdgram(opts.build);
  if (!existsSync(opts.node)) usage(`--node ${opts.node}: no such file`);
  const identity = buildIdentity();
  const nodeVersion = execFileSync(opts.node, ['--version'], { encoding: 'utf8', timeout: 10000 }).trim();
  if (opts.families.includes(6) && !(await ipv6Available())) {
    log('bench: ::1 is not available, IPv6 skipped');
    opts.families = opts.families.filter((f) => f !== 6);
  }
  const batchScenarios = opts.scenarios.filter((x) => BATCH_API[x]);
  if (batchScenarios.length > 0) {
    const has = await probeBatchApis(opts.families[0]);
    for (const x of batchScenarios) {
      if (has[BATCH_API[x]]) continue;
      unavailableApis[x] = `socket.${BATCH_API[x]} is not a function in this build`;
      log(`bench: ${x}: not available (${unavailableApis[x]}), skipped`);
    }
  }
  const perRep = opts.scenarios.reduce((n, x) => n + combos(x).length * variants(x).length, 0);
  const total = opts.reps * perRep;
  const cpu = os.cpus();
  log(`bench: ${total} measurements, node ${nodeVersion} (${opts.node}), ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, window ${opts.window} ms after ${opts.warmup} ms warm-up`);

  const samples = [];
  let done = 0;
  for (let rep = 0; rep < opts.reps; rep++) {
    for (const scenario of opts.scenarios) {
      const modules = variants(scenario);
      for (const [family, size] of combos(scenario)) {
        // alternate the order of the modules from one repetition to the next
        const order = modules.map((_, i) => modules[(i + rep) % modules.length]);
        for (const mod of order) {
          done++;
          const what = `[${String(done).padStart(String(total).length)}/${total}] ${scenario.padEnd(9)} ${famLabel(family)} ${String(size).padStart(5)} B  ${variantLabel(mod).padEnd(10)} rep ${rep + 1}/${opts.reps}`;
          const started = Date.now();
          let metrics = null;
          let error = null;
          try {
            metrics = await MEASURE[scenario](mod, family, size);
          } catch (err) {
            error = err.message;
          }
          const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
          if (metrics) {
            const shown = Object.entries(metrics).filter(([k]) => !k.startsWith('_')).map(([k, v]) => `${k.split('.')[1]} ${fmt(v, ALL_METRICS.find((m) => m.key === k).unit)}`);
            log(`${what}  ${shown.join(', ')}  (${took})`);
          } else {
            log(`${what}  FAILED: ${error}  (${took})`);
          }
          const { _detail, ...figures } = metrics || {};
          samples.push({ scenario, mod, family, size, rep: rep + 1, metrics: metrics ? figures : null, detail: _detail ?? null, error });
        }
      }
    }
  }

  const rows = summarize(samples);
  const extraRows = summarizeExtras(samples);
  const gsoRows = summarizeGso(samples);
  const wall = (Date.now() - t0) / 1000;
  const identityAfter = buildIdentity();
  const changedBuild = identityAfter.build !== identity.build;
  if (changedBuild) log(`bench: WARNING: fastdgram's build changed during the run (${identity.build} -> ${identityAfter.build}); its figures mix two builds`);
  const buildText = `fastdgram build ${identity.build}${identity.commit ? ` (commit ${identity.commit})` : ''}${changedBuild ? `, changed to ${identityAfter.build} during the run` : ''}`;
  const header = [
    `Medians of ${opts.reps} repetition${opts.reps > 1 ? 's' : ''}; node ${nodeVersion}; ${buildText}; ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}; Linux ${os.release()}; loopback.`,
    `recv/send/echo: ${opts.warmup} ms warm-up, ${opts.window} ms window; echo load ${opts.echoRate.toLocaleString('en-US')} dgram/s; ping-pong ${opts.pingpongCount.toLocaleString('en-US')} round trips (at most ${opts.quick ? 1.5 : 3} s); send ≤ ${opts.inflight} callbacks in flight.`,
    ...(opts.scenarios.some((x) => LOAD_SCENARIOS.includes(x)) ? [`echo under flood: the recv blaster's flood, every datagram sent back with send() (no callback), CPU per datagram handled; echo capacity: the same server's rate draining a full ${CAPACITY_RECV_BUFFER / 1048576} MiB receive queue (filled while it was stopped, blaster stopped meanwhile), median of ${opts.drains} drains; no C limit for these.`] : []),
    ...(opts.recvBuffer ? [`Receivers' SO_RCVBUF set to ${opts.recvBuffer.toLocaleString('en-US')} bytes (--recv-buffer), for node:dgram, fastdgram and C alike.`] : []),
    opts.c ? 'C limit: recv and memory = a recvmmsg receiver under the same blaster; send = a sendmmsg sender to the same sink; echo = a recvmmsg/sendmmsg echo server; ping-pong = blocking send/recv between two sockets.' : 'C limit: not measured (--no-c).',
  ].join('\n');
  const hasBase = opts.scenarios.some((x) => BASE_SCENARIOS.includes(x) || LOAD_SCENARIOS.includes(x));
  if (hasBase) process.stdout.write(`${markdown(rows, header)}\n`);
  if (extraRows.length > 0) {
    const extraHeader = [
      hasBase ? '\nBeyond node:dgram (fastdgram only):' : header,
      ...extraDescriptions(),
    ].join('\n');
    process.stdout.write(`${markdownExtras(extraRows, extraHeader)}\n`);
  }
  if (gsoRows.length > 0) process.stdout.write(`${hasBase || extraRows.length > 0 ? '' : `${header}\n`}${markdownGso(gsoRows)}\n`);
  const failed = samples.filter((s) => s.error).length;
  log(`bench: done in ${wall.toFixed(1)} s${failed ? `, ${failed} measurement(s) failed` : ''}`);

  if (opts.json) {
    const data = {
      date: new Date().toISOString(),
      node: { version: nodeVersion, path: opts.node },
      fastdgram: { ...identity, buildAfter: identityAfter.build },
      machine: { cpus: cpu.length, model: cpu[0]?.model ?? null, kernel: os.release() },
      options: { reps: opts.reps, recvBuffer: opts.recvBuffer, scenarios: opts.scenarios, switches: opts.switches, drains: opts.drains, memory: opts.memory, sizes: opts.sizes, families: opts.families, warmupMs: opts.warmup, windowMs: opts.window, echoRate: opts.echoRate, pingpongCount: opts.pingpongCount, pingpongWarmup: opts.pingpongWarmup, inflight: opts.inflight, workers: opts.workers, sources: opts.sources, manyInflight: opts.manyInflight, c: opts.c, quick: opts.quick },
      wallSeconds: wall,
      units: Object.fromEntries(ALL_METRICS.map((m) => [m.key, m.unit])),
      rows,
      extraRows,
      gsoRows,
      unavailable: unavailableApis,
      samples,
    };
    mkdirSync(path.dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, `${JSON.stringify(data, null, 2)}\n`);
    log(`bench: figures written to ${opts.json}`);
  }
  if (opts.chart) {
    const subtitle = `node ${nodeVersion}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, medians of ${opts.reps}, ${new Date().toISOString().slice(0, 10)}`;
    mkdirSync(path.dirname(opts.chart), { recursive: true });
    writeFileSync(opts.chart, chart([...rows, ...extraRows], subtitle));
    log(`bench: chart written to ${opts.chart}`);
  }
  if (samples.length > 0 && failed === samples.length) process.exitCode = 1;
}

main().catch((err) => {
  log(`bench: ${err.stack || err}`);
  killAll();
  process.exit(1);
});
