// The README and docs/api.md run as they say. Their rule ("Running the
// examples" in the README): a `js` block is a complete CommonJS program, an
// `mjs` block a complete ES module; saved as example.js / example.mjs in a
// project where fastdgram is installed and run with `node example.js`, it
// prints what the `text` block after it shows, `<…>` standing for what
// differs from run to run. So each runnable block is run exactly so: in a
// fresh project whose node_modules/fastdgram is this repository.
// Also: every runnable block has its output block; the links between the two
// files and to their headings resolve; the README's headline figures are what
// scripts/readme-headline.mjs makes of the result file it names; the quick
// start is what .ci/run runs; the first screen says what the issue asks.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IS_WINDOWS, UNDER_WINE, WINE_LOOPBACK_SOURCES } from './helpers/platform.mjs';
import { promisify } from 'node:util';
import { headline, BEGIN, END } from '../scripts/readme-headline.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const DOCS = ['README.md', 'docs/api.md'];
const RUNNABLE = { js: 'example.js', mjs: 'example.mjs' };

const read = (file) => readFileSync(path.join(root, file), 'utf8');

/** The fenced blocks of a Markdown text, in order: { lang, code, heading }. */
function blocks(text) {
  const found = [];
  let heading = '';
  let fence = null;
  for (const line of text.split('\n')) {
    if (fence) {
      if (line === '```') {
        found.push({ ...fence, heading });
        fence = null;
      } else {
        fence.code += `${line}\n`;
      }
    } else if (line.startsWith('```')) {
      fence = { lang: line.slice(3).trim(), code: '' };
    } else if (line.startsWith('#')) {
      heading = line;
    }
  }
  return found;
}

/** Each runnable block with the output block that follows it (or null). */
function examples(file) {
  const list = blocks(read(file));
  return list
    .map((block, i) => ({ ...block, file, output: list[i + 1]?.lang === 'text' ? list[i + 1].code : null }))
    .filter((block) => block.lang in RUNNABLE);
}

/** The output block as a pattern: literal text, `<…>` for a run of non-space characters. */
function outputPattern(expected) {
  const parts = expected.split(/<[^<>\s]+>/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('\\S+')}$`);
}

const all = DOCS.flatMap(examples);

// Wine refuses symlinks and junctions (ENOTSUP): there the installed package
// is a forwarder to this checkout's entry points, which the examples import.
function installForwarder(dir) {
  const entry = (file) => JSON.stringify(path.join(root, 'entry', file));
  const url = JSON.stringify(pathToFileURL(path.join(root, 'entry', 'index.mjs')).href);
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'fastdgram', exports: { '.': { import: './index.mjs', require: './index.js' } } }),
  );
  writeFileSync(path.join(dir, 'index.js'), `module.exports = require(${entry('index.js')});\n`);
  writeFileSync(
    path.join(dir, 'index.mjs'),
    `import dgram from ${url};\nexport const { createSocket, Socket } = dgram;\nexport default dgram;\n`,
  );
}

// One project for every example, as a reader has it: fastdgram installed.
const project = mkdtempSync(path.join(tmpdir(), 'fastdgram-readme-'));
mkdirSync(path.join(project, 'node_modules'));
if (UNDER_WINE) installForwarder(path.join(project, 'node_modules', 'fastdgram'));
else symlinkSync(root, path.join(project, 'node_modules', 'fastdgram'), process.platform === 'win32' ? 'junction' : 'dir');
writeFileSync(path.join(project, 'package.json'), '{ "name": "readme-examples", "private": true }\n');
test.after.always(() => rmSync(project, { recursive: true, force: true }));

test('the README and docs/api.md have runnable examples, each followed by the output it prints', (t) => {
  t.true(examples('README.md').length >= 1, 'README.md');
  t.true(examples('docs/api.md').length >= 10, 'docs/api.md');
  for (const example of all) t.not(example.output, null, `${example.file} ${example.heading}: a text block after the example`);
});

// Serially: several examples wait on timers, which a loaded machine stretches.
const SKIPPED_ON_WINDOWS = {
  ...(UNDER_WINE ? { '### `options.receiveBlockList`': WINE_LOOPBACK_SOURCES } : {}),
  '### `options.reusePort`': 'node on Windows refuses reusePort (bind ENOTSUP), and so does fastdgram there: the example balances a port, which Windows cannot',
};

all.forEach((example, index) => {
  const skipReason = IS_WINDOWS ? SKIPPED_ON_WINDOWS[example.heading] : undefined;
  if (skipReason) {
    test.skip(`${example.file} ${example.heading} (${example.lang} block ${index + 1}) — skipped: ${skipReason}`, () => {});
    return;
  }
  test.serial(`${example.file} ${example.heading} (${example.lang} block ${index + 1}) runs with node ${RUNNABLE[example.lang]} and prints its text block`, async (t) => {
    const dir = path.join(project, `example-${index}`);
    mkdirSync(dir);
    // Under Wine (no links) node finds the project's node_modules one level up.
    if (!UNDER_WINE) symlinkSync(path.join(project, 'node_modules'), path.join(dir, 'node_modules'), process.platform === 'win32' ? 'junction' : 'dir');
    writeFileSync(path.join(dir, RUNNABLE[example.lang]), example.code);
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [RUNNABLE[example.lang]], { cwd: dir, timeout: 15_000 });
    t.is(stderr, '');
    t.regex(stdout, outputPattern(example.output ?? ''));
  });
});

// The quick example again, now also asking the process which native addons it
// loaded (a --require'd probe writes require.cache's .node files at exit), with
// FASTDGRAM_FALLBACK unset: it must have run on this checkout's binary for the
// host (under Wine: native/fastdgram.win32-x64-msvc.node, the DLL
// scripts/test-windows.sh cross-built), not on a fallback.
const quick = examples('README.md')[0];
test.serial(`README.md ${quick.heading} (the quick example) runs on this checkout's native binary for ${process.platform}-${process.arch}, with no fallback`, async (t) => {
  const dir = path.join(project, 'quick-binary');
  mkdirSync(dir);
  if (!UNDER_WINE) symlinkSync(path.join(project, 'node_modules'), path.join(dir, 'node_modules'), process.platform === 'win32' ? 'junction' : 'dir');
  writeFileSync(path.join(dir, RUNNABLE[quick.lang]), quick.code);
  const loadedFile = path.join(dir, 'loaded.json');
  writeFileSync(path.join(dir, 'probe.cjs'), `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loadedFile)}, JSON.stringify(Object.keys(require.cache).filter((f) => f.endsWith('.node')))));\n`);
  const env = { ...process.env };
  delete env.FASTDGRAM_FALLBACK;
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH; // the loader's override: the checkout's own file is meant
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--require', './probe.cjs', RUNNABLE[quick.lang]], { cwd: dir, env, timeout: 15_000 });
  t.is(stderr, '');
  t.regex(stdout, outputPattern(quick.output ?? ''));
  const loaded = JSON.parse(readFileSync(loadedFile, 'utf8')).map((f) => path.relative(root, f).split(path.sep).join('/'));
  t.log(`native addons loaded: ${loaded.join(', ')}`);
  t.is(loaded.length, 1, `one native addon: ${loaded}`);
  t.regex(loaded[0] ?? '', new RegExp(`^native/fastdgram\\.${process.platform}-${process.arch}-\\w+\\.node$`));
});

