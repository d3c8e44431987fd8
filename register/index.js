// @ts-check
// fastdgram/register: makes every `require('dgram')`, `require('node:dgram')`,
// `import … from 'dgram'` and `import … from 'node:dgram'` in the process —
// the app's own code and its dependencies — return fastdgram, without editing
// any of them:
//
//   node --require fastdgram/register app.js
//   node --import fastdgram/register app.mjs
//   NODE_OPTIONS='--require fastdgram/register' npm start
//
// Either flag covers both module systems. On Node.js with
// `module.registerHooks` (>= 22.15, >= 23.5) one synchronous resolve hook does
// it all; on older Node.js (20.x) `Module._load` is wrapped for require() and
// an async `module.register` resolve hook (hooks.mjs) covers import.
//
// fastdgram's own files are exempt, so that with FASTDGRAM_FALLBACK=node on a
// host without a binary, fastdgram can still reach the real node:dgram.
// Not covered: `process.getBuiltinModule('dgram')`, which bypasses module
// resolution by design.
'use strict';

const path = require('node:path');
const Module = require('node:module');
const { pathToFileURL, fileURLToPath } = require('node:url');

const STATE = Symbol.for('fastdgram.register');
const globals = /** @type {Record<symbol, unknown>} */ (/** @type {unknown} */ (globalThis));

const root = path.join(__dirname, '..');
const entryCjs = path.join(root, 'entry', 'index.js');
const entryCjsUrl = pathToFileURL(entryCjs).href;
const entryEsmUrl = pathToFileURL(path.join(root, 'entry', 'index.mjs')).href;
/** Folders of fastdgram's own runtime files: what they import is left alone. */
const ownDirs = ['dist', 'entry', 'esm', 'native', 'register'].map((d) => path.join(root, d) + path.sep);

/** @param {string} specifier */
function isDgram(specifier) {
  return specifier === 'dgram' || specifier === 'node:dgram';
}

/** @param {string | null | undefined} file a path or a file: URL */
function isOwnFile(file) {
  if (!file) return false;
  let filename = file;
  if (file.startsWith('file:')) {
    try {
      filename = fileURLToPath(file);
    } catch {
      return false;
    }
  }
  return ownDirs.some((dir) => filename.startsWith(dir));
}

if (!globals[STATE]) {
  /** @type {{ mode: string, entry: string }} */
  const state = { mode: '', entry: entryCjs };
  globals[STATE] = state;

  const registerHooks = /** @type {any} */ (Module).registerHooks;
  if (typeof registerHooks === 'function') {
    state.mode = 'registerHooks';
    registerHooks({
      /**
       * @param {string} specifier
       * @param {{ parentURL?: string, conditions?: string[] }} context
       * @param {(specifier: string, context?: object) => object} nextResolve
       */
      resolve(specifier, context, nextResolve) {
        if (isDgram(specifier) && !isOwnFile(context.parentURL)) {
          const viaRequire = Array.isArray(context.conditions) && context.conditions.includes('require');
          return viaRequire
            ? { url: entryCjsUrl, format: 'commonjs', shortCircuit: true }
            : { url: entryEsmUrl, format: 'module', shortCircuit: true };
        }
        return nextResolve(specifier, context);
      },
    });
  } else {
    state.mode = 'Module._load';
    const ModuleInternals = /** @type {any} */ (Module);
    const originalLoad = ModuleInternals._load;
    ModuleInternals._load = function load(/** @type {unknown} */ request, /** @type {any} */ parent, /** @type {boolean} */ isMain) {
      if (typeof request === 'string' && isDgram(request) && !isOwnFile(parent && parent.filename)) {
        return originalLoad.call(this, entryCjs, parent, isMain);
      }
      return originalLoad.apply(this, arguments);
    };
    if (typeof Module.register === 'function') {
      state.mode += '+module.register';
      Module.register(pathToFileURL(path.join(__dirname, 'hooks.mjs')).href, {
        data: { entryEsmUrl, entryCjsUrl, ownDirs },
      });
    } else {
      process.emitWarning(
        'fastdgram/register: this Node.js has neither module.registerHooks nor module.register, so ' +
          "import … from 'node:dgram' is not redirected (require('dgram') is).",
        { code: 'FASTDGRAM_REGISTER_NO_ESM' },
      );
    }
  }
}
