//! The receive task: one per socket, on the shared I/O thread, delivering
//! whole batches to a sink and pausing while the consumer is behind.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use tokio::io::Interest;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::batch::Batch;
use crate::runtime::runtime;
use crate::socket::UdpSocket;

/// What the receive task hands its sink.
#[derive(Debug)]
pub enum ReceiverEvent {
    Batch(Batch),
    /// A receive error such as `ECONNREFUSED` on a connected socket.
    Error(io::Error),
}

/// How far the task may run ahead of its consumer.
#[derive(Clone, Copy, Debug)]
pub struct ReceiverLimits {
    /// Events delivered to the sink but not yet released by the consumer.
    /// When reached, the task stops reading and the kernel's receive buffer
    /// (then the kernel itself, by dropping) absorbs the excess.
    pub max_events_in_flight: usize,
}

impl Default for ReceiverLimits {
    fn default() -> Self {
        ReceiverLimits {
            max_events_in_flight: 4,
        }
    }
}

/// Counts events the consumer has not finished with.
#[derive(Debug)]
struct Credits {
    in_flight: AtomicUsize,
    limit: usize,
    /// The consumer asked for no more events for now (see `Receiver::set_paused`).
    paused: AtomicBool,
    freed: Notify,
}

/// Travels with one delivered event; dropping it tells the receive task that
/// the consumer has finished with that event.
#[derive(Debug)]
pub struct Credit {
    credits: Arc<Credits>,
}

impl Drop for Credit {
    fn drop(&mut self) {
        self.credits.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.credits.freed.notify_one();
    }
}

impl Credits {
    async fn resumed(&self) {
        loop {
            let freed = self.freed.notified();
            if !self.paused.load(Ordering::Acquire) {
                return;
            }
            freed.await;
        }
    }

    async fn acquire(self: &Arc<Self>) -> Credit {
        loop {
            let freed = self.freed.notified();
            let current = self.in_flight.load(Ordering::Acquire);
            if current < self.limit
                && self
                    .in_flight
                    .compare_exchange(current, current + 1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                return Credit {
                    credits: self.clone(),
                };
            }
            if current >= self.limit {
                freed.await;
            }
        }
    }
}

/// A running receive task. Dropping it without [`stop`](Self::stop) leaves
/// the task running until its socket is closed elsewhere; always stop it.
#[derive(Debug)]
pub struct Receiver {
    task: JoinHandle<()>,
    stopped: mpsc::Receiver<()>,
    credits: Arc<Credits>,
}

/// Owned by the task; dropping it (when the task ends or is aborted) lets go
/// of the socket and then tells [`Receiver::stop`] that it has.
struct TaskGuard {
    socket: Option<Arc<UdpSocket>>,
    stopped: mpsc::Sender<()>,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.socket.take();
        let _ = self.stopped.send(());
    }
}

impl Receiver {
    /// Starts reading `socket`, calling `sink` on the I/O thread for every
    /// batch or error, with a [`Credit`] to drop when the consumer is done
    /// with that event. The task ends, letting go of the socket, when `sink`
    /// returns `false` (its consumer is gone).
    pub fn start<F>(socket: Arc<UdpSocket>, limits: ReceiverLimits, sink: F) -> io::Result<Receiver>
    where
        F: FnMut(ReceiverEvent, Credit) -> bool + Send + 'static,
    {
        let credits = Arc::new(Credits {
            in_flight: AtomicUsize::new(0),
            limit: limits.max_events_in_flight.max(1),
            paused: AtomicBool::new(false),
            freed: Notify::new(),
        });
        let (stopped_tx, stopped) = mpsc::channel();
        let guard = TaskGuard {
            socket: Some(socket),
            stopped: stopped_tx,
        };
        let task = runtime()?.spawn(receive_loop(guard, credits.clone(), sink));
        Ok(Receiver {
            task,
            stopped,
            credits,
        })
    }

