// What require('fastdgram') and import 'fastdgram' do when no native binary
// loads (simulated with NAPI_RS_NATIVE_LIBRARY_PATH pointing at nothing, which
// makes napi-rs' generated loader try only that file): a clear error naming the
// host, or — with FASTDGRAM_FALLBACK=node — node:dgram with one warning. And
// that with a binary present FASTDGRAM_FALLBACK changes nothing.
// (The installed-package case — platform package missing — is in
// scripts/test-package.mjs.)
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const NO_BINARY = { NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/fastdgram.node' };

function node(args, env) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: root, timeout: 15_000, killSignal: 'SIGKILL', env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
  });
}

const expectedLibc = () => {
  if (process.platform !== 'linux') return 'n/a';
  return process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
};

// Prints the error's code, host fields and message as JSON.
const describeFailure = `
  const out = (e) => console.log(JSON.stringify({ code: e.code, platform: e.platform, arch: e.arch, libc: e.libc, message: e.message }));
`;

test('no binary: require() throws ERR_FASTDGRAM_NO_BINARY naming platform, architecture, libc and the way out', async (t) => {
  const { code, stdout, stderr } = await node(
    ['-e', `${describeFailure} try { require('fastdgram'); console.log('loaded') } catch (e) { out(e) }`],
    NO_BINARY,
  );
  t.is(code, 0, stderr);
  const err = JSON.parse(stdout);
  t.is(err.code, 'ERR_FASTDGRAM_NO_BINARY');
  t.is(err.platform, process.platform);
  t.is(err.arch, process.arch);
  t.is(err.libc ?? 'n/a', expectedLibc());
  t.true(err.message.includes(`platform ${process.platform}, architecture ${process.arch}, libc ${expectedLibc()}`), err.message);
  t.true(err.message.includes('FASTDGRAM_FALLBACK=node'), err.message);
  t.true(err.message.includes('/nonexistent/fastdgram.node'), err.message);
});

test('no binary: import throws the same error', async (t) => {
  const { code, stdout, stderr } = await node(
    ['--input-type=module', '-e', `${describeFailure} try { await import('fastdgram'); console.log('loaded') } catch (e) { out(e) }`],
    NO_BINARY,
  );
  t.is(code, 0, stderr);
  const err = JSON.parse(stdout);
  t.is(err.code, 'ERR_FASTDGRAM_NO_BINARY');
  t.true(err.message.includes(`architecture ${process.arch}`));
});

test('no binary + FASTDGRAM_FALLBACK=node: node:dgram, one warning, datagrams flow', async (t) => {
  const script = `
    import { createRequire } from 'node:module';
    import fast, { createSocket } from 'fastdgram';
    const require = createRequire(import.meta.url);
    const viaRequire = require('fastdgram');
    const nodeDgram = require('node:dgram');
    const server = createSocket('udp4');
    server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
    server.bind(0, '127.0.0.1', () => {
      const client = viaRequire.createSocket('udp4');
      const timer = setTimeout(() => { console.log('timeout'); process.exit(1); }, 5000);
      client.on('message', (msg) => {
        clearTimeout(timer);
        console.log(JSON.stringify({ isNode: fast === nodeDgram && viaRequire === nodeDgram, echo: msg.toString() }));
        client.close(); server.close();
      });
      client.send('ping', server.address().port, '127.0.0.1');
    });
  `;
  const { code, stdout, stderr } = await node(['--input-type=module', '-e', script], { ...NO_BINARY, FASTDGRAM_FALLBACK: 'node' });
  t.is(code, 0, stderr);
  t.deepEqual(JSON.parse(stdout), { isNode: true, echo: 'ping' });
  t.is(stderr.match(/FastdgramFallbackWarning/g)?.length, 1, stderr);
  t.regex(stderr, new RegExp(`platform ${process.platform}, architecture ${process.arch}`));
});

test('binary present: FASTDGRAM_FALLBACK=node changes nothing and warns nothing', async (t) => {
  const { code, stdout, stderr } = await node(
    ['-e', "const f = require('fastdgram'); console.log(JSON.stringify({ isNode: f === require('node:dgram'), keys: Object.keys(f) }))"],
    { FASTDGRAM_FALLBACK: 'node' },
  );
  t.is(code, 0, stderr);
  t.deepEqual(JSON.parse(stdout), { isNode: false, keys: ['Socket', 'createSocket'] });
  t.is(stderr, '');
});
