//! Datagrams that must wait for their socket to become writable, sent in
//! the order they were queued (as libuv's write queue keeps them) by one task
//! per socket on the I/O runtime.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use crate::runtime::runtime;
use crate::socket::{Outgoing, UdpSocket};
use crate::sys::Errno;

/// One datagram to send once the socket can take it.
#[derive(Debug)]
pub struct Queued {
    /// Reported back with the result.
    pub id: u32,
    pub data: Vec<u8>,
    pub to: Option<SocketAddr>,
    pub from: Option<IpAddr>,
    /// Datagrams of one group (not 0) stop at the first failure: those
    /// after it are not sent and fail with `ECANCELED`.
    pub group: u32,
}

/// The queue of one socket. Dropping it stops the task: what it has not
/// sent yet is not sent, and not reported.
pub struct SendQueue {
    queue: UnboundedSender<Queued>,
    task: JoinHandle<()>,
}

impl SendQueue {
    /// Starts the task; `on_done(id, result)` runs on the I/O thread after
    /// each datagram, in queue order.
    pub fn start(
        socket: Arc<UdpSocket>,
        on_done: impl Fn(u32, io::Result<usize>) + Send + 'static,
    ) -> io::Result<SendQueue> {
        let (queue, waiting) = unbounded_channel();
        let task = runtime()?.spawn(send_in_order(socket, waiting, on_done));
        Ok(SendQueue { queue, task })
    }

    /// Queues a datagram behind those already waiting.
    pub fn push(&self, datagram: Queued) -> io::Result<()> {
        self.queue
            .send(datagram)
            .map_err(|_| Errno::ECANCELED.error())
    }
}

impl Drop for SendQueue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn send_in_order(
    socket: Arc<UdpSocket>,
    mut waiting: UnboundedReceiver<Queued>,
    on_done: impl Fn(u32, io::Result<usize>),
) {
    let mut failed_group = 0;
    while let Some(queued) = waiting.recv().await {
        let result = if queued.group != 0 && queued.group == failed_group {
            Err(Errno::ECANCELED.error())
        } else {
            let datagram = Outgoing {
                data: &queued.data,
                to: queued.to,
                from: queued.from,
            };
            socket.send(datagram).await
        };
        if result.is_err() {
            failed_group = queued.group;
        }
        on_done(queued.id, result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BindFlags, Family};
    use std::sync::mpsc;
    use std::time::Duration;

    fn queued(id: u32, data: Vec<u8>, to: SocketAddr, group: u32) -> Queued {
        Queued {
            id,
            data,
            to: Some(to),
            from: None,
            group,
        }
    }

    #[test]
    fn sends_in_queue_order_and_a_failure_ends_its_group_only() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let to = receiver.local_addr().unwrap();
        let socket =
            Arc::new(UdpSocket::bound(Family::V4, "127.0.0.1", 0, BindFlags::default()).unwrap());
        let (results, reported) = mpsc::channel();
        let queue = SendQueue::start(socket, move |id, result| {
            let _ = results.send((id, result.map_err(|err| err.raw_os_error())));
        })
        .unwrap();
        let mut expected_arrivals = Vec::new();
        for id in 0..100u32 {
            queue
                .push(queued(id, id.to_be_bytes().to_vec(), to, 0))
                .unwrap();
            expected_arrivals.push(id);
        }
        queue.push(queued(100, vec![0; 70_000], to, 7)).unwrap();
        queue.push(queued(101, b"never".to_vec(), to, 7)).unwrap();
        queue
            .push(queued(102, 102u32.to_be_bytes().to_vec(), to, 0))
            .unwrap();
        expected_arrivals.push(102);

        let results: Vec<(u32, Result<usize, Option<i32>>)> = (0..103)
            .map(|_| reported.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        let ids: Vec<u32> = results.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, (0..103).collect::<Vec<_>>(), "reported in queue order");
        assert_eq!(results[100].1, Err(Some(Errno::EMSGSIZE.raw_os_error())));
        assert_eq!(results[101].1, Err(Some(Errno::ECANCELED.raw_os_error())));
        assert_eq!(results[102].1, Ok(4));

        let mut buf = [0u8; 16];
        for expected in expected_arrivals {
            let (n, _) = receiver.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], &expected.to_be_bytes());
        }
    }

    #[test]
    fn dropping_the_queue_stops_its_task() {
        let socket =
            Arc::new(UdpSocket::bound(Family::V4, "127.0.0.1", 0, BindFlags::default()).unwrap());
        let queue = SendQueue::start(socket.clone(), |_, _| {}).unwrap();
        drop(queue);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        // The task held the only other reference to the socket.
        while Arc::strong_count(&socket) > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(Arc::strong_count(&socket), 1);
    }
}
