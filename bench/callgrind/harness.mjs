// What the callgrind scripts (echo.mjs, recv.mjs, pingpong.mjs) share: their
// command line, the valgrind check, a server run under callgrind with its
// instrumentation switched on and off from outside, the client that feeds it
// in bursts, and the output's totals.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `option(name, fallback)` reads `--name value` (a string); `extraEnv` holds every `--env NAME=VALUE`. */
export function commandLine(args = process.argv.slice(2)) {
  const option = (name, fallback) => {
    const i = args.indexOf(name);
    return i === -1 ? fallback : args[i + 1];
  };
  const extraEnv = Object.fromEntries(args.flatMap((a, i) => (args[i - 1] === '--env' ? [a.split('=')] : [])));
  return { option, extraEnv };
}

/** Exits with a hint when valgrind is missing. */
export function requireValgrind() {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    process.stderr.write('valgrind is needed: apt-get install valgrind\n');
    process.exit(2);
  }
}

/** valgrind's arguments for `script args…` under node, writing callgrind's output to `out`. */
export function callgrindArgs(out, script, scriptArgs, { atStart = true } = {}) {
  return ['--tool=callgrind', ...(atStart ? [] : ['--instr-atstart=no']), `--callgrind-out-file=${out}`, '--smc-check=all-non-file', process.execPath, script, ...scriptArgs];
}

/** A fresh folder for one callgrind output; `done(text)` removes it (KEEP=1 keeps it and prints its path). */
export function outputFile() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fastdgram-callgrind-'));
  const out = path.join(dir, 'callgrind.out');
  const read = () => {
    const text = readFileSync(out, 'utf8');
    if (process.env.KEEP) process.stderr.write(out + '\n'); else rmSync(dir, { recursive: true, force: true });
    return text;
  };
  return { out, read };
}

/**
 * Runs the server `script` under callgrind with instrumentation off until
 * `drive(port, instrument)` switches it (`instrument(true|false)`); the server
 * prints its port first and must exit 0. Resolves to callgrind's output text.
 */
export async function serverUnderCallgrind(script, scriptArgs, env, drive) {
  const { out, read } = outputFile();
  const server = spawn('valgrind', callgrindArgs(out, script, scriptArgs, { atStart: false }), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  server.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    server.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    server.once('exit', (code) => reject(new Error(`server exited (${code}): ${stderr.slice(-500)}`)));
  });
  const instrument = (on) => {
    const r = spawnSync('callgrind_control', ['-i', on ? 'on' : 'off', String(server.pid)], { timeout: 30000, encoding: 'utf8' });
    if (r.status !== 0 || !/OK/.test(r.stdout)) throw new Error(`callgrind_control failed: ${r.stdout}${r.stderr}`);
  };
  await drive(port, instrument);
  const code = await new Promise((resolve) => (server.exitCode !== null ? resolve(server.exitCode) : server.once('exit', resolve)));
  if (code !== 0) throw new Error(`server exited with ${code}: ${stderr.slice(-500)}`);
  return read();
}

/** The instructions a callgrind output counted ('totals': with instrumentation toggled, 'summary' stays 0). */
export function totalInstructions(text) {
  const totals = /^totals:\s+(\d+)/m.exec(text);
  if (!totals) throw new Error('no totals line in the callgrind output');
  return Number(totals[1]);
}

/**
 * Feeds a server under callgrind: a node:dgram client sends `count` datagrams
 * of `payload` to 127.0.0.1:`port` in bursts of `burst`, the next burst once
 * `answered(replies, sent)` says the server answered this one (`replies`: the
 * datagrams the client received so far). Instrumentation goes on when `warmup`
 * datagrams were answered and off after the last. Rejects after `timeoutMs`
 * without an answer.
 */
export function feedInBursts(port, instrument, { count, warmup, burst, payload, answered, timeoutMs }) {
  const client = createSocket('udp4');
  return new Promise((resolve, reject) => {
    let sent = 0;
    let replies = 0;
    let timer;
    const sendBurst = () => {
      const n = Math.min(burst, count - sent);
      for (let i = 0; i < n; i++) client.send(payload, port, '127.0.0.1');
      sent += n;
      clearTimeout(timer);
      timer = setTimeout(() => reject(new Error(`no answer for ${timeoutMs} ms after ${sent - n} of ${count}`)), timeoutMs);
    };
    client.on('message', () => {
      replies++;
      if (!answered(replies, sent)) return;
      if (sent === warmup) instrument(true);
      if (sent < count) return sendBurst();
      instrument(false);
      clearTimeout(timer);
      client.close();
      resolve();
    });
    client.bind(0, '127.0.0.1', sendBurst);
  });
}
