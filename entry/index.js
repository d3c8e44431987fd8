// @ts-check
// What `require('fastdgram')` loads: the wrapper (dist/index.js), which loads
// the native binary through native/index.js. Where a binary loads, this file
// adds nothing.
//
// Where none loads, the loader's ERR_FASTDGRAM_NO_BINARY (naming the host and
// what to do) is thrown — unless FASTDGRAM_FALLBACK=node is set: then this
// warns once and exports node:dgram's sockets instead, whose fastdgram
// additions throw ERR_FASTDGRAM_NO_BINARY (dist/fallback.js). Any other
// value of FASTDGRAM_FALLBACK is a mistake: it gets a warning that lists the
// accepted values, and is otherwise ignored.
'use strict';

const FALLBACK_ENV = 'FASTDGRAM_FALLBACK';
const fallbackSetting = process.env[FALLBACK_ENV];

if (fallbackSetting && fallbackSetting !== 'node') {
  process.emitWarning(
    `${FALLBACK_ENV} is set to ${JSON.stringify(fallbackSetting)}, which fastdgram does not understand, so it is ignored. ` +
      `Accepted values: "node" (where no native binary loads, run on node:dgram), or unset.`,
    { type: 'FastdgramFallbackWarning', code: 'FASTDGRAM_FALLBACK_UNKNOWN' },
  );
}

try {
  module.exports = require('../dist/index.js');
} catch (err) {
  const error = /** @type {Error & Record<string, unknown>} */ (err);
  if (!(err instanceof Error) || error.code !== 'ERR_FASTDGRAM_NO_BINARY' || fallbackSetting !== 'node') throw err;
  process.emitWarning(
    `fastdgram has no native binary that loads on ${describe(error)}; ` +
      `${FALLBACK_ENV}=node is set, so require('fastdgram') runs on node:dgram (fastdgram's additions throw ERR_FASTDGRAM_NO_BINARY).`,
    { type: 'FastdgramFallbackWarning', code: 'FASTDGRAM_FALLBACK', detail: tried(error) },
  );
  module.exports = require('../dist/fallback.js').fallbackDgram(error);
}

/**
 * What the loader tried and why each failed: its error's cause chain.
 * @param {Error} error the loader's ERR_FASTDGRAM_NO_BINARY
 */
function tried(error) {
  const reasons = [];
  for (let cause = error.cause; cause instanceof Error && reasons.length < 8; cause = cause.cause) {
    reasons.push(cause.message.split('\n')[0]);
  }
  return `Tried: ${reasons.join('; ')}`;
}

/** @param {Error & Record<string, unknown>} error the loader's ERR_FASTDGRAM_NO_BINARY */
function describe(error) {
  return `platform ${error.platform}, architecture ${error.arch}, libc ${error.libc ?? 'n/a (not Linux)'}`;
}
