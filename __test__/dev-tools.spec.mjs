// package.json's `overrides` pin two dependencies of the napi-rs CLI to
// versions that support Node.js 20 (the ones it asks for want Node.js >= 22):
// @napi-rs/lzma (the cross toolchain's xz download) and content-type (octokit's
// response parsing, for `napi` commands that talk to GitHub). The build here
// calls neither, so this checks that what the CLI's dependents call works.
// On Windows (under Wine) @napi-rs/lzma has no binary installed: npm installed
// the build machine's (Linux) one; content-type is plain JavaScript and runs.
import test from 'ava';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { unlessWindows } from './helpers/platform.mjs';

const require = createRequire(import.meta.url);

unlessWindows(test, 'node_modules holds the Linux build of @napi-rs/lzma (npm installs the build machine\'s binary), a project build tool, not dgram')('@napi-rs/lzma as @napi-rs/cross-toolchain calls it: xz.decompressSync', (t) => {
  const toolchain = createRequire(require.resolve('@napi-rs/cross-toolchain'));
  const { xz } = toolchain('@napi-rs/lzma');
  const text = 'fastdgram '.repeat(100);
  t.is(xz.decompressSync(xz.compressSync(text)).toString(), text);
});

test("content-type as @octokit/request imports it: import { parse } from 'content-type'", async (t) => {
  const request = createRequire(require.resolve('@octokit/request'));
  const { parse } = await import(pathToFileURL(request.resolve('content-type')).href);
  t.deepEqual(JSON.parse(JSON.stringify(parse('application/json; charset=utf-8'))), {
    type: 'application/json',
    parameters: { charset: 'utf-8' },
  });
});
