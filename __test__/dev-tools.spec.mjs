// package.json's `overrides` pin two dependencies of the napi-rs CLI to
// versions that support Node.js 20 (the ones it asks for want Node.js >= 22):
// @napi-rs/lzma (the cross toolchain's xz download) and content-type (octokit's
// response parsing, for `napi` commands that talk to GitHub). The build here
// calls neither, so this checks that what the CLI's dependents call works.
import test from 'ava';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

test('@napi-rs/lzma as @napi-rs/cross-toolchain calls it: xz.decompressSync', (t) => {
  const toolchain = createRequire(require.resolve('@napi-rs/cross-toolchain'));
  const { xz } = toolchain('@napi-rs/lzma');
  const text = 'fastdgram '.repeat(100);
  t.is(xz.decompressSync(xz.compressSync(text)).toString(), text);
});

test("content-type as @octokit/request imports it: import { parse } from 'content-type'", async (t) => {
  const request = createRequire(require.resolve('@octokit/request'));
  const { parse } = await import(request.resolve('content-type'));
  t.deepEqual(JSON.parse(JSON.stringify(parse('application/json; charset=utf-8'))), {
    type: 'application/json',
    parameters: { charset: 'utf-8' },
  });
});
