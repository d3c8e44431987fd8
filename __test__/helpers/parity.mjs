// Runs one scenario on node:dgram and on fastdgram and compares what each observed.
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { timeScaled } from './emulation.mjs';

const require = createRequire(import.meta.url);

// PARITY_SELF=1 compares node:dgram with itself: for writing a test before fastdgram has the feature.
const fastdgram = process.env.PARITY_SELF === '1' ? dgram : require('../..');

export const implementations = { 'node:dgram': dgram, fastdgram };

/** The parts of an error that callers can observe. */
export function describeError(err) {
  if (!(err instanceof Error)) return { notAnError: String(err) };
  const out = {
    class: err.constructor.name,
    name: err.name,
    code: err.code,
    message: err.message,
  };
  for (const key of ['errno', 'syscall', 'address', 'port', 'info']) {
    if (err[key] !== undefined) out[key] = err[key];
  }
  return out;
}

/** Calls fn and reports whether it threw, and what. */
export function attempt(fn) {
  try {
    const value = fn();
    return { threw: false, value: value && typeof value === 'object' && 'emit' in value ? '<socket>' : value };
  } catch (err) {
    return { threw: true, error: describeError(err) };
  }
}

/** Resolves after ms milliseconds. */
export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the arguments of the next `event` on `emitter`, or rejects after ms. */
export function once(emitter, event, ms = 2000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, onEvent);
      reject(new Error(`timed out waiting for '${event}'`));
    }, ms);
    function onEvent(...args) {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(event, onEvent);
  });
}

/**
 * Records the socket's events in order into `log` as plain values.
 * Ports are kept: scenarios that compare across implementations must drop or
 * normalise values that are random (ephemeral ports).
 */
export function recordEvents(socket, log, name = '', events = ['listening', 'connect', 'message', 'error', 'close']) {
  for (const event of events) {
    socket.on(event, (...args) => {
      const entry = { event };
      if (name) entry.socket = name;
      if (event === 'message') {
        entry.msg = args[0].toString('latin1');
        entry.isBuffer = Buffer.isBuffer(args[0]);
        const { address, family, size } = args[1];
        entry.rinfo = { address, family, size, keys: Object.keys(args[1]).sort() };
      } else if (event === 'error') {
        entry.error = describeError(args[0]);
      }
      log.push(entry);
    });
  }
}

/**
 * Runs `scenario(dgramModule)` once per implementation, in sequence, and
 * asserts that both return deep-equal observations. Returns both results.
 */
export async function parity(t, scenario) {
  const expected = await scenario(dgram, 'node:dgram');
  const actual = await scenario(fastdgram, 'fastdgram');
  t.deepEqual(actual, expected);
  return { expected, actual };
}

// ---------------------------------------------------------------------------
// Appended for the lifecycle / arguments / options suites.
// ---------------------------------------------------------------------------

/** True when the running Node.js is at least major.minor. */
export function nodeAtLeast(major, minor = 0) {
  const [ma, mi] = process.versions.node.split('.').map(Number);
  return ma > major || (ma === major && mi >= minor);
}

// node:dgram validates recvBufferSize/sendBufferSize in createSocket() since
// nodejs/node#56084 (Node.js 20.20.2 does, 20.11.0 does not: there a bad size
// fails only at bind); fastdgram follows the running version. Asked of
// node:dgram itself.
export const DGRAM_VALIDATES_BUFFER_SIZES = (() => {
  try {
    dgram.createSocket({ type: 'udp4', recvBufferSize: -1 }).close();
    return false;
  } catch {
    return true;
  }
})();

/**
 * describeError plus what else a caller can see of an error: its enumerable
 * own keys (what console.log shows), the first line of its stack (what an
 * uncaught error prints) and `hostname` (dns errors).
 */
export function describeErrorFull(err) {
  const out = describeError(err);
  if (!(err instanceof Error)) return out;
  out.keys = Object.keys(err).sort();
  out.stackHead = String(err.stack).split('\n')[0];
  if (err.hostname !== undefined) out.hostname = err.hostname;
  return out;
}

