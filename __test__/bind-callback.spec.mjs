// Parity: how bind(..., callback) waits for a failure differs between Node.js
// versions. Node.js 20 and 22 add an 'error' listener for it, so a failed
// bind with a callback and no 'error' listener of the caller's throws
// nothing; Node.js 24 and 26 use errorMonitor, so the error is thrown
// (uncaught) when no one listens. fastdgram follows the running Node.js.
// Each scenario runs in a child process, with node:dgram and with fastdgram.
import test from 'ava';
import { childPrelude, implSpecifier, parity, runNode } from './helpers/parity.mjs';

function scenario(implName, withErrorListener) {
  return `${childPrelude()}
const dgram = require(${JSON.stringify(implSpecifier(implName))});
process.on('uncaughtException', (err) => out({ uncaught: describe(err).code }));
const holder = dgram.createSocket('udp4');
holder.bind(0, '127.0.0.1', () => {
  const second = dgram.createSocket('udp4');
  ${withErrorListener ? "second.on('error', (err) => out({ errorEvent: err.code }));" : ''}
  second.bind(holder.address().port, '127.0.0.1', () => out('callback'));
  out({ errorListeners: second.listenerCount('error'), listeningListeners: second.listenerCount('listening') });
  setTimeout(() => {
    out({ afterFailure: { errorListeners: second.listenerCount('error'), listeningListeners: second.listenerCount('listening') } });
    holder.close();
    second.close();
  }, 100);
});
`;
}

for (const withErrorListener of [false, true]) {
  test(`bind(port, address, callback) failing with EADDRINUSE, ${withErrorListener ? 'with' : 'without'} an 'error' listener: listeners, uncaught error and callback as node:dgram`, async (t) => {
    const { expected } = await parity(t, async (_dgram, implName) => {
      const run = await runNode(scenario(implName, withErrorListener), { timeout: 10000 });
      return { lines: run.lines, exitCode: run.exitCode, timedOut: run.timedOut };
    });
    t.is(expected.exitCode, 0);
    t.true(expected.lines.length >= 2);
  });
}
