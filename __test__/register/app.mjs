// An ES module app, unmodified for fastdgram: imports node:dgram and dgram
// itself, then runs the libraries (CommonJS packages) as app.cjs does.
import fastdgram from 'fastdgram';
import dgram, { createSocket, Socket } from 'node:dgram';
import bare from 'dgram';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { run } = require('./libraries.cjs');

try {
  await run({
    kind: 'module',
    importNodeDgramIsFastdgram: dgram === fastdgram,
    importNamedIsFastdgram: createSocket === fastdgram.createSocket && Socket === fastdgram.Socket,
    importDgramIsFastdgram: bare === fastdgram,
  });
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
