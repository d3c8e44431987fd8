//! `NativeUdp`: one socket, as the wrapper's handle sees it. Every fallible
//! call returns 0 (or a value) on success and a negative errno on failure, as
//! libuv does; the wrapper turns those into node's errors.

use std::net::IpAddr;
use std::sync::Arc;

use fastdgram_core::{
    display_address, guess_descriptor_type, guess_handle_type as guess, raw_socket_from_descriptor,
    BindFlags, BlockList, Errno, Family, HandleType, Queued, RawSocket, Receiver, ReceiverLimits,
    SendQueue, UdpSocket,
};
use napi::bindgen_prelude::{
    ClassInstance, Either, Function, Int32ArraySlice, JavaScriptClassExt, JsValue, Unknown,
};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::{Env, Result};
use napi_derive::napi;

use crate::buffer_arg::{BufferArg, BufferSliceArg};
use crate::events::{build_events_fn, errno_of, EventsFn, NativeEvent};
use crate::poll::{is_watched_by_loop, PollReceiver};
use crate::raw_send::{note_gone, note_live};

const EBADF: i32 = Errno::EBADF.uv();
const EINVAL: i32 = Errno::EINVAL.uv();
const EEXIST: i32 = Errno::EEXIST.uv();

/// Bind flags as the wrapper passes them: libuv's values for the two that
/// node also hands to a cluster primary, and a free bit for reusePort.
const FLAG_IPV6_ONLY: u32 = 1;
const FLAG_REUSE_ADDR: u32 = 4;
const FLAG_REUSE_PORT: u32 = 1 << 16;

/// Where received datagrams come from: libuv's loop on the JavaScript
/// thread, or (where libuv cannot be reached) the shared I/O thread.
enum Receiving {
    Poll(PollReceiver),
    Thread(Receiver),
}

fn start_thread_receiver(
    socket: Arc<UdpSocket>,
    events: Arc<EventsFn>,
) -> std::io::Result<Receiver> {
    Receiver::start(socket, ReceiverLimits::default(), move |event, credit| {
        let status = events.call(
            NativeEvent::Received(event, credit),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
        // Closing: the JavaScript environment (a worker, say) is going away.
        status != napi::Status::Closing
    })
}

/// `socket.stats()`: counts as JavaScript numbers (exact below 2^53).
#[napi(object)]
pub struct SocketStats {
    pub received_datagrams: f64,
    pub received_bytes: f64,
    pub received_batches: f64,
    pub coalesced_buffers: f64,
    pub blocked_datagrams: f64,
    pub receive_errors: f64,
    pub sent_datagrams: f64,
    pub sent_bytes: f64,
    pub send_errors: f64,
    pub kernel_drops: f64,
}

#[napi(object)]
pub struct AddressInfo {
    pub address: String,
    pub family: String,
    pub port: u32,
}

#[napi]
pub struct NativeUdp {
    socket: Option<Arc<UdpSocket>>,
    receiving: Option<Receiving>,
    events: Option<Arc<EventsFn>>,
    /// Sends waiting for the socket, in order (made on first need).
    later: Option<SendQueue>,
    referenced: bool,
    /// A duplicate of another process's socket (a cluster primary's), whose
    /// queue other workers read too.
    shared_queue: bool,
}

pub(crate) fn family_of(number: u32) -> Family {
    if number == 6 {
        Family::V6
    } else {
        Family::V4
    }
}

pub(crate) fn port_of(port: u32) -> Option<u16> {
    u16::try_from(port).ok()
}

fn status(result: std::io::Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(err) => errno_of(&err),
    }
}

fn created(result: std::io::Result<UdpSocket>) -> Either<NativeUdp, i32> {
    match result {
        Ok(socket) => Either::A(NativeUdp {
            socket: Some(Arc::new(socket)),
            receiving: None,
            events: None,
            later: None,
            referenced: true,
            shared_queue: false,
        }),
        Err(err) => Either::B(errno_of(&err)),
    }
}

