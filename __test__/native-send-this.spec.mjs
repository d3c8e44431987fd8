// NativeUdp.prototype.send is a raw Node-API callback (crates/node/src/raw_send.rs):
// it must make sure `this` is a NativeUdp before using what it wraps. A
// wrong `this` throws a TypeError; an object another addon wrapped (which
// `napi_unwrap` unwraps just as well) is refused: its pointer is no live
// NativeUdp's. Before that check, such a call crashed the process (SIGSEGV).
import test from 'ava';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { NativeUdp } = require('../native/index.js');
const { send } = NativeUdp.prototype;
const NOT_NATIVE_UDP = { instanceOf: TypeError, message: 'NativeUdp.send: `this` is not a NativeUdp' };

/** An object wrapped by another Node-API addon: @napi-rs/tar's Builder (a dependency of @napi-rs/cli). */
function foreignWrapped() {
  try {
    const { Builder } = require('@napi-rs/tar');
    return new Builder();
  } catch {
    return undefined;
  }
}

test('send with a `this` that is no NativeUdp (a plain object, an object of its prototype, undefined, the prototype itself) throws a TypeError', (t) => {
  const data = Buffer.from('x');
  for (const wrong of [{}, Object.create(NativeUdp.prototype), undefined, NativeUdp.prototype, Buffer.alloc(8)]) {
    t.throws(() => send.call(wrong, data, 9, '127.0.0.1'), NOT_NATIVE_UDP);
  }
});

const foreign = foreignWrapped();
(foreign ? test : test.skip)(`send with an object another addon wrapped as \`this\` throws a TypeError${foreign ? '' : ' [skipped: @napi-rs/tar cannot be loaded here]'}`, (t) => {
  t.throws(() => send.call(foreign, Buffer.from('x'), 9, '127.0.0.1'), NOT_NATIVE_UDP);
  // The foreign object is untouched: it still works as its own addon's.
  t.notThrows(() => foreign.finish());
});

test('send on each kind of NativeUdp (create, bindAny, and openDuplicate where sockets have descriptors: not Windows) still sends', async (t) => {
  const receiver = dgram.createSocket('udp4');
  await new Promise((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const port = receiver.address().port;
  const got = [];
  const arrived = new Promise((resolve) => receiver.on('message', (msg) => { got.push(msg.toString()); if (got.length === kinds.length) resolve(); }));
  const created = NativeUdp.create(4);
  t.is(created.bind('127.0.0.1', 0, 0), 0);
  const bound = NativeUdp.bindAny(4);
  // Windows has no descriptor to duplicate (fd() is an error there, as node's).
  const duplicate = process.platform === 'win32' ? undefined : NativeUdp.openDuplicate(created.fd());
  const kinds = [['create', created], ['bindAny', bound], ...(duplicate ? [['openDuplicate', duplicate]] : [])];
  t.teardown(() => {
    for (const [, native] of kinds) native.close?.();
    receiver.close();
  });
  for (const [name, native] of kinds) {
    t.is(typeof native, 'object', name);
    t.is(send.call(native, Buffer.from(name), port, '127.0.0.1'), name.length, `${name}: bytes sent`);
  }
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${got.length} of ${kinds.length} arrived`)), 3000).unref());
  await Promise.race([arrived, timeout]);
  t.deepEqual(got.sort(), kinds.map(([name]) => name).sort());
});
