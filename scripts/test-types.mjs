#!/usr/bin/env node
// Type tests: fastdgram's published declarations describe node:dgram's API.
//
// In a fresh temporary project whose node_modules/fastdgram is this repository
// (or, with --package DIR, an installed copy such as the one
// scripts/test-package.mjs installs from the packed tarball), once per
// @types/node version in `typesVersions` (the repository's @types/node, 24,
// under all four module settings; 22 and 26, installed as the aliases
// types-node-22 and types-node-26, under one CommonJS and one ES module
// setting — the declarations do not depend on the module setting, the
// resolution of index.d.ts / index.d.mts does), it compiles, under the module
// settings (CommonJS + node10 resolution, node16/nodenext ES module, nodenext
// CommonJS, bundler):
//   __test__/types/usage.ts       as written (against 'node:dgram') and with
//                                 'node:dgram' replaced by 'fastdgram':
//                                 no error either way;
//   __test__/types/misuse.ts      both ways: errors on exactly the lines marked
//                                 `expect-error`, the same lines both ways;
//   __test__/types/equivalence.ts fastdgram's types against node:dgram's: no error;
//   __test__/types/additions.ts   fastdgram's additions (sendMany): no error
//                                 (its `@ts-expect-error` lines must fail);
//   __test__/types/implementation.ts (commonjs-node10, the repository's
//                                 @types/node only) the compiled wrapper's
//                                 declarations fit the published ones.
// Prints one line per check and "N passed, M failed"; exits 1 on a failure.
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sources = path.join(repo, '__test__', 'types');
const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

const args = process.argv.slice(2);
const packageIndex = args.indexOf('--package');
const packageDir = packageIndex === -1 ? repo : path.resolve(args[packageIndex + 1]);
const keep = args.includes('--keep');

const configs = {
  'commonjs-node10': {
    ext: '.ts',
    compilerOptions: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
  },
  'nodenext-esm': { ext: '.mts', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } },
  'nodenext-cjs': {
    ext: '.cts',
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', esModuleInterop: true },
  },
  bundler: {
    ext: '.ts',
    compilerOptions: { module: 'esnext', moduleResolution: 'bundler', esModuleInterop: true },
  },
};

/** Each @types/node to check against: where it is installed, and which module settings. */
const typesVersions = [
  { dir: path.join(repo, 'node_modules', '@types', 'node'), configs: Object.keys(configs), main: true },
  { dir: path.join(repo, 'node_modules', 'types-node-22'), configs: ['commonjs-node10', 'nodenext-esm'] },
  { dir: path.join(repo, 'node_modules', 'types-node-26'), configs: ['commonjs-node10', 'nodenext-esm'] },
].map((entry) => ({ ...entry, version: JSON.parse(readFileSync(path.join(entry.dir, 'package.json'), 'utf8')).version }));

const common = {
  target: 'ES2022',
  lib: ['ES2022', 'ESNext.Disposable'],
  types: ['node'],
  strict: true,
  noEmit: true,
  // Check the declaration files themselves too, fastdgram's included.
  skipLibCheck: false,
  noUnusedLocals: false,
};

const results = [];
function check(name, ok, detail = '') {
  results.push(ok);
  console.log(`${ok ? 'ok    ' : 'FAILED'} ${name}${!ok && detail ? `\n${detail.replace(/^/gm, '         ')}` : ''}`);
}

function withSpecifier(text, specifier) {
  const replaced = text.replace(/(from\s+)'node:dgram'/g, `$1'${specifier}'`);
  if (specifier !== 'node:dgram' && replaced === text) throw new Error("no import from 'node:dgram' to replace");
  return replaced;
}

/** Lines (1-based) carrying an `expect-error` comment. */
function markedLines(text) {
  return text
    .split('\n')
    .map((line, i) => (/\/\/ expect-error\b/.test(line) ? i + 1 : 0))
    .filter(Boolean);
}

