// recvDestination: rinfo.localAddress is the local address each datagram
// was sent to (IP_PKTINFO / IPV6_RECVPKTINFO) — what a server bound to the
// wildcard address on a multi-homed host must answer from.
import test from 'ava';
import { createRequire } from 'node:module';
import {
  NETNS, Sockets, createNetns, implSpecifier, runFixture, skipWithReason, waitUntil,
} from './fixtures/udp.mjs';

const fastdgram = createRequire(import.meta.url)('..');

test('recvDestination on loopback: localAddress is 127.0.0.1 / ::1; without the option rinfo has node\'s four keys', async (t) => {
  const sockets = new Sockets(fastdgram);
  t.teardown(() => sockets.closeAll());
  for (const [type, address] of [['udp4', '127.0.0.1'], ['udp6', '::1']]) {
    const withOption = await sockets.bound({ type, recvDestination: true }, 0, address);
    const without = await sockets.bound({ type, recvDestination: false }, 0, address);
    const sender = await sockets.bound(type, 0, address);
    const seen = [];
    withOption.on('message', (msg, rinfo) => seen.push(rinfo));
    without.on('message', (msg, rinfo) => seen.push(rinfo));
    sender.send('a', withOption.address().port, address);
    sender.send('b', without.address().port, address);
    t.true(await waitUntil(() => seen.length >= 2, 2000));
    const [first, second] = seen[0].localAddress ? seen : [seen[1], seen[0]];
    t.is(first.localAddress, address);
    t.deepEqual(Object.keys(second).sort(), ['address', 'family', 'port', 'size']);
  }
});

test('recvDestination is validated as a boolean, as node validates boolean options', (t) => {
  t.throws(() => fastdgram.createSocket({ type: 'udp4', recvDestination: 'yes' }), {
    code: 'ERR_INVALID_ARG_TYPE',
    message: 'The "options.recvDestination" property must be of type boolean. Received type string (\'yes\')',
  });
});

const title = 'recvDestination in a namespace with two addresses on one interface: each datagram says which of 10.77.0.1 / 10.77.0.3 (or 127.0.0.1) it was sent to; udp6 dual-stack gives ::ffff:10.77.0.3, ::1 and fe80::1%va';
if (!NETNS.ok) {
  skipWithReason(title, NETNS.reason);
} else {
  test.serial(title, async (t) => {
    t.timeout(40000);
    const ns = createNetns(t);
    const run = await runFixture('recv-destination.mjs', [implSpecifier('fastdgram')], { netns: ns, timeout: 20000 });
    t.truthy(run.result, run.stderr);
    const local = (list) => list.map(({ text, localAddress }) => [text, localAddress]);
    t.deepEqual(local(run.result.udp4), [
      ['to 10.77.0.1', '10.77.0.1'],
      ['to 10.77.0.3', '10.77.0.3'],
      ['to 127.0.0.1', '127.0.0.1'],
    ]);
    t.true(run.result.udp4.every(({ address }) => address === '10.77.0.2' || address === '127.0.0.1'));
    t.deepEqual(run.result.withoutOption.map(({ keys }) => keys.sort()), [['address', 'family', 'port', 'size']]);
    t.deepEqual(local(run.result.udp6), [
      ['to 10.77.0.3', '::ffff:10.77.0.3'],
      ['to ::1', '::1'],
      ['to fe80::1%va', 'fe80::1%va'],
    ]);
  });
}
