//! Receiving on the JavaScript thread: libuv (Node's own event loop) says
//! when the socket is readable, and the datagrams go to JavaScript with no
//! thread hop — one `recvmmsg` per batch, then one `napi_make_callback` per
//! datagram, so that `process.nextTick` and promise callbacks scheduled by a
//! 'message' handler run before the next datagram, exactly as in node.
//! Nothing is queued natively: while JavaScript is busy, the kernel's receive
//! buffer holds (and past its size, drops) the excess.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::io;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use fastdgram_core::{error_from_uv, BatchView, Errno, RawSocket, UdpSocket, BATCH_CAPACITY};
use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

use crate::batch_memory::new_buffer;
use crate::encoding::{encode, encoded_len};
use crate::events::errno_of;
use crate::uv::{libuv, Libuv, UvHandle, UV_READABLE};

/// Batches read per readiness callback before libuv serves other handles
/// (libuv itself reads at most 32 datagrams per wake-up).
const BATCHES_PER_WAKE: usize = 4;
/// Reads per readiness callback when each read takes one datagram: libuv's 32.
const SINGLE_READS_PER_WAKE: usize = 32;

struct PollState {
    uv: &'static Libuv,
    env: sys::napi_env,
    /// Memory of the `uv_poll_t`, u64-aligned; freed only after `uv_close`
    /// has called back.
    handle: Box<[u64]>,
    socket: Cell<Option<Arc<UdpSocket>>>,
    callback: Cell<sys::napi_ref>,
    context: Cell<sys::napi_async_context>,
    closed: Cell<bool>,
    /// Not reading: the consumer asked for a pause (see `set_paused`).
    paused: Cell<bool>,
    /// One call per batch instead of one per datagram (see `set_per_batch`).
    per_batch: Cell<bool>,
    /// Each read takes one datagram from the kernel (see `set_one_per_read`).
    one_per_read: Cell<bool>,
    /// The joined source addresses of the last batch delivered.
    last_addresses: Cell<String>,
}

/// A socket's JavaScript-thread receiver. Dropping it without `close` leaks
/// nothing but keeps receiving; `NativeUdp` always closes it.
pub struct PollReceiver {
    state: Rc<PollState>,
}

impl PollState {
    fn handle_ptr(&self) -> *mut UvHandle {
        self.handle.as_ptr() as *mut UvHandle
    }

    fn socket(&self) -> Option<Arc<UdpSocket>> {
        let socket = self.socket.take();
        self.socket.set(socket.clone());
        socket
    }
}

impl PollReceiver {
    /// Starts polling `socket` on the loop of `env`, calling `on_datagram`
    /// `(index, errno, data?, meta?, addresses?)` per datagram (or receive
    /// error). `None` when libuv cannot be reached from here.
    ///
    /// # Safety
    /// `env` must be the environment of the calling (JavaScript) thread and
    /// `on_datagram` a function value of it.
    pub unsafe fn start(
        env: sys::napi_env,
        socket: Arc<UdpSocket>,
        on_datagram: sys::napi_value,
    ) -> Option<io::Result<PollReceiver>> {
        let uv = libuv()?;
        Some(unsafe { Self::start_with(uv, env, socket, on_datagram) })
    }

