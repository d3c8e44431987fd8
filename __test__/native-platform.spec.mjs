// The binding's view of the platform layer: libuv's error numbers for this
// platform, and the capabilities probed at run time, each checked against
// what the socket then does.
import test from 'ava';
import os from 'node:os';
import { getSystemErrorName } from 'node:util';
import { createRequire } from 'node:module';
import { untranslatedOptions } from './helpers/emulation.mjs';

const { NativeUdp, nativeCapabilities, uvErrorCodes } = createRequire(import.meta.url)('../native/index.js');

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
