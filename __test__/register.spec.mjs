// fastdgram/register: `node --require fastdgram/register` and
// `node --import fastdgram/register` make an unmodified app and its unmodified
// dependencies from npm (dns2: require('node:dgram'), statsd-client:
// require('dgram')) use fastdgram, exchanging real datagrams on loopback.
// The app (__test__/register/) reports what it got; without the flag the same
// app must report node:dgram, so the checks below can tell the two apart.
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const apps = { commonjs: '__test__/register/app.cjs', module: '__test__/register/app.mjs' };

function runApp(flags, app, env = {}) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...flags, app],
      { cwd: root, timeout: 20_000, killSignal: 'SIGKILL', env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() || '';
        let report = null;
        try {
          report = JSON.parse(line);
        } catch {
          // reported below
        }
        resolve({ error, stdout, stderr, report });
      },
    );
  });
}

const datagramsFlowed = (t, report) => {
  t.deepEqual(report.dns.answer, ['fastdgram.test 127.0.0.42'], 'dns2 query answered by the dns2 server');
  t.is(report.statsd.line, 'fastdgram.register:1|c', 'statsd-client metric received');
};

for (const flag of ['--require', '--import']) {
  for (const [kind, app] of Object.entries(apps)) {
    test(`${flag} fastdgram/register: a ${kind} app and its dependencies get fastdgram`, async (t) => {
      const { error, stderr, report } = await runApp([flag, 'fastdgram/register'], app);
      t.falsy(error, stderr);
      t.truthy(report, stderr);
      t.is(report.kind, kind);
      t.true(report.requireDgramIsFastdgram, "require('dgram')");
      t.true(report.requireNodeDgramIsFastdgram, "require('node:dgram')");
      if (kind === 'module') {
        t.true(report.importNodeDgramIsFastdgram, "import dgram from 'node:dgram'");
        t.true(report.importNamedIsFastdgram, "import { createSocket, Socket } from 'node:dgram'");
        t.true(report.importDgramIsFastdgram, "import dgram from 'dgram'");
      }
      t.true(report.dns.serverIsFastdgram, "dns2's UDP server (a subclass of dgram.Socket) is a fastdgram Socket");
      t.true(report.statsd.receiverIsFastdgram);
      // dns2's query and answer and statsd-client's metric went out through fastdgram.
      t.true(report.served.send >= 3, JSON.stringify(report.served));
      t.true(report.served.bind >= 2, JSON.stringify(report.served));
      datagramsFlowed(t, report);
      t.notRegex(stderr, /Warning/, 'no warning when a binary is there');
    });
  }
}

test('without the flag the same apps get node:dgram (control)', async (t) => {
  for (const [kind, app] of Object.entries(apps)) {
    const { error, stderr, report } = await runApp([], app);
    t.falsy(error, stderr);
    t.truthy(report, stderr);
    t.is(report.kind, kind);
    t.false(report.requireDgramIsFastdgram);
    t.false(report.requireNodeDgramIsFastdgram);
    t.false(report.dns.serverIsFastdgram);
    t.false(report.statsd.receiverIsFastdgram);
    t.deepEqual(report.served, { bind: 0, send: 0 });
    t.is(report.registerMode, null);
    datagramsFlowed(t, report);
  }
});

test('NODE_OPTIONS=--require fastdgram/register works the same way', async (t) => {
  const { error, stderr, report } = await runApp([], apps.commonjs, {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require fastdgram/register`.trim(),
  });
  t.falsy(error, stderr);
  t.true(report.requireDgramIsFastdgram);
  t.true(report.dns.serverIsFastdgram);
  datagramsFlowed(t, report);
});

test('with FASTDGRAM_FALLBACK=node and no binary, the register still works (node:dgram underneath, one warning)', async (t) => {
  const { error, stderr, report } = await runApp(['--import', 'fastdgram/register'], apps.module, {
    FASTDGRAM_FALLBACK: 'node',
    NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/fastdgram.node',
  });
  t.falsy(error, stderr);
  t.truthy(report, stderr);
  // require('fastdgram') is fastdgram's fallback (node:dgram's sockets) here,
  // so "is fastdgram" holds and the datagrams flow through node:dgram, not
  // through a loop of redirections.
  t.true(report.requireDgramIsFastdgram);
  t.true(report.importNodeDgramIsFastdgram);
  datagramsFlowed(t, report);
  t.is(stderr.match(/FastdgramFallbackWarning/g)?.length, 1, stderr);
});
