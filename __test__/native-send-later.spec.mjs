// The asynchronous send path (taken when the kernel answers EAGAIN) is hard
// to provoke on loopback, where a send buffer drains at once: this drives
// the binding's sendLater directly, through the I/O thread and back.
import test from 'ava';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { uvErrno } from './helpers/platform.mjs';

const { NativeUdp } = createRequire(import.meta.url)('../native/index.js');
const KIND_SEND_DONE = 2;

test('sendLater sends a copy on the I/O thread and reports bytes, then errors, to its callback', async (t) => {
  const receiver = dgram.createSocket('udp4');
  await new Promise((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const arrived = new Promise((resolve) => receiver.once('message', (msg) => resolve(msg.toString())));
  const native = NativeUdp.create(4);
  t.is(typeof native, 'object');
  t.is(native.bind('127.0.0.1', 0, 0), 0);
  const events = [];
  const done = new Promise((resolve) => {
    const onEvent = (kind, id, result) => {
      events.push([kind, id, result]);
      if (events.length === 2) resolve();
    };
    const data = Buffer.from('later');
    t.is(native.sendLater(data, receiver.address().port, '127.0.0.1', 7, onEvent), 0);
    data.fill(0); // a copy was taken: what arrives is unchanged
    t.is(native.sendLater(Buffer.alloc(70_000), receiver.address().port, '127.0.0.1', 8, onEvent), 0);
  });
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no send result')), 3000).unref());
  await Promise.race([done, timeout]);
  t.is(await arrived, 'later');
  t.deepEqual(events, [[KIND_SEND_DONE, 7, 5], [KIND_SEND_DONE, 8, uvErrno('EMSGSIZE')]]);
  t.is(native.sendLater(Buffer.from('x'), 1, 'not an ip', 9, () => {}), uvErrno('EINVAL')); // at once
  native.close();
  receiver.close();
});
