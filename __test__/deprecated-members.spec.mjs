// Parity: node's deprecated private socket members (DEP0112) — `_handle`,
// `_receiving`, `_bindState`, `_queue`, `_reuseAddr` (getters and setters),
// `_healthCheck()`, `_stopReceiving()` — which old libraries still use.
// Node.js up to 25 has them, each emitting the DeprecationWarning DEP0112
// once per process; Node.js 26 removed them. fastdgram follows the running
// Node.js. Each use runs in a fresh child process (fixtures/deprecated-members.mjs),
// with node:dgram and with fastdgram; what it returned or threw and every
// warning must be the same.
import test from 'ava';
import dgram from 'node:dgram';
import { implementations } from './helpers/parity.mjs';
import { fixtureParity, skipWithReason } from './fixtures/udp.mjs';

const MEMBERS = ['_handle', '_receiving', '_bindState', '_queue', '_reuseAddr', '_healthCheck', '_stopReceiving'];
const NODE_HAS_THEM = Object.getOwnPropertyDescriptor(dgram.Socket.prototype, '_handle') !== undefined;
const withMembers = NODE_HAS_THEM ? test : (title) => skipWithReason(title, `node ${process.version}'s node:dgram has no DEP0112 members (removed in Node.js 26)`);
const withoutMembers = NODE_HAS_THEM ? (title) => skipWithReason(title, `node ${process.version}'s node:dgram still has the DEP0112 members`) : test;

const compare = async (t, scenario) => (await fixtureParity(t, 'deprecated-members.mjs', [scenario])).log;

const warnings = (log) => log.filter((entry) => entry.warning).map((entry) => entry.warning);

for (const member of ['_handle', '_receiving', '_bindState', '_queue', '_reuseAddr']) {
  withMembers(`DEP0112: socket.${member} read before bind, while binding, bound and closed; one DeprecationWarning with node's text`, async (t) => {
    const log = await compare(t, member);
    t.deepEqual(warnings(log), [{ name: 'DeprecationWarning', code: 'DEP0112', message: `Socket.prototype.${member} is deprecated` }]);
  });
}

for (const method of ['_healthCheck()', '_stopReceiving()']) {
  withMembers(`DEP0112: socket.${method} does what node's does; one DeprecationWarning with node's text`, async (t) => {
    const log = await compare(t, method);
    t.deepEqual(warnings(log), [{ name: 'DeprecationWarning', code: 'DEP0112', message: `Socket.prototype.${method} is deprecated` }]);
  });
}

for (const scenario of ['_reuseAddr set', '_handle set', '_bindState set']) {
  withMembers(`DEP0112: the setter of ${scenario.split(' ')[0]} changes what node's changes (${scenario})`, async (t) => {
    await compare(t, scenario);
  });
}

withMembers('DEP0112 warns once per process: the first member used names itself, later ones (others included) are silent', async (t) => {
  const log = await compare(t, 'once per process');
  t.is(warnings(log).length, 1);
});

withMembers('DEP0112 used by node:dgram itself first: fastdgram\'s members then warn no more (one code, one warning)', async (t) => {
  const log = await compare(t, "after node:dgram's own");
  t.is(warnings(log).length, 1);
});

withMembers('DEP0112 under process.noDeprecation: no warning until it is turned off', async (t) => {
  await compare(t, 'noDeprecation');
});

/** A prototype member's descriptor as comparable data (reading it emits no warning). */
function describeMember(Socket, name) {
  const d = Object.getOwnPropertyDescriptor(Socket.prototype, name);
  if (!d) return 'absent';
  const fn = (f) => f && { name: f.name, length: f.length, hasPrototype: 'prototype' in f };
  return { enumerable: d.enumerable, configurable: d.configurable, writable: d.writable, get: fn(d.get), set: fn(d.set), value: fn(d.value) };
}

withMembers('DEP0112 members on the prototype: the same kinds (accessors, methods), attributes, names and lengths as node:dgram\'s', (t) => {
  for (const name of MEMBERS) {
    t.deepEqual(describeMember(implementations.fastdgram.Socket, name), describeMember(dgram.Socket, name), name);
  }
});

withoutMembers('Node.js 26: no DEP0112 member on a socket, as node:dgram has none', (t) => {
  for (const impl of [dgram, implementations.fastdgram]) {
    const socket = impl.createSocket('udp4');
    t.deepEqual(MEMBERS.filter((name) => name in socket), []);
    socket.close();
  }
});
