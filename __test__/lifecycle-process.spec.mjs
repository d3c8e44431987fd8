// Parity in child processes: what keeps the process alive (ref/unref), and
// errors that node:dgram raises as uncaught exceptions (which would kill the
// test worker if provoked in-process). Each child loads the implementation by
// absolute path (see implSpecifier) and prints JSON lines.
import test from 'ava';
import {
  parity, childPrelude, implSpecifier, runNode, nodeAtLeast, dumpObservations,
} from './helpers/parity.mjs';
import { IS_WINDOWS, NO_SOCKET_FD_ON_WINDOWS, UNDER_WINE } from './helpers/platform.mjs';

const NODE24 = nodeAtLeast(24);
// A child that should stay alive is killed this long after its first output;
// one that should exit must do so within that time (it exits within
// milliseconds; a process under Wine takes up to seconds to end on a loaded
// machine). HARD_CAP_MS bounds every child, however slow its start.
const ALIVE_MS = UNDER_WINE ? 8000 : 2500;
const HARD_CAP_MS = 20000;

async function check(t, scenario) {
  const result = await parity(t, scenario);
  dumpObservations(t, result);
  return result;
}

function childCode(implName, body) {
  return `${childPrelude()}
const dgram = require(${JSON.stringify(implSpecifier(implName))});
${body}`;
}

/** Runs the child; the result without values that vary from run to run. */
async function run(implName, body, timeout = HARD_CAP_MS) {
  const r = await runNode(childCode(implName, body), { timeout, killAfterOutput: ALIVE_MS });
  return {
    exited: !r.timedOut,
    exitCode: r.timedOut ? null : r.exitCode,
    signal: r.timedOut ? null : r.signal,
    lines: r.lines,
    // stderr is not compared (it holds stack traces), only whether the child crashed unexpectedly
    stderrHasUncaught: /\n\s+at /.test(r.stderr) && !r.timedOut && r.exitCode !== 0,
  };
}

// ---------------------------------------------------------------------------
// What keeps the process alive
// ---------------------------------------------------------------------------

const lifetimes = {
  'a bound socket keeps the process alive': {
    body: `const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => out('listening'));`,
    alive: true,
  },
  'a bound socket after unref() lets the process exit': {
    body: `const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => { out('listening'); out(s.unref() === s); });`,
    alive: false,
  },
  'unref() before bind() still lets the process exit once bound': {
    body: `const s = dgram.createSocket('udp4'); s.unref(); s.bind(0, '127.0.0.1', () => out('listening'));
process.on('exit', () => out('exit'));`,
    alive: false,
  },
  'unref() then ref() keeps the process alive': {
    body: `const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => { s.unref(); s.ref(); out('listening'); });`,
    alive: true,
  },
  'ref() twice then unref() once lets the process exit (no counting)': {
    body: `const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => { s.ref(); s.ref(); s.unref(); out('listening'); });`,
    alive: false,
  },
  'a created but never bound socket does not keep the process alive': {
    body: `const s = dgram.createSocket('udp4'); out(typeof s.bind); process.on('exit', () => out('exit'));`,
    alive: false,
  },
  'a udp6 socket created but never bound does not keep the process alive': {
    body: `const s = dgram.createSocket({ type: 'udp6' }); out(s.type);`,
    alive: false,
  },
  'a bound socket closed in its bind callback lets the process exit': {
    body: `const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => { out('listening'); s.close(() => out('closed')); });`,
    alive: false,
  },
  'a bound udp6 socket keeps the process alive': {
    body: `const s = dgram.createSocket('udp6'); s.bind(0, '::1', () => out('listening'));`,
    alive: true,
  },
  'an unref()ed socket still receives while something else keeps the process alive': {
    body: `const s = dgram.createSocket('udp4');
s.on('message', (m) => { out({ message: m.toString() }); });
s.bind(0, '127.0.0.1', () => {
  s.unref();
  const c = dgram.createSocket('udp4');
  c.send('ping', s.address().port, '127.0.0.1', () => c.close());
  setTimeout(() => out('timer done'), 500);
});
process.on('exit', () => out('exit'));`,
    alive: false,
  },
  'send() then close() on an unbound socket lets the process exit': {
    body: `const s = dgram.createSocket('udp4');
s.send('x', 9, '127.0.0.1');
s.close(() => out('closed'));`,
    alive: false,
  },
  'a socket whose bind failed (EADDRINUSE) does not keep the process alive': {
    body: `const a = dgram.createSocket('udp4');
a.bind(0, '127.0.0.1', () => {
  const b = dgram.createSocket('udp4');
  b.on('error', (e) => { out(e.code); a.close(); });
  b.bind(a.address().port, '127.0.0.1');
});`,
    alive: false,
  },
};

