// Parity: the order of send callbacks (and of the datagrams) when option
// calls come between sends of one tick. fastdgram sends a tick's unconnected
// datagrams together and must flush them before an option changes the socket;
// the callbacks must still run in node:dgram's order.
import test from 'ava';
import { Sockets, inbox, parity, waitUntil } from './fixtures/udp.mjs';

for (const [title, between] of [
  ['setTTL', (s) => s.setTTL(5)],
  ['setBroadcast', (s) => s.setBroadcast(true)],
  ['setSendBufferSize', (s) => s.setSendBufferSize(1 << 16)],
  ['nothing (the same burst without an option call)', () => {}],
]) {
  test.serial(`send, send, ${title}, send, send in one tick: callbacks and datagrams in node:dgram's order`, async (t) => {
    await parity(t, async (dgram) => {
      const sockets = new Sockets(dgram);
      try {
        const rx = await sockets.bound('udp4', 0, '127.0.0.1');
        const box = inbox(rx);
        const tx = await sockets.bound('udp4', 0, '127.0.0.1');
        const port = rx.address().port;
        const order = [];
        const send = (text) => tx.send(text, port, '127.0.0.1', (err, bytes) => order.push([text, err?.code ?? null, bytes]));
        send('a');
        send('b');
        between(tx);
        send('c');
        send('d');
        order.push('sync end');
        process.nextTick(() => order.push('tick after'));
        await waitUntil(() => box.length >= 4 && order.length >= 6, 2000);
        return { order, received: box.map(({ msg }) => String(msg)) };
      } finally {
        sockets.closeAll();
      }
    });
  });
}
