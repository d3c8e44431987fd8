// What require('fastdgram') and import 'fastdgram' do when no native binary
// loads: a clear error naming the host, whose cause chain names only what
// fastdgram ships — or, with FASTDGRAM_FALLBACK=node, node:dgram's sockets
// with one warning, whose additions throw ERR_FASTDGRAM_NO_BINARY naming the
// addition. Any other FASTDGRAM_FALLBACK warns with the accepted values; with
// a binary present FASTDGRAM_FALLBACK=node changes nothing.
// "No binary" is simulated two ways: NAPI_RS_NATIVE_LIBRARY_PATH pointing at
// nothing (the loader then tries only that file), and a copy of the package's
// files without the binary (as installed with the platform package missing).
// The installed-package case is also in scripts/test-package.mjs.
import test from 'ava';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const NO_BINARY = { NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/fastdgram.node' };

function node(args, env, cwd = root) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd, timeout: 15_000, killSignal: 'SIGKILL', env: { ...process.env, FASTDGRAM_FALLBACK: '', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
  });
}

const expectedLibc = () => {
  if (process.platform !== 'linux') return 'n/a';
  return process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
};

const hostTarget = () => {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${expectedLibc() === 'musl' ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
};

// Prints the error's code, host fields, message and cause chain as JSON.
const describeFailure = `
  const causes = (e) => { const list = []; for (let c = e.cause; c && list.length < 10; c = c.cause) list.push({ code: c.code, message: c.message }); return list; };
  const out = (e) => console.log(JSON.stringify({ code: e.code, platform: e.platform, arch: e.arch, libc: e.libc, attempts: e.attempts, message: e.message, causes: causes(e) }));
`;

/**
 * A project whose node_modules/fastdgram holds the package's runtime files
 * but no binary, and (optionally) a platform package of the given version.
 */
function projectWithoutBinary(t, { platformVersion } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'fastdgram-no-binary-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const copy = path.join(dir, 'node_modules', 'fastdgram');
  for (const entry of ['package.json', 'entry', 'dist', 'native/index.js']) {
    cpSync(path.join(root, entry), path.join(copy, entry), { recursive: true });
  }
  if (platformVersion) {
    const name = `fastdgram-${hostTarget()}`;
    const platformDir = path.join(dir, 'node_modules', name);
    mkdirSync(platformDir, { recursive: true });
    const binary = `${pkg.napi.binaryName}.${hostTarget()}.node`;
    cpSync(path.join(root, 'native', binary), path.join(platformDir, binary));
    writeFileSync(path.join(platformDir, 'package.json'), JSON.stringify({ name, version: platformVersion, main: binary }));
  }
  writeFileSync(path.join(dir, 'package.json'), '{ "name": "no-binary-app", "private": true }\n');
  return dir;
}

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
  t.deepEqual(err.attempts, ['/nonexistent/fastdgram.node']);
  t.is(err.causes.length, 1);
  t.is(err.causes[0].code, 'MODULE_NOT_FOUND');
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

test("no binary installed: the cause chain holds exactly what fastdgram ships for this host (its own file, its platform package), nothing else", async (t) => {
  const dir = projectWithoutBinary(t);
  const { code, stdout, stderr } = await node(
    ['-e', `${describeFailure} try { require('fastdgram'); console.log('loaded') } catch (e) { out(e) }`],
    {},
    dir,
  );
  t.is(code, 0, stderr);
  const err = JSON.parse(stdout);
  const name = `fastdgram-${hostTarget()}`;
  const file = path.join(dir, 'node_modules', 'fastdgram', 'native', `${pkg.napi.binaryName}.${hostTarget()}.node`);
  t.is(err.code, 'ERR_FASTDGRAM_NO_BINARY');
  t.deepEqual(err.attempts, [file, name]);
  t.deepEqual(err.causes.map((c) => c.code), ['MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);
  t.true(err.causes[0].message.includes(file), err.causes[0].message);
  t.true(err.causes[1].message.includes(`'${name}'`), err.causes[1].message);
  t.true(err.message.includes(`npm install ${name}@${pkg.version}`), err.message);
  for (const text of [err.message, ...err.causes.map((c) => c.message)]) {
    t.notRegex(text, /wasi|wasm32/i, 'nothing fastdgram does not ship');
  }
});

test('a platform package of another version is refused, naming both versions', async (t) => {
  const dir = projectWithoutBinary(t, { platformVersion: '0.0.1' });
  const { code, stdout, stderr } = await node(
    ['-e', `${describeFailure} try { require('fastdgram'); console.log('loaded') } catch (e) { out(e) }`],
    {},
    dir,
  );
  t.is(code, 0, stderr);
  const err = JSON.parse(stdout);
  t.is(err.code, 'ERR_FASTDGRAM_NO_BINARY');
  const name = `fastdgram-${hostTarget()}`;
  t.is(err.causes[1].message, `${name} is version 0.0.1, but fastdgram is version ${pkg.version}: install ${name}@${pkg.version}`);
  t.true(err.message.includes('is installed but its binary failed to load'), err.message);
});

test('the platform package of the same version loads (the copy without a binary of its own)', async (t) => {
  const dir = projectWithoutBinary(t, { platformVersion: pkg.version });
  const { code, stdout, stderr } = await node(
    ['-e', "const f = require('fastdgram'); const s = f.createSocket('udp4'); console.log(typeof s.sendMany); s.close()"],
    {},
    dir,
  );
  t.is(code, 0, stderr);
  t.is(stdout, 'function\n');
});

test('no binary + FASTDGRAM_FALLBACK=node: node:dgram sockets, one warning, datagrams flow', async (t) => {
  const script = `
    import { createRequire } from 'node:module';
    import fast, { createSocket, Socket } from 'fastdgram';
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
        console.log(JSON.stringify({
          same: fast === viaRequire && fast.default === fast,
          keys: Object.keys(fast),
          nodeSockets: client instanceof nodeDgram.Socket && server instanceof Socket,
          echo: msg.toString(),
        }));
        client.close(); server.close();
      });
      client.send('ping', server.address().port, '127.0.0.1');
    });
  `;
  const { code, stdout, stderr } = await node(['--input-type=module', '-e', script], { ...NO_BINARY, FASTDGRAM_FALLBACK: 'node' });
  t.is(code, 0, stderr);
  t.deepEqual(JSON.parse(stdout), { same: true, keys: ['Socket', 'createSocket'], nodeSockets: true, echo: 'ping' });
  t.is(stderr.match(/FastdgramFallbackWarning/g)?.length, 1, stderr);
  t.regex(stderr, new RegExp(`platform ${process.platform}, architecture ${process.arch}`));
});

test("fallback: every addition throws ERR_FASTDGRAM_NO_BINARY naming it, with the no-binary error as cause; node's own API is untouched", async (t) => {
  const script = `
    const dgram = require('fastdgram');
    const nodeDgram = require('node:dgram');
    const { ADDITION_METHODS } = require('./dist/fallback.js');
    const socket = dgram.createSocket('udp4');
    const attempt = (label, fn) => {
      try { fn(); return { label, threw: false }; }
      catch (e) { return { label, code: e.code, addition: e.addition, message: e.message, cause: e.cause && e.cause.code }; }
    };
    const results = [
      ...ADDITION_METHODS.filter((key) => !(key in nodeDgram.Socket.prototype)).map((key) => attempt(String(key), () => socket[key]())),
      ...['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'].map((m) => attempt(m, () => socket[m]('messages', () => {}))),
      attempt('recvDestination', () => dgram.createSocket({ type: 'udp4', recvDestination: true })),
      attempt('dontFragment', () => dgram.createSocket({ type: 'udp4', dontFragment: true })),
      attempt('new Socket dontFragment', () => new dgram.Socket({ type: 'udp4', dontFragment: true })),
    ];
    const plain = dgram.createSocket({ type: 'udp4', dontFragment: false, recvDestination: false });
    plain.once('message', () => {});
    plain.on('listening', () => {});
    const keys = (s) => { const list = []; for (const k in s) list.push(k); return list.sort(); };
    const nodeSocket = nodeDgram.createSocket('udp4');
    console.log(JSON.stringify({
      results,
      listeners: plain.listenerCount('message') + plain.listenerCount('listening'),
      sameKeys: JSON.stringify(keys(plain)) === JSON.stringify(keys(nodeSocket)),
      additionsHidden: ADDITION_METHODS.every((k) => !Object.keys(Object.getPrototypeOf(plain)).includes(k)),
    }));
    for (const s of [socket, plain, nodeSocket]) s.close();
  `;
  const { code, stdout, stderr } = await node(['-e', script], { ...NO_BINARY, FASTDGRAM_FALLBACK: 'node' });
  t.is(code, 0, stderr);
  const report = JSON.parse(stdout);
  // bindSync and connectSync are stand-ins only where node:dgram lacks them (before Node.js 26).
  const nodeHasSyncBind = typeof require('node:dgram').Socket.prototype.bindSync === 'function';
  t.is(report.results.length, (nodeHasSyncBind ? 7 : 9) + 5 + 3);
  if (!nodeHasSyncBind) t.true(report.results.some((r) => r.label === 'bindSync'));
  for (const r of report.results) {
    t.is(r.code, 'ERR_FASTDGRAM_NO_BINARY', JSON.stringify(r));
    t.is(r.cause, 'ERR_FASTDGRAM_NO_BINARY', JSON.stringify(r));
    t.regex(r.message, /needs fastdgram's native binary/);
  }
  const byLabel = Object.fromEntries(report.results.map((r) => [r.label, r]));
  t.is(byLabel.sendMany.addition, 'sendMany');
  t.true(byLabel.sendMany.message.startsWith('socket.sendMany() needs'), byLabel.sendMany.message);
  t.is(byLabel['Symbol(Symbol.asyncIterator)'].addition, 'Symbol.asyncIterator');
  t.true(byLabel.once.message.startsWith("The 'messages' event needs"), byLabel.once.message);
  t.is(byLabel.dontFragment.addition, 'dontFragment');
  t.true(byLabel.recvDestination.message.startsWith('The recvDestination option of dgram.createSocket() needs'));
  t.is(report.listeners, 2, "other events' listeners are added as usual");
  t.true(report.sameKeys, "for…in over a fallback socket lists what node:dgram's lists");
  t.true(report.additionsHidden, 'the stand-ins are not enumerable');
});

test("fallback: reusePort, receiveBlockList and sendBlockList are refused where this Node.js's node:dgram lacks them, and passed on where it has them", async (t) => {
  const script = `
    const dgram = require('fastdgram');
    const { BlockList } = require('node:net');
    const outcome = (options) => {
      try { dgram.createSocket({ type: 'udp4', ...options }).close(); return 'accepted'; }
      catch (e) { return e.code + ' ' + e.addition; }
    };
    console.log(JSON.stringify({
      reusePort: outcome({ reusePort: true }),
      reusePortOff: outcome({ reusePort: false }),
      receiveBlockList: outcome({ receiveBlockList: new BlockList() }),
      sendBlockList: outcome({ sendBlockList: new BlockList() }),
    }));
  `;
  const { code, stdout, stderr } = await node(['-e', script], { ...NO_BINARY, FASTDGRAM_FALLBACK: 'node' });
  t.is(code, 0, stderr);
  // What this Node.js's node:dgram has: reusePort since 22.12 and 23.1; the
  // block lists where it type-checks them.
  const nodeDgram = require('node:dgram');
  const checksOption = (option) => {
    try {
      nodeDgram.createSocket({ type: 'udp4', [option]: 1 }).close();
      return false;
    } catch (e) {
      return e.code === 'ERR_INVALID_ARG_TYPE';
    }
  };
  const [major, minor] = process.versions.node.split('.').map(Number);
  const has = {
    reusePort: (major === 22 && minor >= 12) || (major === 23 && minor >= 1) || major >= 24,
    receiveBlockList: checksOption('receiveBlockList'),
    sendBlockList: checksOption('sendBlockList'),
  };
  const expected = (option) => (has[option] ? 'accepted' : `ERR_FASTDGRAM_NO_BINARY ${option}`);
  t.deepEqual(JSON.parse(stdout), {
    reusePort: expected('reusePort'),
    reusePortOff: 'accepted',
    receiveBlockList: expected('receiveBlockList'),
    sendBlockList: expected('sendBlockList'),
  });
});

test("fallback: the stand-ins cover exactly the additions fastdgram's Socket.prototype installs", (t) => {
  const { Socket } = require('../dist/index.js');
  const { ADDITION_METHODS } = require('../dist/fallback.js');
  const nodeSocket = require('node:dgram').Socket;
  // Hidden members node's own Socket.prototype also has (the DEP0112 ones up to
  // Node.js 25, bindSync/connectSync from 26) are node's, not additions.
  const hidden = Reflect.ownKeys(Socket.prototype).filter(
    (key) => key !== 'constructor' && !Object.getOwnPropertyDescriptor(Socket.prototype, key).enumerable && !(key in nodeSocket.prototype),
  );
  const names = (keys) => keys.map(String).sort();
  t.deepEqual(names(hidden), names(ADDITION_METHODS.filter((key) => !(key in nodeSocket.prototype))));
});

test('an unknown FASTDGRAM_FALLBACK warns with the accepted values, and is otherwise ignored (binary present)', async (t) => {
  const { code, stdout, stderr } = await node(
    ['-e', "const f = require('fastdgram'); const s = f.createSocket('udp4'); console.log(typeof s.sendMany); s.close()"],
    { FASTDGRAM_FALLBACK: '1' },
  );
  t.is(code, 0, stderr);
  t.is(stdout, 'function\n');
  t.is(stderr.match(/FastdgramFallbackWarning/g)?.length, 1, stderr);
  t.regex(stderr, /\[FASTDGRAM_FALLBACK_UNKNOWN\]/);
  t.true(stderr.includes('FASTDGRAM_FALLBACK is set to "1", which fastdgram does not understand'), stderr);
  t.true(stderr.includes('Accepted values: "node"'), stderr);
});

test('an unknown FASTDGRAM_FALLBACK without a binary: the warning, and the no-binary error saying the value is not understood', async (t) => {
  const { code, stdout, stderr } = await node(
    ['-e', `${describeFailure} try { require('fastdgram'); console.log('loaded') } catch (e) { out(e) }`],
    { ...NO_BINARY, FASTDGRAM_FALLBACK: '1' },
  );
  t.is(code, 0, stderr);
  const err = JSON.parse(stdout);
  t.is(err.code, 'ERR_FASTDGRAM_NO_BINARY');
  t.true(err.message.includes('FASTDGRAM_FALLBACK is set to "1"; the only value it understands is "node".'), err.message);
  t.regex(stderr, /\[FASTDGRAM_FALLBACK_UNKNOWN\]/);
});

test('binary present: FASTDGRAM_FALLBACK=node changes nothing and warns nothing', async (t) => {
  const { code, stdout, stderr } = await node(
    ['-e', "const f = require('fastdgram'); console.log(JSON.stringify({ isNode: f === require('node:dgram'), keys: Object.keys(f), sendMany: typeof f.createSocket('udp4').sendMany })); process.exit(0)"],
    { FASTDGRAM_FALLBACK: 'node' },
  );
  t.is(code, 0, stderr);
  t.deepEqual(JSON.parse(stdout), { isNode: false, keys: ['Socket', 'createSocket'], sendMany: 'function' });
  t.is(stderr, '');
});
