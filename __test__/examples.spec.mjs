// examples/reuse-port-workers.mjs --address: the workers bind the address
// given (an IPv6 one makes them udp6 sockets), and the built-in load, or the
// reader's own traffic with --no-load, reaches them there. Loopback only.
// (The example's default run is tested in reuse-port.spec.mjs.)
import test from 'ava';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPV6, skipWithReason } from './fixtures/udp.mjs';

const require = createRequire(import.meta.url);
const dgram = require('..');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BALANCES = ['linux', 'android', 'freebsd', 'dragonfly'].includes(process.platform);

function ipv6Test(title, fn) {
  if (!BALANCES) skipWithReason(title, `${process.platform} has no load-balancing SO_REUSEPORT`);
  else if (!IPV6) skipWithReason(title, '::1 is not available');
  else test(title, fn);
}

/** Starts the example; `output()` resolves with its exit code and output once it ends (killed after `timeoutMs`). */
function startExample(args, timeoutMs) {
  const child = spawn(process.execPath, [path.join(root, 'examples', 'reuse-port-workers.mjs'), ...args], { cwd: root });
  let stdout = '';
  let stderr = '';
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const ended = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
  const firstLine = new Promise((resolve) => {
    const onData = () => {
      if (!stdout.includes('\n')) return;
      child.stdout.off('data', onData);
      resolve(stdout.split('\n')[0]);
    };
    child.stdout.on('data', onData);
    ended.then(() => resolve(stdout.split('\n')[0]));
  });
  return { firstLine, ended };
}

const numbers = (text) => text.split('/').map((s) => Number(s.trim().replace(/,/g, '')));
const TOTAL = /^total: ([\d,]+) datagrams in [\d.]+ s .*; per worker: ([\d, /]+)$/m;

ipv6Test('--address ::1: udp6 workers on [::1], the built-in load sent there reaches both', async (t) => {
  t.timeout(30_000);
  const run = await startExample(['2', '1', '--address', '::1'], 20_000).ended;
  t.false(run.killed, 'the example ended by itself');
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^2 workers receiving on \[::1\]:(\d+) for 1 s, load from 64 source ports to \[::1\]:\1\n/);
  const total = TOTAL.exec(run.stdout);
  t.truthy(total, run.stdout);
  const perWorker = numbers(total[2]);
  t.true(perWorker.length === 2 && perWorker.every((n) => n > 0), `per worker: ${total[2]}`);
});

ipv6Test('--address ::1 --no-load: every datagram the reader sends to the printed address and port is counted', async (t) => {
  t.timeout(30_000);
  const example = startExample(['2', '2', '--address', '::1', '--no-load'], 20_000);
  const first = await example.firstLine;
  const match = /^2 workers receiving on \[::1\]:(\d+) for 2 s$/.exec(first);
  t.truthy(match, first);
  const port = Number(match[1]);
  const SOURCES = 8;
  const PER_SOURCE = 25;
  const senders = Array.from({ length: SOURCES }, () => dgram.createSocket('udp6'));
  await Promise.all(
    senders.flatMap((s) =>
      Array.from({ length: PER_SOURCE }, () => new Promise((resolve, reject) => s.send('x', port, '::1', (err) => (err ? reject(err) : resolve())))),
    ),
  );
  for (const s of senders) s.close();
  const run = await example.ended;
  t.false(run.killed, 'the example ended by itself');
  t.is(run.code, 0, run.stderr);
  const total = TOTAL.exec(run.stdout);
  t.truthy(total, run.stdout);
  t.is(Number(total[1].replace(/,/g, '')), SOURCES * PER_SOURCE, run.stdout);
});

test('--address rejects what is not an IP address', async (t) => {
  const run = await startExample(['1', '1', '--address', 'localhost'], 10_000).ended;
  t.false(run.killed);
  t.is(run.code, 2);
  t.regex(run.stderr, /the address must be an IPv4 or IPv6 address, got localhost/);
});