/**
 * Like attempt(), with describeErrorFull, and it reports a returned socket as
 * '<self>' when it is `self` (so `return this` is checked, not just "a socket").
 */
export function attemptFull(fn, self) {
  try {
    const value = fn();
    if (self !== undefined && value === self) return { threw: false, value: '<self>' };
    if (value && typeof value === 'object' && 'emit' in value) return { threw: false, value: '<other socket>' };
    return { threw: false, value };
  } catch (err) {
    return { threw: true, error: describeErrorFull(err) };
  }
}

/**
 * Replaces every occurrence of the given port numbers inside `value` (numbers
 * equal to a port, and the digits inside strings such as error messages) with
 * '<port N>' where N is the port's index in `ports`. Deep; returns a copy.
 */
export function maskPorts(value, ports) {
  const list = ports.filter((p) => typeof p === 'number' && Number.isInteger(p) && p !== 0);
  const walk = (v) => {
    if (typeof v === 'number') {
      const i = list.indexOf(v);
      return i === -1 ? v : `<port ${i}>`;
    }
    if (typeof v === 'string') {
      let s = v;
      list.forEach((p, i) => {
        s = s.replace(new RegExp(`(?<![0-9])${p}(?![0-9])`, 'g'), `<port ${i}>`);
      });
      return s;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value);
}

/** A socket.address() result as plain data, its port reduced to 'ephemeral' when it is one. */
export function describeAddress(a) {
  if (!a || typeof a !== 'object') return { notAnObject: String(a) };
  const port = typeof a.port === 'number' && a.port >= 32768 && a.port < 65535 && Number.isInteger(a.port)
    ? 'ephemeral' : a.port;
  return { keys: Object.keys(a), address: a.address, family: a.family, port };
}

/**
 * What a child process must `require` to load the implementation named
 * `implName` ('node:dgram' or 'fastdgram'): 'node:dgram', or the absolute
 * path of the fastdgram package (unless PARITY_SELF=1).
 */
export function implSpecifier(implName) {
  if (implName !== 'fastdgram' || process.env.PARITY_SELF === '1') return 'node:dgram';
  const path = require('node:path');
  const { fileURLToPath } = require('node:url');
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/**
 * Source text to put at the top of a child script: defines `describe(err)`
 * (describeErrorFull), `out(value)` (prints one JSON line to stdout) and
 * `nodeHandleOf(socket)` (a node:dgram socket's C++ handle, for its fd).
 */
export function childPrelude() {
  return `
const describe = (err) => {
  if (!(err instanceof Error)) return { notAnError: String(err) };
  const o = { class: err.constructor.name, name: err.name, code: err.code, message: err.message };
  for (const k of ['errno', 'syscall', 'address', 'port', 'info', 'hostname']) if (err[k] !== undefined) o[k] = err[k];
  o.keys = Object.keys(err).sort();
  o.stackHead = String(err.stack).split('\\n')[0];
  return o;
};
const out = (v) => process.stdout.write(JSON.stringify(v) + '\\n');
// A node:dgram socket's C++ handle, from its state (socket._handle is DEP0112, gone in Node.js 26).
const nodeHandleOf = (s) => s[Object.getOwnPropertySymbols(s).find((k) => k.description === 'state symbol')].handle;
`;
}

/**
 * Runs `node -e code` (same node binary) and resolves with its exit code,
 * signal, whether it had to be killed after `timeout` ms, and its stdout lines
 * parsed as JSON where possible. Never waits longer than `timeout` (+ kill).
 * With `killAfterOutput`, the child is instead killed that many ms after its
 * first output (still capped by `timeout`): for "does it stay alive" checks
 * that must not depend on how long the child took to start. Under qemu-user
 * `timeout` is stretched (timeScaled): an emulated Node.js takes seconds to start.
 */
export function runNode(code, { timeout = 5000, cwd, args = [], killAfterOutput } = {}) {
  const { spawn } = require('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, '-e', code], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const kill = () => { timedOut = true; child.kill('SIGKILL'); };
    const timer = setTimeout(kill, timeScaled(timeout));
    let outputTimer;
    child.stdout.on('data', (d) => {
      if (killAfterOutput !== undefined && outputTimer === undefined) outputTimer = setTimeout(kill, killAfterOutput);
      stdout += d;
    });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', (err) => { clearTimeout(timer); clearTimeout(outputTimer); reject(err); });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      clearTimeout(outputTimer);
      const lines = stdout.split('\n').filter(Boolean).map((l) => {
        try { return JSON.parse(l); } catch { return l; }
      });
      resolve({ exitCode, signal, timedOut, lines, stderr });
    });
  });
}

