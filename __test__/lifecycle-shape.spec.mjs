// Parity of the module's shape: exports, the Socket class, the documented
// prototype methods, socket instances, and loading through ESM and CommonJS.
import test from 'ava';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parity, attemptFull, childPrelude, implSpecifier, runNode, dumpObservations,
} from './helpers/parity.mjs';

const require = createRequire(import.meta.url);
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELF = process.env.PARITY_SELF === '1';

/** The bare specifier each implementation is imported by ('fastdgram' resolves by package self-reference). */
const bareSpecifier = (implName) => (implName === 'fastdgram' && !SELF ? 'fastdgram' : 'node:dgram');

// The public methods of dgram.Socket documented in doc/api/dgram.md (Node 24).
const DOCUMENTED_METHODS = [
  'addMembership', 'addSourceSpecificMembership', 'address', 'bind', 'close', 'connect',
  'disconnect', 'dropMembership', 'dropSourceSpecificMembership', 'getRecvBufferSize',
  'getSendBufferSize', 'getSendQueueCount', 'getSendQueueSize', 'ref', 'remoteAddress', 'send',
  'setBroadcast', 'setMulticastInterface', 'setMulticastLoopback', 'setMulticastTTL',
  'setRecvBufferSize', 'setSendBufferSize', 'setTTL', 'unref',
];

async function check(t, scenario) {
  const result = await parity(t, scenario);
  dumpObservations(t, result);
  return result;
}

const publicKeys = (obj) => Object.keys(obj).filter((k) => !k.startsWith('_')).sort();

test('module exports: createSocket and Socket (underscore internals ignored)', async (t) => {
  const { expected } = await check(t, async (dgram) => ({
    keys: publicKeys(dgram),
    createSocket: { type: typeof dgram.createSocket, name: dgram.createSocket.name, length: dgram.createSocket.length },
    Socket: { type: typeof dgram.Socket, name: dgram.Socket.name, length: dgram.Socket.length },
    socketExtendsEmitter: Object.getPrototypeOf(dgram.Socket) === EventEmitter,
    protoExtendsEmitterProto: Object.getPrototypeOf(dgram.Socket.prototype) === EventEmitter.prototype,
    protoConstructor: dgram.Socket.prototype.constructor === dgram.Socket,
  }));
  t.deepEqual(expected.keys, ['Socket', 'createSocket']);
});

test('documented Socket.prototype methods: present, functions, same arity', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const proto = dgram.Socket.prototype;
    const methods = {};
    for (const name of DOCUMENTED_METHODS) {
      methods[name] = { type: typeof proto[name], length: typeof proto[name] === 'function' ? proto[name].length : null };
    }
    return {
      methods,
      asyncDispose: { type: typeof proto[Symbol.asyncDispose], length: proto[Symbol.asyncDispose]?.length },
      documentedPresent: DOCUMENTED_METHODS.filter((m) => typeof proto[m] === 'function'),
    };
  });
  t.deepEqual(expected.documentedPresent, DOCUMENTED_METHODS);
  t.is(expected.asyncDispose.type, 'function');
});

test('documented Socket.prototype methods are enumerable own properties (assigned, not class methods)', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const proto = dgram.Socket.prototype;
    const s = dgram.createSocket('udp4');
    const forIn = [];
    for (const k in s) if (DOCUMENTED_METHODS.includes(k)) forIn.push(k);
    s.close();
    return {
      ownAndEnumerable: DOCUMENTED_METHODS.map((m) => {
        const d = Object.getOwnPropertyDescriptor(proto, m);
        return [m, d ? { enumerable: d.enumerable, writable: d.writable, configurable: d.configurable } : null];
      }),
      forIn: forIn.sort(),
    };
  });
  t.is(expected.ownAndEnumerable.length, DOCUMENTED_METHODS.length);
});

test('socket instances: EventEmitter, own string keys, defaults', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const out = {};
    for (const make of ['udp4', 'udp6', { type: 'udp4' }, { type: 'udp6', reuseAddr: true }]) {
      const s = dgram.createSocket(make);
      out[JSON.stringify(make)] = {
        type: s.type,
        isEmitter: s instanceof EventEmitter,
        isSocket: s instanceof dgram.Socket,
        ctor: s.constructor === dgram.Socket,
        ownKeys: Object.keys(s).sort(),
        eventNames: s.eventNames().map(String),
        maxListeners: s.getMaxListeners(),
        toStringTag: Object.prototype.toString.call(s),
      };
      s.close();
    }
    return out;
  });
  t.is(expected['"udp6"'].type, 'udp6');
  t.true(expected['"udp4"'].isEmitter);
});

