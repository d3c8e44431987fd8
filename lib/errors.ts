// The error objects node:dgram throws, rebuilt so that callers cannot tell
// them apart from Node.js 24's own: same base class, `code`, message text,
// toString(), stack header and own properties (names, order, attributes).
import { format, getSystemErrorMap, getSystemErrorName, inspect } from 'node:util';

// any[]: TypeScript only lets a class extend a type parameter with this signature.
type ErrorClass = new (...args: any[]) => Error;

/** What `new` on one of the ERR_* classes below produces. */
type NodeErrorInstance<Base extends ErrorClass> = InstanceType<Base> & { code: string };
type NodeErrorClass<Args extends unknown[], Base extends ErrorClass> = new (
  ...args: Args
) => NodeErrorInstance<Base>;

// Node tags its own errors with a private symbol of this description; ours
// carry a look-alike so that property listings show the same thing.
const kIsNodeError = Symbol('kIsNodeError');

// Node's stack-trace hook prints `Name [CODE]: message` as the first line for
// the errors it tags, and `Name: message` for any other error, ours included.
// So once the stack exists, its first line is rewritten to node's form.
function labelStackHeader(error: Error & { code: string }): void {
  const stack = error.stack;
  const plainHeader = Error.prototype.toString.call(error);
  // A different header means a user-installed Error.prepareStackTrace is in
  // charge; node defers to it for its own errors too.
  if (typeof stack !== 'string' || !stack.startsWith(plainHeader)) return;
  error.stack = `${error.name} [${error.code}]: ${error.message}${stack.slice(plainHeader.length)}`;
}

/**
 * Restarts `error`'s stack trace at the caller of `fn`, so that the frames of
 * a validator do not show, as node hides its internal validators' frames.
 */
export function captureStackAbove<E extends Error & { code: string }>(
  error: E,
  fn: (...args: never[]) => unknown,
): E {
  Error.captureStackTrace(error, fn);
  labelStackHeader(error);
  return error;
}

// Node's error classes report their base (TypeError, ...) as `constructor`.
function reportBaseAsConstructor(NodeError: { prototype: object }, Base: ErrorClass): void {
  Object.defineProperty(NodeError.prototype, 'constructor', {
    get: () => Base,
    enumerable: false,
    configurable: true,
  });
}

/**
 * Where node puts `message` among the error's own properties: set by the
 * base constructor before `code` (messages from a template), or added after
 * `code` (messages node builds with a function).
 */
type MessageOrder = 'message-first' | 'code-first';

function nodeErrorClass<Args extends unknown[], Base extends ErrorClass>(
  Base: Base,
  key: string,
  render: (...args: Args) => string,
  order: MessageOrder,
): NodeErrorClass<Args, Base> {
  class NodeError extends Base {
    code = key;

    constructor(...args: any[]) {
      const message = render(...(args as Args));
      super(...(order === 'message-first' ? [message] : []));
      if (order === 'code-first') {
        Object.defineProperty(this, 'message', { value: message, enumerable: false, writable: true, configurable: true });
      }
      labelStackHeader(this);
    }

    get [kIsNodeError](): boolean {
      return true;
    }

    toString(): string {
      return `${this.name} [${key}]: ${this.message}`;
    }
  }
  reportBaseAsConstructor(NodeError, Base);
  return NodeError as unknown as NodeErrorClass<Args, Base>;
}

/** An error whose message comes from a fixed or printf-style template. */
function templateError<Args extends unknown[], Base extends ErrorClass>(
  Base: Base,
  key: string,
  render: (...args: Args) => string,
): NodeErrorClass<Args, Base> {
  return nodeErrorClass(Base, key, render, 'message-first');
}

/** An error whose message node builds with a function. */
function builtMessageError<Args extends unknown[], Base extends ErrorClass>(
  Base: Base,
  key: string,
  build: (...args: Args) => string,
): NodeErrorClass<Args, Base> {
  return nodeErrorClass(Base, key, build, 'code-first');
}

// ---------------------------------------------------------------------------
// Message helpers

