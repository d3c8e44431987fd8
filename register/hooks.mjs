// Module resolve hook for `module.register` (Node.js without
// module.registerHooks): `import … from 'dgram' | 'node:dgram'` → fastdgram.
// Runs on the loader thread; register/index.js passes the paths in `data`.
import { fileURLToPath } from 'node:url';

let entryEsmUrl;
let entryCjsUrl;
let ownDirs = [];

export function initialize(data) {
  ({ entryEsmUrl, entryCjsUrl, ownDirs } = data);
}

function isOwnFile(url) {
  if (!url || !url.startsWith('file:')) return false;
  const filename = fileURLToPath(url);
  return ownDirs.some((dir) => filename.startsWith(dir));
}

export async function resolve(specifier, context, nextResolve) {
  if ((specifier === 'dgram' || specifier === 'node:dgram') && !isOwnFile(context.parentURL)) {
    const viaRequire = Array.isArray(context.conditions) && context.conditions.includes('require');
    return viaRequire
      ? { url: entryCjsUrl, format: 'commonjs', shortCircuit: true }
      : { url: entryEsmUrl, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
