// lib/errors.ts and lib/validate.ts against the errors node itself throws.
// Each case provokes a real error through a public node API and builds ours
// for the same input, then compares everything a caller can observe.
import test from 'ava';
import assert from 'node:assert';
import { Buffer, constants as bufferConstants } from 'node:buffer';
import childProcess from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import dns from 'node:dns';
import events, { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import stream from 'node:stream';
import { fileURLToPath } from 'node:url';
import util from 'node:util';
import v8 from 'node:v8';
import { DGRAM_VALIDATES_BUFFER_SIZES } from './helpers/parity.mjs';
import { IS_WINDOWS, uvErrno } from './helpers/platform.mjs';

const require = createRequire(import.meta.url);
const errors = require('../dist/errors.js');
const validate = require('../dist/validate.js');

const nodeMajor = Number(process.versions.node.split('.')[0]);
const thisFile = fileURLToPath(import.meta.url);

const NO_BUFFER_SIZE_VALIDATION = `(skipped under node ${process.versions.node}: its createSocket() does not validate recvBufferSize, nodejs/node#56084 came later)`;

// ---------------------------------------------------------------------------
// Helpers

function baseClassOf(err) {
  for (const Base of [TypeError, RangeError, SyntaxError]) if (err instanceof Base) return Base.name;
  return err instanceof Error ? 'Error' : 'not an Error';
}

function describeDescriptor(descriptor) {
  const kind = descriptor.get || descriptor.set ? 'accessor' : 'value';
  const flags = ['enumerable', 'writable', 'configurable'].filter((flag) => descriptor[flag]);
  return `${kind} ${flags.join(' ')}`;
}

/** Everything about an error a caller can observe, minus the stack frames. */
function observe(err) {
  return {
    baseClass: baseClassOf(err),
    constructorName: err.constructor.name,
    name: err.name,
    code: err.code,
    message: err.message,
    toString: err.toString(),
    stackHeader: err.stack.split('\n')[0],
    keys: Object.keys(err),
    enumerableValues: Object.fromEntries(Object.keys(err).map((key) => [key, err[key]])),
    ownProperties: Object.entries(Object.getOwnPropertyDescriptors(err)).map(
      ([key, descriptor]) => `${key}: ${describeDescriptor(descriptor)}`,
    ),
    ownSymbols: Object.getOwnPropertySymbols(err).map(String),
    inspected: util
      .inspect(err)
      .split('\n')
      .filter((line) => !/^\s+at /.test(line))
      .join('\n'),
  };
}

function thrownBy(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error(`expected ${fn} to throw`);
}

/** Asserts ours is indistinguishable from node's, and that node threw what the case expects. */
function assertSameError(t, nodeError, ourError, expectedCode) {
  t.is(nodeError.code, expectedCode, 'node threw a different error than this case is about');
  t.deepEqual(observe(ourError), observe(nodeError));
}

/** Runs fn with a fresh unbound udp4 socket and closes it afterwards. */
function withSocket(fn) {
  const socket = dgram.createSocket('udp4');
  try {
    return fn(socket);
  } finally {
    socket.close();
  }
}

const ifNode24 = nodeMajor >= 24 ? test : test.skip;
const ifNode20 = nodeMajor < 24 ? test : test.skip;

// ---------------------------------------------------------------------------
// ERR_INVALID_ARG_TYPE: how the received value is described

class Foo {}
const nonNumbers = {
  undefined: undefined,
  null: null,
  'empty string': '',
  'short string': 'abc',
  '28-character string': 'a'.repeat(28),
  '29-character string': 'a'.repeat(29),
  'string with a quote': "it's",
  'long string with a quote': "it's a rather long string, isn't it",
  'string with a double quote': 'say "hi"',
  'plain object': {},
  'null-prototype object': Object.create(null),
  'object with a constructor property': { constructor: { name: 'Fake' } },
  'empty array': [],
  array: [1, 2, 3],
  Map: new Map(),
  'class instance': new Foo(),
  Buffer: Buffer.alloc(1),
  Date: new Date(0),
  RegExp: /re/,
  Error: new Error('x'),
  'named function': function named() {},
  'anonymous function': [function () {}][0],
  'arrow function': [() => {}][0],
  class: Foo,
  symbol: Symbol('s'),
  'symbol without description': Symbol(),
  'symbol with a long description': Symbol('x'.repeat(40)),
  bigint: 10n,
  'negative bigint': -(2n ** 70n),
  true: true,
  false: false,
};

for (const [label, value] of Object.entries(nonNumbers)) {
  test(`ERR_INVALID_ARG_TYPE describes a received ${label} as node does`, (t) => {
    const nodeError = withSocket((socket) => thrownBy(() => socket.setTTL(value)));
    assertSameError(t, nodeError, new errors.ERR_INVALID_ARG_TYPE('ttl', 'number', value), 'ERR_INVALID_ARG_TYPE');
    assertSameError(t, nodeError, thrownBy(() => validate.validateNumber(value, 'ttl')), 'ERR_INVALID_ARG_TYPE');
  });
}

const numbers = {
  zero: 0,
  'negative zero': -0,
  'small integer': 5,
  'negative fraction': -1.5,
  NaN: NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  '2**53': 2 ** 53,
  '1e21': 1e21,
  'tiny fraction': 5e-7,
};

for (const [label, value] of Object.entries(numbers)) {
  test(`ERR_INVALID_ARG_TYPE describes a received number (${label}) as node does`, (t) => {
    const nodeError = thrownBy(() => Buffer.byteLength(value));
    const ourError = new errors.ERR_INVALID_ARG_TYPE('string', ['string', 'Buffer', 'ArrayBuffer'], value);
    assertSameError(t, nodeError, ourError, 'ERR_INVALID_ARG_TYPE');
  });
}

// ---------------------------------------------------------------------------
// ERR_INVALID_ARG_TYPE: how the expected types are listed

const expectedListCases = [
  {
    label: "dgram send's buffer (types and instances)",
    provoke: () => withSocket((socket) => socket.send(5)),
    ours: () => new errors.ERR_INVALID_ARG_TYPE('buffer', ['Buffer', 'TypedArray', 'DataView', 'string'], 5),
  },
  {
    label: 'dgram send\'s list (a name ending in "arguments")',
    provoke: () => withSocket((socket) => socket.send([5], 1234, '127.0.0.1')),
    ours: () =>
      new errors.ERR_INVALID_ARG_TYPE('buffer list arguments', ['Buffer', 'TypedArray', 'DataView', 'string'], [5]),
  },
  {
    label: 'Buffer.from (a name ending in " argument", and a non-class word)',
    provoke: () => Buffer.from(5),
    ours: () =>
      new errors.ERR_INVALID_ARG_TYPE(
        'first argument',
        ['string', 'Buffer', 'ArrayBuffer', 'Array', 'Array-like Object'],
        5,
      ),
  },
  {
    label: 'util.inherits (a property, Object as a type)',
    provoke: () => util.inherits(function () {}, {}),
    ours: () => new errors.ERR_INVALID_ARG_TYPE('superCtor.prototype', 'Object', undefined),
  },
  {
    label: 'fs.readFileSync (an instance of Object received)',
    provoke: () => fs.readFileSync({}),
    ours: () => new errors.ERR_INVALID_ARG_TYPE('path', ['string', 'Buffer', 'URL'], {}),
  },
  {
    label: "dgram's lookup option (Function)",
    provoke: () => dgram.createSocket({ type: 'udp4', lookup: 5 }),
    ours: () => new errors.ERR_INVALID_ARG_TYPE('lookup', 'Function', 5),
  },
  {
    label: 'spawnSync shell option (one of type)',
    provoke: () => childProcess.spawnSync('true', [], { shell: 5 }),
    ours: () => new errors.ERR_INVALID_ARG_TYPE('options.shell', ['boolean', 'string'], 5),
  },
  {
    label: 'Readable.toWeb (a dotted non-class word takes "an")',
    provoke: () => stream.Readable.toWeb(5),
    ours: () => new errors.ERR_INVALID_ARG_TYPE('streamReadable', 'stream.Readable', 5),
  },
  {
    label: 'crypto.createPublicKey (many instances)',
    provoke: () => crypto.createPublicKey(5),
    ours: () =>
      new errors.ERR_INVALID_ARG_TYPE(
        'key',
        ['string', 'ArrayBuffer', 'Buffer', 'TypedArray', 'DataView', 'KeyObject', 'CryptoKey'],
        5,
      ),
  },
  {
    label: 'Duplex.from (type, instances and another word together)',
    provoke: () => stream.Duplex.from(5),
    ours: () =>
      new errors.ERR_INVALID_ARG_TYPE(
        'body',
        [
          'Blob',
          'ReadableStream',
          'WritableStream',
          'Stream',
          'Iterable',
          'AsyncIterable',
          'Function',
          '{ readable, writable } pair',
          'Promise',
        ],
        5,
      ),
  },
];

for (const { label, provoke, ours } of expectedListCases) {
  test(`ERR_INVALID_ARG_TYPE lists expected types as node does: ${label}`, (t) => {
    assertSameError(t, thrownBy(provoke), ours(), 'ERR_INVALID_ARG_TYPE');
  });
}

ifNode24(
  "ERR_INVALID_ARG_TYPE lists expected types as node does: dgram's receiveBlockList option " +
    '(skipped before Node 24: node 20 has no receiveBlockList option, so nothing throws; compared from Node 24 on)',
  (t) => {
    const nodeError = thrownBy(() => dgram.createSocket({ type: 'udp4', receiveBlockList: 5 }));
    const ourError = new errors.ERR_INVALID_ARG_TYPE('options.receiveBlockList', 'net.BlockList', 5);
    assertSameError(t, nodeError, ourError, 'ERR_INVALID_ARG_TYPE');
  },
);

// No public node API reaches these two branches of the message builder, so
// the expected text is written out from node 24's rules (internal/errors.js).
test('ERR_INVALID_ARG_TYPE lists "Object" after other classes, and several non-class words as "one of"', (t) => {
  const objectAndClasses = new errors.ERR_INVALID_ARG_TYPE('value', ['object', 'Buffer'], 5);
  t.is(
    objectAndClasses.message,
    'The "value" argument must be an instance of Buffer or Object. Received type number (5)',
  );
  const severalWords = new errors.ERR_INVALID_ARG_TYPE('value', ['a dictionary', 'an iterable'], 5);
  t.is(
    severalWords.message,
    'The "value" argument must be one of a dictionary or an iterable. Received type number (5)',
  );
});

// ---------------------------------------------------------------------------
// ERR_OUT_OF_RANGE and the integer validators

const outOfRangeCases = [
  ...[1.5, Infinity, 2 ** 33, -(2 ** 33), -1, 4294967296].map((value) => ({
    label: `dgram recvBufferSize ${value} (validateUint32)`,
    needsBufferSizeValidation: true,
    provoke: () => dgram.createSocket({ type: 'udp4', recvBufferSize: value }),
    ours: [
      () => validate.validateUint32(value, 'options.recvBufferSize'),
      () => {
        throw new errors.ERR_OUT_OF_RANGE(
          'options.recvBufferSize',
          Number.isInteger(value) ? '>= 0 && <= 4294967295' : 'an integer',
          value,
        );
      },
    ],
  })),
  {
    label: 'v8.setHeapSnapshotNearHeapLimit 0 (validateUint32, positive)',
    provoke: () => v8.setHeapSnapshotNearHeapLimit(0),
    ours: [() => validate.validateUint32(0, 'limit', true)],
  },
  {
    label: 'os.setPriority 100 (validateInt32 with bounds)',
    provoke: () => os.setPriority(0, 100),
    ours: [() => validate.validateInt32(100, 'priority', -20, 19)],
  },
  ...[-2, 1.5, 2 ** 31, 2 ** 40].map((value) => ({
    label: `dns.Resolver timeout ${value} (validateInt32 with a minimum)`,
    provoke: () => new dns.Resolver({ timeout: value }),
    ours: [() => validate.validateInt32(value, 'options.timeout', -1)],
  })),
  ...[-1, NaN].map((value) => ({
    label: `Buffer.alloc ${value} (validateNumber with bounds)`,
    provoke: () => Buffer.alloc(value),
    ours: [() => validate.validateNumber(value, 'size', 0, bufferConstants.MAX_LENGTH)],
  })),
  ...[2 ** 40, -(2 ** 40), 1e21, 4].map((value) => ({
    label: `buf.readUInt8 ${value} (numbers, underscores above 2**32)`,
    provoke: () => Buffer.alloc(4).readUInt8(value),
    ours: [
      () => {
        throw new errors.ERR_OUT_OF_RANGE('offset', '>= 0 and <= 3', value);
      },
    ],
  })),
  ...[2n ** 70n, -(2n ** 70n), 2n ** 63n].map((value) => ({
    label: `buf.writeBigInt64LE ${value} (bigints)`,
    provoke: () => Buffer.alloc(8).writeBigInt64LE(value),
    ours: [
      () => {
        throw new errors.ERR_OUT_OF_RANGE('value', '>= -(2n ** 63n) and < 2n ** 63n', value);
      },
    ],
  })),
  {
    label: 'buf.writeBigUInt64LE -1n (small bigint, no underscores)',
    provoke: () => Buffer.alloc(8).writeBigUInt64LE(-1n),
    ours: [
      () => {
        throw new errors.ERR_OUT_OF_RANGE('value', '>= 0n and < 2n ** 64n', -1n);
      },
    ],
  },
  {
    label: 'util.getSystemErrorName 5 (through systemErrorName)',
    provoke: () => util.getSystemErrorName(5),
    ours: [
      () => errors.systemErrorName(5),
      () => {
        throw new errors.ERR_OUT_OF_RANGE('err', 'a negative integer', 5);
      },
    ],
  },
];

for (const { label, provoke, ours, needsBufferSizeValidation } of outOfRangeCases) {
  const register = needsBufferSizeValidation && !DGRAM_VALIDATES_BUFFER_SIZES ? test.skip : test;
  const reason = register === test ? '' : ` ${NO_BUFFER_SIZE_VALIDATION}`;
  register(`ERR_OUT_OF_RANGE as node throws it: ${label}${reason}`, (t) => {
    const nodeError = thrownBy(provoke);
    for (const build of ours) assertSameError(t, nodeError, thrownBy(build), 'ERR_OUT_OF_RANGE');
  });
}

test('validateInt32, validateUint32 and validateNumber reject non-numbers as node does', (t) => {
  if (DGRAM_VALIDATES_BUFFER_SIZES) {
    assertSameError(
      t,
      thrownBy(() => dgram.createSocket({ type: 'udp4', recvBufferSize: 'x' })),
      thrownBy(() => validate.validateUint32('x', 'options.recvBufferSize')),
      'ERR_INVALID_ARG_TYPE',
    );
  } else {
    t.log(`node ${process.versions.node}: createSocket() does not validate recvBufferSize; validateUint32 compared with v8's only`);
  }
  assertSameError(
    t,
    thrownBy(() => v8.setHeapSnapshotNearHeapLimit('x')),
    thrownBy(() => validate.validateUint32('x', 'limit', true)),
    'ERR_INVALID_ARG_TYPE',
  );
  assertSameError(
    t,
    thrownBy(() => os.setPriority('x', 1)),
    thrownBy(() => validate.validateInt32('x', 'pid')),
    'ERR_INVALID_ARG_TYPE',
  );
  assertSameError(
    t,
    thrownBy(() => Buffer.alloc('x')),
    thrownBy(() => validate.validateNumber('x', 'size', 0, bufferConstants.MAX_LENGTH)),
    'ERR_INVALID_ARG_TYPE',
  );
});

test('the integer validators accept what node accepts', (t) => {
  t.notThrows(() => validate.validateUint32(4294967295, 'n'));
  t.notThrows(() => validate.validateUint32(0, 'n'));
  t.notThrows(() => validate.validateInt32(-2147483648, 'n'));
  t.notThrows(() => validate.validateNumber(NaN, 'n'));
  t.notThrows(() => validate.validateNumber(Infinity, 'n', 0));
  t.notThrows(() => dgram.createSocket({ type: 'udp4', recvBufferSize: 4294967295 }).close());
});

test('validateNumber words a bound given alone the way node does', (t) => {
  t.is(
    thrownBy(() => validate.validateNumber(5, 'n', undefined, 1)).message,
    'The value of "n" is out of range. It must be <= 1. Received 5',
  );
  t.is(
    thrownBy(() => validate.validateNumber(-5, 'n', 0)).message,
    'The value of "n" is out of range. It must be >= 0. Received -5',
  );
  t.is(
    thrownBy(() => validate.validateNumber(NaN, 'n', null, 1)).message,
    'The value of "n" is out of range. It must be <= 1. Received NaN',
  );
});

test('isInt32 and isUint32 follow node: numbers that survive |0 and >>>0 unchanged', (t) => {
  const cases = [
    [0, true, true],
    [-0, true, true],
    [1, true, true],
    [-1, true, false],
    [2 ** 31 - 1, true, true],
    [2 ** 31, false, true],
    [2 ** 32 - 1, false, true],
    [2 ** 32, false, false],
    [1.5, false, false],
    [NaN, false, false],
    ['1', false, false],
    [null, false, false],
    [undefined, false, false],
  ];
  for (const [value, int32, uint32] of cases) {
    t.is(validate.isInt32(value), int32, `isInt32(${String(value)})`);
    t.is(validate.isUint32(value), uint32, `isUint32(${String(value)})`);
  }
});

// ---------------------------------------------------------------------------
// ERR_SOCKET_BAD_PORT and validatePort

const badPorts = {
  'negative number': -1,
  65536: 65536,
  '2**32': 2 ** 32,
  fraction: 1.5,
  NaN: NaN,
  'non-numeric string': 'x',
  'empty string': '',
  'whitespace string': ' ',
  "string '65536'": '65536',
  "string '-1'": '-1',
  null: null,
  undefined: undefined,
  true: true,
  object: {},
  bigint: 80n,
};

for (const [label, port] of Object.entries(badPorts)) {
  test(`validatePort rejects a ${label} as node does`, (t) => {
    const notZero = withSocket((socket) => thrownBy(() => socket.connect(port, '127.0.0.1')));
    assertSameError(t, notZero, thrownBy(() => validate.validatePort(port, 'Port', false)), 'ERR_SOCKET_BAD_PORT');
    assertSameError(t, notZero, new errors.ERR_SOCKET_BAD_PORT('Port', port, false), 'ERR_SOCKET_BAD_PORT');

    const zeroAllowed = thrownBy(() => dns.lookupService('127.0.0.1', port, () => {}));
    assertSameError(t, zeroAllowed, thrownBy(() => validate.validatePort(port)), 'ERR_SOCKET_BAD_PORT');

    // SocketAddress defaults an undefined port to 0 before validating it.
    if (port !== undefined) {
      const optionName = thrownBy(() => new net.SocketAddress({ address: '127.0.0.1', port }));
      const ours = thrownBy(() => validate.validatePort(port, 'options.port'));
      assertSameError(t, optionName, ours, 'ERR_SOCKET_BAD_PORT');
    }
  });
}

test('validatePort rejects port 0 when zero is not allowed, as node does', (t) => {
  const nodeError = withSocket((socket) => thrownBy(() => socket.connect(0, '127.0.0.1')));
  assertSameError(t, nodeError, thrownBy(() => validate.validatePort(0, 'Port', false)), 'ERR_SOCKET_BAD_PORT');
});

ifNode24(
  "validatePort rejects the string '0' when zero is not allowed " +
    "(skipped before Node 24: node 20's validatePort compared port === 0, so '0' passed; compared from Node 24 on)",
  (t) => {
    const nodeError = withSocket((socket) => thrownBy(() => socket.connect('0', '127.0.0.1')));
    assertSameError(t, nodeError, thrownBy(() => validate.validatePort('0', 'Port', false)), 'ERR_SOCKET_BAD_PORT');
  },
);

ifNode20("node 20 only: node 20's dgram lets the string '0' through validatePort; fastdgram follows node 24", (t) => {
  t.notThrows(() => withSocket((socket) => socket.connect('0', '127.0.0.1')));
  t.is(thrownBy(() => validate.validatePort('0', 'Port', false)).code, 'ERR_SOCKET_BAD_PORT');
});

const goodPorts = [0, 1, 80, 65535, -0, '80', ' 80 ', '0x50', '8e1', '0', '\t443\n'];

for (const port of goodPorts) {
  const portText = typeof port === 'string' ? JSON.stringify(port) : Object.is(port, -0) ? '-0' : String(port);
  // Node 20's SocketAddress aborts the process (a C++ assertion) when given a
  // port that validatePort accepts but that is not an int32 number.
  const reachableUnderNode20 = typeof port === 'number' && !Object.is(port, -0);
  const runnable = nodeMajor >= 24 || reachableUnderNode20;
  const runner = runnable ? test : test.skip;
  const reason = runnable ? '' : ' (skipped before Node 24: node 20\'s net.SocketAddress aborts on this port; compared from Node 24 on)';
  runner(`validatePort accepts ${portText} and returns the number node uses${reason}`, (t) => {
    const nodePort = new net.SocketAddress({ address: '127.0.0.1', port }).port;
    t.is(validate.validatePort(port, 'options.port'), nodePort);
  });
}

// ---------------------------------------------------------------------------
// ERR_INVALID_ARG_VALUE and ERR_MISSING_ARGS

test('ERR_INVALID_ARG_VALUE with its default reason, as node throws it', (t) => {
  const nodeError = thrownBy(() => Buffer.alloc(2).fill('a', 'hex'));
  assertSameError(t, nodeError, new errors.ERR_INVALID_ARG_VALUE('value', 'a'), 'ERR_INVALID_ARG_VALUE');
});

test('ERR_INVALID_ARG_VALUE with a reason, for an argument and for a property', (t) => {
  const reason = 'must be one of: 0, 4, 6';
  assertSameError(
    t,
    thrownBy(() => dns.lookup('localhost', 7, () => {})),
    new errors.ERR_INVALID_ARG_VALUE('family', 7, reason),
    'ERR_INVALID_ARG_VALUE',
  );
  assertSameError(
    t,
    thrownBy(() => dns.lookup('localhost', { family: 5 }, () => {})),
    new errors.ERR_INVALID_ARG_VALUE('options.family', 5, reason),
    'ERR_INVALID_ARG_VALUE',
  );
});

test('ERR_INVALID_ARG_VALUE cuts an inspected value longer than 128 characters', (t) => {
  // Inspected with its quotes, a string of 126 characters is 128 long.
  for (const length of [126, 127, 200]) {
    const family = 'a'.repeat(length);
    assertSameError(
      t,
      thrownBy(() => dns.lookup('localhost', { family }, () => {})),
      new errors.ERR_INVALID_ARG_VALUE('options.family', family, 'must be one of: 0, 4, 6'),
      'ERR_INVALID_ARG_VALUE',
    );
  }
});

test('ERR_MISSING_ARGS for one and for two names, as node throws it', (t) => {
  assertSameError(
    t,
    withSocket((socket) => thrownBy(() => socket.addMembership())),
    new errors.ERR_MISSING_ARGS('multicastAddress'),
    'ERR_MISSING_ARGS',
  );
  assertSameError(
    t,
    thrownBy(() => assert.strictEqual()),
    new errors.ERR_MISSING_ARGS('actual', 'expected'),
    'ERR_MISSING_ARGS',
  );
});

// No public node API passes three names or alternatives; the expected text is
// written out from node 24's rules.
test('ERR_MISSING_ARGS with three names and with alternatives', (t) => {
  t.is(new errors.ERR_MISSING_ARGS('a', 'b', 'c').message, 'The "a", "b", and "c" arguments must be specified');
  t.is(new errors.ERR_MISSING_ARGS(['a', 'b'], 'c').message, 'The "a" or "b" and "c" arguments must be specified');
  t.is(new errors.ERR_MISSING_ARGS(['a', 'b']).message, 'The "a" or "b" argument must be specified');
});

// ---------------------------------------------------------------------------
// dgram's own errors

const dgramErrorCases = [
  {
    code: 'ERR_SOCKET_BAD_TYPE',
    provoke: () => dgram.createSocket('udp5'),
    ours: () => new errors.ERR_SOCKET_BAD_TYPE(),
  },
  {
    code: 'ERR_SOCKET_BAD_BUFFER_SIZE',
    provoke: () => withSocket((socket) => socket.setRecvBufferSize(-1)),
    ours: () => new errors.ERR_SOCKET_BAD_BUFFER_SIZE(),
  },
  {
    code: 'ERR_SOCKET_ALREADY_BOUND',
    provoke: () =>
      withSocket((socket) => {
        socket.bind(0, '127.0.0.1');
        socket.bind(0, '127.0.0.1');
      }),
    ours: () => new errors.ERR_SOCKET_ALREADY_BOUND(),
  },
  {
    code: 'ERR_SOCKET_DGRAM_IS_CONNECTED',
    provoke: () =>
      withSocket((socket) => {
        socket.connect(9, '127.0.0.1');
        socket.connect(9, '127.0.0.1');
      }),
    ours: () => new errors.ERR_SOCKET_DGRAM_IS_CONNECTED(),
  },
  {
    code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED',
    provoke: () => withSocket((socket) => socket.remoteAddress()),
    ours: () => new errors.ERR_SOCKET_DGRAM_NOT_CONNECTED(),
  },
  {
    code: 'ERR_SOCKET_DGRAM_NOT_RUNNING',
    provoke: () => {
      const socket = dgram.createSocket('udp4');
      socket.close();
      socket.address();
    },
    ours: () => new errors.ERR_SOCKET_DGRAM_NOT_RUNNING(),
  },
  {
    code: 'ERR_BUFFER_OUT_OF_BOUNDS',
    label: '"offset"',
    provoke: () => withSocket((socket) => socket.send(Buffer.alloc(2), 5, 1, 1234, '127.0.0.1')),
    ours: () => new errors.ERR_BUFFER_OUT_OF_BOUNDS('offset'),
  },
  {
    code: 'ERR_BUFFER_OUT_OF_BOUNDS',
    label: '"length"',
    provoke: () => withSocket((socket) => socket.send(Buffer.alloc(2), 1, 5, 1234, '127.0.0.1')),
    ours: () => new errors.ERR_BUFFER_OUT_OF_BOUNDS('length'),
  },
  {
    code: 'ERR_BUFFER_OUT_OF_BOUNDS',
    label: 'without a name',
    provoke: () => Buffer.alloc(1).readUInt16LE(0),
    ours: () => new errors.ERR_BUFFER_OUT_OF_BOUNDS(),
  },
  {
    code: 'ERR_INVALID_FD_TYPE',
    provoke: () => {
      const fd = fs.openSync(thisFile, 'r');
      try {
        withSocket((socket) => socket.bind({ fd }));
      } finally {
        fs.closeSync(fd);
      }
    },
    ours: () => new errors.ERR_INVALID_FD_TYPE('FILE'),
  },
];

for (const { code, label, provoke, ours } of dgramErrorCases) {
  test(`${code}${label ? ` ${label}` : ''} as node throws it`, (t) => {
    const ourError = ours();
    assertSameError(t, thrownBy(provoke), ourError, code);
    t.true(ourError instanceof Error);
  });
}

// ---------------------------------------------------------------------------
// ERR_SOCKET_BUFFER_SIZE (a SystemError)

for (const [method, syscall] of [
  ['getRecvBufferSize', 'uv_recv_buffer_size'],
  ['getSendBufferSize', 'uv_send_buffer_size'],
]) {
  test(`ERR_SOCKET_BUFFER_SIZE as node throws it from an unbound socket's ${method}()`, (t) => {
    const nodeError = withSocket((socket) => thrownBy(() => socket[method]()));
    // libuv on Windows calls getsockopt on INVALID_SOCKET (WSAENOTSOCK); on Unix on fd -1.
    const code = IS_WINDOWS ? 'ENOTSOCK' : 'EBADF';
    const errno = uvErrno(code);
    const context = { errno, code, message: util.getSystemErrorMap().get(errno)[1], syscall };
    const ourError = new errors.ERR_SOCKET_BUFFER_SIZE(context);
    assertSameError(t, nodeError, ourError, 'ERR_SOCKET_BUFFER_SIZE');
    t.deepEqual(ourError.info, nodeError.info);
    t.is(ourError.info, context, 'info is the context object itself');
  });
}

test('ERR_SOCKET_BUFFER_SIZE: errno and syscall write through to info, as in node', (t) => {
  const nodeError = withSocket((socket) => thrownBy(() => socket.getRecvBufferSize()));
  const ourError = new errors.ERR_SOCKET_BUFFER_SIZE({ ...nodeError.info });
  for (const err of [nodeError, ourError]) {
    err.errno = -1;
    err.syscall = 'changed';
  }
  t.deepEqual(ourError.info, nodeError.info);
  t.is(ourError.info.errno, -1);
  t.is(ourError.info.syscall, 'changed');
});

// ---------------------------------------------------------------------------
// errnoException, exceptionWithHostPort, systemErrorName

test('errnoException as node throws it: getsockname on an unbound socket', (t) => {
  const nodeError = withSocket((socket) => thrownBy(() => socket.address()));
  assertSameError(t, nodeError, errors.errnoException(uvErrno('EBADF'), 'getsockname'), 'EBADF');
});

test('errnoException as node throws it: setTTL out of range on a bound socket', async (t) => {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    assertSameError(t, thrownBy(() => socket.setTTL(1000)), errors.errnoException(uvErrno('EINVAL'), 'setTTL'), 'EINVAL');
  } finally {
    socket.close();
  }
});

