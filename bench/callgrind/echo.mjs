// Instructions per echoed datagram, counted by valgrind's callgrind (repeatable
// on a loaded machine, unlike time): the echo server (echo-server.cjs) runs
// under callgrind with instrumentation off; a node:dgram client feeds it in
// bursts of BURST, each after the previous one's echoes; after WARMUP
// datagrams (the JIT settles) `callgrind_control -i on` counts the next
// MEASURED ones, then `-i off`. Every thread of the server is counted. Usage:
//   node bench/callgrind/echo.mjs [--burst 32] [--warmup 12032] [--measured 3000] [--env NAME=VALUE]...
// Prints one JSON line per module: instructions per datagram.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const burst = option('--burst', 32);
const warmup = option('--warmup', 12032);
const measured = option('--measured', 3000);
const extraEnv = Object.fromEntries(args.flatMap((a, i) => (args[i - 1] === '--env' ? [a.split('=')] : [])));

if (spawnSync('valgrind', ['--version']).status !== 0) {
  process.stderr.write('valgrind is needed: apt-get install valgrind\n');
  process.exit(2);
}

/** Runs the server under callgrind; the instructions of the measured datagrams. */
async function instructions(module) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fastdgram-callgrind-'));
  const out = path.join(dir, 'callgrind.out');
  const count = warmup + measured;
  const server = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, '--smc-check=all-non-file', process.execPath, path.join(here, 'echo-server.cjs'), module, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...extraEnv },
  });
  let stderr = '';
  server.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    server.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    server.once('exit', (code) => reject(new Error(`server exited (${code}): ${stderr.slice(-500)}`)));
  });
  const instrument = (on) => {
    const r = spawnSync('callgrind_control', ['-i', on ? 'on' : 'off', String(server.pid)], { timeout: 30000, encoding: 'utf8' });
    if (r.status !== 0 || !/OK/.test(r.stdout)) throw new Error(`callgrind_control failed: ${r.stdout}${r.stderr}`);
  };
  await feed(port, count, (echoed) => {
    if (echoed === warmup) instrument(true);
    if (echoed === count) instrument(false);
  });
  const code = await new Promise((resolve) => (server.exitCode !== null ? resolve(server.exitCode) : server.once('exit', resolve)));
  if (code !== 0) throw new Error(`server exited with ${code}`);
  // With instrumentation toggled, 'totals' holds the count ('summary' stays 0).
  const summary = /^totals:\s+(\d+)/m.exec(readFileSync(out, 'utf8'));
  if (process.env.KEEP) process.stderr.write(out + '\n'); else rmSync(dir, { recursive: true, force: true });
  if (!summary) throw new Error('no totals line in the callgrind output');
  return Number(summary[1]);
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
