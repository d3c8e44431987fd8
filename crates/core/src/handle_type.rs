use std::os::fd::RawFd;

/// What kind of thing a file descriptor is, in the terms Node.js uses
/// (`guessHandleType`): `bind({ fd })` accepts only `Udp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleType {
    Tcp,
    Udp,
    Pipe,
    File,
    Tty,
    Unknown,
}

impl HandleType {
    pub fn name(self) -> &'static str {
        match self {
            HandleType::Tcp => "TCP",
            HandleType::Udp => "UDP",
            HandleType::Pipe => "PIPE",
            HandleType::File => "FILE",
            HandleType::Tty => "TTY",
            HandleType::Unknown => "UNKNOWN",
        }
    }
}

fn socket_option(fd: RawFd, option: libc::c_int) -> Option<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len point to valid memory of the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(value)
}

fn socket_family(fd: RawFd) -> Option<libc::c_int> {
    // SAFETY: an all-zero sockaddr_storage is a valid value; len matches its size.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: storage and len are valid for writing.
    let rc = unsafe {
        libc::getsockname(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(storage.ss_family as libc::c_int)
}

/// Classifies `fd` the way libuv's `uv_guess_handle` does.
pub fn guess_handle_type(fd: RawFd) -> HandleType {
    if fd < 0 {
        return HandleType::Unknown;
    }
    // SAFETY: an all-zero stat is a valid value; fstat only writes into it.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: stat is valid for writing.
    if unsafe { libc::fstat(fd, &mut stat) } != 0 {
        return HandleType::Unknown;
    }
    match stat.st_mode & libc::S_IFMT {
        libc::S_IFREG | libc::S_IFCHR if unsafe { libc::isatty(fd) } == 1 => HandleType::Tty,
        libc::S_IFREG | libc::S_IFCHR => HandleType::File,
        libc::S_IFIFO => HandleType::Pipe,
        libc::S_IFSOCK => classify_socket(fd),
        _ => HandleType::Unknown,
    }
}

fn classify_socket(fd: RawFd) -> HandleType {
    let Some(kind) = socket_option(fd, libc::SO_TYPE) else {
        return HandleType::Unknown;
    };
    match socket_family(fd) {
        Some(libc::AF_INET | libc::AF_INET6) if kind == libc::SOCK_DGRAM => HandleType::Udp,
        Some(libc::AF_INET | libc::AF_INET6) if kind == libc::SOCK_STREAM => HandleType::Tcp,
        Some(libc::AF_UNIX) if kind == libc::SOCK_STREAM => HandleType::Pipe,
        _ => HandleType::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn tells_udp_from_tcp_and_files() {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let file = std::fs::File::open("Cargo.toml").unwrap();
        assert_eq!(guess_handle_type(udp.as_raw_fd()), HandleType::Udp);
        assert_eq!(guess_handle_type(tcp.as_raw_fd()), HandleType::Tcp);
        assert_eq!(guess_handle_type(file.as_raw_fd()), HandleType::File);
        assert_eq!(guess_handle_type(-1), HandleType::Unknown);
        assert_eq!(guess_handle_type(1_000_000), HandleType::Unknown);
    }
}
