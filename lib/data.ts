// A datagram's data as node:dgram takes it (a string or any ArrayBufferView)
// and the two ways it becomes bytes: node's own conversion in send(), and
// the bytes the native side reads.

/** The types an error names when data is none of them. */
export const DATA_TYPES = ['Buffer', 'TypedArray', 'DataView', 'string'];

/** The one empty Buffer: what an empty or detached view sends. */
export const NO_DATA = Buffer.alloc(0);

export function isData(value: unknown): value is string | ArrayBufferView {
  return typeof value === 'string' || ArrayBuffer.isView(value);
}

/**
 * `length` bytes of `view` from `offset`, as a Buffer over the same memory:
 * node's conversion (lib/dgram.js's sliceBuffer and fixBufferList), which
 * throws on a detached view as node's does.
 */
export function bufferOver(view: ArrayBufferView, offset: number = 0, length: number = view.byteLength): Buffer {
  return Buffer.from(view.buffer, view.byteOffset + offset, length);
}

/** A string's UTF-8 bytes, or a view's as they are (node's fixBufferList, item by item). */
export function dataBuffer(data: string | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  return Buffer.isBuffer(data) ? data : bufferOver(data);
}

/**
 * The bytes the native side reads from a view, as a Buffer over its memory.
 * A detached view is empty, and so is what node sends from it.
 */
export function bytesToSend(view: ArrayBufferView): Buffer {
  if (Buffer.isBuffer(view)) return view;
  return view.byteLength === 0 ? NO_DATA : bufferOver(view);
}

/** `data` whole, as sendMany sends it: a string's UTF-8 bytes, a view's bytes (empty when detached). */
export function bytesOfData(data: string | ArrayBufferView): Buffer {
  return typeof data === 'string' ? Buffer.from(data) : bytesToSend(data);
}
