#!/usr/bin/env node
// package.json as it is packed: without `prepare` (and without these two
// scripts, which have nothing to do in an installed copy). In a clone,
// `prepare` makes `npm install` build the addon and the wrapper; in the
// published package it would be an install-time script that every user's
// npm lists for approval, with nothing to build. npm runs
//   prepack:  node scripts/pack-manifest.mjs strip    (keeps the original in .cache/)
//   postpack: node scripts/pack-manifest.mjs restore
// around `npm pack` and `npm publish`; `strip` first restores a copy an
// interrupted pack left behind, and refuses to pack what is not built.
// (The publish workflow deletes scripts.prepare itself as well, since npm
// publish sends the registry the manifest it reads after postpack.)
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = path.join(repo, 'package.json');
const saved = path.join(repo, '.cache', 'package.json.before-pack');
const CLONE_ONLY_SCRIPTS = ['prepare', 'prepack', 'postpack'];

function restore() {
  if (existsSync(saved)) renameSync(saved, manifest);
}

function strip() {
  restore();
  const built = ['dist/index.js', 'dist/fallback.js', 'native/index.d.ts'].filter((f) => !existsSync(path.join(repo, f)));
  if (built.length > 0) {
    console.error(`pack-manifest: ${built.join(', ')} missing: run npm run build before packing`);
    process.exit(1);
  }
  const text = readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(text);
  if (!CLONE_ONLY_SCRIPTS.some((name) => pkg.scripts?.[name])) return;
  mkdirSync(path.dirname(saved), { recursive: true });
  writeFileSync(saved, text);
  for (const name of CLONE_ONLY_SCRIPTS) delete pkg.scripts[name];
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
}

const command = process.argv[2];
if (command === 'strip') strip();
else if (command === 'restore') restore();
else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore');
  process.exit(2);
}