    /// Stops reading after the event in progress (the kernel's receive
    /// buffer, then the kernel, absorb what arrives) until called with `false`.
    pub fn set_paused(&self, paused: bool) {
        self.credits.paused.store(paused, Ordering::Release);
        if !paused {
            self.credits.freed.notify_one();
        }
    }

    /// Stops the task and waits (briefly) until it has let go of the socket,
    /// so that the caller's reference is the last and closing is immediate.
    pub fn stop(self) {
        self.task.abort();
        let _ = self.stopped.recv_timeout(Duration::from_secs(1));
    }
}

async fn receive_loop<F>(guard: TaskGuard, credits: Arc<Credits>, mut sink: F)
where
    F: FnMut(ReceiverEvent, Credit) -> bool,
{
    let Some(socket) = guard.socket.as_deref() else {
        return;
    };
    loop {
        let credit = credits.acquire().await;
        let event = match next_batch(socket, &credits).await {
            Ok(batch) => ReceiverEvent::Batch(batch),
            Err(err) => ReceiverEvent::Error(err),
        };
        if !sink(event, credit) {
            return;
        }
    }
}

/// Waits until the socket is readable (or has a pending error) and drains
/// it, unless the consumer paused reading meanwhile.
async fn next_batch(socket: &UdpSocket, credits: &Credits) -> io::Result<Batch> {
    let reactor = socket.reactor(Interest::READABLE | Interest::WRITABLE)?;
    loop {
        let mut ready = reactor.ready(Interest::READABLE | Interest::ERROR).await?;
        if credits.paused.load(Ordering::Acquire) {
            // Readiness stays set: read once resumed.
            credits.resumed().await;
            continue;
        }
        match ready.try_io(|| socket.try_receive_batch()) {
            // Every datagram came from a blocked source: wait for more.
            Ok(Ok(batch)) if batch.is_empty() => continue,
            Ok(result) => return result,
            Err(_would_block) => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BindFlags, Family};
    use std::sync::Mutex;

    fn bound_pair() -> (Arc<UdpSocket>, std::net::UdpSocket, u16) {
        let receiver = UdpSocket::bound(Family::V4, "127.0.0.1", 0, BindFlags::default()).unwrap();
        receiver.recv_buffer_size(4 * 1024 * 1024).unwrap();
        let port = receiver.local_addr().unwrap().port();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        (Arc::new(receiver), sender, port)
    }

    fn collect_until(events: &Mutex<Vec<Vec<u8>>>, count: usize) -> Vec<Vec<u8>> {
        for _ in 0..500 {
            if events.lock().unwrap().len() >= count {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        events.lock().unwrap().clone()
    }

    #[test]
    fn delivers_more_datagrams_than_one_batch_holds_in_order_and_intact() {
        let (socket, sender, port) = bound_pair();
        let total = 1_000;
        let payload = |i: usize| format!("datagram {i:04} {}", "x".repeat(i % 100));
        for i in 0..total {
            sender
                .send_to(payload(i).as_bytes(), ("127.0.0.1", port))
                .unwrap();
        }
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink_received = received.clone();
        let receiver = Receiver::start(socket, ReceiverLimits::default(), move |event, _credit| {
            if let ReceiverEvent::Batch(batch) = event {
                let mut out = sink_received.lock().unwrap();
                out.extend(batch.payloads().map(<[u8]>::to_vec));
            }
            true
        })
        .unwrap();
        let got = collect_until(&received, total);
        receiver.stop();
        assert_eq!(got.len(), total);
        for (i, got) in got.iter().enumerate() {
            assert_eq!(got, payload(i).as_bytes());
        }
    }

    #[test]
    fn stops_reading_while_the_consumer_holds_every_credit() {
        let (socket, sender, port) = bound_pair();
        for i in 0..300u32 {
            sender
                .send_to(&i.to_be_bytes(), ("127.0.0.1", port))
                .unwrap();
        }
        let held = Arc::new(Mutex::new(Vec::new()));
        let sink_held = held.clone();
        let limits = ReceiverLimits {
            max_events_in_flight: 2,
        };
        let receiver = Receiver::start(socket, limits, move |event, credit| {
            if let ReceiverEvent::Batch(batch) = event {
                sink_held.lock().unwrap().push((batch.len(), credit));
            }
            true
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            held.lock().unwrap().len(),
            2,
            "only the limit's worth of batches"
        );
        let released = held.lock().unwrap().pop();
        drop(released);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            held.lock().unwrap().len(),
            2,
            "one more batch after one release"
        );
        receiver.stop();
    }

    #[test]
    fn a_paused_receiver_reads_nothing_until_resumed() {
        let (socket, sender, port) = bound_pair();
        let received = Arc::new(Mutex::new(0usize));
        let counted = received.clone();
        let receiver = Receiver::start(socket, ReceiverLimits::default(), move |event, _| {
            if let ReceiverEvent::Batch(batch) = event {
                *counted.lock().unwrap() += batch.len();
            }
            true
        })
        .unwrap();
        receiver.set_paused(true);
        // A batch may have been in progress when the pause came: let it end.
        std::thread::sleep(Duration::from_millis(50));
        let before = *received.lock().unwrap();
        for i in 0..100u32 {
            sender
                .send_to(&i.to_be_bytes(), ("127.0.0.1", port))
                .unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            *received.lock().unwrap(),
            before,
            "nothing read while paused"
        );
        receiver.set_paused(false);
        for _ in 0..100 {
            if *received.lock().unwrap() >= before + 100 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            *received.lock().unwrap(),
            before + 100,
            "all read once resumed"
        );
        receiver.stop();
    }

    #[test]
    fn stop_releases_the_socket_at_once() {
        let (socket, _sender, port) = bound_pair();
        let receiver =
            Receiver::start(socket.clone(), ReceiverLimits::default(), |_, _| true).unwrap();
        receiver.stop();
        assert_eq!(Arc::strong_count(&socket), 1);
        drop(socket);
        let again = UdpSocket::bound(Family::V4, "127.0.0.1", port, BindFlags::default());
        assert!(again.is_ok(), "port free right after stop + drop");
    }

    #[test]
    fn ends_when_the_sink_reports_its_consumer_gone() {
        let (socket, sender, port) = bound_pair();
        let receiver =
            Receiver::start(socket.clone(), ReceiverLimits::default(), |_, _| false).unwrap();
        sender.send_to(b"x", ("127.0.0.1", port)).unwrap();
        for _ in 0..100 {
            if Arc::strong_count(&socket) == 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            Arc::strong_count(&socket),
            1,
            "the task let go of the socket"
        );
        receiver.stop();
    }

    #[test]
    fn reports_connection_refused_on_a_connected_socket() {
        let closed_port = {
            let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let socket =
            Arc::new(UdpSocket::bound(Family::V4, "127.0.0.1", 0, BindFlags::default()).unwrap());
        socket.connect("127.0.0.1", closed_port).unwrap();
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink_errors = errors.clone();
        let receiver = Receiver::start(
            socket.clone(),
            ReceiverLimits::default(),
            move |event, _credit| {
                if let ReceiverEvent::Error(err) = event {
                    sink_errors.lock().unwrap().push(err.raw_os_error());
                }
                true
            },
        )
        .unwrap();
        socket.try_send(&[b"ping"], None).unwrap();
        for _ in 0..100 {
            if !errors.lock().unwrap().is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        receiver.stop();
        let errors = errors.lock().unwrap();
        if crate::sys::test_facts::REPORTS_CONNECTION_REFUSED {
            assert_eq!(
                errors.first(),
                Some(&Some(crate::Errno::ECONNREFUSED.raw_os_error()))
            );
        } else {
            // Windows: the reset report is skipped, as libuv skips it.
            assert_eq!(*errors, [], "no error within a second");
        }
    }
}
