#!/usr/bin/env node
// npm run test:interop — every way an app imports fastdgram, compiled as its
// build would compile it, then run: each app echoes one datagram over
// loopback and reports whether its socket is fastdgram's.
//
//   TypeScript (typescript from this repository), `import dgram, { type
//   RemoteInfo } from …`, `import * as dgram from …` and `import {
//   createSocket } from …`, under: CommonJS emit with node10 resolution (with
//   and without esModuleInterop), nodenext emitting CommonJS (with and without
//   esModuleInterop), nodenext emitting ES modules, and bundler resolution
//   bundled by esbuild. Each is compiled against 'node:dgram' too: wherever
//   TypeScript accepts a shape for node:dgram it must accept it for fastdgram,
//   and every accepted shape must run (node:dgram's runs as well, which shows
//   the app itself works).
//   Plain JavaScript: require() from .cjs; the three import shapes from .mjs.
//   esbuild (this repository's devDependency): apps bundled to CommonJS and to
//   an ES module, with fastdgram inlined in the bundle (the native binary then
//   comes from node_modules at run time) and with fastdgram external.
//
// The project's node_modules/fastdgram is this repository (or, with
// --package DIR, an installed copy such as the one scripts/test-package.mjs
// installs from the packed tarball); the platform package sits beside it as
// npm installs it. @types/node is this repository's, or, with --types-node
// VERSION (22, 24, 26, ...), the repository's devDependency types-node-VERSION
// (an alias of @types/node@VERSION) where it has one, else @types/node@VERSION
// installed from npm into .cache/types-node-VERSION (once).
// Prints one line per check and "N passed, M failed"; exits 1 on a failure.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const esbuild = await import(path.join(repo, 'node_modules', 'esbuild', 'lib', 'main.js'));

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const packageDir = option('--package') ? path.resolve(option('--package')) : repo;
const typesNodeVersion = option('--types-node');
const keep = args.includes('--keep');
const linkType = process.platform === 'win32' ? 'junction' : 'dir';

const results = [];
function check(name, ok, detail = '') {
  results.push(ok);
  console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}${!ok && detail ? `\n${String(detail).trim().replace(/^/gm, '         ')}` : ''}`);
  return ok;
}

function run(file, argv, options = {}) {
  return new Promise((resolve) => {
    execFile(file, argv, { timeout: 120_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20, ...options }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.killed ? 'timeout' : (error.code ?? 1)) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** node_modules/@types/node for the type checks. */
async function typesNodeDir() {
  if (!typesNodeVersion) return path.join(repo, 'node_modules', '@types', 'node');
  if (!/^[0-9][0-9.]*$/.test(typesNodeVersion)) throw new Error(`--types-node wants a version such as 24, got ${typesNodeVersion}`);
  // The repository's own alias of that version (a devDependency
  // types-node-VERSION, as scripts/test-types.mjs uses), where there is one.
  const alias = path.join(repo, 'node_modules', `types-node-${typesNodeVersion}`);
  if (existsSync(path.join(alias, 'package.json'))) return alias;
  const prefix = path.join(repo, '.cache', `types-node-${typesNodeVersion}`);
  const dir = path.join(prefix, 'node_modules', '@types', 'node');
  if (!existsSync(path.join(dir, 'package.json'))) {
    mkdirSync(prefix, { recursive: true });
    const npmCli = process.env.npm_execpath?.endsWith('.js') ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
    const installed = await run(npmCli[0], [...npmCli[1], 'install', '--prefix', prefix, '--no-save', '--no-package-lock', `@types/node@${typesNodeVersion}`], {
      shell: process.platform === 'win32' && npmCli[0] === 'npm',
    });
    if (installed.code !== 0) throw new Error(`npm install @types/node@${typesNodeVersion}: ${installed.stderr}`);
  }
  return dir;
}

/** This host's napi-rs target (linux-x64-gnu, ...), as native/index.js names it. */
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

// ---- the apps -------------------------------------------------------------

// How each import shape reaches createSocket.
const SHAPES = {
  default: { importLine: (s) => `import dgram, { type RemoteInfo } from '${s}';`, jsImport: (s) => `import dgram from '${s}';`, create: 'dgram.createSocket' },
  namespace: { importLine: (s) => `import * as dgram from '${s}';\ntype RemoteInfo = dgram.RemoteInfo;`, jsImport: (s) => `import * as dgram from '${s}';`, create: 'dgram.createSocket' },
  named: { importLine: (s) => `import { createSocket, type RemoteInfo } from '${s}';`, jsImport: (s) => `import { createSocket } from '${s}';`, create: 'createSocket' },
};

/** Echoes one datagram and prints { echo, fastdgram } as JSON. */
function echoBody(create, typed) {
  const rinfo = typed ? 'rinfo: RemoteInfo' : 'rinfo';
  return `
