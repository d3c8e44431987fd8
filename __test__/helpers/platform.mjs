// What the tests need to know about the platform they run on, and the
// reasons they give when a scenario cannot be tested there.
//
// UNDER_WINE: scripts/test-windows.sh runs the suite with Windows node.exe
// under Wine and says so (FASTDGRAM_WINE=1). Wine implements Winsock on top
// of Linux sockets; where the two differ, node:dgram under Wine observes
// neither Linux nor Windows (docs/windows-port.md lists each case).
import util from 'node:util';

export const IS_WINDOWS = process.platform === 'win32';
export const UNDER_WINE = IS_WINDOWS && process.env.FASTDGRAM_WINE === '1';

export const NO_SOCKET_FD_ON_WINDOWS =
  'node on Windows gives no descriptor for a socket (its handle.fd is -1), so there is no UDP descriptor to wrap';

// Windows reports a port-unreachable answer as WSAECONNRESET, which libuv
// skips (src/win/udp.c): node on Windows sees no error. Wine reports Linux's
// ECONNREFUSED as WSAECONNREFUSED to libuv's overlapped WSARecv, which node
// then emits once and stops reading; Wine's AFD poll, which fastdgram's
// uv_poll uses, never reports that error readable. Neither is Windows.
export const WINE_ICMP_ERROR =
  "Wine turns the ICMP port-unreachable into WSAECONNREFUSED for node's overlapped read (Windows gives WSAECONNRESET, which libuv and fastdgram skip) but never reports it to a poll";

// Seen here: node:dgram under Wine, a sender bound to 127.0.0.2 and a
// receiver on 127.0.0.1: rinfo.address is 127.0.0.1 (Linux: 127.0.0.2).
// Why (`ss -u -a -n -p` while it ran): Wine binds the host socket to
// 0.0.0.0:<port> while getsockname still answers 127.0.0.2, so Linux picks
// 127.0.0.1 as the source.
// Tests that tell senders apart by their loopback address cannot run there.
export const WINE_LOOPBACK_SOURCES =
  'under Wine a socket bound to 127.0.0.2 is received from 127.0.0.1 (node:dgram too), so senders cannot be told apart by loopback address';

// libuv's (negative) number for an error name on this platform, as node
// reports it: -98 for EADDRINUSE on Linux, -4091 on Windows.
export function uvErrno(name) {
  for (const [errno, [code]] of util.getSystemErrorMap()) if (code === name) return errno;
  throw new Error(`no libuv error named ${name} here`);
}

// The reliability suite's leak checks count what Linux's /proc shows: open
// descriptors (/proc/self/fd), threads and resident memory (/proc/self/status).
// Windows has no /proc; its handle and thread counts need tools node.exe does
// not have (no API of node's reports them), and a socket there is a SOCKET
// handle, not a descriptor.
export const NO_PROC_ON_WINDOWS =
  'counts descriptors in /proc/self/fd and threads in /proc/self/status: Windows has no /proc, and node gives no handle or thread count there';
export const NO_ULIMIT_ON_WINDOWS =
  'sets the descriptor limit with `ulimit -n` (setrlimit): Windows has no per-process descriptor limit for sockets, so EMFILE cannot be provoked this way';

/**
 * `register` (ava's test, test.serial) off Windows; on Windows its .skip with
 * the reason in the title. (No import of ava here: fixtures import this file.)
 * @param {any} register
 * @param {string} reason
 */
export function unlessWindows(register, reason) {
  if (!IS_WINDOWS) return register;
  return (title, ...rest) => register.skip(`${title} — skipped on Windows: ${reason}`, ...rest);
}
