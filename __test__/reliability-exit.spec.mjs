// Reliability, item 9: process exit (fixtures/reliability-exit.mjs). A
// process whose sockets are all closed or unref()ed — with sends still in
// flight, datagrams still arriving, another process flooding it — ends by
// itself within 1 s of the moment the last socket was closed or unref()ed,
// with exit code 0, no signal and nothing on stderr (no crash in native
// teardown); the same inside a worker_threads worker, whose exit code must be
// 0, in a process whose main thread never loads fastdgram. Each scenario runs
// 3 times.
import test from 'ava';
import { runFixture, childReport } from './fixtures/reliability-common.mjs';

const SCENARIOS = {
  closed: 'all sockets closed (after traffic both ways)',
  unrefed: 'all sockets unref()ed with sends still in flight',
  mixed: 'half the sockets closed, half unref()ed, datagrams still arriving',
  flooded: 'a socket unref()ed while another process floods it',
  'worker-closed': 'in a worker (the main thread never loads fastdgram): all sockets closed',
  'worker-unrefed': 'in a worker (the main thread never loads fastdgram): all sockets unref()ed with sends in flight',
  'worker-flooded': 'in a worker (the main thread never loads fastdgram): a socket unref()ed while flooded',
};
const RUNS = 3;
const PROMPT_MS = 1_000;

for (const [scenario, what] of Object.entries(SCENARIOS)) {
  test(`item 9: ${what}: the process exits by itself with code 0 within ${PROMPT_MS} ms, nothing on stderr (${RUNS} runs)`, async (t) => {
    t.timeout(60_000);
    for (let run = 0; run < RUNS; run++) {
      let readyAt = 0;
      const r = await runFixture('reliability-exit.mjs', ['fastdgram', scenario], {
        timeout: 15_000,
        nodeArgs: [],
        t,
        onLine: (line) => { if (/READY/.test(line) && !readyAt) readyAt = Date.now(); },
      });
      t.false(r.timedOut, `run ${run + 1}: the process did not exit within 15 s: ${childReport(r)}`);
      t.is(r.signal, null, `run ${run + 1}: killed by a signal: ${childReport(r)}`);
      t.is(r.code, 0, `run ${run + 1}: exit code ${r.code}: ${childReport(r)}`);
      t.is(r.stderr, '', `run ${run + 1}: stderr: ${r.stderr}`);
      t.true(readyAt > 0, `run ${run + 1}: never got READY: ${childReport(r)}`);
      if (readyAt) t.true(r.endedAt - readyAt <= PROMPT_MS, `run ${run + 1}: exited ${r.endedAt - readyAt} ms after its sockets were closed or unref()ed`);
      if (scenario.startsWith('worker-')) t.regex(r.stdout, /worker exit 0\n/, `run ${run + 1}: the worker's exit code`);
      t.notRegex(r.stdout, /worker error/, `run ${run + 1}: ${r.stdout}`);
    }
  });
}
