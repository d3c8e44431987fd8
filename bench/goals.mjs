// The goals' table across Node.js versions: every row of `npm run bench
// -- --json FILE` runs that states a goal (bench/run.mjs's goal column), one
// column per run, each cell the ratio that run measured and whether it meets
// the goal. Nothing is measured here; it only reads the files. Usage:
//   node bench/goals.mjs bench/results/node20.json bench/results/node24.json …
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node bench/goals.mjs RUN.json [RUN.json …]\n');
  process.exit(2);
}
const runs = files.map((file) => ({ file, data: JSON.parse(readFileSync(file, 'utf8')) }));

const label = (row) => {
  const receiver = row.variant && row.variant !== 'fast' ? ` (${row.variant.replace('fast:', "'")}${row.variant === 'fast:messages' ? "'" : ''})` : '';
  return `${row.title}${receiver}, IPv${row.family}, ${row.size.toLocaleString('en-US')} B`;
};
const ratioOf = (row, goal) => (goal.text.endsWith('node:dgram') ? row.fastOverNode ?? row.overNode : row.fastOverC ?? row.overC);

/** `label → goal text → { [file]: cell }`, in the first run's row order. */
function collect() {
  const table = new Map();
  for (const { file, data } of runs) {
    for (const row of [...data.rows, ...(data.extraRows || []), ...(data.gsoRows || [])]) {
      for (const goal of row.goals || []) {
        const key = `${label(row)} | ${goal.text}`;
        if (!table.has(key)) table.set(key, { row: label(row), goal: goal.text, cells: {} });
        table.get(key).cells[file] = `${ratioOf(row, goal).toFixed(2)}× ${goal.met ? 'met' : 'not met'}`;
      }
    }
  }
  return [...table.values()];
}

const header = runs.map(({ data }) => `node ${data.node.version}`);
const out = [
  `| row | goal | ${header.join(' | ')} |`,
  `|---|---|${runs.map(() => '---:').join('|')}|`,
  ...collect().map(({ row, goal, cells }) => `| ${row} | ${goal} | ${runs.map(({ file }) => cells[file] ?? '—').join(' | ')} |`),
];
process.stdout.write(`${out.join('\n')}\n`);
const dates = runs.map(({ file, data }) => `${file}: ${data.date.slice(0, 16).replace('T', ' ')} UTC, fastdgram ${data.fastdgram.commit ?? data.fastdgram.build}`);
process.stdout.write(`\n${dates.join('; ')}\n`);
