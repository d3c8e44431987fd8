// Instructions per ping-pong round trip (user space, every thread), counted
// by valgrind's callgrind: bench/child.mjs's pingpong scenario (one datagram
// bouncing between two sockets of the module in one process) runs twice under
// callgrind, with --short and --long measured round trips after the same
// warm-up; the difference of the two totals over the difference of the
// counts is what one round trip costs, start-up and warm-up cancelled out.
// Usage:
//   node bench/callgrind/pingpong.mjs [--warmup 3000] [--short 3000] [--long 13000] [--env NAME=VALUE]...
// Prints one JSON line per module.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, '..', 'child.mjs');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const warmup = option('--warmup', 3000);
const short = option('--short', 3000);
const long = option('--long', 13000);
const extraEnv = Object.fromEntries(args.flatMap((a, i) => (args[i - 1] === '--env' ? [a.split('=')] : [])));

if (spawnSync('valgrind', ['--version']).status !== 0) {
  process.stderr.write('valgrind is needed: apt-get install valgrind\n');
  process.exit(2);
}

/** The whole run's instruction count with `count` measured round trips. */
function totalInstructions(module, count) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fastdgram-callgrind-'));
  const out = path.join(dir, 'callgrind.out');
  const run = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, '--smc-check=all-non-file', process.execPath, child, 'pingpong', module, '4', '64', JSON.stringify({ warmup, count, maxMs: 300000 })], {
    encoding: 'utf8',
    timeout: 600000,
    env: { ...process.env, ...extraEnv },
  });
  if (run.status !== 0) throw new Error(`pingpong under callgrind failed (${run.status}): ${run.stderr.slice(-500)}`);
  const result = JSON.parse(run.stdout.trim().split('\n').pop()).result;
  if (result.n !== count) throw new Error(`measured ${result.n} round trips, wanted ${count}`);
  const totals = /^totals:\s+(\d+)/m.exec(readFileSync(out, 'utf8'));
  if (process.env.KEEP) process.stderr.write(out + '\n'); else rmSync(dir, { recursive: true, force: true });
  if (!totals) throw new Error('no totals line in the callgrind output');
  return Number(totals[1]);
}

for (const [label, module] of [['node:dgram', 'node'], ['fastdgram', 'fastdgram']]) {
  const difference = totalInstructions(module, long) - totalInstructions(module, short);
  process.stdout.write(`${JSON.stringify({ module: label, env: extraEnv, warmup, short, long, perRoundTrip: Math.round(difference / (long - short)) })}\n`);
}
