// Runs one scenario on node:dgram and on fastdgram and compares what each observed.
import dgram from 'node:dgram';
import { createRequire } from 'node:module';

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
