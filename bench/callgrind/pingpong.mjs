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
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { callgrindArgs, commandLine, outputFile, requireValgrind, totalInstructions } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, '..', 'child.mjs');
const { option, extraEnv } = commandLine();
const warmup = Number(option('--warmup', 3000));
const short = Number(option('--short', 3000));
const long = Number(option('--long', 13000));
requireValgrind();

/** The whole run's instruction count with `count` measured round trips. */
function instructionsWith(module, count) {
  const { out, read } = outputFile();
  const run = spawnSync('valgrind', callgrindArgs(out, child, ['pingpong', module, '4', '64', JSON.stringify({ warmup, count, maxMs: 300000 })]), {
    encoding: 'utf8',
    timeout: 600000,
    env: { ...process.env, ...extraEnv },
  });
  if (run.status !== 0) throw new Error(`pingpong under callgrind failed (${run.status}): ${run.stderr.slice(-500)}`);
  const result = JSON.parse(run.stdout.trim().split('\n').pop()).result;
  if (result.n !== count) throw new Error(`measured ${result.n} round trips, wanted ${count}`);
  return totalInstructions(read());
}

for (const [label, module] of [['node:dgram', 'node'], ['fastdgram', 'fastdgram']]) {
  const difference = instructionsWith(module, long) - instructionsWith(module, short);
  process.stdout.write(`${JSON.stringify({ module: label, env: extraEnv, warmup, short, long, perRoundTrip: Math.round(difference / (long - short)) })}\n`);
}
