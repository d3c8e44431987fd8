//! Memory for the received batches handed to JavaScript: each batch's Buffer
//! is external memory lent from a per-thread pool of blocks, and its
//! finalizer (run by Node on this thread once JavaScript let go of every view
//! of it) gives the block back. A block is written again only after that: a
//! Buffer given to JavaScript is never written natively.
//!
//! Why: a new batch of 64 GRO buffers is 4 MiB, which malloc maps afresh and
//! the kernel faults in page by page on every batch; a block that comes back
//! is already resident.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::OnceLock;

use napi::sys;

/// Blocks are 2^k bytes, the smallest 2^MIN_SHIFT.
const MIN_SHIFT: u32 = 12;
const CLASSES: usize = 12;
/// Batches larger than the largest class get memory of their own.
const MAX_BLOCK: usize = 1 << (MIN_SHIFT as usize + CLASSES - 1);
/// Idle blocks kept per thread, in bytes; what comes back beyond it is freed.
const IDLE_LIMIT: usize = 8 << 20;
/// Smaller batches take Node's own Buffer memory: for them malloc is cheap,
/// and an external Buffer's bookkeeping (its finalizer runs from a
/// thread-safe immediate) costs more than it saves (bench/callgrind/recv.mjs:
/// +1,500 instructions per datagram in bursts of 2).
const POOLED_FROM: usize = 128 << 10;

thread_local! {
    static POOL: Rc<BlockPool> = Rc::new(BlockPool::default());
}

/// Memory of `size` bytes, uninitialised until written: an empty Vec of
/// that capacity (zeroing it would cost as much as the copy into it).
struct Block {
    memory: Vec<u8>,
    size: usize,
}

impl Block {
    fn new(size: usize) -> Block {
        Block {
            memory: Vec::with_capacity(size),
            size,
        }
    }

    /// The first `len` bytes, which the caller writes before reading.
    ///
    /// # Safety
    /// `len` ≤ the block's size; no byte is read before it is written.
    unsafe fn first_mut(&mut self, len: usize) -> &mut [u8] {
        debug_assert!(len <= self.size);
        // SAFETY: the capacity is at least size ≥ len bytes.
        unsafe { std::slice::from_raw_parts_mut(self.memory.as_mut_ptr(), len) }
    }
}

#[derive(Default)]
struct BlockPool {
    idle: RefCell<[Vec<Block>; CLASSES]>,
    idle_bytes: Cell<usize>,
}

impl BlockPool {
    fn take(&self, len: usize) -> Block {
        let Some(class) = class_of(len) else {
            return Block::new(len);
        };
        match self.idle.borrow_mut()[class].pop() {
            Some(block) => {
                self.idle_bytes.set(self.idle_bytes.get() - block.size);
                block
            }
            None => Block::new(block_size(class)),
        }
    }

    fn give_back(&self, block: Block) {
        let Some(class) = class_of(block.size).filter(|&c| block_size(c) == block.size) else {
            return;
        };
        if self.idle_bytes.get() + block.size > IDLE_LIMIT {
            return;
        }
        self.idle_bytes.set(self.idle_bytes.get() + block.size);
        self.idle.borrow_mut()[class].push(block);
    }
}

fn class_of(len: usize) -> Option<usize> {
    if len > MAX_BLOCK {
        return None;
    }
    let shift = len
        .max(1)
        .next_power_of_two()
        .trailing_zeros()
        .max(MIN_SHIFT);
    Some((shift - MIN_SHIFT) as usize)
}

fn block_size(class: usize) -> usize {
    1 << (MIN_SHIFT as usize + class)
}

/// A block while JavaScript holds it: the finalizer's hint.
struct Lent {
    block: Block,
    pool: Rc<BlockPool>,
    /// Bytes added to V8's count of external memory for this block.
    told: i64,
}

