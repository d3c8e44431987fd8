// @ts-check
// Loads fastdgram's native addon (crates/node). Written by hand, not
// generated: `npm run build:native` runs `napi build --no-js`, so napi-rs
// writes native/index.d.ts but leaves this file alone. It tries only what
// fastdgram ships, in this order:
//   1. NAPI_RS_NATIVE_LIBRARY_PATH, when set: that file and nothing else;
//   2. ./fastdgram.<target>.node next to this file (a build from a clone);
//   3. the platform package fastdgram-<target> (an optional dependency of
//      the published package), when this version publishes one for the host.
// <target> is napi-rs' name for the host: linux-x64-gnu, darwin-arm64,
// win32-x64-msvc, ... When nothing loads it throws ERR_FASTDGRAM_NO_BINARY:
// its message names the host and what to do, its `cause` chain holds each
// attempt's own error in the order tried, and its `attempts` the paths and
// packages tried.
'use strict';

const path = require('node:path');

const BINARY_NAME = 'fastdgram';
const FALLBACK_ENV = 'FASTDGRAM_FALLBACK';
const OVERRIDE_ENV = 'NAPI_RS_NATIVE_LIBRARY_PATH';
// This folder; unknown when a bundler inlined this file into an ES module
// (then only the platform package is tried).
const here = typeof __dirname === 'string' ? __dirname : null;

/** @returns {{ version: string, optionalDependencies?: Record<string, string> }} */
function ownPackage() {
  return require('../package.json');
}

/**
 * The targets this version publishes a platform package for (the
 * `fastdgram-<target>` optional dependencies).
 * @returns {string[]}
 */
function publishedTargets() {
  return Object.keys(ownPackage().optionalDependencies || {})
    .filter((name) => name.startsWith(`${BINARY_NAME}-`))
    .map((name) => name.slice(BINARY_NAME.length + 1))
    .sort();
}

/** @returns {boolean | null} null: cannot tell */
function muslFromLdd() {
  try {
    return require('node:fs').readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    return null;
  }
}

/** @returns {boolean} */
function muslFromReport() {
  try {
    // @ts-ignore excludeNetwork exists on Node.js >= 20.13 and is harmless elsewhere
    process.report.excludeNetwork = true;
    const report = /** @type {any} */ (process.report.getReport());
    if (report.header && report.header.glibcVersionRuntime) return false;
    const objects = Array.isArray(report.sharedObjects) ? report.sharedObjects : [];
    return objects.some((/** @type {string} */ f) => f.includes('libc.musl-') || f.includes('ld-musl-'));
  } catch {
    return false;
  }
}

/**
 * 'glibc' or 'musl' on Linux (decided as napi-rs decides it), null elsewhere.
 * @returns {'glibc' | 'musl' | null}
 */
function linuxLibc() {
  if (process.platform !== 'linux') return null;
  const musl = muslFromLdd() ?? muslFromReport();
  return musl ? 'musl' : 'glibc';
}

/**
 * napi-rs' name for this host's binary (`fastdgram.<target>.node`,
 * package `fastdgram-<target>`).
 * @param {'glibc' | 'musl' | null} libc
 * @returns {string}
 */
