// UDP send offload on Windows (USO, `UDP_SEND_MSG_SIZE`, sys/windows.rs) and
// the fallback where Windows has none: whatever the platform does, a run of
// equal-sized datagrams sent together arrives as those datagrams, intact,
// exactly once, in order. Runs on Linux (where the same runs go as UDP GSO)
// and under Wine (`npm run test:windows -- __test__/windows-offload.spec.mjs`),
// whose Winsock has no USO: there the fallback is what runs. The USO path
// itself, on a Windows that has it, is not run here (no such Windows here).
// Receivers are node:dgram's, so that what arrives is judged by Node.js.
import test from 'ava';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, waitUntil } from './fixtures/child-common.mjs';
import { timeScaled } from './helpers/emulation.mjs';
import { offloadPayload, offloadProblems } from './helpers/offload.mjs';
import { UNDER_WINE } from './helpers/platform.mjs';

const require = createRequire(import.meta.url);
const dgram = require('..');
const nodeDgram = require('node:dgram');
const { nativeCapabilities } = require('../native/index.js');

const SENDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'offload-sender.mjs');
/** Linux's UDP_MAX_SEGMENTS, which sys/windows.rs takes for USO too. */
const MAX_SEGMENTS = 64;

/** A node:dgram socket on 127.0.0.1 that keeps what it receives, in order. */
async function nodeReceiver(t) {
  const socket = nodeDgram.createSocket('udp4');
  t.teardown(() => socket.close());
  const received = [];
  socket.on('message', (msg) => received.push(msg));
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(1 << 20);
  return { socket, received, port: socket.address().port };
}

/** Waits until `count` arrived, then a while longer for any repeat. */
async function settle(received, count) {
  await waitUntil(() => received.length >= count, timeScaled(UNDER_WINE ? 10000 : 5000));
  await sleep(timeScaled(200));
}

/** Runs of 25 (24 of 1,000 bytes and a shorter last), as GSO and USO take them. */
function runLengths(count) {
  return Array.from({ length: count }, (_, index) => (index % 25 === 24 ? 300 : 1000));
}

test('nativeCapabilities: gsoSegments is 1 where sends are not offloaded, and Wine has no USO', (t) => {
  const { implementation, gsoSegments } = nativeCapabilities();
  t.true([1, MAX_SEGMENTS].includes(gsoSegments), `gsoSegments ${gsoSegments}`);
  if (UNDER_WINE) {
    t.is(implementation, 'windows');
    t.is(gsoSegments, 1, "Wine 8's Winsock refuses getsockopt(UDP_SEND_MSG_SIZE)");
  }
});

test('sendMany: runs of equal-sized datagrams arrive intact, exactly once, in order', async (t) => {
  const receiver = await nodeReceiver(t);
  const sender = dgram.createSocket('udp4');
  t.teardown(() => sender.close());
  const lengths = runLengths(100);
  const messages = lengths.map((length, index) => ({
    data: offloadPayload(index, length),
    port: receiver.port,
    address: '127.0.0.1',
  }));
  const sent = await new Promise((resolve, reject) => {
    sender.sendMany(messages, (err, count) => (err ? reject(err) : resolve(count)));
  });
  t.is(sent, lengths.length);
  await settle(receiver.received, lengths.length);
  t.deepEqual(offloadProblems(receiver.received, lengths), []);
});

test("replies sent from 'message' handlers during a burst arrive intact, exactly once, in order", async (t) => {
  const COUNT = 40;
  const server = dgram.createSocket('udp4');
  t.teardown(() => server.close());
  server.on('message', (msg, rinfo) => {
    const index = msg.readUInt32BE(0);
    server.send(offloadPayload(index, 1000), rinfo.port, rinfo.address);
  });
  await new Promise((resolve) => server.bind(0, '127.0.0.1', resolve));
  const client = await nodeReceiver(t);
  for (let index = 0; index < COUNT; index += 1) {
    client.socket.send(offloadPayload(index, 16), server.address().port, '127.0.0.1');
  }
  // Hold this loop while the requests pile up, so that the server reads
  // them as one batch and sends its replies together.
  const until = Date.now() + 50;
  while (Date.now() < until) { /* the kernel queues the burst */ }
  await settle(client.received, COUNT);
  t.deepEqual(offloadProblems(client.received, Array(COUNT).fill(1000)), []);
});

test('FASTDGRAM_TEST_USO_REFUSED: a segmented send refused at once is sent one datagram at a time, nothing lost or repeated, and USO is off after', async (t) => {
  const receiver = await nodeReceiver(t);
  const COUNT = 100;
  const child = spawn(process.execPath, [SENDER, String(receiver.port), String(COUNT), '1000'], {
    env: { ...process.env, FASTDGRAM_TEST_USO_REFUSED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeScaled(UNDER_WINE ? 40000 : 15000));
  const exitCode = await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  t.is(exitCode, 0, stderr.slice(-2000));
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  t.truthy(line, `no result: ${stdout.slice(-500)} ${stderr.slice(-500)}`);
  const result = JSON.parse(line.slice(7));
  t.is(result.error, null);
  t.is(result.sent, COUNT);
  if (result.implementation === 'windows') {
    t.is(result.before, MAX_SEGMENTS, 'the hook makes USO count as found');
    t.is(result.after, 1, 'the refusal switched it off');
  } else {
    t.is(result.after, result.before, 'only sys/windows.rs reads the hook');
  }
  await settle(receiver.received, COUNT);
  t.deepEqual(offloadProblems(receiver.received, Array(COUNT).fill(1000)), []);
});
