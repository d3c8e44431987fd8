#!/usr/bin/env node
// npm run test:package — fastdgram as a user gets it from npm, tried here.
//
// Packs the main package with `npm pack` (as the README's install section
// says: its prepack drops the clone-only scripts) and this host's platform
// package with `npm run pack:binary`, checks the tarballs (files list,
// LICENSE, CHANGELOG, metadata, no install-time scripts), then, in fresh
// temporary projects whose PATH has no cargo and no rustc, and with npm
// offline (nothing downloaded, from anywhere):
//   1. installs both tarballs the way the registry would deliver them (the
//      platform package satisfying the main package's optional dependency),
//      and exchanges datagrams through the installed copy from a CommonJS
//      file and from an ES module file, and through fastdgram/register;
//   2. runs the type tests (scripts/test-types.mjs) and the interop tests
//      (scripts/test-interop.mjs) against the installed copy;
//   3. installs the main tarball alone (as on a host with no binary): the
//      error names the platform, architecture, libc and the missing package,
//      and FASTDGRAM_FALLBACK=node falls back to node:dgram with one warning.
// Prints one line per check and "N passed, M failed"; exits 1 on a failure.
// It packs what is built: run `npm run build` (npm install does) first.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
const keep = process.argv.includes('--keep');
const STEP_TIMEOUT = 180_000;

const results = [];
function check(name, ok, detail = '') {
  results.push(ok);
  console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}${!ok && detail ? `\n${String(detail).trim().replace(/^/gm, '         ')}` : ''}`);
  return ok;
}

/** Runs a command; resolves with { code, stdout, stderr } (never rejects on exit code). */
function run(file, args, options = {}) {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: STEP_TIMEOUT, killSignal: 'SIGKILL', maxBuffer: 32 << 20, ...options },
      (error, stdout, stderr) => {
        const code = error ? (error.killed ? 'timeout' : (error.code ?? 1)) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), error });
      },
    );
  });
}

/** This host's napi-rs target suffix (linux-x64-gnu, darwin-arm64, win32-x64-msvc, ...). */
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

function npmCli() {
  const candidates = [
    process.env.npm_execpath,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ];
  const found = candidates.find((c) => c && c.endsWith('.js') && existsSync(c));
  if (!found) throw new Error('cannot find npm-cli.js next to this node');
  return found;
}

/**
 * An environment without a Rust toolchain: PATH keeps only directories that
 * hold neither cargo nor rustc, with a bin folder of our own in front for node
 * and npm; CARGO_* / RUSTUP_* are dropped.
 */
function noRustEnv(work) {
  const bin = path.join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  const cli = npmCli();
  if (process.platform === 'win32') {
    writeFileSync(path.join(bin, 'npm.cmd'), `@"${process.execPath}" "${cli}" %*\r\n`);
    writeFileSync(path.join(bin, 'node.cmd'), `@"${process.execPath}" %*\r\n`);
  } else {
    writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
    writeFileSync(path.join(bin, 'node'), `#!/bin/sh\nexec "${process.execPath}" "$@"\n`);
    chmodSync(path.join(bin, 'npm'), 0o755);
    chmodSync(path.join(bin, 'node'), 0o755);
  }
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  const hasRust = (dir) => ['cargo', 'rustc'].some((tool) => exts.some((ext) => existsSync(path.join(dir, tool + ext))));
  const dirs = (process.env.PATH || '').split(path.delimiter).filter((dir) => dir && !hasRust(dir));
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(CARGO|RUSTUP|RUSTC|RUSTFLAGS)/i.test(key) || /^npm_/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = [bin, ...dirs].join(path.delimiter);
  // npm: offline (nothing is downloaded), its own cache, no noise.
  env.npm_config_offline = 'true';
  env.npm_config_cache = path.join(work, 'npm-cache');
  env.npm_config_audit = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_update_notifier = 'false';
  return env;
}

/** Which of `tools` the environment's PATH finds. */
function findTools(env, tools) {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  return tools.filter((tool) =>
    env.PATH.split(path.delimiter).some((dir) => exts.some((ext) => existsSync(path.join(dir, tool + ext)))),
  );
}

