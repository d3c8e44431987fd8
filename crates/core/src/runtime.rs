use std::io;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

static RUNTIME: OnceLock<io::Result<Runtime>> = OnceLock::new();

/// The one tokio runtime every socket's receive task and asynchronous send
/// runs on: a single I/O thread, created on first use and never shut down, so
/// no socket (on any thread, worker or main) can outlive it.
pub fn runtime() -> io::Result<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("fastdgram-io")
                .enable_io()
                .enable_time()
                .build()
        })
        .as_ref()
        .map_err(|err| io::Error::new(err.kind(), err.to_string()))
}
