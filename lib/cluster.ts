// Sharing one socket between cluster workers the way node:dgram does: a
// worker asks the primary, which opens (or reuses) a node:dgram handle and
// sends it over; the worker then reads and writes through that socket.
import type { SharedNodeHandle } from './handle';
import type { ClusterBindOptions } from './socket';

interface ClusterInternals {
  isWorker: boolean;
  _getServer(owner: object, options: ClusterBindOptions, cb: (errno: number, handle?: SharedNodeHandle) => void): void;
}

let cluster: ClusterInternals | undefined;

function lazyCluster(): ClusterInternals {
  cluster ??= require('node:cluster') as ClusterInternals;
  return cluster;
}

export function isClusterWorker(): boolean {
  return lazyCluster().isWorker;
}

/** Asks the primary for the shared socket; `cb(errno)` or `cb(0, handle)`. */
export function bindThroughPrimary(
  owner: object,
  options: ClusterBindOptions,
  cb: (errno: number, handle?: SharedNodeHandle) => void,
): void {
  lazyCluster()._getServer(owner, options, cb);
}