/// What a factory returns to JavaScript: the new socket, or a negative errno.
type Made<'env> = Result<Either<ClassInstance<'env, NativeUdp>, i32>>;

/// The JavaScript object of a new socket, noted as live so that `send`
/// (raw_send.rs) can tell it from any other wrapped object.
fn into_js(env: &Env, made: Either<NativeUdp, i32>) -> Made<'_> {
    let udp = match made {
        Either::A(udp) => udp,
        Either::B(errno) => return Ok(Either::B(errno)),
    };
    let instance = udp.into_instance(env)?;
    note_live(&instance);
    Ok(Either::A(instance))
}

/// Where a datagram goes: `None` on a connected socket (empty `ip`).
fn destination(
    socket: &UdpSocket,
    ip: &str,
    port: u32,
) -> std::result::Result<Option<std::net::SocketAddr>, i32> {
    if ip.is_empty() {
        return Ok(None);
    }
    let port = port_of(port).ok_or(EINVAL)?;
    socket
        .peer_address(ip, port)
        .map(Some)
        .map_err(|err| errno_of(&err))
}

/// The local address a datagram leaves from: `None` for the kernel's
/// choice (empty `ip`). An IPv6 zone is not accepted (the wrapper refuses it).
fn source(socket: &UdpSocket, ip: &str) -> std::result::Result<Option<IpAddr>, i32> {
    if ip.is_empty() {
        return Ok(None);
    }
    match fastdgram_core::parse_ip(ip, socket.family()) {
        Ok((ip, 0)) => Ok(Some(ip)),
        Ok(_) => Err(EINVAL),
        Err(err) => Err(errno_of(&err)),
    }
}

/// Sends `outgoing`, appending one result per datagram to `results`.
/// `false` when one would block (the rest are left unsent), or when one
/// failed and `until_failure` asks to stop there.
fn flush(
    socket: &UdpSocket,
    outgoing: &mut Vec<fastdgram_core::Outgoing<'_>>,
    results: &mut Vec<i32>,
    until_failure: bool,
) -> bool {
    let wanted = outgoing.len();
    let sent = match until_failure {
        true => socket.try_send_batch_until_failure(outgoing),
        false => socket.try_send_batch(outgoing),
    };
    let complete = sent.len() == wanted && !(until_failure && sent.iter().any(|r| r.is_err()));
    results.extend(sent.iter().map(|result| match result {
        Ok(bytes) => *bytes as i32,
        Err(err) => errno_of(err),
    }));
    outgoing.clear();
    complete
}

/// Words per datagram in `sendPacked`'s `meta`: length, port, address index.
const PACKED_WORDS: usize = 3;

/// A datagram to send: its bytes (or why it has none), port, destination
/// and source address as text (empty: connected peer / the kernel's choice).
type Datagram<'a> = (std::result::Result<&'a [u8], i32>, u32, &'a str, &'a str);

/// The datagrams of a packed batch; a length past the end of `bytes` or an
/// address index past `addresses` fails that datagram (EINVAL).
fn packed_datagrams<'a>(
    bytes: &'a [u8],
    meta: &'a [u32],
    addresses: &'a [String],
) -> impl Iterator<Item = Datagram<'a>> {
    let mut offset = 0usize;
    meta.chunks_exact(PACKED_WORDS).map(move |words| {
        let end = offset.saturating_add(words[0] as usize);
        let data = bytes.get(offset..end).ok_or(EINVAL);
        offset = end;
        let ip = addresses.get(words[2] as usize);
        match ip {
            Some(ip) => (data, words[1], ip.as_str(), ""),
            None => (Err(EINVAL), words[1], "", ""),
        }
    })
}

