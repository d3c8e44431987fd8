// The binding's view of the platform layer: libuv's error numbers for this
// platform, and the capabilities probed at run time, each checked against
// what the socket then does.
import test from 'ava';
import os from 'node:os';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import { createRequire } from 'node:module';
import { untranslatedOptions } from './helpers/emulation.mjs';

const { NativeUdp, nativeCapabilities, translateOsError, uvErrorCodes } = createRequire(import.meta.url)('../native/index.js');

test('uvErrorCodes gives libuv numbers that Node.js names as the same error', (t) => {
  const codes = uvErrorCodes();
  t.true(Object.keys(codes).length >= 19);
  for (const [name, code] of Object.entries(codes)) {
    t.true(Number.isInteger(code) && code < 0, name);
    // libuv has no EOPNOTSUPP of its own: Node names its number ENOTSUP on
    // Linux and FreeBSD (the same number) and leaves macOS's unnamed.
    if (name === 'EOPNOTSUPP') continue;
    // libuv on Windows never reports ENOPROTOOPT: WSAENOPROTOOPT is not in
    // uv_translate_sys_error's table (src/win/error.c), so node says UNKNOWN.
    if (name === 'ENOPROTOOPT' && process.platform === 'win32') {
      t.is(getSystemErrorName(code), 'UNKNOWN', name);
      continue;
    }
    t.is(getSystemErrorName(code), name);
    if (process.platform !== 'win32') t.is(code, -os.constants.errno[name], name);
  }
});

// Windows: Win32 errors run to 15,999 (winerror.h), Winsock's from 10,000 to
// 11,999; libuv's whole table (src/win/error.c) lies below 16,000. Unix:
// errno numbers are small.
const OS_ERRORS_CHECKED = process.platform === 'win32' ? 16_000 : 4_096;

test(`translateOsError: fastdgram's libuv number for every OS error 0..${OS_ERRORS_CHECKED - 1} is the one node's own libuv gives (uv_translate_sys_error)${process.platform === 'win32' ? ', a name node knows' : ''}`, (t) => {
  const names = getSystemErrorMap();
  const differ = [];
  const unnamed = [];
  const translated = new Map();
  for (let code = 0; code < OS_ERRORS_CHECKED; code += 1) {
    const { fastdgram, libuv } = translateOsError(code);
    if (libuv === null) return t.fail('node exports no uv_translate_sys_error here');
    if (fastdgram !== libuv) differ.push(`${code}: fastdgram ${fastdgram}, libuv ${libuv}`);
    if (fastdgram < 0 && !names.has(fastdgram)) unnamed.push(`${code}: ${fastdgram}`);
    translated.set(fastdgram, (translated.get(fastdgram) ?? 0) + 1);
  }
  t.deepEqual(differ, [], 'OS errors fastdgram numbers otherwise than libuv');
  if (process.platform !== 'win32') return;
  // libuv's Windows numbers all have names in node (Unix errnos need not).
  t.deepEqual(unnamed, [], 'numbers node has no name for');
  const unknown = translated.get(-4094) ?? 0;
  const named = [...translated.keys()].filter((n) => n < 0 && n !== -4094);
  t.log(`${OS_ERRORS_CHECKED - 1 - unknown} Windows codes translate to ${named.length} named libuv errors (${named.map((n) => names.get(n)[0]).sort().join(', ')}), ${unknown} to UNKNOWN`);
  // libuv's table names 43 errors (src/win/error.c): a table that had lost
  // entries would fail above; this says the comparison saw them.
  t.is(named.length, 43);
});

test('nativeCapabilities: what the socket does matches what is reported', (t) => {
  const capabilities = nativeCapabilities();
  t.deepEqual(Object.keys(capabilities).sort(), [
    'batchedReceive',
    'batchedSend',
    'destinationAddress',
    'dontFragment',
    'gro',
    'gsoSegments',
    'implementation',
    'kernelDrops',
    'reusePortBalancing',
    'sourceAddress',
  ]);
  t.true(Number.isInteger(capabilities.gsoSegments) && capabilities.gsoSegments >= 1);
  const { ENOTSUP } = uvErrorCodes();
  const socket = NativeUdp.create(4);
  t.is(typeof socket, 'object');
  t.is(socket.bind('127.0.0.1', 0, 0), 0);
  t.is(socket.setReceiveDestination(true), capabilities.destinationAddress ? 0 : ENOTSUP);
  t.is(socket.setDontFragment(), capabilities.dontFragment ? 0 : ENOTSUP);
  const reusePort = 1 << 16;
  const shared = NativeUdp.create(4);
  t.is(shared.bind('127.0.0.1', 0, reusePort), capabilities.reusePortBalancing ? 0 : ENOTSUP);
  socket.close();
  shared.close();
  const implementation = { linux: 'linux', darwin: 'bsd', freebsd: 'bsd', win32: 'windows' }[process.platform] ?? 'fallback';
  t.is(capabilities.implementation, implementation);
  if (process.platform === 'linux') {
    // Under qemu-user the probe finds what the emulator lets through.
    const kernelDrops = !untranslatedOptions('SO_RXQ_OVFL');
    t.like(capabilities, { batchedReceive: true, batchedSend: true, sourceAddress: true, kernelDrops });
  }
});

test('fd() is the descriptor number where sockets have one, EBADF once closed', (t) => {
  const { EBADF } = uvErrorCodes();
  const socket = NativeUdp.create(4);
  t.is(socket.bind('127.0.0.1', 0, 0), 0);
  const fd = socket.fd();
  if (process.platform === 'win32') {
    t.is(fd, EBADF, 'node reports UV_EBADF for handle.fd on Windows');
  } else {
    t.true(Number.isInteger(fd) && fd > 2, String(fd));
    const adopted = NativeUdp.openDuplicate(fd);
    t.is(typeof adopted, 'object', 'the number names this UDP socket');
    adopted.close();
  }
  socket.close();
  t.is(socket.fd(), EBADF);
});
