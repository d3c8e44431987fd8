// Destinations and connect addresses of the other family than a socket's
// (crates/core/src/socket.rs `peer_address`, `LibuvRules::peer_of_either_family`).
// node checks such an address against the handle's family (udp_wrap.cc);
// after an IPv4 membership on an unbound udp6 handle (or the reverse) libuv
// made the socket of the other family, and then, on Linux, the implicit bind
// of the send or connect fails first (EINVAL), while on Windows that bind is
// a no-op and the address reaches Winsock. Each scenario runs on node:dgram
// and on fastdgram and compares what a program sees.
import test from 'ava';
import { createRequire } from 'node:module';
import { parity } from './fixtures/udp.mjs';
import { describeError } from './helpers/parity.mjs';

const require = createRequire(import.meta.url);
const fastdgram = require('..');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Errors and addresses without the ports, which differ from run to run. */
function masked(value) {
  return JSON.parse(JSON.stringify(value).replace(/:\d+(?=["\s])/g, ':<port>').replace(/"port":\d+/g, '"port":"<port>"'));
}

/** Receivers on 127.0.0.1 and ::1: what each got goes to `log`. */
async function receivers(dgram, log) {
  const rx4 = dgram.createSocket('udp4');
  const rx6 = dgram.createSocket('udp6');
  await new Promise((resolve) => rx4.bind(0, '127.0.0.1', resolve));
  await new Promise((resolve) => rx6.bind(0, '::1', resolve));
  rx4.on('message', (msg) => log.push(`127.0.0.1 received ${msg}`));
  rx6.on('message', (msg) => log.push(`::1 received ${msg}`));
  return { rx4, rx6, portFor: (ip) => (ip.includes('.') && !ip.includes(':') ? rx4 : rx6).address().port };
}

/**
 * A socket of `type` that joins `group` first (or binds, or neither), then
 * sends to or connects to `target`: the events, callbacks and throws, in order.
 */
async function scenario(dgram, { type, group, bindFirst, action, target }) {
  const log = [];
  const { rx4, rx6, portFor } = await receivers(dgram, log);
  const socket = dgram.createSocket(type);
  socket.on('error', (err) => log.push({ error: describeError(err) }));
  try {
    if (group) {
      socket.addMembership(group);
      log.push('joined');
    }
    if (bindFirst) await new Promise((resolve) => socket.bind(0, resolve));
    if (action === 'send') {
      socket.send('datagram', portFor(target), target, (err) => log.push({ send: err ? describeError(err) : null }));
    } else {
      socket.connect(portFor(target), target, (err) => log.push({ connect: err ? describeError(err) : null }));
    }
  } catch (err) {
    log.push({ threw: describeError(err) });
  }
  await sleep(150);
  try {
    log.push({ address: socket.address() });
  } catch (err) {
    log.push({ address: describeError(err) });
  }
  for (const s of [socket, rx4, rx6]) {
    try { s.close(); } catch { /* closed */ }
  }
  return masked(log);
}

const TARGETS = ['127.0.0.1', '::1'];
const ACTIONS = ['send', 'connect'];

for (const [type, group] of [['udp6', '224.0.0.114'], ['udp4', 'ff02::114']]) {
  for (const action of ACTIONS) {
    for (const target of TARGETS) {
      test(`${type}, addMembership('${group}') unbound, then ${action} to ${target}: as node:dgram`, async (t) => {
        await parity(t, (dgram) => scenario(dgram, { type, group, action, target }));
      });
    }
  }
}

for (const type of ['udp4', 'udp6']) {
  for (const bindFirst of [false, true]) {
    for (const action of ACTIONS) {
      for (const target of [...TARGETS, '::ffff:127.0.0.1']) {
        test(`${type} ${bindFirst ? 'bound' : 'unbound'}, ${action} to ${target}: as node:dgram`, async (t) => {
          await parity(t, (dgram) => scenario(dgram, { type, bindFirst, action, target }));
        });
      }
    }
  }
}

/** The error (or null) of a send to `target` on a bound socket of `type`, by send() or sendMany(). */
async function sendError(type, target, many) {
  const log = [];
  const { rx4, rx6, portFor } = await receivers(fastdgram, log);
  const socket = fastdgram.createSocket(type);
  await new Promise((resolve) => socket.bind(0, resolve));
  const port = portFor(target);
  const err = await new Promise((resolve) => {
    if (many) socket.sendMany([{ data: 'datagram', port, address: target }], resolve);
    else socket.send('datagram', port, target, resolve);
  });
  await sleep(50);
  for (const s of [socket, rx4, rx6]) s.close();
  return { error: err ? masked(describeError(err)) : null, received: log };
}

test("sendMany reports send()'s error for a destination of the other family", async (t) => {
  for (const [type, target] of [['udp4', '::1'], ['udp6', '127.0.0.1']]) {
    const bySend = await sendError(type, target, false);
    const bySendMany = await sendError(type, target, true);
    t.is(bySend.error?.code, 'EINVAL', `${type} send() to ${target}`);
    t.deepEqual(bySendMany.received, [], `${type} sendMany to ${target} sent nothing`);
    t.deepEqual(
      { code: bySendMany.error?.code, syscall: bySendMany.error?.syscall },
      { code: bySend.error.code, syscall: bySend.error.syscall },
      `${type} sendMany to ${target}`,
    );
  }
});

test('sendMany sends the datagrams before one of the other family and none after it', async (t) => {
  const log = [];
  const { rx4, rx6, portFor } = await receivers(fastdgram, log);
  const socket = fastdgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, resolve));
  const messages = [
    { data: 'first', port: portFor('127.0.0.1'), address: '127.0.0.1' },
    { data: 'second', port: portFor('::1'), address: '::1' },
    { data: 'third', port: portFor('127.0.0.1'), address: '127.0.0.1' },
  ];
  const [err, sent] = await new Promise((resolve) => socket.sendMany(messages, (...args) => resolve(args)));
  await sleep(50);
  for (const s of [socket, rx4, rx6]) s.close();
  t.is(sent, 1);
  t.like(err, { code: 'EINVAL', syscall: 'send', address: '::1', sent: 1 });
  t.deepEqual(log, ['127.0.0.1 received first']);
});