/// Sends `datagrams` in order, several per system call: one result per
/// datagram sent or failed, stopping before the first that would block or,
/// with `until_failure`, after the first failure. A bad address fails its
/// own datagram only.
fn send_in_order<'a>(
    socket: &UdpSocket,
    datagrams: impl Iterator<Item = Datagram<'a>>,
    count: usize,
    until_failure: bool,
) -> Vec<i32> {
    let mut outgoing = Vec::with_capacity(count);
    let mut results = Vec::with_capacity(count);
    let mut destinations = Parsed::new();
    let mut sources = Parsed::new();
    for (data, port, ip, from_text) in datagrams {
        let to = destinations.get(ip, port, || destination(socket, ip, port));
        let from = sources.get(from_text, 0, || source(socket, from_text));
        match data.and_then(|data| to.and_then(|to| from.map(|from| (data, to, from)))) {
            Ok((data, to, from)) => outgoing.push(fastdgram_core::Outgoing { data, to, from }),
            // As the results must stay in order, send what came before first.
            Err(errno) => {
                if !flush(socket, &mut outgoing, &mut results, until_failure) {
                    return results;
                }
                results.push(errno);
                if until_failure {
                    return results;
                }
            }
        }
    }
    flush(socket, &mut outgoing, &mut results, until_failure);
    results
}

/// The last text parsed and what it gave: consecutive datagrams usually
/// share their destination and source.
struct Parsed<'a, T> {
    last: Option<(&'a str, u32, T)>,
}

impl<'a, T: Copy> Parsed<'a, T> {
    fn new() -> Self {
        Parsed { last: None }
    }

    fn get(
        &mut self,
        text: &'a str,
        port: u32,
        parse: impl FnOnce() -> std::result::Result<T, i32>,
    ) -> std::result::Result<T, i32> {
        if let Some((last_text, last_port, value)) = self.last {
            if last_text == text && last_port == port {
                return Ok(value);
            }
        }
        let value = parse()?;
        self.last = Some((text, port, value));
        Ok(value)
    }
}

/// A referenced threadsafe function keeps the event loop (and so the
/// process) alive; this is what `socket.ref()` / `unref()` switch.
fn set_referenced(env: &Env, events: &EventsFn, referenced: bool) -> Result<()> {
    // SAFETY: called on the JavaScript thread that owns `env`, with a live
    // threadsafe function (released only when the last Arc is dropped).
    let status = unsafe {
        match referenced {
            true => napi::sys::napi_ref_threadsafe_function(env.raw(), events.raw()),
            false => napi::sys::napi_unref_threadsafe_function(env.raw(), events.raw()),
        }
    };
    napi::check_status!(status)
}

/// `'TCP'`, `'UDP'`, `'PIPE'`, `'FILE'`, `'TTY'` or `'UNKNOWN'`.
#[napi]
pub fn guess_handle_type(fd: i32) -> &'static str {
    guess_descriptor_type(fd).name()
}

/// The socket a descriptor from JavaScript names, if it is a UDP socket.
fn udp_socket_of(fd: i32) -> Option<RawSocket> {
    raw_socket_from_descriptor(fd).filter(|&socket| guess(socket) == HandleType::Udp)
}

/// A socket that JavaScript dropped without closing (its environment torn
/// down, say) stops its receive task and closes its descriptor here.
impl Drop for NativeUdp {
    fn drop(&mut self) {
        note_gone(self);
        self.close();
    }
}

