// Compares node:dgram's observations from two runs of the parity suites
// (PARITY_SELF=1 PARITY_DUMP=<file>): Linux and Windows (under Wine).
// Prints Markdown: a summary line first, then each scenario that differs
// with the paths whose values differ.
//
// libuv numbers errors differently on Windows (EADDRINUSE is -98 on Linux,
// -4091 on Windows): a value under a key `errno` is compared by its name,
// from each platform's util.getSystemErrorMap() (this process's for Linux,
// the JSON file node.exe wrote for Windows).
//
//   node scripts/windows/compare-baseline.mjs linux.jsonl windows.jsonl windows-errno.json
import { readFileSync } from 'node:fs';
import util from 'node:util';

const [linuxFile, windowsFile, windowsErrnoFile] = process.argv.slice(2);
if (!linuxFile || !windowsFile || !windowsErrnoFile) {
  console.error('usage: compare-baseline.mjs <linux.jsonl> <windows.jsonl> <windows-errno.json>');
  process.exit(2);
}
const errnoNames = {
  linux: new Map([...util.getSystemErrorMap()].map(([n, [name]]) => [n, name])),
  windows: new Map(JSON.parse(readFileSync(windowsErrnoFile, 'utf8')).map(([n, [name]]) => [n, name])),
};
let renumbered = 0;

/** Replaces each numeric `errno` value by 'errno of NAME' (counting those that differed). */
function namedErrnos(a, b) {
  const walk = (x, y) => {
    if (!x || !y || typeof x !== 'object' || typeof y !== 'object') return [x, y];
    const outX = Array.isArray(x) ? [] : {};
    const outY = Array.isArray(y) ? [] : {};
    for (const key of Object.keys(x)) {
      if (!(key in y)) outX[key] = x[key];
    }
    for (const key of Object.keys(y)) {
      if (!(key in x)) { outY[key] = y[key]; continue; }
      let [vx, vy] = [x[key], y[key]];
      if (key === 'errno' && typeof vx === 'number' && typeof vy === 'number') {
        const nx = errnoNames.linux.get(vx);
        const ny = errnoNames.windows.get(vy);
        if (nx && nx === ny) {
          if (vx !== vy) renumbered++;
          vx = vy = `errno of ${nx}`;
        }
      } else {
        [vx, vy] = walk(vx, vy);
      }
      outX[key] = vx;
      outY[key] = vy;
    }
    return [outX, outY];
  };
  return walk(a, b);
}

/** title → observations; a title seen n times gets ' #n' from the second on. */
function load(file) {
  const byTitle = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const { title, expected } = JSON.parse(line);
    let key = title;
    for (let n = 2; byTitle.has(key); n++) key = `${title} #${n}`;
    byTitle.set(key, expected);
  }
  return byTitle;
}

/** The paths at which a and b differ, with both values (leaves only). */
function differences(a, b, path = '', out = []) {
  if (Object.is(a, b)) return out;
  const bothObjects = a && b && typeof a === 'object' && typeof b === 'object';
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b)) {
    out.push({ path: path || '(whole)', linux: a, windows: b });
    return out;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const sub = Array.isArray(a) ? `${path}[${key}]` : `${path}.${key}`;
    if (!(key in a)) out.push({ path: sub, linux: '(absent)', windows: b[key] });
    else if (!(key in b)) out.push({ path: sub, linux: a[key], windows: '(absent)' });
    else differences(a[key], b[key], sub, out);
  }
  return out;
}

/** Leaves a differing `code` explains (message, stackHead, errno beside it) are left out. */
function withoutDerived(diff) {
  const parent = (path) => path.slice(0, path.lastIndexOf('.'));
  const leaf = (path) => path.slice(path.lastIndexOf('.') + 1);
  const codeParents = new Set(diff.filter((d) => leaf(d.path) === 'code').map((d) => parent(d.path)));
  const kept = diff.filter((d) => !(['message', 'stackHead', 'errno'].includes(leaf(d.path)) && codeParents.has(parent(d.path))));
  return kept.filter((d) => !(leaf(d.path) === 'errno' && codeParents.has(`${parent(d.path)}.info`)));
}

const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v));

const linux = load(linuxFile);
const windows = load(windowsFile);
const onlyLinux = [...linux.keys()].filter((k) => !windows.has(k));
const onlyWindows = [...windows.keys()].filter((k) => !linux.has(k));
const differing = [];
let same = 0;
for (const [title, observed] of linux) {
  if (!windows.has(title)) continue;
  const diff = withoutDerived(differences(...namedErrnos(observed, windows.get(title))));
  if (diff.length === 0) same++;
  else differing.push({ title, diff });
}

console.log(`${linux.size} scenarios on Linux, ${windows.size} under Wine: ${same} observed the same, ${differing.length} differ, ` +
  `${onlyLinux.length} ran only on Linux, ${onlyWindows.length} only under Wine ` +
  `(${renumbered} errno values differed only in libuv's numbering and count as the same)`);
console.log();
for (const { title, diff } of differing) {
  console.log(`## ${title}`);
  for (const d of diff.slice(0, 40)) console.log(`- \`${d.path}\`: Linux ${show(d.linux)} · Windows ${show(d.windows)}`);
  if (diff.length > 40) console.log(`- … ${diff.length - 40} more`);
  console.log();
}
if (onlyLinux.length) {
  console.log('## Ran only on Linux');
  for (const t of onlyLinux) console.log(`- ${t}`);
  console.log();
}
if (onlyWindows.length) {
  console.log('## Ran only under Wine');
  for (const t of onlyWindows) console.log(`- ${t}`);
}