/** 'A', 'A or B', 'A, B, or C' — node's list style (no Intl dependency). */
function joinWords(words: readonly string[], conjunction: string): string {
  if (words.length <= 1) return words.join('');
  if (words.length === 2) return `${words[0]} ${conjunction} ${words[1]}`;
  return `${words.slice(0, -1).join(', ')}, ${conjunction} ${words[words.length - 1]}`;
}

/** Truncates like node: more than 28 characters become the first 25 plus '...'. */
function shorten(text: string): string {
  return text.length > 28 ? `${text.slice(0, 25)}...` : text;
}

function describeNumber(value: number): string {
  // String(-0) is '0'; node keeps the sign.
  if (Object.is(value, -0)) return 'type number (-0)';
  return `type number (${String(value)})`;
}

function describeObject(value: object): string {
  const { constructor } = value as { constructor?: { name?: unknown } };
  if (constructor && 'name' in constructor) return `an instance of ${String(constructor.name)}`;
  return inspect(value, { depth: -1 });
}

function describeString(value: string): string {
  const shown = shorten(value);
  return shown.includes("'") ? `type string (${JSON.stringify(shown)})` : `type string ('${shown}')`;
}

/** How node names a wrong value after "Received ": `type number (5)`, `an instance of Foo`, ... */
function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      return describeNumber(value);
    case 'boolean':
      return `type boolean (${value})`;
    case 'symbol':
      return `type symbol (${String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object':
      return describeObject(value);
    case 'string':
      return describeString(value);
    default:
      return `type ${typeof value} (${shorten(inspect(value, { colors: false }))})`;
  }
}

// Expected-type words that are `typeof` results (capitalised forms allowed).
const typeofWords = ['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol'];
const classNamePattern = /^[A-Z][a-zA-Z0-9]*$/;

function describeExpected(expected: readonly string[]): string {
  const types: string[] = [];
  const classes: string[] = [];
  const others: string[] = [];
  for (const word of expected) {
    if (typeofWords.includes(word)) types.push(word.toLowerCase());
    else if (classNamePattern.test(word)) classes.push(word);
    else others.push(word);
  }
  // Beside class instances, "object" reads as the class Object.
  const objectAt = types.indexOf('object');
  if (classes.length > 0 && objectAt !== -1) {
    types.splice(objectAt, 1);
    classes.push('Object');
  }

  const parts: string[] = [];
  if (types.length > 0) parts.push(`${types.length > 1 ? 'one of type' : 'of type'} ${joinWords(types, 'or')}`);
  if (classes.length > 0) parts.push(`an instance of ${joinWords(classes, 'or')}`);
  if (others.length > 1) parts.push(`one of ${joinWords(others, 'or')}`);
  else if (others.length === 1) parts.push(others[0].toLowerCase() === others[0] ? others[0] : `an ${others[0]}`);
  return parts.join(' or ');
}

/** `"name" argument`, `"a.b" property`, or a name that already ends in " argument". */
function describeArgument(name: string): string {
  if (name.endsWith(' argument')) return name;
  return `"${name}" ${name.includes('.') ? 'property' : 'argument'}`;
}

/** Underscores every three digits of an integer's decimal text: 1_000_000. */
function groupDigits(digits: string): string {
  const signLength = digits.startsWith('-') ? 1 : 0;
  let end = digits.length;
  let grouped = '';
  while (end >= signLength + 4) {
    grouped = `_${digits.slice(end - 3, end)}${grouped}`;
    end -= 3;
  }
  return `${digits.slice(0, end)}${grouped}`;
}

function describeOutOfRangeValue(value: unknown): string {
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 32) {
    return groupDigits(String(value));
  }
  if (typeof value === 'bigint') {
    const large = value > 2n ** 32n || value < -(2n ** 32n);
    return `${large ? groupDigits(String(value)) : String(value)}n`;
  }
  return inspect(value);
}

// ---------------------------------------------------------------------------
// Node's ERR_* errors used by dgram

export const ERR_INVALID_ARG_TYPE = builtMessageError(
  TypeError,
  'ERR_INVALID_ARG_TYPE',
  (name: string, expected: string | string[], actual: unknown) => {
    const expectedList = Array.isArray(expected) ? expected : [expected];
    const mustBe = `The ${describeArgument(name)} must be ${describeExpected(expectedList)}`;
    return `${mustBe}. Received ${describeReceived(actual)}`;
  },
);

export const ERR_INVALID_ARG_VALUE = builtMessageError(
  TypeError,
  'ERR_INVALID_ARG_VALUE',
  (name: string, value: unknown, reason: string = 'is invalid') => {
    let shown = inspect(value);
    if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
    const kind = name.includes('.') ? 'property' : 'argument';
    return `The ${kind} '${name}' ${reason}. Received ${shown}`;
  },
);

export const ERR_MISSING_ARGS = builtMessageError(
  TypeError,
  'ERR_MISSING_ARGS',
  (...names: (string | string[])[]) => {
    const quote = (name: string): string => `"${name}"`;
    const alternatives = names.map((name) => (Array.isArray(name) ? name.map(quote).join(' or ') : quote(name)));
    const noun = names.length > 1 ? 'arguments' : 'argument';
    return `The ${joinWords(alternatives, 'and')} ${noun} must be specified`;
  },
);

export const ERR_OUT_OF_RANGE = builtMessageError(
  RangeError,
  'ERR_OUT_OF_RANGE',
  (name: string, range: string, received: unknown) =>
    `The value of "${name}" is out of range. It must be ${range}. Received ${describeOutOfRangeValue(received)}`,
);

export const ERR_SOCKET_BAD_PORT = builtMessageError(
  RangeError,
  'ERR_SOCKET_BAD_PORT',
  (name: string, port: unknown, allowZero: boolean = true) =>
    `${name} should be ${allowZero ? '>=' : '>'} 0 and < 65536. Received ${describeReceived(port)}.`,
);

export const ERR_BUFFER_OUT_OF_BOUNDS = builtMessageError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', (name?: string) =>
  name ? `"${name}" is outside of buffer bounds` : 'Attempt to access memory outside buffer bounds',
);

export const ERR_INVALID_FD_TYPE = templateError(TypeError, 'ERR_INVALID_FD_TYPE', (type: string) =>
  format('Unsupported fd type: %s', type),
);

export const ERR_FEATURE_UNAVAILABLE_ON_PLATFORM = templateError(TypeError, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', (feature: string) =>
  format('The feature %s is unavailable on the current platform, which is being used to run Node.js', feature),
);

export const ERR_IP_BLOCKED = templateError(Error, 'ERR_IP_BLOCKED', (ip: string) => `IP(${ip}) is blocked by net.BlockList`);

const fixedMessage = (message: string) => (): string => message;

export const ERR_SOCKET_BAD_TYPE = templateError(
  TypeError,
  'ERR_SOCKET_BAD_TYPE',
  fixedMessage('Bad socket type specified. Valid types are: udp4, udp6'),
);
export const ERR_SOCKET_BAD_BUFFER_SIZE = templateError(
  TypeError,
  'ERR_SOCKET_BAD_BUFFER_SIZE',
  fixedMessage('Buffer size must be a positive integer'),
);
export const ERR_SOCKET_ALREADY_BOUND = templateError(
  Error,
  'ERR_SOCKET_ALREADY_BOUND',
  fixedMessage('Socket is already bound'),
);
export const ERR_SOCKET_DGRAM_IS_CONNECTED = templateError(
  Error,
  'ERR_SOCKET_DGRAM_IS_CONNECTED',
  fixedMessage('Already connected'),
);
export const ERR_SOCKET_DGRAM_NOT_CONNECTED = templateError(
  Error,
  'ERR_SOCKET_DGRAM_NOT_CONNECTED',
  fixedMessage('Not connected'),
);
export const ERR_SOCKET_DGRAM_NOT_RUNNING = templateError(
  Error,
  'ERR_SOCKET_DGRAM_NOT_RUNNING',
  fixedMessage('Not running'),
);

// ---------------------------------------------------------------------------
// SystemError: an ERR_* error wrapping a libuv failure

/** The libuv failure a SystemError reports; kept by reference as `err.info`. */
interface SystemErrorContext {
  errno: number;
  code: string;
  message: string;
  syscall: string;
}

/** The context of a SystemError for libuv's `errno` from `syscall` (node's uvException fields). */
export function systemErrorContext(errno: number, syscall: string): SystemErrorContext {
  const entry = getSystemErrorMap().get(errno);
  return { errno, code: getSystemErrorName(errno), message: entry ? entry[1] : 'unknown error', syscall };
}

class SystemError extends Error {
  declare code: string;
  declare info: SystemErrorContext;
  declare errno: number;
  declare syscall: string;

  constructor(key: string, prefix: string, context: SystemErrorContext) {
    super();
    this.code = key;
    Object.defineProperties(this, {
      [kIsNodeError]: { value: true, enumerable: false, writable: false, configurable: true },
      name: { value: 'SystemError', enumerable: false, writable: true, configurable: true },
      message: {
        value: `${prefix}: ${context.syscall} returned ${context.code} (${context.message})`,
        enumerable: false,
        writable: true,
        configurable: true,
      },
      info: { value: context, enumerable: true, writable: false, configurable: true },
      // errno and syscall read and write through to `info`.
      errno: {
        get: () => context.errno,
        set: (value: number) => {
          context.errno = value;
        },
        enumerable: true,
        configurable: true,
      },
      syscall: {
        get: () => context.syscall,
        set: (value: string) => {
          context.syscall = value;
        },
        enumerable: true,
        configurable: true,
      },
    });
    labelStackHeader(this);
  }

  toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }

  // Node shows the errno/syscall getters' values when inspecting.
  [inspect.custom](_depth: number, options: object): string {
    return inspect(this, { ...options, getters: true, customInspect: false });
  }
}

// Named NodeError, as node's class is (node reports it as err.constructor.name).
export const ERR_SOCKET_BUFFER_SIZE = class NodeError extends SystemError {
  constructor(context: SystemErrorContext) {
    super('ERR_SOCKET_BUFFER_SIZE', 'Could not get or set buffer size', context);
  }
};

// ---------------------------------------------------------------------------
// Plain Errors for libuv failures (node's ErrnoException / ExceptionWithHostPort)

/** Node's name for a negative libuv errno, e.g. -98 → 'EADDRINUSE'. */
export function systemErrorName(errno: number): string {
  return getSystemErrorName(errno);
}

class ErrnoException extends Error {
  declare errno: number;
  declare code: string;
  declare syscall: string;

  constructor(errno: number, syscall: string, original?: string) {
    const code = getSystemErrorName(errno);
    super(original ? `${syscall} ${code} ${original}` : `${syscall} ${code}`);
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}
reportBaseAsConstructor(ErrnoException, Error);

class ExceptionWithHostPort extends Error {
  declare errno: number;
  declare code: string;
  declare syscall: string;
  declare address: string;
  declare port?: number;

  constructor(errno: number, syscall: string, address: string, port?: number, additional?: string) {
    const code = getSystemErrorName(errno);
    let where = '';
    if (port && port > 0) where = ` ${address}:${port}`;
    else if (address) where = ` ${address}`;
    if (additional) where += ` - Local (${additional})`;
    super(`${syscall} ${code}${where}`);
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
    this.address = address;
    if (port) this.port = port;
  }
}
reportBaseAsConstructor(ExceptionWithHostPort, Error);

/** `${syscall} ${code}` error for a failed call; `err` is a negative libuv errno. */
export function errnoException(err: number, syscall: string, original?: string): NodeJS.ErrnoException {
  const error = new ErrnoException(err, syscall, original);
  Error.captureStackTrace(error, errnoException);
  return error;
}

/** Like errnoException, naming the peer: `${syscall} ${code} ${address}:${port}`. */
export function exceptionWithHostPort(
  err: number,
  syscall: string,
  address: string,
  port?: number,
  additional?: string,
): NodeJS.ErrnoException & { address: string; port?: number } {
  const error = new ExceptionWithHostPort(err, syscall, address, port, additional);
  Error.captureStackTrace(error, exceptionWithHostPort);
  return error;
}
