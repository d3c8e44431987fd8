// @ts-check
// What `require('fastdgram')` loads. It loads the native binary through the
// loader napi-rs generates (native/index.js: the file next to it, else the
// platform package `fastdgram-<platform>-<arch>[-<abi>]` installed as an
// optional dependency), then the wrapper (dist/index.js), and exports the
// wrapper unchanged: where a binary loads, this file adds nothing.
//
// Where none loads, it throws an error that names the platform, architecture
// and libc it saw and what the user can do — unless FASTDGRAM_FALLBACK=node is
// set, in which case it warns once and exports node:dgram instead.
'use strict';

const FALLBACK_ENV = 'FASTDGRAM_FALLBACK';

let loadError;
try {
  require('../native/index.js');
} catch (err) {
  loadError = err;
}

if (loadError === undefined) {
  module.exports = require('../dist/index.js');
} else if (process.env[FALLBACK_ENV] === 'node') {
  const host = describeHost();
  process.emitWarning(
    `fastdgram has no native binary that loads on ${host.text}; ` +
      `${FALLBACK_ENV}=node is set, so require('fastdgram') returns node:dgram.`,
    { type: 'FastdgramFallbackWarning', code: 'FASTDGRAM_FALLBACK', detail: loaderReasons(loadError) },
  );
  module.exports = require('node:dgram');
} else {
  throw noBinaryError(loadError);
}

/**
 * The platform packages this version of fastdgram publishes, as their
 * `<platform>-<arch>[-<abi>]` suffixes (from package.json's optionalDependencies).
 * @returns {string[]}
 */
function publishedTargets() {
  try {
    const pkg = require('../package.json');
    return Object.keys(pkg.optionalDependencies || {})
      .filter((name) => name.startsWith('fastdgram-'))
      .map((name) => name.slice('fastdgram-'.length))
      .sort();
  } catch {
    return [];
  }
}

/** @returns {string} the version of this package */
function ownVersion() {
  try {
    return require('../package.json').version;
  } catch {
    return 'latest';
  }
}

/**
 * 'glibc' or 'musl' on Linux (as napi-rs' loader decides it), null elsewhere.
 * @returns {'glibc' | 'musl' | null}
 */
function linuxLibc() {
  if (process.platform !== 'linux') return null;
  try {
    const ldd = require('node:fs').readFileSync('/usr/bin/ldd', 'utf8');
    return ldd.includes('musl') ? 'musl' : 'glibc';
  } catch {
    // no ldd: ask the process report, as the generated loader does
  }
  try {
    // @ts-ignore excludeNetwork exists on Node.js >= 20.13 and is harmless elsewhere
    process.report.excludeNetwork = true;
    const report = /** @type {any} */ (process.report.getReport());
    if (report.header && report.header.glibcVersionRuntime) return 'glibc';
    const objects = Array.isArray(report.sharedObjects) ? report.sharedObjects : [];
    if (objects.some((/** @type {string} */ f) => f.includes('libc.musl-') || f.includes('ld-musl-'))) return 'musl';
  } catch {
    // fall through
  }
  return 'glibc';
}

/**
 * The suffix of the platform package napi-rs' loader looks for on this host.
 * @param {'glibc' | 'musl' | null} libc
 * @returns {string}
 */
function expectedTarget(libc) {
  const { platform, arch } = process;
  if (platform === 'linux') {
    if (arch === 'arm') return libc === 'musl' ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf';
    return `linux-${arch}-${libc === 'musl' ? 'musl' : 'gnu'}`;
  }
  if (platform === 'win32') {
    const vars = /** @type {any} */ (process.config).variables || {};
    const gnu = vars.shlib_suffix === 'dll.a' || vars.node_target_type === 'shared_library';
    return `win32-${arch}-${gnu ? 'gnu' : 'msvc'}`;
  }
  if (platform === 'android' && arch === 'arm') return 'android-arm-eabi';
  return `${platform}-${arch}`;
}

