// Receive block lists applied natively: the rules of a net.BlockList are
// handed to the Rust side, which drops matching datagrams before they reach
// JavaScript. A BlockList can change after the socket got it (node checks it
// at every datagram), so each list's methods that change it are wrapped, on
// that instance only, to pass the new rules on. A list whose `check` is not
// BlockList's own (a subclass's, or one assigned to the instance) cannot be
// read as rules: node asks it for every datagram, and so does the socket
// (see usesOwnCheck).
import { BlockList } from 'node:net';

/** Told the new rules; returns false once it no longer wants them (its socket is gone). */
type Subscriber = (rules: string[]) => boolean;

/** The methods of BlockList that only read it; every other method may change it. */
const READERS = new Set(['constructor', 'check', 'toJSON']);
const subscribers = new WeakMap<BlockList, Set<Subscriber>>();
const nativeCheck = BlockList.prototype.check;

/** The list's rules now, as BlockList's `rules` prints them. */
export function rulesOf(list: BlockList): string[] {
  return [...list.rules];
}

/** Whether `list.check` is something other than BlockList's own (so its rules do not say what it blocks). */
export function usesOwnCheck(list: BlockList): boolean {
  return list.check !== nativeCheck;
}

/**
 * Calls `onChange` with the new rules whenever `list` changes (or its
 * `check` is replaced), until it returns false; returns the way to stop.
 */
export function watchBlockList(list: BlockList, onChange: Subscriber): () => void {
  let set = subscribers.get(list);
  if (!set) {
    set = new Set();
    subscribers.set(list, set);
    wrapMutators(list, set);
    watchCheck(list, set);
  }
  set.add(onChange);
  return () => set.delete(onChange);
}

function notify(list: BlockList, set: Set<Subscriber>): void {
  const rules = rulesOf(list);
  for (const subscriber of set) if (!subscriber(rules)) set.delete(subscriber);
}

/** Every method that may change the list, wherever on its prototype chain it is defined (a subclass's included). */
function mutatorsOf(list: BlockList): Map<string, (...args: unknown[]) => unknown> {
  const found = new Map<string, (...args: unknown[]) => unknown>();
  for (let prototype = Object.getPrototypeOf(list); prototype && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype)) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
      if (READERS.has(name) || found.has(name) || typeof descriptor?.value !== 'function') continue;
      found.set(name, descriptor.value as (...args: unknown[]) => unknown);
    }
  }
  return found;
}

function wrapMutators(list: BlockList, set: Set<Subscriber>): void {
  for (const [name, original] of mutatorsOf(list)) {
    Object.defineProperty(list, name, {
      configurable: true,
      writable: true,
      enumerable: false,
      value: function (this: BlockList, ...args: unknown[]): unknown {
        const result = Reflect.apply(original, this, args);
        notify(list, set);
        return result;
      },
    });
  }
}

/**
 * `list.check = fn` after the socket got the list: from then on the socket
 * must ask `fn`. An accessor on the instance sees the assignment, then
 * replaces itself with the assigned value, as a plain assignment would have
 * made it. Reading `list.check` before that gives the inherited method.
 */
function watchCheck(list: BlockList, set: Set<Subscriber>): void {
  if (Object.getOwnPropertyDescriptor(list, 'check')) return; // assigned already: asked in JavaScript
  Object.defineProperty(list, 'check', {
    configurable: true,
    enumerable: false,
    get(this: BlockList) {
      return Reflect.get(Object.getPrototypeOf(list), 'check', this);
    },
    set(this: BlockList, value: unknown) {
      Object.defineProperty(this, 'check', { value, writable: true, enumerable: true, configurable: true });
      if (this === list) notify(list, set);
    },
  });
}
