// Receive block lists applied natively: the rules of a net.BlockList are
// handed to the Rust side, which drops matching datagrams before they reach
// JavaScript. A BlockList can change after the socket got it (node checks it
// at every datagram), so each list's methods that change it are wrapped, on
// that instance only, to pass the new rules on.
import type { BlockList } from 'node:net';

/** Told the new rules; returns false once it no longer wants them (its socket is gone). */
type Subscriber = (rules: string[]) => boolean;

/** The methods of BlockList that only read it; every other method may change it. */
const READERS = new Set(['constructor', 'check', 'toJSON']);
const subscribers = new WeakMap<BlockList, Set<Subscriber>>();

/** The list's rules now, as BlockList's `rules` prints them. */
export function rulesOf(list: BlockList): string[] {
  return [...list.rules];
}

/** Calls `onChange` with the new rules whenever `list` changes, until it returns false; returns the way to stop. */
export function watchBlockList(list: BlockList, onChange: Subscriber): () => void {
  let set = subscribers.get(list);
  if (!set) {
    set = new Set();
    subscribers.set(list, set);
    wrapMutators(list, set);
  }
  set.add(onChange);
  return () => set.delete(onChange);
}

function wrapMutators(list: BlockList, set: Set<Subscriber>): void {
  const prototype = Object.getPrototypeOf(list);
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
    if (READERS.has(name) || typeof descriptor?.value !== 'function') continue;
    const original = descriptor.value as (...args: unknown[]) => unknown;
    Object.defineProperty(list, name, {
      configurable: true,
      writable: true,
      enumerable: false,
      value: function (this: BlockList, ...args: unknown[]): unknown {
        const result = Reflect.apply(original, this, args);
        const rules = rulesOf(list);
        for (const subscriber of set) if (!subscriber(rules)) set.delete(subscriber);
        return result;
      },
    });
  }
}
