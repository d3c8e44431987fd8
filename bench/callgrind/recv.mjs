// Instructions per received datagram, counted by valgrind's callgrind
// (repeatable on a loaded machine, unlike time): a receive-only server
// (recv-server.cjs) runs under callgrind with instrumentation off; a
// node:dgram client sends bursts of BURST datagrams of SIZE bytes, each burst
// after the server acknowledged the previous one (one 1-byte datagram from a
// node:dgram socket per burst, for both modules); after WARMUP datagrams (the
// JIT settles) `callgrind_control -i on` counts the next MEASURED ones, then
// `-i off`. Every thread of the server is counted, user space only. Also
// printed: the calls per burst of the system-call wrappers that say how the
// work was split (epoll_wait = wake-ups, recvmmsg / recvmsg = reads). Usage:
//   node bench/callgrind/recv.mjs [--burst 64] [--size 64] [--warmup 12800] [--measured 6400]
//     [--listener message|messages] [--modules node,fast] [--env NAME=VALUE]...
// Prints one JSON line per module.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine, feedInBursts, requireValgrind, serverUnderCallgrind, totalInstructions } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const { option, extraEnv } = commandLine();
const burst = Number(option('--burst', 64));
const size = Number(option('--size', 64));
const warmup = Number(option('--warmup', 12800));
const measured = Number(option('--measured', 6400));
const listener = option('--listener', 'message');
const modules = option('--modules', 'node,fast').split(',');
const COUNTED_CALLS = ['epoll_wait', 'epoll_pwait', 'recvmmsg', 'recvmsg'];

if (warmup % burst || measured % burst) {
  process.stderr.write('--warmup and --measured must be multiples of --burst\n');
  process.exit(2);
}
requireValgrind();

/** Runs the server under callgrind: the instructions and the counted calls of the measured datagrams. */
async function measure(module) {
  const count = warmup + measured;
  const serverArgs = [module, String(count), String(burst), String(size), listener];
  const text = await serverUnderCallgrind(path.join(here, 'recv-server.cjs'), serverArgs, extraEnv, (port, instrument) =>
    feedInBursts(port, instrument, {
      count,
      warmup,
      burst,
      payload: Buffer.alloc(size, 0x72),
      answered: () => true, // the server acknowledges each burst with one datagram
      timeoutMs: 60000,
    }));
  return { instructions: totalInstructions(text), calls: callsTo(text, COUNTED_CALLS) };
}

/** Calls to each of `names` in a callgrind output (every caller's call edges summed). */
function callsTo(text, names) {
  const nameOf = new Map();
  const calls = Object.fromEntries(names.map((n) => [n, 0]));
  let callee;
  for (const line of text.split('\n')) {
    const fn = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (fn) {
      if (fn[2] !== undefined) nameOf.set(fn[1], fn[2]);
      callee = line.startsWith('cfn=') ? nameOf.get(fn[1]) : undefined;
      continue;
    }
    const edge = /^calls=(\d+)/.exec(line);
    if (edge && callee !== undefined) {
      const base = callee.replace(/@.*$/, '').replace(/^__(libc_)?/, '');
      if (base in calls) calls[base] += Number(edge[1]);
      callee = undefined;
    }
  }
  return calls;
}

for (const label of modules) {
  const module = label === 'node' ? 'node:dgram' : root;
  const { instructions, calls } = await measure(module);
  const perBurst = Object.fromEntries(Object.entries(calls).filter(([, n]) => n).map(([name, n]) => [name, +(n / (measured / burst)).toFixed(2)]));
  process.stdout.write(`${JSON.stringify({ module: label === 'node' ? 'node:dgram' : 'fastdgram', env: extraEnv, listener, burst, size, measured, perDatagram: Math.round(instructions / measured), callsPerBurst: perBurst })}\n`);
}