    unsafe fn start_with(
        uv: &'static Libuv,
        env: sys::napi_env,
        socket: Arc<UdpSocket>,
        on_datagram: sys::napi_value,
    ) -> io::Result<PollReceiver> {
        let words = uv.poll_handle_size().div_ceil(8);
        let raw = socket.raw_socket();
        let state = Rc::new(PollState {
            uv,
            env,
            handle: vec![0u64; words].into_boxed_slice(),
            socket: Cell::new(Some(socket)),
            callback: Cell::new(ptr::null_mut()),
            context: Cell::new(ptr::null_mut()),
            closed: Cell::new(false),
            paused: Cell::new(false),
            per_batch: Cell::new(false),
            one_per_read: Cell::new(false),
            last_addresses: Cell::new(String::new()),
        });
        unsafe {
            let mut uv_loop = ptr::null_mut();
            napi_ok(sys::napi_get_uv_event_loop(env, &mut uv_loop))?;
            let mut callback = ptr::null_mut();
            napi_ok(sys::napi_create_reference(
                env,
                on_datagram,
                1,
                &mut callback,
            ))?;
            state.callback.set(callback);
            state.context.set(async_context(env)?);
            uv_ok((uv.poll_init_socket)(
                uv_loop.cast(),
                state.handle_ptr(),
                raw,
            ))?;
            // The handle owns one reference, given back in on_closed.
            (uv.handle_set_data)(
                state.handle_ptr(),
                Rc::into_raw(state.clone()) as *mut c_void,
            );
            // So does the cleanup hook, given back when it runs or is removed.
            let hook_arg = Rc::into_raw(state.clone()) as *mut c_void;
            napi_ok(sys::napi_add_env_cleanup_hook(
                env,
                Some(on_env_cleanup),
                hook_arg,
            ))?;
            let receiver = PollReceiver { state };
            if let Err(err) = uv_ok((uv.poll_start)(
                receiver.state.handle_ptr(),
                UV_READABLE,
                on_poll,
            )) {
                receiver.close();
                return Err(err);
            }
            Ok(receiver)
        }
    }

    pub fn set_referenced(&self, referenced: bool) {
        if self.state.closed.get() {
            return;
        }
        let handle = self.state.handle_ptr();
        // SAFETY: the handle is initialised and not closed.
        unsafe {
            match referenced {
                true => (self.state.uv.reference)(handle),
                false => (self.state.uv.unreference)(handle),
            }
        }
    }

    /// Stops reading the socket (the kernel keeps, then drops, what
    /// arrives) until called again with `false`.
    pub fn set_paused(&self, paused: bool) -> io::Result<()> {
        let state = &self.state;
        if state.closed.get() || state.paused.replace(paused) == paused {
            return Ok(());
        }
        // SAFETY: the handle is initialised and not closed.
        unsafe {
            match paused {
                true => uv_ok((state.uv.poll_stop)(state.handle_ptr())),
                false => uv_ok((state.uv.poll_start)(
                    state.handle_ptr(),
                    UV_READABLE,
                    on_poll,
                )),
            }
        }
    }

    /// Whether JavaScript is called once per batch (with its first index)
    /// rather than once per datagram: for consumers that take whole batches
    /// and schedule nothing between datagrams.
    pub fn set_per_batch(&self, per_batch: bool) {
        self.state.per_batch.set(per_batch);
    }

    /// Whether each read takes only one datagram from the kernel, as libuv
    /// does: for a socket whose queue other processes read too (cluster
    /// workers sharing the primary's socket), so that a close in a
    /// 'message' handler leaves what follows to them instead of dropping the
    /// rest of a batch already read.
    pub fn set_one_per_read(&self, one_per_read: bool) {
        self.state.one_per_read.set(one_per_read);
    }

    /// Stops receiving and lets go of the socket now; the handle's memory
    /// goes once libuv has closed it. Safe to call more than once.
    pub fn close(&self) {
        let state = &self.state;
        if state.closed.replace(true) {
            return;
        }
        // SAFETY: on the JavaScript thread that owns env; the hook argument is
        // the pointer registered in start_with, whose reference is reclaimed
        // here because removing the hook means it will never run.
        unsafe {
            let hook_arg = Rc::as_ptr(state) as *mut c_void;
            if sys::napi_remove_env_cleanup_hook(state.env, Some(on_env_cleanup), hook_arg)
                == sys::Status::napi_ok
            {
                drop(Rc::from_raw(hook_arg as *const PollState));
            }
        }
        shut(state);
    }
}