/** The commands of the README's two blocks under "Before the first release", comments dropped. */
function readmeInstallBlocks() {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf('\n### Before the first release: from a clone\n');
  if (start === -1) throw new Error('README.md has no "Before the first release: from a clone" section');
  const section = readme.slice(start, readme.indexOf('\n### ', start + 1));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    m[1]
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim().replace(/\s+/g, ' '))
      .filter(Boolean),
  );
  return [blocks[0] ?? [], blocks[1] ?? []];
}

async function tarRead(tgz, file) {
  const { code, stdout, stderr } = await run('tar', ['-xzOf', tgz, file]);
  if (code !== 0) throw new Error(`tar -xzOf ${tgz} ${file}: ${stderr}`);
  return stdout;
}

async function tarList(tgz) {
  const { code, stdout, stderr } = await run('tar', ['-tzf', tgz]);
  if (code !== 0) throw new Error(`tar -tzf ${tgz}: ${stderr}`);
  return stdout.split('\n').filter(Boolean);
}

// The apps a user would write: echo one datagram through the installed copy.
const echoBody = (label) => `
const server = dgram.createSocket('udp4');
server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
server.bind(0, '127.0.0.1', () => {
  const client = dgram.createSocket('udp4');
  const timer = setTimeout(() => { console.error('no echo within 5 s'); process.exit(1); }, 5000);
  client.on('message', (msg, rinfo) => {
    clearTimeout(timer);
    let additions = 'present';
    try {
      client.stats();
    } catch (e) {
      additions = e.code;
    }
    console.log(JSON.stringify({
      app: ${JSON.stringify(label)},
      echo: msg.toString(),
      from: rinfo.address,
      isNodeDgram: dgram === nodeDgram,
      isFastdgramSocket: client instanceof Fast.Socket,
      isNodeSocket: nodeDgram !== null && client instanceof nodeDgram.Socket,
      additions,
    }));
    client.close();
    server.close();
  });
  client.send('hello from ${label}', server.address().port, '127.0.0.1');
});
`;
const APPS = {
  'app.cjs': `'use strict';
const dgram = require('fastdgram');
const Fast = dgram;
const nodeDgram = require('node:dgram');
${echoBody('commonjs')}`,
  'app.mjs': `import dgram, { createSocket, Socket } from 'fastdgram';
import nodeDgram from 'node:dgram';
const Fast = { Socket };
if (createSocket !== dgram.createSocket) throw new Error('named and default exports differ');
${echoBody('module')}`,
  // An app written for node:dgram, switched with --import fastdgram/register.
  'app-register.mjs': `import dgram from 'node:dgram';
import Fast from 'fastdgram';
const nodeDgram = process.getBuiltinModule ? process.getBuiltinModule('node:dgram') : null;
${echoBody('register')}`,
};