const server = ${create}('udp4');
server.on('message', (msg, ${rinfo}) => server.send(msg, rinfo.port, rinfo.address));
server.bind(0, '127.0.0.1', () => {
  const client = ${create}('udp4');
  const timer = setTimeout(() => { console.error('no echo within 5 s'); process.exit(1); }, 5000);
  client.on('message', (msg) => {
    clearTimeout(timer);
    console.log(JSON.stringify({ echo: msg.toString(), fastdgram: 'sendMany' in client }));
    client.close();
    server.close();
  });
  client.send('ping', server.address().port, '127.0.0.1');
});
`;
}

const tsApp = (shape, specifier) => `${SHAPES[shape].importLine(specifier)}\n${echoBody(SHAPES[shape].create, true)}`;
const mjsApp = (shape) => `${SHAPES[shape].jsImport('fastdgram')}\n${echoBody(SHAPES[shape].create, false)}`;
const CJS_APPS = {
  'require-module': `const dgram = require('fastdgram');\n${echoBody('dgram.createSocket', false)}`,
  'require-destructured': `const { createSocket } = require('fastdgram');\n${echoBody('createSocket', false)}`,
};

/** Runs an app; the check passes when it echoed through fastdgram (or node:dgram, as `expectFast` says). */
async function runApp(name, file, cwd, expectFast = true) {
  const result = await run(process.execPath, [file], { cwd, timeout: 20_000 });
  let report = null;
  try {
    report = JSON.parse(result.stdout.trim().split('\n').pop());
  } catch {
    // reported below
  }
  return check(
    `${name}: runs, echoes a datagram through ${expectFast ? 'fastdgram' : 'node:dgram'}`,
    result.code === 0 && report?.echo === 'ping' && report.fastdgram === expectFast && result.stderr === '',
    `exit ${result.code}\n${result.stdout}\n${result.stderr}`,
  );
}

// ---- TypeScript configurations -------------------------------------------

const TS_CONFIGS = {
  'commonjs, node10, esModuleInterop': { type: 'commonjs', ext: 'ts', out: 'js', options: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true } },
  'commonjs, node10, no esModuleInterop': { type: 'commonjs', ext: 'ts', out: 'js', options: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: false } },
  'nodenext emitting CommonJS': { type: 'commonjs', ext: 'ts', out: 'js', options: { module: 'nodenext', moduleResolution: 'nodenext' } },
  'nodenext emitting CommonJS, no esModuleInterop': { type: 'commonjs', ext: 'ts', out: 'js', options: { module: 'nodenext', moduleResolution: 'nodenext', esModuleInterop: false } },
  'nodenext emitting ES modules': { type: 'module', ext: 'ts', out: 'js', options: { module: 'nodenext', moduleResolution: 'nodenext' } },
  'bundler resolution, bundled by esbuild': { type: 'module', ext: 'ts', out: 'js', bundle: true, options: { module: 'esnext', moduleResolution: 'bundler' } },
};

const TS_COMMON = {
  target: 'ES2022',
  lib: ['ES2022'],
  types: ['node'],
  strict: true,
  skipLibCheck: true,
  outDir: 'out',
  rootDir: 'src',
};

/** TypeScript's errors, by file. */
function tsErrors(output) {
  const byFile = {};
  for (const m of output.matchAll(/^(.+?)\(\d+,\d+\): error (TS\d+: .*)$/gm)) {
    (byFile[path.basename(m[1])] ??= []).push(m[2]);
  }
  return byFile;
}

async function typeScriptCase(work, name, config) {
  const dir = path.join(work, `ts-${name.replace(/[^a-z0-9]+/gi, '-')}`);
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  symlinkSync(path.join(work, 'node_modules'), path.join(dir, 'node_modules'), linkType);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'interop-app', private: true, type: config.type }));
  const files = [];
  for (const shape of Object.keys(SHAPES)) {
    for (const [impl, specifier] of [['node', 'node:dgram'], ['fastdgram', 'fastdgram']]) {
      const file = `${shape}-${impl}.${config.ext}`;
      writeFileSync(path.join(dir, 'src', file), tsApp(shape, specifier));
      files.push(`src/${file}`);
    }
  }
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...TS_COMMON, ...config.options }, files }, null, 2));
  const compiled = await run(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: dir, timeout: 240_000 });
  const errors = tsErrors(compiled.stdout + compiled.stderr);
  for (const shape of Object.keys(SHAPES)) {
    const nodeErrors = errors[`${shape}-node.${config.ext}`];
    const fastErrors = errors[`${shape}-fastdgram.${config.ext}`];
    const label = `TypeScript ${name}: ${shape} import`;
    if (nodeErrors) {
      // TypeScript refuses this shape for node:dgram too: nothing to run.
      check(`${label}: refused for node:dgram (${nodeErrors[0].slice(0, 7)}), and for fastdgram as well`, Boolean(fastErrors), `fastdgram compiled where node:dgram did not: ${nodeErrors.join('; ')}`);
      continue;
    }
    if (!check(`${label}: type-checks against fastdgram as against node:dgram`, !fastErrors, (fastErrors ?? []).join('\n'))) continue;
    for (const impl of ['node', 'fastdgram']) {
      const source = path.join(dir, 'src', `${shape}-${impl}.${config.ext}`);
      let file = path.join(dir, 'out', `${shape}-${impl}.${config.out}`);
      if (config.bundle) {
        file = path.join(dir, 'bundle', `${shape}-${impl}.mjs`);
        const built = await bundle(source, file, 'esm', false);
        if (!built) continue;
      }
      await runApp(`${label} (${impl === 'node' ? 'node:dgram' : 'fastdgram'})`, file, dir, impl === 'fastdgram');
    }
  }
}

const ESM_REQUIRE_BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** Bundles `entry` with esbuild for Node.js; false (and a failed check) if it does not build. */
async function bundle(entry, outfile, format, external) {
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format,
      target: 'node20',
      external: external ? ['fastdgram'] : [],
      // An ES module bundle has no require() for the CommonJS inside it (and
      // the native binary): the usual banner gives it one (evanw/esbuild#1921).
      banner: format === 'esm' ? { js: ESM_REQUIRE_BANNER } : {},
      logLevel: 'silent',
      absWorkingDir: path.dirname(entry),
    });
    if (result.warnings.length > 0) {
      const text = (await esbuild.formatMessages(result.warnings, { kind: 'warning' })).join('\n');
      return check(`esbuild ${path.relative(path.dirname(path.dirname(entry)), entry)} → ${format}: no warnings`, false, text);
    }
    return true;
  } catch (err) {
    return check(`esbuild ${entry} → ${format}: builds`, false, err.message);
  }
}

async function plainCases(work) {
  const dir = path.join(work, 'plain');
  mkdirSync(dir);
  symlinkSync(path.join(work, 'node_modules'), path.join(dir, 'node_modules'), linkType);
  writeFileSync(path.join(dir, 'package.json'), '{ "name": "interop-plain", "private": true }\n');
  const apps = [];
  for (const [name, text] of Object.entries(CJS_APPS)) apps.push([`${name}.cjs`, text]);
  for (const shape of Object.keys(SHAPES)) apps.push([`import-${shape}.mjs`, mjsApp(shape)]);
  for (const [file, text] of apps) writeFileSync(path.join(dir, file), text);
  for (const [file] of apps) await runApp(`node ${file}`, file, dir);
  // The same apps, bundled.
  for (const [file] of apps) {
    for (const format of ['cjs', 'esm']) {
      for (const external of [false, true]) {
        const out = path.join(dir, 'bundle', `${path.parse(file).name}-${format}${external ? '-external' : ''}.${format === 'esm' ? 'mjs' : 'cjs'}`);
        if (await bundle(path.join(dir, file), out, format, external)) {
          const refersToPackage = /(require\(|from ?)"fastdgram"/.test(readFileSync(out, 'utf8'));
          check(`esbuild ${file} --format=${format}: fastdgram is ${external ? 'left to Node.js' : 'inlined in the bundle'}`, refersToPackage === external);
          await runApp(`esbuild ${file} --format=${format}${external ? ' --external:fastdgram' : ' (fastdgram inlined)'}`, out, dir);
        }
      }
    }
  }
}

const work = mkdtempSync(path.join(tmpdir(), 'fastdgram-interop-'));
try {
  // node_modules: fastdgram, its platform package beside it (as npm installs
  // it: fastdgram inlined into a bundle finds its binary there), @types/node.
  const modules = path.join(work, 'node_modules');
  mkdirSync(path.join(modules, '@types'), { recursive: true });
  symlinkSync(packageDir, path.join(modules, 'fastdgram'), linkType);
  const target = hostTarget();
  const platformName = `${pkg.name}-${target}`;
  const installedBeside = path.join(packageDir, '..', platformName);
  if (packageDir !== repo && existsSync(installedBeside)) {
    symlinkSync(installedBeside, path.join(modules, platformName), linkType);
  } else {
    const platformDir = path.join(modules, platformName);
    mkdirSync(platformDir);
    cpSync(path.join(repo, 'npm', target, 'package.json'), path.join(platformDir, 'package.json'));
    const binary = `${pkg.napi.binaryName}.${target}.node`;
    cpSync(path.join(repo, 'native', binary), path.join(platformDir, binary));
  }
  const typesDir = await typesNodeDir();
  symlinkSync(typesDir, path.join(modules, '@types', 'node'), linkType);
  const typesVersion = JSON.parse(readFileSync(path.join(typesDir, 'package.json'), 'utf8')).version;
  console.log(`fastdgram from ${packageDir}; @types/node ${typesVersion}; TypeScript ${JSON.parse(readFileSync(path.join(repo, 'node_modules', 'typescript', 'package.json'), 'utf8')).version}; esbuild ${esbuild.version}; Node.js ${process.version}`);

  await plainCases(work);
  // Two TypeScript projects at a time (tsc is the slow part).
  const cases = Object.entries(TS_CONFIGS);
  for (let i = 0; i < cases.length; i += 2) {
    await Promise.all(cases.slice(i, i + 2).map(([name, config]) => typeScriptCase(work, name, config)));
  }
} catch (err) {
  check('test:interop ran to the end', false, err.stack);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

const failed = results.filter((ok) => !ok).length;
console.log(`interop: ${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