#[napi]
impl NativeUdp {
    /// Creates an unbound socket of `family` (4 or 6), or returns a negative errno.
    #[napi(ts_return_type = "NativeUdp | number")]
    pub fn create(env: &Env, family: u32) -> Made<'_> {
        into_js(env, created(UdpSocket::new(family_of(family))))
    }

    /// Binds to `ip:port`; a failed bind leaves the socket open and unbound.
    #[napi]
    pub fn bind(&self, ip: String, port: u32, flags: u32) -> i32 {
        let Some(port) = port_of(port) else {
            return EINVAL;
        };
        let flags = BindFlags {
            reuse_addr: flags & FLAG_REUSE_ADDR != 0,
            reuse_port: flags & FLAG_REUSE_PORT != 0,
            ipv6_only: flags & FLAG_IPV6_ONLY != 0,
        };
        self.with_socket(|s| s.bind(&ip, port, flags))
    }

    /// Binds to the wildcard address on a random port (libuv's implicit bind).
    #[napi(ts_return_type = "NativeUdp | number")]
    pub fn bind_any(env: &Env, family: u32) -> Made<'_> {
        into_js(env, created(UdpSocket::bind_any(family_of(family))))
    }

    /// Adopts `fd`, which must be a UDP socket; from now on closing this
    /// object closes `fd`. `EEXIST` if another socket of this process (a
    /// `node:dgram` one, say) still watches it, as libuv reports.
    #[napi(ts_return_type = "NativeUdp | number")]
    pub fn open(env: &Env, fd: i32) -> Made<'_> {
        let Some(socket) = udp_socket_of(fd) else {
            return Ok(Either::B(EINVAL));
        };
        // SAFETY: called from JavaScript, on env's thread.
        if unsafe { is_watched_by_loop(env.raw(), socket) } == Some(true) {
            return Ok(Either::B(EEXIST));
        }
        // SAFETY: socket is an open UDP socket (checked above) that the
        // caller hands over, as with libuv's uv_udp_open.
        into_js(env, created(unsafe { UdpSocket::from_raw_socket(socket) }))
    }

    /// Adopts a duplicate of `fd` (a UDP socket someone else keeps owning,
    /// such as a handle a cluster primary shared with this worker).
    #[napi(ts_return_type = "NativeUdp | number")]
    pub fn open_duplicate(env: &Env, fd: i32) -> Made<'_> {
        let made = match udp_socket_of(fd) {
            Some(socket) => match created(UdpSocket::from_duplicate(socket)) {
                Either::A(mut udp) => {
                    udp.shared_queue = true;
                    Either::A(udp)
                }
                failed => failed,
            },
            None => Either::B(EINVAL),
        };
        into_js(env, made)
    }

    pub(crate) fn socket(&self) -> std::result::Result<&UdpSocket, i32> {
        self.socket.as_deref().ok_or(EBADF)
    }

    pub(crate) fn with_socket(&self, f: impl FnOnce(&UdpSocket) -> std::io::Result<()>) -> i32 {
        match self.socket() {
            Ok(socket) => status(f(socket)),
            Err(errno) => errno,
        }
    }

    /// Starts receiving: `on_datagram(index, errno, data?, count?, addresses?)`
    /// per datagram (a batch's buffer, count and addresses come with its
    /// first datagram; see `encoding`), and `on_event(kind, a, b, ...)` for asynchronous send
    /// results — and for whole batches when libuv cannot be reached and the
    /// I/O thread receives instead.
    #[napi]
    pub fn start_receiving(
        &mut self,
        env: Env,
        #[napi(
            ts_arg_type = "(index: number, errno: number, data?: Buffer, count?: number, addresses?: string) => void"
        )]
        on_datagram: Function<'_, Unknown<'_>, ()>,
        #[napi(
            ts_arg_type = "(kind: number, a: number, b: number, data?: Buffer, addresses?: string) => void"
        )]
        on_event: Function<'_, crate::events::EventArgs, ()>,
    ) -> Result<i32> {
        let socket = match self.socket.clone() {
            Some(socket) => socket,
            None => return Ok(EBADF),
        };
        // SAFETY: called from JavaScript, so on env's thread, with a function of env.
        let polled = unsafe { PollReceiver::start(env.raw(), socket.clone(), on_datagram.raw()) };
        let receiving = match polled {
            Some(Ok(poll)) => {
                poll.set_referenced(self.referenced);
                poll.set_one_per_read(self.shared_queue);
                Receiving::Poll(poll)
            }
            Some(Err(err)) => return Ok(errno_of(&err)),
            None => {
                let events = self.events_fn(&env, on_event)?;
                match start_thread_receiver(socket, events) {
                    Ok(receiver) => Receiving::Thread(receiver),
                    Err(err) => return Ok(errno_of(&err)),
                }
            }
        };
        self.receiving = Some(receiving);
        Ok(0)
    }

    /// The threadsafe function reporting to `on_event`, made on first need
    /// (a send that must wait, or the I/O-thread receiver): a socket that
    /// never needs one does not pay for it. It keeps the event loop alive
    /// only when it also carries received batches of a referenced socket.
    fn events_fn(
        &mut self,
        env: &Env,
        on_event: Function<'_, crate::events::EventArgs, ()>,
    ) -> Result<Arc<EventsFn>> {
        if let Some(events) = &self.events {
            return Ok(events.clone());
        }
        let events = Arc::new(build_events_fn(on_event)?);
        let carries_batches = !matches!(self.receiving, Some(Receiving::Poll(_)));
        set_referenced(env, &events, carries_batches && self.referenced)?;
        self.events = Some(events.clone());
        Ok(events)
    }

    /// Keeps the process alive while the socket is open (the default).
    #[napi(js_name = "ref")]
    pub fn reference(&mut self, env: Env) -> Result<()> {
        self.set_referenced(&env, true)
    }

    #[napi]
    pub fn unref(&mut self, env: Env) -> Result<()> {
        self.set_referenced(&env, false)
    }

    fn set_referenced(&mut self, env: &Env, referenced: bool) -> Result<()> {
        self.referenced = referenced;
        match (&self.receiving, &self.events) {
            (Some(Receiving::Poll(poll)), _) => {
                poll.set_referenced(referenced);
                Ok(())
            }
            (Some(Receiving::Thread(_)), Some(events)) => set_referenced(env, events, referenced),
            _ => Ok(()),
        }
    }

    #[napi]
    pub fn has_ref(&self) -> bool {
        self.referenced
    }

    /// The file descriptor, as node's `handle.fd` reports it (EBADF once
    /// closed, and always where sockets have no descriptor number: Windows).
    #[napi]
    pub fn fd(&self) -> i32 {
        self.socket()
            .map_or_else(|errno| errno, |socket| socket.descriptor().unwrap_or(EBADF))
    }

    /// Stops receiving and closes the file descriptor before returning.
    #[napi]
    pub fn close(&mut self) {
        match self.receiving.take() {
            Some(Receiving::Poll(poll)) => poll.close(),
            Some(Receiving::Thread(receiver)) => receiver.stop(),
            None => {}
        }
        // Sends still waiting are dropped (the wrapper reports ECANCELED).
        self.later = None;
        self.socket = None;
        self.events = None;
    }

    #[napi]
    pub fn local_address(&self) -> Either<AddressInfo, i32> {
        self.address_info(|s| s.local_addr())
    }

    #[napi]
    pub fn remote_address(&self) -> Either<AddressInfo, i32> {
        self.address_info(|s| s.peer_addr())
    }

    fn address_info(
        &self,
        get: impl FnOnce(&UdpSocket) -> std::io::Result<std::net::SocketAddr>,
    ) -> Either<AddressInfo, i32> {
        let socket = match self.socket() {
            Ok(socket) => socket,
            Err(errno) => return Either::B(errno),
        };
        match get(socket) {
            Ok(addr) => Either::A(AddressInfo {
                address: display_address(&addr),
                family: if addr.is_ipv4() { "IPv4" } else { "IPv6" }.to_string(),
                port: u32::from(addr.port()),
            }),
            Err(err) => Either::B(errno_of(&err)),
        }
    }

    #[napi]
    pub fn connect(&self, ip: String, port: u32) -> i32 {
        let Some(port) = port_of(port) else {
            return EINVAL;
        };
        self.with_socket(|s| s.connect(&ip, port))
    }

    #[napi]
    pub fn disconnect(&self) -> i32 {
        self.with_socket(|s| s.disconnect())
    }

    /// Sends `data` now if the socket can take it: bytes sent, or a negative
    /// errno (`-EAGAIN`: use `sendLater`). `ip` is absent on a connected socket.
    /// JavaScript calls it through `raw_send`.
    pub(crate) fn send(&self, data: &[u8], port: u32, ip: Option<&str>) -> i32 {
        let socket = match self.socket() {
            Ok(socket) => socket,
            Err(errno) => return errno,
        };
        let to = match (ip, port_of(port)) {
            (Some(ip), Some(port)) => Some((ip, port)),
            (Some(_), None) => return EINVAL,
            (None, _) => None,
        };
        match socket.try_send(&[data], to) {
            Ok(bytes) => bytes as i32,
            Err(err) => errno_of(&err),
        }
    }

    /// Sends datagrams now, in order, several per system call: `buffers[i]`
    /// to `ips[i]:ports[i]` (`ips[i]` empty on a connected socket), from the
    /// local address `froms[i]` where given and not empty. Returns one
    /// result per datagram sent or failed — bytes, or a negative errno — and
    /// stops before the first that would block (use `sendLater` for it and
    /// the rest) or, with `until_failure`, after the first failure.
    #[napi]
    pub fn send_batch(
        &self,
        #[napi(ts_arg_type = "Array<Buffer>")] buffers: Vec<BufferSliceArg<'_>>,
        ports: &[u32],
        ips: Vec<String>,
        froms: Option<Vec<String>>,
        until_failure: Option<bool>,
    ) -> Vec<i32> {
        let socket = match self.socket() {
            Ok(socket) => socket,
            Err(errno) => return vec![errno],
        };
        let froms = froms.unwrap_or_default();
        let datagrams = buffers.iter().zip(ports).zip(&ips).enumerate().map(
            |(index, ((BufferSliceArg(data), &port), ip))| {
                let from = froms.get(index).map_or("", String::as_str);
                (Ok(&data[..]), port, ip.as_str(), from)
            },
        );
        send_in_order(
            socket,
            datagrams,
            buffers.len(),
            until_failure.unwrap_or(false),
        )
    }

    /// Sends datagrams the wrapper packed into one buffer (lib/outbox.ts):
    /// `bytes` holds their payloads back to back, `meta` three words per
    /// datagram — length, port, index into `addresses` (an empty address:
    /// the connected peer). As `sendBatch`, it stops before the first that
    /// would block; each result (bytes, or a negative errno) goes into
    /// `results`, and the return value says how many there are.
    #[napi]
    pub fn send_packed(
        &self,
        bytes: &[u8],
        meta: &[u32],
        addresses: Vec<String>,
        mut results: Int32ArraySlice<'_>,
    ) -> u32 {
        // SAFETY: a synchronous call on the JavaScript thread: nothing else
        // touches the array while this runs.
        let results = unsafe { results.as_mut() };
        let count = (meta.len() / PACKED_WORDS).min(results.len());
        let done = match self.socket() {
            Ok(socket) => {
                let datagrams = packed_datagrams(bytes, &meta[..count * PACKED_WORDS], &addresses);
                send_in_order(socket, datagrams, count, false)
            }
            Err(errno) => vec![errno; count],
        };
        results[..done.len()].copy_from_slice(&done);
        done.len() as u32
    }

    /// Sends a copy of `data` once the socket can take it (from the local
    /// address `from` if given and not empty), behind every datagram already
    /// waiting; the result arrives as a send-done event carrying `id` at
    /// `on_event`. Datagrams of one `group` (not 0) stop at the first
    /// failure: the rest end with `ECANCELED`. Returns 0 or a negative errno.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn send_later(
        &mut self,
        env: Env,
        #[napi(ts_arg_type = "Buffer")] data: BufferArg,
        port: u32,
        ip: Option<String>,
        id: u32,
        #[napi(
            ts_arg_type = "(kind: number, a: number, b: number, data?: Buffer, addresses?: string) => void"
        )]
        on_event: Function<'_, crate::events::EventArgs, ()>,
        from: Option<String>,
        group: Option<u32>,
    ) -> Result<i32> {
        let Some(socket) = self.socket.clone() else {
            return Ok(EBADF);
        };
        let to = match ip.as_deref() {
            Some(ip) => match destination(&socket, ip, port) {
                Ok(to) => to,
                Err(errno) => return Ok(errno),
            },
            None => None,
        };
        let from = match source(&socket, from.as_deref().unwrap_or("")) {
            Ok(from) => from,
            Err(errno) => return Ok(errno),
        };
        let queue = match self.send_queue(&env, on_event, socket)? {
            Ok(queue) => queue,
            Err(errno) => return Ok(errno),
        };
        let queued = Queued {
            id,
            data: data.0.to_vec(),
            to,
            from,
            group: group.unwrap_or(0),
        };
        Ok(status(queue.push(queued)))
    }

    /// The socket's queue of sends waiting for it, started on first need.
    fn send_queue(
        &mut self,
        env: &Env,
        on_event: Function<'_, crate::events::EventArgs, ()>,
        socket: Arc<UdpSocket>,
    ) -> Result<std::result::Result<&SendQueue, i32>> {
        if self.later.is_none() {
            let events = self.events_fn(env, on_event)?;
            let started = SendQueue::start(socket, move |id, result| {
                events.call(
                    NativeEvent::SendDone { id, result },
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            });
            match started {
                Ok(queue) => self.later = Some(queue),
                Err(err) => return Ok(Err(errno_of(&err))),
            }
        }
        Ok(self.later.as_ref().ok_or(EBADF))
    }

    /// Per-batch delivery (one `on_datagram` call per batch, index 0) or
    /// per-datagram delivery (the default).
    #[napi]
    pub fn set_per_batch(&self, per_batch: bool) {
        if let Some(Receiving::Poll(poll)) = &self.receiving {
            poll.set_per_batch(per_batch);
        }
    }

    /// Stops or resumes reading from the kernel.
    #[napi]
    pub fn set_paused(&self, paused: bool) -> i32 {
        match &self.receiving {
            Some(Receiving::Poll(poll)) => status(poll.set_paused(paused)),
            Some(Receiving::Thread(receiver)) => {
                receiver.set_paused(paused);
                0
            }
            None => 0,
        }
    }

    /// Drops datagrams from sources matching `rules` (as `net.BlockList`'s
    /// `rules` prints them) before they reach JavaScript; `null` for none.
    #[napi]
    pub fn set_receive_block_list(&self, rules: Option<Vec<String>>) -> i32 {
        let list = match rules.as_deref().map(BlockList::from_rules).transpose() {
            Ok(list) => list,
            Err(_) => return EINVAL,
        };
        match self.socket() {
            Ok(socket) => {
                socket.set_receive_block_list(list);
                0
            }
            Err(errno) => errno,
        }
    }

    /// Received datagrams carry their local destination address.
    #[napi]
    pub fn set_receive_destination(&self, on: bool) -> i32 {
        self.with_socket(|s| s.set_receive_destination(on))
    }

    #[napi]
    pub fn stats(&self) -> Either<SocketStats, i32> {
        let stats = match self.socket() {
            Ok(socket) => socket.stats(),
            Err(errno) => return Either::B(errno),
        };
        Either::A(SocketStats {
            received_datagrams: stats.received_datagrams as f64,
            received_bytes: stats.received_bytes as f64,
            received_batches: stats.received_batches as f64,
            coalesced_buffers: stats.coalesced_buffers as f64,
            blocked_datagrams: stats.blocked_datagrams as f64,
            receive_errors: stats.receive_errors as f64,
            sent_datagrams: stats.sent_datagrams as f64,
            sent_bytes: stats.sent_bytes as f64,
            send_errors: stats.send_errors as f64,
            kernel_drops: stats.kernel_drops as f64,
        })
    }

    #[napi]
    pub fn set_broadcast(&self, on: bool) -> i32 {
        self.with_socket(|s| s.set_broadcast(on))
    }

    #[napi]
    pub fn set_ttl(&self, ttl: i32) -> i32 {
        self.with_socket(|s| s.set_ttl(ttl))
    }

    #[napi]
    pub fn set_multicast_ttl(&self, ttl: i32) -> i32 {
        self.with_socket(|s| s.set_multicast_ttl(ttl))
    }

    #[napi]
    pub fn set_multicast_loopback(&self, on: i32) -> i32 {
        self.with_socket(|s| s.set_multicast_loopback(on))
    }

    #[napi]
    pub fn set_multicast_interface(&self, interface: String) -> i32 {
        self.with_socket(|s| s.set_multicast_interface(&interface))
    }

    #[napi]
    pub fn set_membership(&self, group: String, interface: Option<String>, join: bool) -> i32 {
        self.with_socket(|s| s.set_membership(&group, interface.as_deref(), join))
    }

    #[napi]
    pub fn set_source_membership(
        &self,
        source: String,
        group: String,
        interface: Option<String>,
        join: bool,
    ) -> i32 {
        self.with_socket(|s| s.set_source_membership(&source, &group, interface.as_deref(), join))
    }

    /// Reads (`size == 0`) or sets a buffer size: the size, or a negative errno.
    #[napi]
    pub fn buffer_size(&self, size: u32, receive: bool) -> f64 {
        let socket = match self.socket() {
            Ok(socket) => socket,
            Err(errno) => return f64::from(errno),
        };
        let result = match receive {
            true => socket.recv_buffer_size(size),
            false => socket.send_buffer_size(size),
        };
        match result {
            Ok(size) => f64::from(size),
            Err(err) => f64::from(errno_of(&err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(addresses: &[&str]) -> Vec<String> {
        addresses.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn packed_datagrams_split_the_bytes_by_their_lengths() {
        let addresses = texts(&["127.0.0.1", ""]);
        let meta = [2, 7, 0, 0, 8, 1, 3, 9, 0];
        let datagrams: Vec<_> = packed_datagrams(b"abcde", &meta, &addresses).collect();
        assert_eq!(datagrams.len(), 3);
        assert_eq!(datagrams[0], (Ok(&b"ab"[..]), 7, "127.0.0.1", ""));
        assert_eq!(datagrams[1], (Ok(&b""[..]), 8, "", ""));
        assert_eq!(datagrams[2], (Ok(&b"cde"[..]), 9, "127.0.0.1", ""));
    }

    #[test]
    fn a_length_past_the_bytes_or_an_unknown_address_fails_only_its_datagram() {
        let addresses = texts(&["::1"]);
        let meta = [1, 1, 5, 9, 2, 0, u32::MAX, 3, 0];
        let datagrams: Vec<_> = packed_datagrams(b"xyz", &meta, &addresses).collect();
        assert_eq!(datagrams[0].0, Err(EINVAL));
        assert_eq!(datagrams[1].0, Err(EINVAL));
        assert_eq!(datagrams[2].0, Err(EINVAL));
    }

    #[test]
    fn an_incomplete_last_entry_is_no_datagram() {
        let addresses = texts(&["127.0.0.1"]);
        let datagrams: Vec<_> = packed_datagrams(b"ab", &[1, 2, 0, 1], &addresses).collect();
        assert_eq!(datagrams, vec![(Ok(&b"a"[..]), 2, "127.0.0.1", "")]);
    }
}