// util._errnoException builds node's own ErrnoException, but with no stack
// frames, which changes how util.inspect prints it; that part is left out.
function observeFramelessErrnoException(err) {
  const { inspected, ...rest } = observe(err);
  return rest;
}

test('errnoException with the original message, as util._errnoException builds it', (t) => {
  for (const args of [
    [-98, 'bind', 'extra detail'],
    [-4095, 'read'],
    [-9, 'close', ''],
  ]) {
    t.deepEqual(
      observeFramelessErrnoException(errors.errnoException(...args)),
      observeFramelessErrnoException(util._errnoException(...args)),
    );
  }
});

test('exceptionWithHostPort as node emits it: EADDRINUSE from a second bind', async (t) => {
  const first = dgram.createSocket('udp4');
  const second = dgram.createSocket('udp4');
  try {
    await new Promise((resolve) => first.bind(0, '127.0.0.1', resolve));
    const { port } = first.address();
    const nodeError = await new Promise((resolve) => {
      second.once('error', resolve);
      second.bind(port, '127.0.0.1');
    });
    assertSameError(t, nodeError, errors.exceptionWithHostPort(uvErrno('EADDRINUSE'), 'bind', '127.0.0.1', port), 'EADDRINUSE');
  } finally {
    first.close();
    second.close();
  }
});

