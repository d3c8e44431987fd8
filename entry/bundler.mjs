// What bundlers get for `import … from 'fastdgram'`: the `module` condition
// of package.json's exports, which bundlers such as esbuild follow and
// Node.js never does (Node.js gets entry/index.mjs). entry/index.js is
// imported statically here so that the bundler can follow it into the
// bundle; entry/index.mjs's createRequire() hides it from bundlers.
import dgram from './index.js';

export const { createSocket, Socket } = dgram;
export default dgram;