/// Stops the poll, releases the JavaScript references and starts closing the
/// libuv handle.
fn shut(state: &PollState) {
    state.closed.set(true);
    state.socket.take();
    // SAFETY: on the JavaScript thread; each pointer is used once (replaced by null).
    unsafe {
        let callback = state.callback.replace(ptr::null_mut());
        if !callback.is_null() {
            sys::napi_delete_reference(state.env, callback);
        }
        let context = state.context.replace(ptr::null_mut());
        if !context.is_null() {
            sys::napi_async_destroy(state.env, context);
        }
        (state.uv.poll_stop)(state.handle_ptr());
        (state.uv.close)(state.handle_ptr(), on_closed);
    }
}

unsafe extern "C" fn on_env_cleanup(arg: *mut c_void) {
    // SAFETY: arg is the reference handed to the hook in start_with.
    let state = unsafe { Rc::from_raw(arg as *const PollState) };
    if !state.closed.get() {
        shut(&state);
    }
}

unsafe extern "C" fn on_closed(handle: *mut UvHandle) {
    let Some(uv) = libuv() else { return };
    // SAFETY: the handle's data is the reference given to it in start_with.
    drop(unsafe { Rc::from_raw((uv.handle_get_data)(handle) as *const PollState) });
}

unsafe extern "C" fn on_poll(handle: *mut UvHandle, status: c_int, _events: c_int) {
    let Some(uv) = libuv() else { return };
    // SAFETY: the handle holds a reference to its state until on_closed,
    // which libuv cannot run while this callback runs.
    let state = unsafe { &*((uv.handle_get_data)(handle) as *const PollState) };
    if status < 0 {
        // libuv stops a poll handle on POLLERR (a pending socket error such
        // as ECONNREFUSED): read the error below, then poll again.
        receive(state);
        if !state.closed.get() && !state.paused.get() {
            // SAFETY: the handle is initialised and not closed.
            unsafe { (uv.poll_start)(handle, UV_READABLE, on_poll) };
        }
        return;
    }
    receive(state);
}

fn receive(state: &PollState) {
    let (reads, limit) = match state.one_per_read.get() {
        true => (SINGLE_READS_PER_WAKE, 1),
        false => (BATCHES_PER_WAKE, BATCH_CAPACITY),
    };
    for _ in 0..reads {
        if state.closed.get() || state.paused.get() {
            return;
        }
        let Some(socket) = state.socket() else { return };
        let env = state.env;
        // SAFETY: on the JavaScript thread owning env; the values created
        // live in the handle scope opened here, closed after delivery.
        unsafe {
            let mut scope = ptr::null_mut();
            if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
                return;
            }
            let received = socket.try_receive_up_to(limit, |view| encode_into_js(state, view));
            let keep_going = match received {
                // A short batch drained the socket: skip the read that would
                // only say EAGAIN; libuv's poll is level-triggered and calls
                // again if more arrived meanwhile.
                Ok(Ok(Some(batch))) => {
                    let full = batch.full;
                    deliver(state, batch).is_ok() && full
                }
                // Every datagram came from a blocked source.
                Ok(Ok(None)) => true,
                Ok(Err(_)) => false,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => false,
                Err(err) => deliver_error(state, errno_of(&err)).is_ok(),
            };
            sys::napi_close_handle_scope(env, scope);
            if !keep_going {
                return;
            }
        }
    }
}

/// A batch as JavaScript receives it: one Buffer, and the joined
/// source addresses (`undefined` when the same as the previous batch's).
struct JsBatch {
    count: usize,
    /// As many datagrams as one receive call takes: more may be waiting.
    full: bool,
    buffer: sys::napi_value,
    addresses: sys::napi_value,
}