test('exceptionWithHostPort without a port, with port 0, and with additional text', (t) => {
  const cases = [
    [-111, 'connect', '127.0.0.1', 80, undefined],
    [-98, 'bind', '0.0.0.0', undefined, undefined],
    [-98, 'bind', '0.0.0.0', 0, undefined],
    [-98, 'bind', '', 0, undefined],
    [-98, 'bind', undefined, undefined, undefined],
    [-13, 'send', '::1', 53, '::1:5000'],
  ];
  for (const args of cases) {
    t.deepEqual(observe(errors.exceptionWithHostPort(...args)), observe(util._exceptionWithHostPort(...args)));
  }
});

test('systemErrorName names errnos as util.getSystemErrorName does', (t) => {
  for (const errno of [-1, -9, -11, -22, -98, -111, -4095, -99999]) {
    t.is(errors.systemErrorName(errno), util.getSystemErrorName(errno));
  }
});

// Node's ErrnoException names the errno with util.getSystemErrorName, which
// throws for errnos >= 0. (util._errnoException(5) would show that too, but it
// leaves Error.stackTraceLimit at 0 for the rest of the process.)
test('errnoException rejects a non-negative errno as node does', (t) => {
  assertSameError(
    t,
    thrownBy(() => util.getSystemErrorName(5)),
    thrownBy(() => errors.errnoException(5, 'bind')),
    'ERR_OUT_OF_RANGE',
  );
});

