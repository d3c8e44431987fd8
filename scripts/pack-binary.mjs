#!/usr/bin/env node
// npm run pack:binary [-- --pack-destination DIR] — packs this host's
// platform package, fastdgram-<target>-<version>.tgz: npm/<target>/ with the
// binary `npm run build` made (native/fastdgram.<target>.node) and the
// LICENSE, as the publish workflow assembles it. With the main package's
// tarball (`npm pack`) it installs fastdgram into any project on this kind of
// host without a Rust toolchain. Prints the tarball's path.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const pkg = require('../package.json');

/** napi-rs' name for this host (as native/index.js decides it). */
function hostTarget() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const musl = !process.report.getReport().header.glibcVersionRuntime;
    if (arch === 'arm') return musl ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf';
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

const args = process.argv.slice(2);
const destIndex = args.indexOf('--pack-destination');
const destination = path.resolve(destIndex === -1 ? process.cwd() : args[destIndex + 1]);

const target = hostTarget();
const npmDir = path.join(repo, 'npm', target);
const binary = path.join(repo, 'native', `${pkg.napi.binaryName}.${target}.node`);
if (!existsSync(path.join(npmDir, 'package.json'))) {
  console.error(`pack-binary: fastdgram has no platform package for ${target} (npm/${target}/)`);
  process.exit(1);
}
if (!existsSync(binary)) {
  console.error(`pack-binary: ${path.relative(repo, binary)} is missing: run npm run build first`);
  process.exit(1);
}

const stage = mkdtempSync(path.join(tmpdir(), 'fastdgram-pack-binary-'));
try {
  cpSync(npmDir, stage, { recursive: true });
  cpSync(binary, path.join(stage, path.basename(binary)));
  cpSync(path.join(repo, 'LICENSE'), path.join(stage, 'LICENSE'));
  const npm = process.env.npm_execpath?.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const { stdout } = await promisify(execFile)(npm[0], [...npm.slice(1), 'pack', '--json', '--pack-destination', destination], {
    cwd: stage,
    shell: process.platform === 'win32' && npm.length === 1,
  });
  console.log(path.join(destination, JSON.parse(stdout)[0].filename));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