/// Copies the received datagrams straight from the receive slots into a
/// JavaScript Buffer of pooled memory (batch_memory.rs): the one copy between
/// the kernel and JavaScript.
/// `None` when a block list left nothing of the batch.
unsafe fn encode_into_js(state: &PollState, view: &BatchView<'_>) -> napi::Result<Option<JsBatch>> {
    if view.is_empty() {
        return Ok(None);
    }
    let env = state.env;
    let payload_bytes = view.total_len();
    let length = encoded_len(payload_bytes, view.len());
    let mut addresses = String::new();
    unsafe {
        // The wrapper makes each message a Buffer over its part.
        let buffer = new_buffer(env, length, |out| {
            addresses = encode(view.datagrams(), payload_bytes, out);
        })
        .map_err(|status| napi::Error::from_status(napi::Status::from(status)))?;
        let addresses = match state.last_addresses.take() {
            // Usually the same peers as last time: the wrapper keeps its strings.
            previous if previous == addresses => {
                state.last_addresses.set(previous);
                undefined(env)?
            }
            _ => {
                let value = String::to_napi_value(env, addresses.clone())?;
                state.last_addresses.set(addresses);
                value
            }
        };
        Ok(Some(JsBatch {
            count: view.len(),
            full: view.is_full(),
            buffer,
            addresses,
        }))
    }
}

/// The index of the call that ends a batch delivered one datagram per call,
/// so that the wrapper sends the replies its handlers made together.
const BATCH_END: i32 = -1;

/// Calls JavaScript once per datagram (the first call also carries the
/// batch) or only once in per-batch mode, stopping as soon as the socket is
/// closed; a batch of several datagrams delivered one by one ends with a
/// call of index `BATCH_END`.
unsafe fn deliver(state: &PollState, batch: JsBatch) -> napi::Result<()> {
    let env = state.env;
    unsafe {
        let callee = Callee::resolve(state)?;
        let undefined = undefined(env)?;
        let no_error = i32::to_napi_value(env, 0)?;
        let first = [
            batch.buffer,
            i32::to_napi_value(env, batch.count as i32)?,
            batch.addresses,
        ];
        let calls = if state.per_batch.get() {
            1
        } else {
            batch.count
        };
        for index in 0..calls {
            let extra = if index == 0 { first } else { [undefined; 3] };
            let index = i32::to_napi_value(env, index as i32)?;
            callee.call(state, [index, no_error, extra[0], extra[1], extra[2]])?;
        }
        if calls > 1 {
            let end = i32::to_napi_value(env, BATCH_END)?;
            callee.call(state, [end, no_error, undefined, undefined, undefined])?;
        }
        Ok(())
    }
}

unsafe fn deliver_error(state: &PollState, errno: i32) -> napi::Result<()> {
    let env = state.env;
    unsafe {
        let callee = Callee::resolve(state)?;
        let undefined = undefined(env)?;
        let args = [
            i32::to_napi_value(env, 0)?,
            i32::to_napi_value(env, errno)?,
            undefined,
            undefined,
            undefined,
        ];
        callee.call(state, args)
    }
}

/// The wrapper's callback and the `this` it is called with (napi_make_callback
/// needs an object), looked up once per batch.
struct Callee {
    function: sys::napi_value,
    receiver: sys::napi_value,
}

impl Callee {
    unsafe fn resolve(state: &PollState) -> napi::Result<Callee> {
        let callback = state.callback.get();
        if state.closed.get() || callback.is_null() {
            return Err(napi::Error::from_status(napi::Status::Closing));
        }
        let mut callee = Callee {
            function: ptr::null_mut(),
            receiver: ptr::null_mut(),
        };
        unsafe {
            napi_status(sys::napi_get_reference_value(
                state.env,
                callback,
                &mut callee.function,
            ))?;
            napi_status(sys::napi_get_global(state.env, &mut callee.receiver))?;
        }
        Ok(callee)
    }