// ---------------------------------------------------------------------------
// The remaining validators

test('validateString as node: dgram setMulticastInterface and send address', (t) => {
  assertSameError(
    t,
    withSocket((socket) => thrownBy(() => socket.setMulticastInterface(5))),
    thrownBy(() => validate.validateString(5, 'interfaceAddress')),
    'ERR_INVALID_ARG_TYPE',
  );
  assertSameError(
    t,
    withSocket((socket) => thrownBy(() => socket.send('x', 1234, 5))),
    thrownBy(() => validate.validateString(5, 'address')),
    'ERR_INVALID_ARG_TYPE',
  );
  t.notThrows(() => validate.validateString('', 'address'));
});

test('validateBoolean as node: EventEmitter captureRejections', (t) => {
  assertSameError(
    t,
    thrownBy(() => new EventEmitter({ captureRejections: 5 })),
    thrownBy(() => validate.validateBoolean(5, 'options.captureRejections')),
    'ERR_INVALID_ARG_TYPE',
  );
  t.notThrows(() => validate.validateBoolean(false, 'b'));
});

test('validateFunction as node: dgram lookup option and setInterval', (t) => {
  assertSameError(
    t,
    thrownBy(() => dgram.createSocket({ type: 'udp4', lookup: 'x' })),
    thrownBy(() => validate.validateFunction('x', 'lookup')),
    'ERR_INVALID_ARG_TYPE',
  );
  assertSameError(
    t,
    thrownBy(() => setInterval(null)),
    thrownBy(() => validate.validateFunction(null, 'callback')),
    'ERR_INVALID_ARG_TYPE',
  );
  t.notThrows(() => validate.validateFunction(class {}, 'callback'));
});

