// The README's examples of the additions (Beyond node:dgram) run as written
// and print what the README says they print.
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The js blocks of the README section that starts with `heading`. */
async function blocksUnder(heading) {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf(`\n${heading}`);
  if (start === -1) return [];
  const end = readme.indexOf('\n### ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]);
}

async function run(code) {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', code], { cwd: root, timeout: 10_000 });
  return stdout;
}

test("batch receive: the 'messages' example and the for await example", async (t) => {
  const [messages, iterator] = await blocksUnder("### Batch receive: the `'messages'` event and `for await`");
  t.truthy(messages && iterator, 'two js blocks under the heading');
  const first = await run(messages);
  t.regex(first, /^sent 100\nreceived 100 datagrams in (\d+) batches\n$/);
  const batches = Number(/in (\d+) batches/.exec(first)[1]);
  t.true(batches >= 1 && batches <= 100);
  t.regex(await run(iterator), /^(job \d from port \d+\n){10}$/);
  t.deepEqual([...(await run(iterator)).matchAll(/job (\d)/g)].map((m) => Number(m[1])), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('destination address: the recvDestination example answers from the address the question came to', async (t) => {
  const [example] = await blocksUnder('### Destination address: `recvDestination`');
  t.truthy(example);
  t.is(await run(example), '127.0.0.1 sent "question" to 127.0.0.1\nanswer from 127.0.0.1\n');
});

test('receive block lists: the example drops the blocked source natively and counts it', async (t) => {
  const [example] = await blocksUnder('### Receive block lists, natively');
  t.truthy(example);
  t.is(await run(example), 'allowed from 127.0.0.1\nblocked natively: 1\n');
});