/** @returns {{ platform: string, arch: string, libc: string | null, target: string, text: string }} */
function describeHost() {
  const libc = linuxLibc();
  const target = expectedTarget(libc);
  const text = `platform ${process.platform}, architecture ${process.arch}, libc ${libc ?? 'n/a (not Linux)'}`;
  return { platform: process.platform, arch: process.arch, libc, target, text };
}

/** @param {unknown} err */
function firstLine(err) {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0];
}

/**
 * What the generated loader tried and why each failed, oldest first: its
 * error's `cause` chain (the newest failure outermost), without the WASI
 * candidates (fastdgram ships none) and without its generic summary.
 * @param {unknown} err
 * @returns {string}
 */
function loaderReasons(err) {
  const reasons = [];
  let current = err instanceof Error ? err.cause : undefined;
  for (let depth = 0; current && depth < 32; depth++) {
    const line = firstLine(current);
    if (!/wasi|wasm/i.test(line)) reasons.unshift(line);
    current = current instanceof Error ? current.cause : undefined;
  }
  return reasons.length > 0 ? reasons.join('; ') : firstLine(err);
}

/**
 * Whether the platform package is installed where the generated loader looks.
 * @param {string} name
 */
function isInstalled(name) {
  try {
    require.resolve(`${name}/package.json`, { paths: [require('node:path').join(__dirname, '..', 'native')] });
    return true;
  } catch {
    return false;
  }
}

/** @param {unknown} cause */
function noBinaryError(cause) {
  const host = describeHost();
  const version = ownVersion();
  const targets = publishedTargets();
  const pkgName = `fastdgram-${host.target}`;
  const lines = [`fastdgram: no native binary loads on this host (${host.text}).`];
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH;
  if (override) {
    lines.push(
      `NAPI_RS_NATIVE_LIBRARY_PATH is set to ${JSON.stringify(override)}, so only that file was tried: ${loaderReasons(cause)}`,
    );
  } else if (targets.includes(host.target)) {
    if (isInstalled(pkgName)) {
      lines.push(
        `The package ${pkgName} is installed but its binary failed to load: ${loaderReasons(cause)}`,
        `Reinstall it on this machine (npm install ${pkgName}@${version}); if node_modules was copied from ` +
          'another machine or image, run npm install (or npm ci) where the app runs.',
      );
    } else {
      lines.push(
        `fastdgram ships this binary in the package ${pkgName}, an optional dependency that is not installed.`,
        'It goes missing when dependencies are installed with --omit=optional / --no-optional, when node_modules ' +
          'or package-lock.json come from another platform (https://github.com/npm/cli/issues/4828), or when ' +
          'installing for another platform than the one that runs the app.',
        `Fix: remove node_modules and package-lock.json and run npm install again on this machine, ` +
          `or add it explicitly: npm install ${pkgName}@${version}`,
      );
    }
  } else {
    lines.push(
      `fastdgram publishes no binary for ${host.target}. Binaries exist for: ${targets.join(', ') || '(none listed)'}.`,
      'WebAssembly (WASI) builds cannot help here: a WASI module cannot open UDP sockets.',
      'To build one for this host: clone fastdgram and run npm install (needs a Rust toolchain), then use that folder.',
    );
  }
  const fallback = process.env[FALLBACK_ENV];
  if (fallback !== undefined && fallback !== 'node') {
    lines.push(`${FALLBACK_ENV} is set to ${JSON.stringify(fallback)}; the only value it understands is "node".`);
  }
  lines.push(
    `To use Node.js's built-in node:dgram instead on such hosts, set ${FALLBACK_ENV}=node: ` +
      "require('fastdgram') then warns once and returns node:dgram.",
  );
  const error = /** @type {Error & Record<string, unknown>} */ (new Error(lines.join('\n')));
  error.code = 'ERR_FASTDGRAM_NO_BINARY';
  error.platform = host.platform;
  error.arch = host.arch;
  error.libc = host.libc;
  error.target = host.target;
  error.cause = cause;
  return error;
}