for (const [label, value] of Object.entries({ number: 5, null: null, array: [], function: () => {}, string: 's' })) {
  test(`validateObject rejects a ${label} as node does (net.SocketAddress options)`, (t) => {
    assertSameError(
      t,
      thrownBy(() => new net.SocketAddress(value)),
      thrownBy(() => validate.validateObject(value, 'options')),
      'ERR_INVALID_ARG_TYPE',
    );
  });
}

test('validateObject flags widen what passes, following node', (t) => {
  t.notThrows(() => validate.validateObject({}, 'o'));
  t.notThrows(() => validate.validateObject(new Map(), 'o'));
  t.notThrows(() => validate.validateObject(null, 'o', validate.kValidateObjectAllowNullable));
  t.notThrows(() => validate.validateObject([], 'o', validate.kValidateObjectAllowArray));
  t.notThrows(() => validate.validateObject(() => {}, 'o', validate.kValidateObjectAllowFunction));
  const { kValidateObjectAllowNullable, kValidateObjectAllowFunction } = validate;
  t.is(thrownBy(() => validate.validateObject([], 'o', kValidateObjectAllowNullable)).code, 'ERR_INVALID_ARG_TYPE');
  t.is(thrownBy(() => validate.validateObject(5, 'o', kValidateObjectAllowFunction)).code, 'ERR_INVALID_ARG_TYPE');
});

