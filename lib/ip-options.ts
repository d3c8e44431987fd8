// fastdgram's per-socket IP options beyond node:dgram: the `dontFragment`
// option (path-MTU discovery) and the path MTU an oversized send reports.
// setTOS()/getTOS() need no logic of their own: socket.ts handles them as
// node handles setTTL().
import { errnoException } from './errors';
import type { UdpHandle } from './handle';
import { capabilities, UV } from './native';
import { validateBoolean } from './validate';

const UV_EMSGSIZE = UV.EMSGSIZE;
const UV_ENOTSUP = UV.ENOTSUP;

/**
 * `options.dontFragment`: off when undefined, otherwise a boolean (checked
 * as node checks its boolean options). On where the platform has no path-MTU
 * discovery: ENOTSUP at once, rather than a socket that fragments anyway.
 */
export function readDontFragment(value: unknown): boolean {
  if (value === undefined) return false;
  validateBoolean(value, 'options.dontFragment');
  if (value && !capabilities.dontFragment) throw errnoException(UV_ENOTSUP, 'setsockopt', 'dontFragment');
  return value;
}

/**
 * An EMSGSIZE send error of a dontFragment socket gets `mtu`: the path MTU
 * the kernel knows for the destination (`ip` undefined: the connected peer).
 * Left out when the kernel cannot tell.
 */
export function withPathMtu<E extends Error>(error: E, errno: number, handle: UdpHandle, ip: string | undefined, port: number | undefined): E {
  if (errno !== UV_EMSGSIZE || !handle.dontFragment) return error;
  const mtu = handle.pathMtu(ip, port);
  if (mtu > 0) (error as E & { mtu?: number }).mtu = mtu;
  return error;
}
