// The README's usage example runs as written and prints what it says.
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the README usage example runs and exchanges datagrams', async (t) => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const match = readme.match(/## Usage\n[\s\S]*?```js\n([\s\S]*?)```/);
  t.truthy(match, 'README has a js block under Usage');
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', match[1]], { cwd: root, timeout: 10_000 });
  t.regex(stdout, /^server got: hello from 127\.0\.0\.1:\d+\nclient got: hello\n$/);
});
