// Argument checks with the same rules and the same errors as Node.js 24's
// internal validators (lib/internal/validators.js), for node:dgram's API.
import { ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ERR_SOCKET_BAD_PORT, captureStackAbove } from './errors';

type AnyFunction = (...args: never[]) => unknown;

// Node hides its validators' frames: the stack starts at whoever called them.
function rejectFrom(validator: AnyFunction, error: Error & { code: string }): never {
  throw captureStackAbove(error, validator);
}

export function isInt32(value: unknown): value is number {
  return value === ((value as number) | 0);
}

export function isUint32(value: unknown): value is number {
  return value === (value as number) >>> 0;
}

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') rejectFrom(validateString, new ERR_INVALID_ARG_TYPE(name, 'string', value));
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') rejectFrom(validateBoolean, new ERR_INVALID_ARG_TYPE(name, 'boolean', value));
}

export function validateFunction(value: unknown, name: string): asserts value is AnyFunction {
  if (typeof value !== 'function') rejectFrom(validateFunction, new ERR_INVALID_ARG_TYPE(name, 'Function', value));
}

/** `>= min && <= max`, leaving out whichever bound is not given. */
function describeBounds(min: number | null | undefined, max: number | null | undefined): string {
  const bounds: string[] = [];
  if (min != null) bounds.push(`>= ${min}`);
  if (max != null) bounds.push(`<= ${max}`);
  return bounds.join(' && ');
}

export function validateNumber(
  value: unknown,
  name: string,
  min?: number | null,
  max?: number | null,
): asserts value is number {
  if (typeof value !== 'number') rejectFrom(validateNumber, new ERR_INVALID_ARG_TYPE(name, 'number', value));
  const bounded = min != null || max != null;
  const outOfRange = (min != null && value < min) || (max != null && value > max) || (bounded && Number.isNaN(value));
  if (outOfRange) rejectFrom(validateNumber, new ERR_OUT_OF_RANGE(name, describeBounds(min, max), value));
}

/** The checks validateInt32 and validateUint32 share: a number, an integer, within [min, max]. */
function integerError(value: unknown, name: string, min: number, max: number): (Error & { code: string }) | undefined {
  if (typeof value !== 'number') return new ERR_INVALID_ARG_TYPE(name, 'number', value);
  if (!Number.isInteger(value)) return new ERR_OUT_OF_RANGE(name, 'an integer', value);
  if (value < min || value > max) return new ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${max}`, value);
  return undefined;
}

export function validateInt32(
  value: unknown,
  name: string,
  min: number = -2147483648,
  max: number = 2147483647,
): asserts value is number {
  const error = integerError(value, name, min, max);
  if (error) rejectFrom(validateInt32, error);
}

export function validateUint32(value: unknown, name: string, positive: boolean = false): asserts value is number {
  const error = integerError(value, name, positive ? 1 : 0, 4294967295);
  if (error) rejectFrom(validateUint32, error);
}

// validateObject's `options`: bit flags widening what counts as an object.
const kValidateObjectNone = 0;
export const kValidateObjectAllowNullable = 1 << 0;
export const kValidateObjectAllowArray = 1 << 1;
export const kValidateObjectAllowFunction = 1 << 2;

function isAcceptedObject(value: unknown, options: number): boolean {
  if (value === null) return (options & kValidateObjectAllowNullable) !== 0;
  if (Array.isArray(value)) return (options & kValidateObjectAllowArray) !== 0;
  if (typeof value === 'function') return (options & kValidateObjectAllowFunction) !== 0;
  return typeof value === 'object';
}

/**
 * By default only a non-null, non-array object passes; `options` flags also
 * let null, arrays or functions through (the assertion describes the default).
 */
export function validateObject(
  value: unknown,
  name: string,
  options: number = kValidateObjectNone,
): asserts value is Record<PropertyKey, unknown> {
  if (!isAcceptedObject(value, options)) rejectFrom(validateObject, new ERR_INVALID_ARG_TYPE(name, 'Object', value));
}

/** Passes undefined, or anything object-like with an `aborted` property. */
export function validateAbortSignal(signal: unknown, name: string): asserts signal is AbortSignal | undefined {
  const looksLikeSignal = typeof signal === 'object' && signal !== null && 'aborted' in signal;
  if (signal !== undefined && !looksLikeSignal) {
    rejectFrom(validateAbortSignal, new ERR_INVALID_ARG_TYPE(name, 'AbortSignal', signal));
  }
}

function isPort(port: unknown, allowZero: boolean): port is number | string {
  if (typeof port !== 'number' && typeof port !== 'string') return false;
  if (typeof port === 'string' && port.trim().length === 0) return false;
  // Numeric strings count, in any form Number() reads ('0x50', ' 80 ', '8e1').
  const asNumber = Number(port);
  if (asNumber !== asNumber >>> 0 || asNumber > 0xffff) return false;
  return asNumber !== 0 || allowZero;
}

/**
 * A port is an integer in [0, 65535] (or [1, 65535] without allowZero), as a
 * number or a numeric string; returns it as a number.
 */
export function validatePort(port: unknown, name: string = 'Port', allowZero: boolean = true): number {
  if (!isPort(port, allowZero)) rejectFrom(validatePort, new ERR_SOCKET_BAD_PORT(name, port, allowZero));
  return Number(port) | 0;
}