for (const [title, { body, alive }] of Object.entries(lifetimes)) {
  test(`process lifetime: ${title}`, async (t) => {
    const { expected } = await check(t, (dgram, implName) => run(implName, body));
    t.is(expected.exited, !alive);
    if (!alive) t.is(expected.exitCode, 0);
    t.false(expected.stderrHasUncaught);
  });
}

// ---------------------------------------------------------------------------
// Errors that surface as uncaught exceptions
// ---------------------------------------------------------------------------

const UNCAUGHT = `
process.on('uncaughtException', (err, origin) => {
  out({ uncaught: describeMasked(err), origin });
});
let maskedPort = -1;
const describeMasked = (err) => {
  const d = describe(err);
  for (const k of Object.keys(d)) {
    if (d[k] === maskedPort) d[k] = '<port>';
    else if (typeof d[k] === 'string') d[k] = d[k].split(String(maskedPort)).join('<port>');
  }
  return d;
};
`;

const uncaughtCases = {
  'EADDRINUSE with no \'error\' listener is thrown as an uncaught exception': `${UNCAUGHT}
const a = dgram.createSocket('udp4');
a.bind(0, '127.0.0.1', () => {
  maskedPort = a.address().port;
  const b = dgram.createSocket('udp4');
  b.on('listening', () => out('b listening'));
  b.bind(maskedPort, '127.0.0.1');
  out('bind returned');
  setTimeout(() => { a.close(); b.close(() => out('b closed')); }, 100);
});`,
  'bind() with a Symbol port: the TypeError is thrown asynchronously and the socket stays "binding"': `${UNCAUGHT}
const s = dgram.createSocket('udp4');
s.on('error', (e) => out({ errorEvent: describe(e) }));
s.on('listening', () => out('listening'));
try { out({ ret: s.bind(Symbol('port'), '127.0.0.1') === s }); } catch (e) { out({ threw: describe(e) }); }
setTimeout(() => {
  try { s.bind(0); out('second bind accepted'); } catch (e) { out({ secondBind: describe(e) }); }
  s.close(() => out('closed'));
}, 20);`,
  'bind() with a BigInt port: the TypeError is thrown asynchronously': `${UNCAUGHT}
const s = dgram.createSocket('udp6');
s.on('error', (e) => out({ errorEvent: describe(e) }));
try { out({ ret: s.bind(1n, '::1') === s }); } catch (e) { out({ threw: describe(e) }); }
setTimeout(() => s.close(() => out('closed')), 20);`,
  'recvBufferSize above 2**31-1 fails at bind time as an uncaught ERR_SOCKET_BUFFER_SIZE': `${UNCAUGHT}
const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 2 ** 31 });
s.on('error', (e) => out({ errorEvent: describe(e) }));
s.on('listening', () => out('listening'));
s.bind(0, '127.0.0.1', () => out('bind callback'));
setTimeout(() => { try { out({ addressKeys: Object.keys(s.address()) }); } catch (e) { out({ address: describe(e) }); } s.close(() => out('closed')); }, 100);`,
  'sendBufferSize of 2**32-1 fails at bind time as an uncaught ERR_SOCKET_BUFFER_SIZE': `${UNCAUGHT}
const s = dgram.createSocket({ type: 'udp6', sendBufferSize: 2 ** 32 - 1 });
s.on('listening', () => out('listening'));
s.bind(0, '::1');
setTimeout(() => s.close(() => out('closed')), 100);`,
  'close() twice while a send is queued: the second close throws from inside the flush': `${UNCAUGHT}
const s = dgram.createSocket('udp4');
s.on('listening', () => out('listening'));
s.on('close', () => out('close event'));
s.send('x', 9, '127.0.0.1', (err) => out({ sendCallback: err && err.code }));
out({ first: s.close() === s });
out({ second: s.close() === s });
// After an uncaught exception, when the nextTick queue resumes (and so when
// 'close' comes) depends on the next callback from the event loop, in node
// too: the listeners are counted once 'close' came, not at a fixed time.
s.once('close', () => setTimeout(() => out({ closeListeners: s.listenerCount('close') }), 20));`,
  'a throwing \'listening\' listener surfaces as an uncaught exception, socket stays bound': `${UNCAUGHT}
const s = dgram.createSocket('udp4');
s.on('listening', () => { throw new RangeError('from listener'); });
s.bind(0, '127.0.0.1', () => out('bind callback'));
setTimeout(() => { out({ bound: Object.keys(s.address()) }); s.close(() => out('closed')); }, 50);`,
  'a throwing close callback surfaces as an uncaught exception': `${UNCAUGHT}
const s = dgram.createSocket('udp4');
s.close(() => { throw new Error('from close callback'); });
s.on('close', () => out('second close listener'));`,
};

for (const [title, body] of Object.entries(uncaughtCases)) {
  test(`uncaught: ${title}`, async (t) => {
    const { expected } = await check(t, (dgram, implName) => run(implName, body));
    t.true(expected.exited);
    t.true(expected.lines.some((l) => l && typeof l === 'object' && 'uncaught' in l));
  });
}

