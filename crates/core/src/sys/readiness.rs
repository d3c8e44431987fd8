//! Readiness for the platforms whose sockets tokio cannot watch by
//! descriptor (`AsyncFd` is Unix only): a duplicate of the socket
//! registered as a tokio `UdpSocket` (the one portable way to wait on a
//! socket tokio did not create), so that the socket itself stays owned where
//! it is and is registered only when needed. Used by `fallback.rs` and
//! `windows.rs` (there mio watches the duplicate through AFD).

use std::io;

use socket2::Socket;
use tokio::io::Interest;

#[derive(Debug)]
pub(crate) struct Registration(tokio::net::UdpSocket);

pub(crate) struct Ready<'a> {
    socket: &'a tokio::net::UdpSocket,
    interest: Interest,
}

/// The operation would have blocked: wait for readiness again.
#[derive(Debug)]
pub(crate) struct WouldBlock;

impl Registration {
    /// # Safety
    /// None needed here (the duplicate is owned); `unsafe` to match the
    /// platforms whose registration borrows the socket's descriptor.
    pub(crate) unsafe fn new(socket: &Socket, _interest: Interest) -> io::Result<Registration> {
        let duplicate = socket.try_clone()?;
        duplicate.set_nonblocking(true)?;
        tokio::net::UdpSocket::from_std(duplicate.into()).map(Registration)
    }

    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready<'_>> {
        let ready = self.0.ready(interest).await?;
        // tokio's try_io takes one interest (a combined one never runs the
        // operation): the one that is ready.
        let interest = if interest.is_readable() && ready.is_readable() {
            Interest::READABLE
        } else if interest.is_writable() && ready.is_writable() {
            Interest::WRITABLE
        } else {
            Interest::ERROR
        };
        Ok(Ready {
            socket: &self.0,
            interest,
        })
    }
}

impl Ready<'_> {
    /// `Err` when `f` would block (the readiness is then cleared).
    pub(crate) fn try_io<R>(
        &mut self,
        f: impl FnOnce() -> io::Result<R>,
    ) -> Result<io::Result<R>, WouldBlock> {
        match self.socket.try_io(self.interest, f) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Err(WouldBlock),
            result => Ok(result),
        }
    }
}
