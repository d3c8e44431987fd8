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