const work = mkdtempSync(path.join(tmpdir(), 'fastdgram-package-'));
try {
  const target = hostTarget();
  const binary = path.join(repo, 'native', `${pkg.napi.binaryName}.${target}.node`);
  const npmDir = path.join(repo, 'npm', target);
  if (!existsSync(path.join(repo, 'dist', 'index.js')) || !existsSync(binary)) {
    throw new Error(`nothing built to pack (dist/index.js, ${path.relative(repo, binary)}): run npm run build first`);
  }
  if (!existsSync(path.join(npmDir, 'package.json'))) throw new Error(`no platform package for ${target} in npm/`);
  const newestLib = Math.max(...readdirSync(path.join(repo, 'lib')).map((f) => statSync(path.join(repo, 'lib', f)).mtimeMs));
  if (statSync(path.join(repo, 'dist', 'index.js')).mtimeMs < newestLib - 1000) {
    console.log('note: dist/ is older than lib/ — packing it as built (npm run build:ts refreshes it)');
  }

  // --- pack, as the README's "Before the first release" says ---------------
  // Its first block runs in the clone (npm install, done before this script
  // runs; then npm pack and npm run pack:binary, which write the tarballs
  // there), its second in the user's project: npm install of the two
  // tarballs, the README's /path/to/fastdgram/ being where they are and its
  // linux-x64-gnu this host's target.
  const packs = path.join(work, 'packs');
  mkdirSync(packs);
  const npm = [npmCli()];
  const [cloneCommands, projectCommands] = readmeInstallBlocks();
  check(
    "the README's install from a clone: npm install, npm pack, npm run pack:binary; then one npm install of two tarballs",
    JSON.stringify(cloneCommands) === JSON.stringify(['npm install', 'npm pack', 'npm run pack:binary']) &&
      projectCommands.length === 1 &&
      /^npm install \S+\.tgz \S+\.tgz$/.test(projectCommands[0]),
    JSON.stringify({ cloneCommands, projectCommands }),
  );
  const manifestBefore = readFileSync(path.join(repo, 'package.json'), 'utf8');
  const packed = [];
  for (const command of cloneCommands.slice(1)) {
    const result = await run(process.execPath, [...npm, ...command.split(' ').slice(1)], { cwd: repo });
    if (!check(`in the clone: ${command}`, result.code === 0, result.stderr)) throw new Error(`${command} failed`);
    const written = command === 'npm pack' ? result.stdout.trim().split('\n').pop() : path.basename(result.stdout.trim().split('\n').pop());
    packed.push(written);
    renameSync(path.join(repo, written), path.join(packs, written));
  }
  check(
    "npm pack leaves the repository's package.json as it was",
    readFileSync(path.join(repo, 'package.json'), 'utf8') === manifestBefore && !existsSync(path.join(repo, '.cache', 'package.json.before-pack')),
  );
  const [mainTgz, platformTgz] = packed.map((file) => path.join(packs, file));
  const installArgs = projectCommands[0]
    .split(' ')
    .slice(1)
    .map((arg) => arg.replace('/path/to/fastdgram/', `${packs}${path.sep}`).replace('-linux-x64-gnu-', `-${target}-`));
  check(
    "the tarballs are the ones the README's npm install names",
    JSON.stringify(installArgs.slice(1)) === JSON.stringify([mainTgz, platformTgz]) &&
      path.basename(mainTgz) === `${pkg.name}-${pkg.version}.tgz` &&
      path.basename(platformTgz) === `${pkg.name}-${target}-${pkg.version}.tgz`,
    `${installArgs.join(' ')}\n${mainTgz}\n${platformTgz}`,
  );

  const mainFiles = await tarList(mainTgz);
  const packedPkg = JSON.parse(await tarRead(mainTgz, 'package/package.json'));
  const installScripts = ['preinstall', 'install', 'postinstall', 'prepare', 'prepack', 'postpack'].filter((k) => packedPkg.scripts?.[k]);
  check('the packed package.json has no install-time (or pack-time) scripts', installScripts.length === 0, installScripts.join(', '));
  const metadata = {
    license: packedPkg.license === 'MIT',
    author: typeof packedPkg.author === 'string' && packedPkg.author.length > 0,
    repository: /^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/.test(packedPkg.repository?.url ?? ''),
    homepage: /^https:\/\/github\.com\//.test(packedPkg.homepage ?? ''),
    bugs: /^https:\/\/github\.com\/.+\/issues$/.test(packedPkg.bugs?.url ?? ''),
    keywords: Array.isArray(packedPkg.keywords) && packedPkg.keywords.includes('udp') && packedPkg.keywords.includes('dgram'),
    engines: typeof packedPkg.engines?.node === 'string',
  };
  const missingMetadata = Object.keys(metadata).filter((k) => !metadata[k]);
  check(
    'the packed package.json has license, author, repository, homepage, bugs, keywords, engines',
    missingMetadata.length === 0,
    `missing or wrong: ${missingMetadata.join(', ')}`,
  );
  const license = await tarRead(mainTgz, 'package/LICENSE');
  check(
    'LICENSE in the tarball: MIT, the project\'s copyright',
    license.startsWith('MIT License') && license.includes('Copyright (c) 2026 The fastdgram authors'),
    license.slice(0, 200),
  );
  const changelog = await tarRead(mainTgz, 'package/CHANGELOG.md');
  check(
    'CHANGELOG.md in the tarball: Keep a Changelog sections Unreleased and 0.1.0',
    changelog.includes('## [Unreleased]') && changelog.includes(`## [${pkg.version}]`) && /keepachangelog\.com/.test(changelog),
    changelog.slice(0, 300),
  );
  const allowed = /^package\/(package\.json|README\.md|LICENSE|CHANGELOG\.md|docs\/[\w-]+\.md|dist\/[\w-]+\.(js|d\.ts)|entry\/[\w-]+\.(js|mjs)|native\/index\.(js|d\.ts)|register\/[\w-]+\.(js|mjs|d\.ts)|types\/index\.d\.m?ts)$/;
  const unexpected = mainFiles.filter((f) => !allowed.test(f));
  check('the main tarball holds only the files list (package.json, docs, dist, entry, native loader, register, types)', unexpected.length === 0, unexpected.join('\n'));
  const needed = [
    'package/package.json',
    'package/entry/index.js',
    'package/entry/index.mjs',
    'package/dist/index.js',
    'package/native/index.js',
    'package/types/index.d.ts',
    'package/types/index.d.mts',
    'package/register/index.js',
    'package/register/index.mjs',
    'package/README.md',
    'package/LICENSE',
    'package/CHANGELOG.md',
    'package/docs/api.md',
    'package/entry/bundler.mjs',
    'package/dist/fallback.js',
  ];
  const missing = needed.filter((f) => !mainFiles.includes(f));
  check('main tarball holds the entry points, wrapper, loader, types and register', missing.length === 0, `missing: ${missing.join(', ')}`);
  const strays = mainFiles.filter((f) => f.endsWith('.node') || /\.(ts|rs)$/.test(f) && !f.endsWith('.d.ts') || f.includes('__test__'));
  check('main tarball holds no binary, no sources, no tests', strays.length === 0, strays.join('\n'));
  const platformFiles = await tarList(platformTgz);
  check(
    'platform tarball holds the binary and the LICENSE',
    platformFiles.includes(`package/${path.basename(binary)}`) && platformFiles.includes('package/LICENSE'),
    platformFiles.join('\n'),
  );
  const platformPkg = JSON.parse(await tarRead(platformTgz, 'package/package.json'));
  check(
    'platform package declares os and cpu (and libc on Linux) and its binary as main',
    Array.isArray(platformPkg.os) &&
      Array.isArray(platformPkg.cpu) &&
      (process.platform !== 'linux' || Array.isArray(platformPkg.libc)) &&
      platformPkg.main === path.basename(binary),
    JSON.stringify(platformPkg),
  );
  check(
    `main package lists ${platformPkg.name}@${pkg.version} among its optional dependencies`,
    pkg.optionalDependencies?.[platformPkg.name] === pkg.version,
    JSON.stringify(pkg.optionalDependencies),
  );

  // --- a fresh project, no Rust, offline -------------------------------------
  const env = noRustEnv(work);
  const rustFound = findTools(env, ['cargo', 'rustc']);
  check('the test projects see no cargo and no rustc on PATH', rustFound.length === 0, `found: ${rustFound.join(', ')}`);

  const app = path.join(work, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), '{ "name": "fastdgram-user", "version": "1.0.0", "private": true }\n');
  const install = await run('npm', installArgs, { cwd: app, env, shell: process.platform === 'win32' });
  check(`in the project: npm ${installArgs.join(' ')} (offline, no Rust) succeeds`, install.code === 0, install.stderr + install.stdout);
  check('npm install says nothing about install scripts', !/install-script|prepare|gyp/i.test(install.stderr), install.stderr);
  const installedPkg = JSON.parse(readFileSync(path.join(app, 'node_modules', 'fastdgram', 'package.json'), 'utf8'));
  const lifecycle = ['preinstall', 'install', 'postinstall', 'prepare'].filter((k) => installedPkg.scripts?.[k]);
  check('the installed package has no install-time scripts', lifecycle.length === 0, lifecycle.join(', '));
  const installed = path.join(app, 'node_modules', 'fastdgram');
  check(
    'the installed main package carries no binary of its own',
    existsSync(path.join(installed, 'entry', 'index.js')) && !readdirSync(path.join(installed, 'native')).some((f) => f.endsWith('.node')),
  );
  check(
    'the platform package is installed beside it',
    existsSync(path.join(app, 'node_modules', platformPkg.name, path.basename(binary))),
  );

  for (const [file, text] of Object.entries(APPS)) writeFileSync(path.join(app, file), text);
  for (const [file, args, label] of [
    ['app.cjs', [], 'commonjs'],
    ['app.mjs', [], 'module'],
    ['app-register.mjs', ['--import', 'fastdgram/register'], 'register'],
    ['app-register.mjs', ['--require', 'fastdgram/register'], 'register'],
  ]) {
    const result = await run('node', [...args, file], { cwd: app, env, timeout: 20_000, shell: process.platform === 'win32' });
    let report = null;
    try {
      report = JSON.parse(result.stdout.trim().split('\n').pop());
    } catch {
      // below
    }
    check(
      `node ${[...args, file].join(' ')}: a datagram echoed through the installed fastdgram`,
      result.code === 0 &&
        report?.echo === `hello from ${label}` &&
        report.from === '127.0.0.1' &&
        report.isNodeDgram === false &&
        report.isFastdgramSocket === true &&
        report.additions === 'present' &&
        result.stderr === '',
      `exit ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }

  // --- types, against the installed copy ----------------------------------
  const types = await run(process.execPath, [path.join(repo, 'scripts', 'test-types.mjs'), '--package', installed], {
    cwd: repo,
    timeout: 300_000,
  });
  check('type tests against the installed package', types.code === 0, types.stdout + types.stderr);
  const interop = await run(process.execPath, [path.join(repo, 'scripts', 'test-interop.mjs'), '--package', installed], {
    cwd: repo,
    timeout: 300_000,
  });
  check(
    `interop tests against the installed package (${/interop: (\d+ passed, \d+ failed)/.exec(interop.stdout)?.[1] ?? 'no summary'})`,
    interop.code === 0,
    interop.stdout + interop.stderr,
  );

  // --- main package alone: no binary for this host ---------------------------
  const bare = path.join(work, 'no-binary');
  mkdirSync(bare);
  writeFileSync(path.join(bare, 'package.json'), '{ "name": "fastdgram-user-2", "version": "1.0.0", "private": true }\n');
  const bareInstall = await run('npm', ['install', mainTgz], { cwd: bare, env, shell: process.platform === 'win32' });
  check(
    'npm install <main.tgz> alone succeeds (the optional platform packages are skipped)',
    bareInstall.code === 0 && !existsSync(path.join(bare, 'node_modules', platformPkg.name)),
    bareInstall.stderr,
  );
  writeFileSync(path.join(bare, 'app.cjs'), APPS['app.cjs']);
  const probe = `try { require('fastdgram'); console.log('{}') } catch (e) {
    console.log(JSON.stringify({ code: e.code, platform: e.platform, arch: e.arch, libc: e.libc, message: e.message })) }`;
  const failed = await run('node', ['-e', probe], { cwd: bare, env, timeout: 20_000, shell: process.platform === 'win32' });
  let error = {};
  try {
    error = JSON.parse(failed.stdout);
  } catch {
    // below
  }
  const libc = process.platform === 'linux' ? (process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl') : 'n/a (not Linux)';
  check(
    'no binary: require throws ERR_FASTDGRAM_NO_BINARY naming platform, architecture, libc, the package and FASTDGRAM_FALLBACK',
    error.code === 'ERR_FASTDGRAM_NO_BINARY' &&
      error.message.includes(`platform ${process.platform}, architecture ${process.arch}, libc ${libc}`) &&
      error.message.includes(`${platformPkg.name}@${pkg.version}`) &&
      error.message.includes('FASTDGRAM_FALLBACK=node'),
    failed.stdout + failed.stderr,
  );
  if (error.message) console.log(error.message.replace(/^/gm, '         | '));
  const fallback = await run('node', ['app.cjs'], {
    cwd: bare,
    env: { ...env, FASTDGRAM_FALLBACK: 'node' },
    timeout: 20_000,
    shell: process.platform === 'win32',
  });
  let fallbackReport = null;
  try {
    fallbackReport = JSON.parse(fallback.stdout.trim().split('\n').pop());
  } catch {
    // below
  }
  check(
    'no binary + FASTDGRAM_FALLBACK=node: node:dgram sockets, additions throwing ERR_FASTDGRAM_NO_BINARY, one warning, the datagram echoed',
    fallback.code === 0 &&
      fallbackReport?.echo === 'hello from commonjs' &&
      fallbackReport.isNodeSocket === true &&
      fallbackReport.additions === 'ERR_FASTDGRAM_NO_BINARY' &&
      (fallback.stderr.match(/FastdgramFallbackWarning/g) || []).length === 1,
    `exit ${fallback.code}\n${fallback.stdout}\n${fallback.stderr}`,
  );
} catch (err) {
  check('test:package ran to the end', false, err.stack);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

const failedCount = results.filter((ok) => !ok).length;
console.log(`package: ${results.length - failedCount} passed, ${failedCount} failed`);
process.exitCode = failedCount === 0 ? 0 : 1;
