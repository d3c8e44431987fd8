#!/usr/bin/env node
// The README's headline figures (its first screen), made from a bench result
// file (`npm run bench -- --json FILE`), so that they are the bench's, not
// typed in:
//   node scripts/readme-headline.mjs [FILE]           prints the block
//   node scripts/readme-headline.mjs [FILE] --write   puts it in README.md
// FILE defaults to bench/results/node20.json. The block sits between the
// markers below; __test__/readme.spec.mjs checks that the README's block is
// what this prints for the file it names.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BEGIN = /<!-- headline figures: node scripts\/readme-headline\.mjs (\S+) --write -->\n/;
export const END = '<!-- /headline figures -->';

/** The rows shown: [metric, label]; IPv4, 64-byte datagrams. */
const ROWS = [
  ['send.rate', 'send: datagrams/s at the receiver'],
  ['send.cpu', 'send: sender CPU per datagram'],
  ['recv.rate', 'receive: datagrams/s delivered to JavaScript'],
  ['recv.cpu', 'receive: CPU per datagram'],
  ['pingpong.p50', 'ping-pong: round trip, median'],
  ['memory.peak', 'receiver peak RSS'],
];

function format(value, unit) {
  if (unit === 'dgram/s') return Math.round(value).toLocaleString('en-US');
  if (unit === 'µs') return `${value.toPrecision(3)} µs`;
  if (unit === 'MiB') return `${value.toFixed(1)} MiB`;
  return `${value} ${unit}`;
}

/** The Markdown block for the result file `file` (relative to the repository). */
export function headline(file) {
  const result = JSON.parse(readFileSync(path.join(repo, file), 'utf8'));
  const lines = [
    `<!-- headline figures: node scripts/readme-headline.mjs ${file} --write -->`,
    '| loopback, IPv4, 64-byte datagrams | node:dgram | fastdgram | fastdgram / node:dgram |',
    '|---|---:|---:|---:|',
  ];
  for (const [metric, label] of ROWS) {
    const row = result.rows.find((r) => r.metric === metric && r.family === 4 && r.size === 64);
    if (!row) throw new Error(`${file} has no ${metric} row for IPv4, 64 B`);
    const { node, fast } = row.median;
    const better = row.better === 'higher' ? 'higher is better' : 'lower is better';
    lines.push(`| ${label} (${better}) | ${format(node, row.unit)} | ${format(fast, row.unit)} | ${(fast / node).toFixed(2)}× |`);
  }
  const { cpus, model, kernel } = result.machine;
  lines.push(
    '',
    `\`npm run bench\`, medians of ${result.options.reps} runs, Node.js ${result.node.version}, ${model} (${cpus} cores), ` +
      `Linux ${kernel}, ${result.date.slice(0, 10)} (\`${file}\`; every scenario under [Performance](#performance)).`,
    END,
  );
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--')) ?? 'bench/results/node20.json';
  const block = headline(file);
  if (!args.includes('--write')) {
    process.stdout.write(block);
  } else {
    const readmePath = path.join(repo, 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const start = readme.search(BEGIN);
    const end = readme.indexOf(END);
    if (start === -1 || end === -1) throw new Error('README.md has no headline figures markers');
    writeFileSync(readmePath, readme.slice(0, start) + block + readme.slice(end + END.length + 1));
    console.log(`README.md: headline figures from ${file}`);
  }
}