/**
 * One shared set of values of every kind, for argument-validation tests.
 * Call once per test and pass the same array to both implementations (so that
 * symbols and functions in error messages are the same objects).
 */
export function valueZoo() {
  return [
    ['0', 0], ['1', 1], ['-1', -1], ['1.5', 1.5], ['NaN', NaN], ['Infinity', Infinity],
    ['-Infinity', -Infinity], ['2**31', 2 ** 31], ['2**32', 2 ** 32], ['2**53', 2 ** 53], ['-0', -0],
    ["''", ''], ["'1'", '1'], ["'abc'", 'abc'], ['true', true], ['false', false],
    ['null', null], ['undefined', undefined], ['{}', {}], ['[]', []], ['[1]', [1]],
    ['1n', 1n], ['Symbol', Symbol('zoo')], ['function', function zooFn() {}], ['arrow', () => {}],
    ['Date', new Date(0)], ['Number object', Object(1)], ['String object', Object('udp4')],
  ];
}

/**
 * When PARITY_DUMP names a file, appends the observations node:dgram produced
 * for this test as one JSON line (for reading them, and diffing them across
 * Node versions).
 */
export function dumpObservations(t, result) {
  if (!process.env.PARITY_DUMP) return;
  const { appendFileSync } = require('node:fs');
  const replacer = (key, v) => {
    if (v === undefined) return '<undefined>';
    if (typeof v === 'number' && !Number.isFinite(v)) return `<${v}>`;
    if (Object.is(v, -0)) return '<-0>';
    if (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function') return `<${typeof v} ${String(v)}>`;
    return v;
  };
  appendFileSync(process.env.PARITY_DUMP, `${JSON.stringify({ title: t.title, expected: result.expected }, replacer)}\n`);
}

/**
 * Like recordEvents(), but errors are recorded with describeErrorFull, a
 * 'message' keeps only its text and rinfo.address/family/size, and each entry
 * says how many arguments the listener got and whether `this` was the socket.
 */
export function recordEventsFull(socket, log, name = '', events = ['listening', 'connect', 'message', 'error', 'close']) {
  for (const event of events) {
    socket.on(event, function listener(...args) {
      const entry = { event };
      if (name) entry.socket = name;
      entry.argc = args.length;
      if (this !== socket) entry.thisIsSocket = false;
      if (event === 'message') {
        entry.msg = Buffer.isBuffer(args[0]) ? args[0].toString('latin1') : String(args[0]);
        const { address, family, size } = args[1] || {};
        entry.rinfo = { address, family, size };
      } else if (event === 'error') {
        entry.error = describeErrorFull(args[0]);
      }
      log.push(entry);
    });
  }
}

/** Closes each socket, ignoring those already closed. */
export function closeQuietly(...sockets) {
  for (const s of sockets) {
    try { s.close(); } catch { /* closed */ }
  }
}

/** Resolves with the name of the first of `events` that `emitter` emits, or 'timeout' after ms. */
export function firstOf(emitter, events, ms = 2000) {
  return new Promise((resolve) => {
    const handlers = {};
    const done = (name) => {
      clearTimeout(timer);
      for (const e of events) emitter.removeListener(e, handlers[e]);
      resolve(name);
    };
    const timer = setTimeout(() => done('timeout'), ms);
    for (const e of events) {
      handlers[e] = () => done(e);
      emitter.on(e, handlers[e]);
    }
  });
}

/** The socket's address() as comparable data, or what it threw. */
export function safeAddress(s) {
  try {
    return describeAddress(s.address());
  } catch (err) {
    return { threw: describeErrorFull(err) };
  }
}