test('new Socket(...) works like createSocket; bad types throw the same', async (t) => {
  const { expected } = await check(t, async (dgram) => {
    const results = {};
    for (const [name, make] of Object.entries({
      "new Socket('udp4')": () => new dgram.Socket('udp4'),
      "new Socket({ type: 'udp6' }, fn)": () => new dgram.Socket({ type: 'udp6' }, () => {}),
      "new Socket('tcp')": () => new dgram.Socket('tcp'),
      'new Socket()': () => new dgram.Socket(),
    })) {
      let s;
      const r = attemptFull(() => { s = make(); return s; });
      results[name] = {
        ...r,
        value: undefined,
        type: s?.type,
        isSocket: s instanceof dgram.Socket,
        messageListeners: s?.listenerCount('message'),
      };
      if (s) s.close();
    }
    // Calling without `new` is not supported; only whether it throws and the class are compared.
    // (Called with an undefined `this`: node's Socket would otherwise initialise whatever `this` is.)
    const plain = attemptFull(() => Reflect.apply(dgram.Socket, undefined, ['udp4']));
    results['Socket(type) without new'] = { threw: plain.threw, class: plain.error?.class };
    return results;
  });
  t.is(expected["new Socket('udp4')"].type, 'udp4');
  t.is(expected["new Socket('tcp')"].error.code, 'ERR_SOCKET_BAD_TYPE');
});

test('ESM: default and named exports by package name, same objects as require()', async (t) => {
  const { expected } = await check(t, async (dgram, implName) => {
    const spec = bareSpecifier(implName);
    const ns = await import(spec);
    const required = require(spec);
    return {
      namespaceKeys: Object.keys(ns).filter((k) => !k.startsWith('_')).sort(),
      defaultIsRequired: ns.default === required,
      defaultIsHarnessModule: ns.default === dgram,
      namedCreateSocket: ns.createSocket === ns.default.createSocket,
      namedSocket: ns.Socket === ns.default.Socket,
      types: [typeof ns.default, typeof ns.createSocket, typeof ns.Socket],
      socketFromNamed: (() => {
        const s = ns.createSocket('udp4');
        s.close();
        return s instanceof ns.Socket;
      })(),
    };
  });
  t.deepEqual(expected.namespaceKeys, ['Socket', 'createSocket', 'default']);
  t.true(expected.defaultIsRequired);
});

test('ESM: `import dgram, { createSocket, Socket } from <package>` in a child, inside the package', async (t) => {
  const { expected } = await check(t, async (dgram, implName) => {
    const spec = bareSpecifier(implName);
    const code = `${childPrelude()}
import dgram, { createSocket, Socket } from ${JSON.stringify(spec)};
out({ same: createSocket === dgram.createSocket && Socket === dgram.Socket });
const s = createSocket('udp4');
out({ isSocket: s instanceof Socket, type: s.type });
s.bind(0, '127.0.0.1', () => { out({ family: s.address().family }); s.close(() => out('closed')); });
`;
    const r = await runNode(code, { cwd: PACKAGE_ROOT, args: ['--input-type=module'], timeout: 5000 });
    return { exitCode: r.exitCode, timedOut: r.timedOut, lines: r.lines };
  });
  t.is(expected.exitCode, 0);
  t.is(expected.lines.length, 4);
});

test('CommonJS: require(<absolute package path>) in a child', async (t) => {
  const { expected } = await check(t, async (dgram, implName) => {
    const code = `${childPrelude()}
const dgram = require(${JSON.stringify(implSpecifier(implName))});
out(Object.keys(dgram).filter((k) => !k.startsWith('_')).sort());
const s = dgram.createSocket({ type: 'udp6' });
s.bind(0, '::1', () => { out(s.address().address); s.close(() => out('closed')); });
`;
    const r = await runNode(code, { timeout: 5000 });
    return { exitCode: r.exitCode, timedOut: r.timedOut, lines: r.lines };
  });
  t.deepEqual(expected.lines, [['Socket', 'createSocket'], '::1', 'closed']);
});