    /// One callback into JavaScript from the event loop, with what node does
    /// around it: async hooks, then the nextTick queue and microtasks. Stops
    /// (an error) once the socket is closed.
    unsafe fn call(&self, state: &PollState, args: [sys::napi_value; 5]) -> napi::Result<()> {
        if state.closed.get() {
            return Err(napi::Error::from_status(napi::Status::Closing));
        }
        let env = state.env;
        let mut result = ptr::null_mut();
        // SAFETY: on env's thread, with values of the current handle scope.
        let status = unsafe {
            sys::napi_make_callback(
                env,
                state.context.get(),
                self.receiver,
                self.function,
                args.len(),
                args.as_ptr(),
                &mut result,
            )
        };
        if status == sys::Status::napi_pending_exception {
            // SAFETY: as above.
            unsafe { report_uncaught(env) };
        }
        Ok(())
    }
}

/// A throwing 'message' handler is an uncaught exception, as in node.
unsafe fn report_uncaught(env: sys::napi_env) {
    unsafe {
        let mut error = ptr::null_mut();
        if sys::napi_get_and_clear_last_exception(env, &mut error) == sys::Status::napi_ok {
            sys::napi_fatal_exception(env, error);
        }
    }
}

unsafe fn undefined(env: sys::napi_env) -> napi::Result<sys::napi_value> {
    let mut value = ptr::null_mut();
    napi_status(unsafe { sys::napi_get_undefined(env, &mut value) })?;
    Ok(value)
}

unsafe fn async_context(env: sys::napi_env) -> io::Result<sys::napi_async_context> {
    unsafe {
        let mut resource = ptr::null_mut();
        napi_ok(sys::napi_create_object(env, &mut resource))?;
        let name = String::to_napi_value(env, "UDPWRAP".to_string())
            .map_err(|_| io::Error::other("napi"))?;
        let mut context = ptr::null_mut();
        napi_ok(sys::napi_async_init(env, resource, name, &mut context))?;
        Ok(context)
    }
}

fn napi_status(status: sys::napi_status) -> napi::Result<()> {
    match status {
        sys::Status::napi_ok => Ok(()),
        other => Err(napi::Error::from_status(napi::Status::from(other))),
    }
}

fn napi_ok(status: sys::napi_status) -> io::Result<()> {
    match status {
        sys::Status::napi_ok => Ok(()),
        other => Err(io::Error::other(format!("napi status {other}"))),
    }
}

fn uv_ok(code: c_int) -> io::Result<()> {
    match code {
        0 => Ok(()),
        negative => Err(error_from_uv(negative)),
    }
}

/// Whether `socket` is already watched by the event loop of `env` (another
/// socket of this process owns it): libuv refuses to watch a descriptor
/// twice. `None` when libuv cannot be reached from here.
///
/// # Safety
/// `env` must be the environment of the calling (JavaScript) thread.
pub unsafe fn is_watched_by_loop(env: sys::napi_env, socket: RawSocket) -> Option<bool> {
    let uv = libuv()?;
    unsafe {
        let mut uv_loop = ptr::null_mut();
        if sys::napi_get_uv_event_loop(env, &mut uv_loop) != sys::Status::napi_ok {
            return None;
        }
        let probe = Box::into_raw(Box::new(Probe {
            memory: vec![0u64; uv.poll_handle_size().div_ceil(8)].into_boxed_slice(),
        }));
        let handle = (*probe).memory.as_mut_ptr() as *mut UvHandle;
        match (uv.poll_init_socket)(uv_loop.cast(), handle, socket) {
            0 => {
                // Only a probe: close it again; the memory goes in free_probe.
                (uv.handle_set_data)(handle, probe as *mut c_void);
                (uv.close)(handle, free_probe);
                Some(false)
            }
            code => {
                drop(Box::from_raw(probe));
                Some(code == Errno::EEXIST.uv())
            }
        }
    }
}

/// The memory of a probing poll handle, freed once libuv has closed it.
struct Probe {
    memory: Box<[u64]>,
}

unsafe extern "C" fn free_probe(handle: *mut UvHandle) {
    let Some(uv) = libuv() else { return };
    // SAFETY: the handle's data is the probe boxed in is_watched_by_loop.
    drop(unsafe { Box::from_raw((uv.handle_get_data)(handle) as *mut Probe) });
}
