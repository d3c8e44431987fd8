// ES module view of fastdgram's types (the `import` condition of the
// package's exports): the same declarations as index.d.ts, plus the default
// export that `import dgram from 'fastdgram'` gets at run time.
import * as dgram from './index.js';

export * from './index.js';
export default dgram;
