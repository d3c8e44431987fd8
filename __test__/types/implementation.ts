// The declarations match what fastdgram really exports: the wrapper's own
// compiled declarations (dist/*.d.ts, generated from lib/*.ts) must have every
// declared member, with signatures that fit the published ones
// (types/index.d.ts). Compiled by scripts/test-types.mjs in the
// commonjs-node10 setting.
//
// (Two deliberate differences are not compared: the wrapper types a 'message'
// listener's msg as Buffer where the published types say Buffer<ArrayBuffer>,
// which it is; and it types `lookup` as node calls it — (address, family:
// number, callback) — where @types/node, and so the published types, declare
// an options object.)
import type * as published from 'fastdgram';
import type * as implementation from '../node_modules/fastdgram/dist/index';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectTrue<T extends true>(): T | undefined {
  return undefined;
}

// The same run-time exports.
expectTrue<Equal<keyof typeof implementation, keyof typeof published>>();
// Every published Socket member exists with a fitting signature.
export function socket(s: implementation.Socket): published.Socket {
  return s;
}
export function remoteInfo(r: implementation.RemoteInfo): published.RemoteInfo {
  return r;
}
export function bindOptions(o: published.BindOptions): implementation.BindOptions {
  return o;
}