const project = mkdtempSync(path.join(tmpdir(), 'fastdgram-types-'));
try {
  // One project per @types/node version: its node_modules/fastdgram is the
  // package under test, its node_modules/@types/node that version.
  // Junctions on Windows: they need no privilege there.
  const linkType = process.platform === 'win32' ? 'junction' : 'dir';
  for (const { version, dir } of typesVersions) {
    const root = path.join(project, `types-node-${version}`);
    mkdirSync(path.join(root, 'node_modules', '@types'), { recursive: true });
    symlinkSync(packageDir, path.join(root, 'node_modules', 'fastdgram'), linkType);
    symlinkSync(dir, path.join(root, 'node_modules', '@types', 'node'), linkType);
    writeFileSync(path.join(root, 'package.json'), '{ "name": "types-test", "private": true }\n');
  }

  const usage = readFileSync(path.join(sources, 'usage.ts'), 'utf8');
  const misuse = readFileSync(path.join(sources, 'misuse.ts'), 'utf8');
  const equivalence = readFileSync(path.join(sources, 'equivalence.ts'), 'utf8');
  const additions = readFileSync(path.join(sources, 'additions.ts'), 'utf8');
  const implementation = readFileSync(path.join(sources, 'implementation.ts'), 'utf8');
  const expected = markedLines(misuse);
  if (expected.length < 10) throw new Error('misuse.ts marks too few lines');

  const runs = typesVersions.flatMap((types) => types.configs.map(async (configName) => {
    const { ext, compilerOptions } = configs[configName];
    const dir = path.join(project, `types-node-${types.version}`, configName);
    const name = `@types/node ${types.version}, ${configName}`;
    mkdirSync(dir);
    const files = {};
    for (const [impl, specifier] of [['node', 'node:dgram'], ['fastdgram', 'fastdgram']]) {
      files[`usage.${impl}`] = `usage-${impl}${ext}`;
      files[`misuse.${impl}`] = `misuse-${impl}${ext}`;
      writeFileSync(path.join(dir, files[`usage.${impl}`]), withSpecifier(usage, specifier));
      writeFileSync(path.join(dir, files[`misuse.${impl}`]), withSpecifier(misuse, specifier));
    }
    files.equivalence = `equivalence${ext}`;
    writeFileSync(path.join(dir, files.equivalence), equivalence);
    files.additions = `additions${ext}`;
    writeFileSync(path.join(dir, files.additions), additions);
    if (configName === 'commonjs-node10' && types.main) {
      files.implementation = 'implementation.ts';
      writeFileSync(path.join(dir, files.implementation), implementation);
    }
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...common, ...compilerOptions }, files: Object.values(files) }, null, 2),
    );

    let output = '';
    try {
      await promisify(execFile)(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], {
        cwd: dir,
        timeout: 240_000,
        maxBuffer: 16 << 20,
      });
    } catch (err) {
      if (err.killed || err.stdout === undefined) throw err;
      output = `${err.stdout}${err.stderr}`;
    }
    // file(line,col): error TSxxxx: message
    const errors = [...output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+: .*)$/gm)].map((m) => ({
      file: path.basename(m[1]),
      line: Number(m[2]),
      text: m[3],
    }));
    const known = new Set(Object.values(files));
    const errorsIn = (file) => errors.filter((e) => e.file === file);
    const show = (list) => list.map((e) => `${e.file}:${e.line} ${e.text}`).join('\n');

    const stray = errors.filter((e) => !known.has(e.file));
    check(`${name}: no error in declaration files (skipLibCheck off)`, stray.length === 0, show(stray) || output);
    for (const impl of ['node', 'fastdgram']) {
      const usageErrors = errorsIn(files[`usage.${impl}`]);
      check(`${name}: usage.ts compiles against ${impl === 'node' ? 'node:dgram' : 'fastdgram'}`, usageErrors.length === 0, show(usageErrors));
      const misuseErrors = errorsIn(files[`misuse.${impl}`]);
      const lines = [...new Set(misuseErrors.map((e) => e.line))].sort((a, b) => a - b);
      const missing = expected.filter((l) => !lines.includes(l));
      const extra = lines.filter((l) => !expected.includes(l));
      check(
        `${name}: misuse.ts fails against ${impl === 'node' ? 'node:dgram' : 'fastdgram'} on exactly its ${expected.length} marked lines`,
        missing.length === 0 && extra.length === 0,
        `${missing.length ? `no error on lines ${missing.join(', ')}\n` : ''}${extra.length ? `unexpected errors:\n${show(misuseErrors.filter((e) => extra.includes(e.line)))}` : ''}`,
      );
    }
    const eqErrors = errorsIn(files.equivalence);
    check(`${name}: fastdgram's types equal node:dgram's (equivalence.ts)`, eqErrors.length === 0, show(eqErrors));
    const additionErrors = errorsIn(files.additions);
    check(`${name}: fastdgram's additions are typed (additions.ts)`, additionErrors.length === 0, show(additionErrors));
    if (files.implementation) {
      const implErrors = errorsIn(files.implementation);
      check(`${name}: the implementation (dist/*.d.ts) has every declared member (implementation.ts)`, implErrors.length === 0, show(implErrors));
    }
  }));
  // The hand-written JavaScript entry points (// @ts-check) type-check too.
  if (packageDir === repo) {
    runs.push(
      (async () => {
        const files = ['entry/index.js', 'native/index.js', 'register/index.js'];
        let output = '';
        try {
          await promisify(execFile)(
            process.execPath,
            [tsc, '--noEmit', '--pretty', 'false', '--allowJs', '--checkJs', '--strict', '--skipLibCheck',
              '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node',
              ...files],
            { cwd: repo, timeout: 240_000, maxBuffer: 16 << 20 },
          );
        } catch (err) {
          if (err.killed || err.stdout === undefined) throw err;
          output = `${err.stdout}${err.stderr}`;
        }
        check(`checkJs: ${files.join(', ')} type-check`, output === '', output);
      })(),
    );
  }
  await Promise.all(runs);
} finally {
  if (keep) console.log(`kept ${project}`);
  else rmSync(project, { recursive: true, force: true });
}

const failed = results.filter((ok) => !ok).length;
console.log(`types: ${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 && existsSync(tsc) ? 0 : 1;
