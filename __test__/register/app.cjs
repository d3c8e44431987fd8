// A CommonJS app, unmodified for fastdgram: see libraries.cjs.
'use strict';

require('./libraries.cjs')
  .run({ kind: 'commonjs' })
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