test('validateAbortSignal as node: dgram signal option and events.addAbortListener', (t) => {
  for (const value of [{}, 5, null, 'signal']) {
    assertSameError(
      t,
      thrownBy(() => dgram.createSocket({ type: 'udp4', signal: value })),
      thrownBy(() => validate.validateAbortSignal(value, 'options.signal')),
      'ERR_INVALID_ARG_TYPE',
    );
    assertSameError(
      t,
      thrownBy(() => events.addAbortListener(value, () => {})),
      thrownBy(() => validate.validateAbortSignal(value, 'signal')),
      'ERR_INVALID_ARG_TYPE',
    );
  }
  // Node only looks for an `aborted` property.
  const lookalike = { aborted: true };
  t.notThrows(() => events.addAbortListener(lookalike, () => {}));
  t.notThrows(() => validate.validateAbortSignal(lookalike, 'signal'));
  t.notThrows(() => validate.validateAbortSignal(undefined, 'signal'));
  t.notThrows(() => validate.validateAbortSignal(new AbortController().signal, 'signal'));
});

// ---------------------------------------------------------------------------
// Stack traces

test("a validator's error starts its stack at the validator's caller, as node's do", (t) => {
  const err = thrownBy(function callsTheValidator() {
    validate.validateString(5, 'name');
  });
  const firstFrame = err.stack.split('\n')[1];
  t.regex(firstFrame, /callsTheValidator/);
  t.notRegex(err.stack, /validate\.js/);
  t.notRegex(err.stack, /errors\.js/);
});

test("an error's stack starts where it was created, not inside errors.js", (t) => {
  function createsTheError() {
    return [
      new errors.ERR_SOCKET_BAD_TYPE(),
      errors.errnoException(-9, 'close'),
      errors.exceptionWithHostPort(-9, 'send', '::1', 1),
    ];
  }
  for (const err of createsTheError()) {
    t.regex(err.stack.split('\n')[1], /createsTheError/);
    t.notRegex(err.stack, /errors\.js/);
  }
});

test("the stack header is left alone when a custom Error.prepareStackTrace is in charge, as node's is", (t) => {
  const original = Error.prepareStackTrace;
  Error.prepareStackTrace = (err) => `custom: ${err.message}`;
  try {
    const nodeError = thrownBy(() => dgram.createSocket('udp5'));
    const ourError = new errors.ERR_SOCKET_BAD_TYPE();
    t.is(ourError.stack, nodeError.stack);
  } finally {
    Error.prepareStackTrace = original;
  }
});