/// A new Buffer of `len` bytes whose memory `fill` writes, every byte of it,
/// before JavaScript can see it. Pooled external memory where Node allows it
/// (not under a V8 sandbox), else a plain `napi_create_buffer`.
///
/// # Safety
/// On the JavaScript thread owning `env`, inside a handle scope.
pub unsafe fn new_buffer(
    env: sys::napi_env,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Result<sys::napi_value, sys::napi_status> {
    if len < POOLED_FROM || !pooling() {
        // SAFETY: as this function's.
        return unsafe { node_buffer(env, len, fill) };
    }
    let pool = POOL.with(Rc::clone);
    let block = pool.take(len);
    // V8 counts the Buffer's length itself; the rest of the block is held too.
    let told = (block.size - len) as i64;
    let mut lent = Box::new(Lent { block, pool, told });
    // SAFETY: len fits the block; fill writes every byte (its contract).
    fill(unsafe { lent.block.first_mut(len) });
    let data = lent.block.memory.as_mut_ptr().cast::<c_void>();
    let hint = Box::into_raw(lent);
    let mut buffer = ptr::null_mut();
    // SAFETY: data stays valid until give_back frees or pools it; hint is
    // reclaimed exactly once, by give_back or right here on failure.
    unsafe {
        let status = sys::napi_create_external_buffer(
            env,
            len,
            data,
            Some(give_back),
            hint.cast(),
            &mut buffer,
        );
        if status != sys::Status::napi_ok {
            let mut lent = *Box::from_raw(hint);
            let copied = copied_buffer(env, lent.block.first_mut(len));
            lent.pool.give_back(lent.block);
            return copied;
        }
        let mut total = 0;
        sys::napi_adjust_external_memory(env, told, &mut total);
    }
    Ok(buffer)
}

/// `FASTDGRAM_NO_BATCH_POOL=1` switches the pool off (for measuring what it contributes).
fn pooling() -> bool {
    static POOLING: OnceLock<bool> = OnceLock::new();
    *POOLING.get_or_init(|| std::env::var_os("FASTDGRAM_NO_BATCH_POOL").is_none())
}

/// A Buffer of Node's own memory, left uninitialised by Node: `fill` writes it.
unsafe fn node_buffer(
    env: sys::napi_env,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Result<sys::napi_value, sys::napi_status> {
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    // SAFETY: on env's thread; Node's memory of len bytes stays valid as long
    // as the Buffer, which is not yet visible to JavaScript while fill runs.
    unsafe {
        match sys::napi_create_buffer(env, len, &mut data, &mut buffer) {
            sys::Status::napi_ok => {}
            other => return Err(other),
        }
        let out: &mut [u8] = match len {
            0 => &mut [],
            _ => std::slice::from_raw_parts_mut(data.cast::<u8>(), len),
        };
        fill(out);
    }
    Ok(buffer)
}

/// The fallback: a Buffer of Node's own memory with a copy of `bytes`.
unsafe fn copied_buffer(
    env: sys::napi_env,
    bytes: &[u8],
) -> Result<sys::napi_value, sys::napi_status> {
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    // SAFETY: as new_buffer's.
    let status = unsafe {
        sys::napi_create_buffer_copy(
            env,
            bytes.len(),
            bytes.as_ptr().cast(),
            &mut data,
            &mut buffer,
        )
    };
    match status {
        sys::Status::napi_ok => Ok(buffer),
        other => Err(other),
    }
}

/// The Buffer's finalizer: JavaScript holds no view of the block any more.
unsafe extern "C" fn give_back(env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: hint is the Lent boxed in new_buffer, handed to this finalizer only.
    let Lent { block, pool, told } = *unsafe { Box::from_raw(hint as *mut Lent) };
    let mut total = 0;
    // SAFETY: Node runs buffer finalizers on env's thread.
    unsafe { sys::napi_adjust_external_memory(env, -told, &mut total) };
    pool.give_back(block);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_powers_of_two_from_4_kib() {
        assert_eq!(class_of(0), Some(0));
        assert_eq!(class_of(4096), Some(0));
        assert_eq!(class_of(4097), Some(1));
        assert_eq!(block_size(class_of(4_200_000).unwrap()), 8 << 20);
        assert_eq!(class_of(MAX_BLOCK + 1), None);
    }

    #[test]
    fn a_block_comes_back_once_given_back_and_the_idle_limit_holds() {
        let pool = BlockPool::default();
        let block = pool.take(5000);
        assert_eq!(block.size, 8192);
        let address = block.memory.as_ptr();
        pool.give_back(block);
        assert_eq!(pool.idle_bytes.get(), 8192);
        assert_eq!(pool.take(6000).memory.as_ptr(), address);
        assert_eq!(pool.idle_bytes.get(), 0);
        for _ in 0..(IDLE_LIMIT / (8 << 20)) + 2 {
            pool.give_back(Block::new(8 << 20));
        }
        assert!(pool.idle_bytes.get() <= IDLE_LIMIT);
    }
}