function hostTarget(libc) {
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

/**
 * The host as the messages describe it.
 * @returns {{ platform: string, arch: string, libc: 'glibc' | 'musl' | null, target: string, text: string }}
 */
function describeHost() {
  const libc = linuxLibc();
  const text = `platform ${process.platform}, architecture ${process.arch}, libc ${libc ?? 'n/a (not Linux)'}`;
  return { platform: process.platform, arch: process.arch, libc, target: hostTarget(libc), text };
}

/**
 * What to try, in order: `{ what, load }`, where `what` names the file or
 * package in messages.
 * @param {string} target
 * @returns {{ what: string, kind: 'override' | 'file' | 'package', load: () => unknown }[]}
 */
function candidates(target) {
  const override = process.env[OVERRIDE_ENV];
  if (override) return [{ what: override, kind: 'override', load: () => require(override) }];
  /** @type {ReturnType<typeof candidates>} */
  const list = [];
  if (here !== null) {
    const file = path.join(here, `${BINARY_NAME}.${target}.node`);
    list.push({ what: file, kind: 'file', load: () => require(file) });
  }
  if (publishedTargets().includes(target)) {
    const name = `${BINARY_NAME}-${target}`;
    list.push({ what: name, kind: 'package', load: () => requirePlatformPackage(name) });
  }
  return list;
}

/**
 * The platform package's binary, if its version is this package's (another
 * version's binary may not match this version's JavaScript).
 * @param {string} name
 */
function requirePlatformPackage(name) {
  const binding = require(name);
  const { version } = require(`${name}/package.json`);
  const wanted = ownPackage().version;
  if (version !== wanted) {
    throw new Error(`${name} is version ${version}, but fastdgram is version ${wanted}: install ${name}@${wanted}`);
  }
  return binding;
}

/** @param {unknown} err */
function firstLine(err) {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/**
 * Whether the platform package can be found where this file looks for it.
 * @param {string} name
 */
function isInstalled(name) {
  try {
    require.resolve(`${name}/package.json`, here === null ? undefined : { paths: [here] });
    return true;
  } catch {
    return false;
  }
}

/**
 * ERR_FASTDGRAM_NO_BINARY: what was tried, why each failed and what to do.
 * @param {ReturnType<typeof describeHost>} host
 * @param {{ what: string, kind: string, error: unknown }[]} failures
 */
function noBinaryError(host, failures) {
  const version = ownPackage().version;
  const targets = publishedTargets();
  const pkgName = `${BINARY_NAME}-${host.target}`;
  const reasons = failures.map((f) => `${f.what}: ${firstLine(f.error)}`).join('; ');
  const lines = [`fastdgram: no native binary loads on this host (${host.text}).`];
  if (failures.some((f) => f.kind === 'override')) {
    lines.push(`${OVERRIDE_ENV} is set, so only that file was tried: ${reasons}`);
  } else if (targets.includes(host.target)) {
    if (isInstalled(pkgName)) {
      lines.push(
        `The package ${pkgName} is installed but its binary failed to load. Tried ${reasons}`,
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
  if (fallback && fallback !== 'node') {
    lines.push(`${FALLBACK_ENV} is set to ${JSON.stringify(fallback)}; the only value it understands is "node".`);
  }
  lines.push(
    `To use Node.js's built-in node:dgram instead on such hosts, set ${FALLBACK_ENV}=node: ` +
      "require('fastdgram') then warns once and runs on node:dgram, without fastdgram's additions.",
  );
  const error = /** @type {Error & Record<string, unknown>} */ (new Error(lines.join('\n')));
  error.code = 'ERR_FASTDGRAM_NO_BINARY';
  error.platform = host.platform;
  error.arch = host.arch;
  error.libc = host.libc;
  error.target = host.target;
  error.attempts = failures.map((f) => f.what);
  error.cause = chain(failures.map((f) => f.error));
  return error;
}

/**
 * The errors linked through `cause`, the first tried outermost. require()'s
 * errors have no cause of their own; one that has keeps it, and the chain
 * ends there (`attempts` still names every attempt).
 * @param {unknown[]} errors
 */
function chain(errors) {
  for (let i = errors.length - 2; i >= 0; i--) {
    const err = errors[i];
    if (err instanceof Error && err.cause === undefined) err.cause = errors[i + 1];
  }
  return errors[0];
}

function load() {
  const host = describeHost();
  /** @type {{ what: string, kind: string, error: unknown }[]} */
  const failures = [];
  for (const candidate of candidates(host.target)) {
    try {
      return candidate.load();
    } catch (error) {
      failures.push({ what: candidate.what, kind: candidate.kind, error });
    }
  }
  throw noBinaryError(host, failures);
}

module.exports = load();
