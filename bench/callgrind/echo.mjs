// Instructions per echoed datagram, counted by valgrind's callgrind (repeatable
// on a loaded machine, unlike time): the echo server (echo-server.cjs) runs
// under callgrind with instrumentation off; a node:dgram client feeds it in
// bursts of BURST, each after the previous one's echoes; after WARMUP
// datagrams (the JIT settles) `callgrind_control -i on` counts the next
// MEASURED ones, then `-i off`. Every thread of the server is counted. Usage:
//   node bench/callgrind/echo.mjs [--burst 32] [--warmup 12032] [--measured 3000] [--env NAME=VALUE]...
// Prints one JSON line per module: instructions per datagram.
import { createSocket } from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine, requireValgrind, serverUnderCallgrind, totalInstructions } from './harness.mjs';

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
    feed(port, count, (echoed) => {
      if (echoed === warmup) instrument(true);
      if (echoed === count) instrument(false);
    }));
  return totalInstructions(text);
}

/** Sends `count` datagrams in bursts, each burst after the previous one's echoes; `onEcho(n)` at each burst's end. */
function feed(port, count, onEcho) {
  const client = createSocket('udp4');
  return new Promise((resolve, reject) => {
    let sent = 0;
    let echoed = 0;
    let timer;
    const sendBurst = () => {
      const n = Math.min(burst, count - sent);
      for (let i = 0; i < n; i++) client.send(Buffer.alloc(64, 0x65), port, '127.0.0.1');
      sent += n;
      clearTimeout(timer);
      timer = setTimeout(() => reject(new Error(`no echo for 30 s after ${echoed} of ${count}`)), 30000);
    };
    client.on('message', () => {
      echoed++;
      if (echoed !== sent) return;
      onEcho(echoed);
      if (echoed === count) {
        clearTimeout(timer);
        client.close();
        resolve();
      } else {
        sendBurst();
      }
    });
    client.bind(0, '127.0.0.1', sendBurst);
  });
}

for (const [label, module] of [['node:dgram', 'node:dgram'], ['fastdgram', root]]) {
  const total = await instructions(module);
  process.stdout.write(`${JSON.stringify({ module: label, env: extraEnv, burst, measured, perDatagram: Math.round(total / measured) })}\n`);
}
