// Replies sent together: send()s without a callback that 'message' handlers
// make while one received batch is delivered wait in the handle's outbox and
// leave together (one sendmmsg, UDP GSO for equal-sized runs) when the batch
// ends — the native side's call with BATCH_END, before fastdgram returns to
// the event loop. A send with a callback, or one that must go now, sends the
// waiting ones first, so the order on the wire is the order of the calls.
import type { SendRequest } from './handle';

/** `FASTDGRAM_NO_REPLY_BATCH=1` sends each reply by itself (for measuring what holding contributes). */
const HOLD_REPLIES = process.env.FASTDGRAM_NO_REPLY_BATCH === undefined;

/** The index of the native call that ends a batch delivered one datagram per call (crates/node/src/poll.rs). */
export const BATCH_END = -1;

/**
 * Whether replies to a batch of `count` datagrams wait for its end: only when
 * the native side calls once per datagram (then it ends the batch with
 * BATCH_END) and there is more than one to answer.
 */
export function holdsReplies(count: number, wholeAtOnce: boolean): boolean {
  return HOLD_REPLIES && count > 1 && !wholeAtOnce;
}

/** A send nobody waits for (no callback): it may leave with the batch's other replies. */
export function mayWait(request: SendRequest): boolean {
  return request.onsent === undefined && request.oncomplete === undefined;
}
