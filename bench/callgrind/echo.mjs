// Instructions per echoed datagram, counted by valgrind's callgrind (repeatable
// on a loaded machine, unlike time): the echo server (echo-server.cjs) runs
// under callgrind with instrumentation off; a node:dgram client feeds it in
// bursts of BURST, each after the previous one's echoes; after WARMUP
// datagrams (the JIT settles) `callgrind_control -i on` counts the next
// MEASURED ones, then `-i off`. Every thread of the server is counted. Usage:
//   node bench/callgrind/echo.mjs [--burst 32] [--warmup 12032] [--measured 3000] [--env NAME=VALUE]...
// Prints one JSON line per module: instructions per datagram.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine, feedInBursts, requireValgrind, serverUnderCallgrind, totalInstructions } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const { option, extraEnv } = commandLine();
const burst = Number(option('--burst', 32));
const warmup = Number(option('--warmup', 12032));
const measured = Number(option('--measured', 3000));
requireValgrind();

/** Runs the server under callgrind; the instructions of the measured datagrams. */
async function instructions(module) {
  const count = warmup + measured;
  const text = await serverUnderCallgrind(path.join(here, 'echo-server.cjs'), [module, String(count)], extraEnv, (port, instrument) =>
    feedInBursts(port, instrument, {
      count,
      warmup,
      burst,
      payload: Buffer.alloc(64, 0x65),
      answered: (echoes, sent) => echoes === sent, // every datagram of the burst came back
      timeoutMs: 30000,
    }));
  return totalInstructions(text);
}

for (const [label, module] of [['node:dgram', 'node:dgram'], ['fastdgram', root]]) {
  const total = await instructions(module);
  process.stdout.write(`${JSON.stringify({ module: label, env: extraEnv, burst, measured, perDatagram: Math.round(total / measured) })}\n`);
}