test('the output pattern: <…> matches what varies, the rest literally', (t) => {
  const pattern = outputPattern('received 100 datagrams in <N> batches\n');
  t.regex('received 100 datagrams in 7 batches\n', pattern);
  t.notRegex('received 10 datagrams in 7 batches\n', pattern);
  t.notRegex('received 100 datagrams in 7 batches\nmore\n', pattern);
  t.regex('a.b (c)\n', outputPattern('a.b (c)\n'));
  t.notRegex('axb (c)\n', outputPattern('a.b (c)\n'));
});

/** GitHub's anchor of a heading. */
function anchor(heading) {
  return heading
    .replace(/^#+\s*/, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

test('links between README.md and docs/api.md, and to their headings, resolve', (t) => {
  const anchors = Object.fromEntries(
    DOCS.map((file) => [file, new Set(read(file).split('\n').filter((l) => /^#+ /.test(l)).map(anchor))]),
  );
  const broken = [];
  for (const file of DOCS) {
    const text = read(file).replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^https?:/.test(target)) continue;
      const [filePart, hash] = target.split('#');
      const linked = filePart ? path.normalize(path.join(path.dirname(file), filePart)) : file;
      if (!existsSync(path.join(root, linked))) broken.push(`${file}: ${target} (no such file)`);
      else if (hash !== undefined && anchors[linked] && !anchors[linked].has(hash)) broken.push(`${file}: ${target} (no such heading)`);
    }
  }
  t.deepEqual(broken, []);
});

test("the README's headline figures are what scripts/readme-headline.mjs makes of the result file it names", (t) => {
  const readme = read('README.md');
  const begin = BEGIN.exec(readme);
  t.truthy(begin, 'the headline markers');
  const block = readme.slice(begin.index, readme.indexOf(END) + END.length + 1);
  t.is(block, headline(begin[1]));
});

test("the contributors' quick start is what .ci/run runs first", (t) => {
  const readme = read('README.md');
  const quick = blocks(readme.slice(readme.indexOf('**Contributing.**'))).find((b) => b.lang === 'sh');
  const commands = quick.code.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
  t.deepEqual(commands, ['npm install', 'npm test']);
  // Shell function definitions run nothing where they stand.
  const ci = read('.ci/run').replace(/^\w+\(\) \{\n[\s\S]*?^\}\n/gm, '').split('\n').filter((l) => !l.startsWith('#') && !l.startsWith('echo') && l.trim() && !/^(set|cd|ulimit|export) /.test(l));
  t.deepEqual(ci.slice(0, 2), commands);
});

test('the first screen (40 lines) says what it is, how to install, the figures, the platforms, the quick start, in that order', (t) => {
  const first = read('README.md').split('\n').slice(0, 40).join('\n');
  const order = [
    /^# fastdgram\n\nfastdgram is a drop-in replacement for Node\.js's `node:dgram`/,
    /read on the\s+JavaScript\s+thread\s+when\s+libuv's\s+poll\s+reports\s+the\s+socket\s+readable/,
    /\[the API of the additions\]\(docs\/api\.md\)/,
    /npm install fastdgram`.*it is not yet\s+\(today that command answers 404\)/s,
    /npm pack && npm run pack:binary/,
    /\| send: datagrams\/s at the receiver/,
    /\| Linux x86_64, glibc \| built and tested/,
    /\| Windows x64 \| `sys\/windows\.rs`.*under Wine/,
    /\*\*Contributing\.\*\*/,
    /```sh\nnpm install .*\nnpm test .*\n```/,
  ];
  let at = 0;
  for (const pattern of order) {
    const match = pattern.exec(first.slice(at));
    t.truthy(match, `${pattern} after offset ${at}`);
    if (match) at += match.index + match[0].length;
  }
  t.notRegex(first, /tokio I\/O thread/, 'receiving is not on a tokio thread');
});