const bindCbNoErrorListener = `${UNCAUGHT}
const a = dgram.createSocket('udp4');
a.bind(0, '127.0.0.1', () => {
  maskedPort = a.address().port;
  const b = dgram.createSocket('udp4');
  b.bind(maskedPort, '127.0.0.1', () => out('bind callback'));
  out({ errorListeners: b.listenerCount('error'), listeningListeners: b.listenerCount('listening') });
  setTimeout(() => { out({ after: b.listenerCount('listening') }); a.close(); b.close(); }, 100);
});`;

// Node < 24 waits in bind(cb) with an 'error' listener (the error is
// swallowed), Node 24 with errorMonitor (uncaught); fastdgram follows the running one.
test(
  `uncaught: EADDRINUSE with only a bind callback (no 'error' listener) is ${NODE24 ? 'uncaught' : "swallowed by bind's own 'error' listener (Node < 24)"}`,
  async (t) => {
    const { expected } = await check(t, (dgram, implName) => run(implName, bindCbNoErrorListener));
    t.deepEqual(expected.lines[0], { errorListeners: NODE24 ? 0 : 1, listeningListeners: 1 });
    t.is(expected.lines.some((l) => l && typeof l === 'object' && 'uncaught' in l), NODE24);
  },
);

// ---------------------------------------------------------------------------
// bind({ fd }) with a real UDP descriptor (done in a child: the descriptor is
// borrowed from a node:dgram socket and must not be closed twice in the worker)
// ---------------------------------------------------------------------------

// The donor's watcher is stopped (recvStop) so that the descriptor is not
// registered twice in the child's event loop.
const fdCases = {
  'bind({ fd }) of a udp4 descriptor: listening and the callback are synchronous, address() is the descriptor\'s': `
const donor = require('node:dgram').createSocket('udp4');
donor.bind(0, '127.0.0.1', () => {
  nodeHandleOf(donor).recvStop();
  const fd = nodeHandleOf(donor).fd;
  const s = dgram.createSocket('udp4');
  const log = [];
  s.on('listening', () => log.push('listening'));
  s.on('error', (e) => log.push({ error: describe(e) }));
  const ret = s.bind({ fd, port: 1, address: '10.0.0.1' }, function (...args) { log.push({ callback: this === s, argc: args.length }); });
  log.push('returned');
  const a = s.address(); const d = donor.address();
  out({ ret: ret === s, log, same: a.port === d.port && a.address === d.address, keys: Object.keys(a) });
  try { s.bind(0); } catch (e) { out({ rebind: describe(e) }); }
  setTimeout(() => { out({ later: log }); process.exit(0); }, 30);
});`,
  'bind({ fd }) of a udp6 descriptor into a udp4 socket': `
const donor = require('node:dgram').createSocket('udp6');
donor.bind(0, '::1', () => {
  nodeHandleOf(donor).recvStop();
  const s = dgram.createSocket('udp4');
  try { s.bind({ fd: nodeHandleOf(donor).fd }); out({ family: s.address().family, address: s.address().address }); }
  catch (e) { out({ threw: describe(e) }); }
  process.exit(0);
});`,
  'bind({ fd }) of a udp4 descriptor, the wrapped socket receives datagrams': `
const donor = require('node:dgram').createSocket('udp4');
donor.bind(0, '127.0.0.1', () => {
  nodeHandleOf(donor).recvStop();
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => { out({ message: m.toString(), family: r.family }); process.exit(0); });
  s.bind({ fd: nodeHandleOf(donor).fd });
  require('node:dgram').createSocket('udp4').send('via fd', donor.address().port, '127.0.0.1');
  setTimeout(() => { out('timeout'); process.exit(0); }, 2000);
});`,
  'bind({ fd }) of a descriptor that another socket of the process still watches throws (open EEXIST)': `
const donor = require('node:dgram').createSocket('udp4');
donor.bind(0, '127.0.0.1', () => {
  const s = dgram.createSocket('udp4');
  s.on('listening', () => out('listening'));
  try { s.bind({ fd: nodeHandleOf(donor).fd }, () => out('callback')); out('returned'); } catch (e) { out({ threw: describe(e) }); }
  try { s.bind(0); } catch (e) { out({ rebind: describe(e) }); }
  process.exit(0);
});`,
};

for (const [title, body] of Object.entries(fdCases)) {
  if (IS_WINDOWS) {
    test.skip(`${title} [skipped: ${NO_SOCKET_FD_ON_WINDOWS}]`, () => {});
    continue;
  }
  test(title, async (t) => {
    const { expected } = await check(t, (dgram, implName) => run(implName, body));
    t.true(expected.exited);
    t.true(expected.lines.length > 0);
  });
}
