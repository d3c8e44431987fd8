// `for await (const { msg, rinfo } of socket)`: received datagrams as an
// async iterator with back-pressure. While more than `highWaterMark`
// datagrams wait for the consumer, the socket stops reading from the kernel,
// whose receive buffer then holds (and past its size drops, counted in
// socket.stats().kernelDrops) what arrives; reading resumes once the
// consumer is down to half of it.
import type { EventEmitter } from 'node:events';
import type { ReceivedMessage } from './handle';
import { validateObject, validateUint32 } from './validate';

export interface MessagesOptions {
  /** Datagrams waiting for the consumer before reading pauses (default 1024). */
  highWaterMark?: number;
}

interface PausableSource extends EventEmitter {
  /** Stops (true) or resumes (false) reading from the kernel. */
  pauseReceiving(paused: boolean): void;
}

const DEFAULT_HIGH_WATER_MARK = 1024;

interface Waiter {
  resolve: (result: IteratorResult<ReceivedMessage>) => void;
  reject: (err: unknown) => void;
}

export function messageIterator(source: PausableSource, options?: MessagesOptions): AsyncIterableIterator<ReceivedMessage> {
  const highWaterMark = highWaterMarkOf(options);
  const queue: ReceivedMessage[] = [];
  let head = 0;
  let waiter: Waiter | undefined;
  let failure: unknown;
  let done = false;
  let paused = false;

  const waiting = (): number => queue.length - head;
  const onMessages = (batch: ReceivedMessage[]): void => {
    let index = 0;
    if (waiter && batch.length > 0) {
      const { resolve } = waiter;
      waiter = undefined;
      resolve({ value: batch[index++], done: false });
    }
    for (; index < batch.length; index++) queue.push(batch[index]);
    if (!paused && waiting() >= highWaterMark) setPaused(true);
  };
  const onError = (err: unknown): void => {
    failure = err;
    finish();
  };
  const onClose = (): void => finish();

  function setPaused(value: boolean): void {
    paused = value;
    source.pauseReceiving(value);
  }

  function finish(): void {
    if (done) return;
    done = true;
    source.off('messages', onMessages);
    source.off('error', onError);
    source.off('close', onClose);
    if (paused) setPaused(false);
    const pending = waiter;
    waiter = undefined;
    if (!pending) return;
    if (failure !== undefined) {
      const err = failure;
      failure = undefined;
      pending.reject(err);
    } else {
      pending.resolve({ value: undefined, done: true });
    }
  }

  function take(): ReceivedMessage {
    const message = queue[head];
    queue[head++] = undefined as unknown as ReceivedMessage;
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    }
    if (paused && !done && waiting() <= highWaterMark / 2) setPaused(false);
    return message;
  }

  source.on('messages', onMessages);
  source.on('error', onError);
  source.on('close', onClose);

  return {
    next(): Promise<IteratorResult<ReceivedMessage>> {
      if (waiting() > 0) return Promise.resolve({ value: take(), done: false });
      if (failure !== undefined) {
        const err = failure;
        failure = undefined;
        return Promise.reject(err);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    return(): Promise<IteratorResult<ReceivedMessage>> {
      finish();
      queue.length = 0;
      head = 0;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function highWaterMarkOf(options: MessagesOptions | undefined): number {
  if (options === undefined) return DEFAULT_HIGH_WATER_MARK;
  validateObject(options, 'options');
  const { highWaterMark } = options;
  if (highWaterMark === undefined) return DEFAULT_HIGH_WATER_MARK;
  validateUint32(highWaterMark, 'options.highWaterMark', true);
  return highWaterMark;
}
