#!/usr/bin/env bash
# The Rust core's non-Linux implementations, compiled, linted and tested on
# Linux.
#
# crates/core/src/sys/ chooses its implementation by target; built with
# RUSTFLAGS='--cfg fastdgram_sys="NAME"' it uses another one on Linux:
#   message   what macOS and FreeBSD take (sys/bsd.rs over unix.rs's loop),
#             with Linux's options: one recvmsg per datagram, destinations
#             and drop counts from its control messages, one sendto per
#             datagram, no chosen source addresses (EOPNOTSUPP)
#   fallback  what Windows compiles against for now (sys/fallback.rs):
#             socket2 only, recv_from / send_to, readiness through a tokio
#             UdpSocket over a duplicate, the raw options ENOTSUP
# For each: cargo clippy -D warnings of the workspace (tests included),
# then the core's test suite, whose platform-dependent tests follow the
# capabilities the build reports; the suite fails if the implementation
# that ran is not the one asked for (FASTDGRAM_SYS_EXPECTED). How macOS and
# FreeBSD lay out a destination (IP_RECVDSTADDR's in_addr), which Linux
# cannot produce, is tested on constructed control messages in sys/unix.rs
# by every `cargo test`; `npm run check:targets` compiles bsd.rs itself.
set -euo pipefail
cd "$(dirname "$0")/.."

check() {
  local name="$1" expected="$2"
  echo "== fastdgram_sys=\"$name\": $expected"
  export RUSTFLAGS="--cfg fastdgram_sys=\"$name\""
  # Its own target dir: other RUSTFLAGS would rebuild the usual one.
  export CARGO_TARGET_DIR="target/fallbacks-$name"
  cargo clippy --workspace --all-targets --offline -- -D warnings
  FASTDGRAM_SYS_EXPECTED="$expected" cargo test -p fastdgram-core --offline
}

check message "linux, one message at a time"
check fallback "fallback"
