// What `import … from 'fastdgram'` loads: the same object as
// require('fastdgram') (entry/index.js), as the default export and as named
// exports — node:dgram's shape. It is required rather than imported so that a
// load failure (no native binary) rejects `import('fastdgram')` cleanly: on
// Node.js 20 an ES module that statically imports a throwing CommonJS module
// also leaves an uncaught exception behind.
import { createRequire } from 'node:module';

const dgram = createRequire(import.meta.url)('./index.js');

export const { createSocket, Socket } = dgram;
export default dgram;
