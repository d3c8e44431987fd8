// Parity: multicast with real traffic. Linux loopback has no MULTICAST flag
// and the host's interfaces must not be touched, so each test creates its own
// network namespace (deleted in t.teardown) holding:
//   lo  — up, MULTICAST on (127.0.0.1, ::1)
//   va/vb — a veth pair, both ends in the namespace: va 10.77.0.1 + 10.77.0.3
//           + fe80::1, vb 10.77.0.2 + fe80::2 (rp_filter off, accept_local on)
// and runs the scenario (fixtures/netns-scenario.mjs) in a child process via
// `ip netns exec`, once with node:dgram and once with fastdgram.
import test from 'ava';
import {
  NETNS, createNetns, implSpecifier, parity, runFixture, skipWithReason,
} from './fixtures/udp.mjs';
import { MULTICAST_INTERFACE_UNTRANSLATED, untranslatedOptions } from './helpers/emulation.mjs';

// untranslated: the reason it cannot run under qemu-user, if it cannot.
function nsTest(title, scenario, check, untranslated = null) {
  if (!NETNS.ok || untranslated) {
    skipWithReason(title, NETNS.ok ? untranslated : NETNS.reason);
    return;
  }
  test.serial(title, async (t) => {
    t.timeout(60000);
    const ns = createNetns(t);
    const { expected } = await parity(t, async (_dgram, implName) => {
      const run = await runFixture('netns-scenario.mjs', [implSpecifier(implName), scenario], { netns: ns, timeout: 25000 });
      if (run.result === undefined) return { noResult: { exitCode: run.exitCode, signal: run.signal, timedOut: run.timedOut, stderr: run.stderr } };
      return run.result;
    });
    t.is(expected.scenarioThrew, undefined, 'the scenario ran to the end on node:dgram');
    t.is(expected.watchdog, undefined, 'the scenario finished in time on node:dgram');
    check(t, expected);
  });
}

const count = (step) => step.received.length;

nsTest('IPv4 multicast on a veth pair: addMembership per interface, setMulticastLoopback, setMulticastTTL, setMulticastInterface, dropMembership change what arrives',
  'multicast4', (t, r) => {
    // node:dgram sanity: the matrix of copies really exercised each option.
    t.deepEqual(r.steps.map(count), [2, 1, 1, 0, 2, 1, 0, 1, 1, 1]);
  }, untranslatedOptions('IP_MULTICAST_IF'));

nsTest('source-specific multicast: addSourceSpecificMembership filters by source; dropSourceSpecificMembership stops delivery; their errors',
  'sourceSpecific', (t, r) => {
    t.deepEqual(r.joined.received.map((m) => m.text), ['from 10.77.0.1']);
    t.is(r.left.received.length, 0);
  }, untranslatedOptions('IP_MULTICAST_IF', 'MCAST_JOIN_SOURCE_GROUP'));

nsTest('multicast on loopback (MULTICAST flag set inside the namespace): membership on 127.0.0.1, loopback flag irrelevant on lo, dropMembership',
  'loopbackMulticast', (t, r) => {
    t.is(r.first.received.length, 1);
    t.is(r.third.received.length, 0);
  });

nsTest("IPv6 multicast (ff12::) on a veth pair: memberships with '::%vb' / 'fe80::1%va', setMulticastInterface('::%va'), scoped destination, hop limit 0",
  'multicast6', (t, r) => {
    t.deepEqual(r.steps.map(count), [2, 1, 1, 1, 1]);
  });

nsTest('multicast API errors: unbound socket (EBADF, addMembership binds implicitly), bad groups/interfaces, TTL range and types, loopback return values, closed socket',
  'multicastErrors', (t, r) => {
    t.is(r.unbound.setMulticastTTL.error.code, 'EBADF');
    t.is(r.bound.addDuplicate.error.code, 'EADDRINUSE');
  }, MULTICAST_INTERFACE_UNTRANSLATED);
