// What a 'message' handler schedules (process.nextTick, promise callbacks,
// setImmediate) runs in the same order relative to the following datagrams
// as in node:dgram, where every datagram is its own callback from the event
// loop — even though fastdgram reads many datagrams in one system call.
import test from 'ava';
import { parity } from './helpers/parity.mjs';

function bound(socket, address) {
  return new Promise((resolve) => socket.bind(0, address, resolve));
}

async function burstOrder(dgram, family) {
  const address = family === 'udp4' ? '127.0.0.1' : '::1';
  const rx = dgram.createSocket(family);
  const tx = dgram.createSocket(family);
  await bound(rx, address);
  await bound(tx, address);
  const log = [];
  const count = 40;
  const finished = new Promise((resolve) => {
    rx.on('message', (msg) => {
      const n = msg.toString();
      log.push(`message ${n}`);
      process.nextTick(() => log.push(`tick ${n}`));
      Promise.resolve().then(() => log.push(`promise ${n}`));
      if (log.filter((entry) => entry.startsWith('message')).length === count) setImmediate(resolve);
    });
  });
  // Stop the receiver's event loop while the burst arrives, so that the
  // kernel holds all of them and one receive call could return many.
  for (let i = 0; i < count; i++) tx.send(String(i), rx.address().port, address);
  const until = Date.now() + 50;
  while (Date.now() < until) { /* let the datagrams pile up in the kernel */ }
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 5000).unref());
  await Promise.race([finished, timeout]);
  rx.close();
  tx.close();
  return log;
}

for (const family of ['udp4', 'udp6']) {
  test.serial(`nextTick and promise callbacks from a 'message' handler run before the next datagram (${family})`, async (t) => {
    const { expected, actual } = await parity(t, (dgram) => burstOrder(dgram, family));
    t.is(expected.length, 120);
    t.deepEqual(expected.slice(0, 6), ['message 0', 'tick 0', 'promise 0', 'message 1', 'tick 1', 'promise 1']);
    t.is(actual.length, 120);
  });
}
