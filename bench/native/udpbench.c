// udpbench: the native side of `npm run bench` (bench/run.mjs builds it with
// gcc into bench/out/). Loopback only (127.0.0.1 or ::1). Every mode is
// bounded in time by its arguments and by alarm(); every line it prints on
// stdout is one JSON object.
//
//   blast       FAM PORT SIZE MS [SOURCES]        sendmmsg flood to PORT for MS ms, from
//                                                 SOURCES sockets (source ports) in turn
//   recv        FAM SIZE WARMUP_MS WINDOW_MS MAX_MS   recvmmsg receiver (the recv C limit)
//   blast-gso   FAM PORT SIZE MS                  sendmmsg flood of UDP_SEGMENT messages, each
//                                                 GSO_SEGMENTS (64, fewer where 64 x SIZE > 65,507)
//                                                 datagrams of SIZE bytes (the gsorecv scenario)
//   recv-gro    FAM SIZE WARMUP_MS WINDOW_MS MAX_MS   recvmmsg receiver with UDP_GRO, counting the
//                                                 datagrams of each coalesced buffer (gsorecv's C limit)
//   recv-reuseport FAM SIZE WARMUP_MS WINDOW_MS MAX_MS THREADS   THREADS recvmmsg
//                                                 receivers, each on its own SO_REUSEPORT
//                                                 socket of one port (the reuseport C limit)
//   sink        FAM MAX_MS                        recvmmsg counter; stdin "m" -> count, "q" -> exit
//   send        FAM PORT SIZE WARMUP_MS WINDOW_MS   sendmmsg sender (the send C limit)
//   echo-server FAM MAX_MS                        recvmmsg + sendmmsg back to each source
//   echo-client FAM PORT SIZE RATE WARMUP_MS WINDOW_MS DRAIN_MS   paced load, counts echoes
//   pingpong    FAM SIZE WARMUP COUNT MAX_MS      one datagram between two sockets
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXDGRAM 65536
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
// Linux's UDP_MAX_SEGMENTS before 6.9, and what QUIC stacks send; the
// payload of one buffer is at most 65,507 bytes (IPv4's limit).
#define GSO_SEGMENTS 64
#define GSO_MAX_BYTES 65507

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t cpu_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
         ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static long maxrss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static void die(const char *what) {
  printf("{\"error\":\"%s: %s\"}\n", what, strerror(errno));
  fflush(stdout);
  exit(1);
}

static long arg_long(int argc, char **argv, int i) {
  if (i >= argc) {
    fprintf(stderr, "udpbench: missing argument %d\n", i);
    exit(2);
  }
  return strtol(argv[i], NULL, 10);
}

// Fills a loopback address of family 4 or 6 with the given port.
static socklen_t loopback(int fam, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (fam == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    a->sin6_addr = in6addr_loopback;
    return sizeof *a;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)port);
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sizeof *a;
}

static int udp_socket(int fam) {
  int fd = socket(fam == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  return fd;
}

// A socket bound to the loopback address on an ephemeral port; returns the port.
static int bound_socket(int fam, int *port_out) {
  int fd = udp_socket(fam);
  struct sockaddr_storage ss;
  socklen_t len = loopback(fam, 0, &ss);
  if (bind(fd, (struct sockaddr *)&ss, len) < 0) die("bind");
  len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) die("getsockname");
  *port_out = fam == 6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  return fd;
}

static void set_timeout(int fd, int opt, long ms) {
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

static void set_max_rcvbuf(int fd) {
  int v = 64 << 20; // the kernel clamps it to net.core.rmem_max
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
}

// Receive buffers: BATCH slots of MAXDGRAM bytes, with room for the source.
static char rbuf[BATCH][MAXDGRAM];
static struct mmsghdr rmsgs[BATCH];
static struct iovec riov[BATCH];
static struct sockaddr_storage raddr[BATCH];

static void setup_recv(void) {
  for (int i = 0; i < BATCH; i++) {
    riov[i].iov_base = rbuf[i];
    riov[i].iov_len = MAXDGRAM;
    memset(&rmsgs[i], 0, sizeof rmsgs[i]);
    rmsgs[i].msg_hdr.msg_iov = &riov[i];
    rmsgs[i].msg_hdr.msg_iovlen = 1;
    rmsgs[i].msg_hdr.msg_name = &raddr[i];
    rmsgs[i].msg_hdr.msg_namelen = sizeof raddr[i];
  }
}

static void reset_names(int n) {
  for (int i = 0; i < n; i++) rmsgs[i].msg_hdr.msg_namelen = sizeof raddr[i];
}

// ---- blast: the flood for the recv and reuseport scenarios ------------------
#define MAX_SOURCES 1024

static int cmd_blast(int argc, char **argv) {
  int fam = (int)arg_long(argc, argv, 2), port = (int)arg_long(argc, argv, 3);
  int size = (int)arg_long(argc, argv, 4);
  long ms = arg_long(argc, argv, 5);
  // Several sources: sockets sharing a port with SO_REUSEPORT get datagrams by a
  // hash of the source address and port, so one source would feed one socket.
  long sources = argc > 6 ? arg_long(argc, argv, 6) : 1;
  if (sources < 1 || sources > MAX_SOURCES) {
    fprintf(stderr, "udpbench: SOURCES must be 1 to %d\n", MAX_SOURCES);
    return 2;
  }
  alarm((unsigned)(ms / 1000 + 5));
  static int fds[MAX_SOURCES];
  struct sockaddr_storage ss;
  socklen_t len = loopback(fam, port, &ss);
  for (long i = 0; i < sources; i++) {
    fds[i] = udp_socket(fam);
    if (connect(fds[i], (struct sockaddr *)&ss, len) < 0) die("connect");
  }
  static char payload[MAXDGRAM];
  memset(payload, 'b', sizeof payload);
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = (size_t)size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int64_t end = now_ns() + ms * 1000000LL;
  uint64_t sent = 0, errors = 0;
  for (long next = 0; now_ns() < end; next = (next + 1) % sources) {
    int n = sendmmsg(fds[next], msgs, BATCH, 0);
    if (n < 0) {
      errors++; // ECONNREFUSED once the receiver is gone, ENOBUFS under pressure
      if (errno == ECONNREFUSED) usleep(1000);
      continue;
    }
    sent += (uint64_t)n;
  }
  printf("{\"sent\":%llu,\"errors\":%llu}\n", (unsigned long long)sent, (unsigned long long)errors);
  return 0;
}

// ---- blast-gso: the flood of the gsorecv scenario ----------------------------
// Segments per UDP_SEGMENT buffer: 64, or as many SIZE-byte datagrams as fit.
static int gso_segments(int size) {
  int n = GSO_MAX_BYTES / size;
  return n < GSO_SEGMENTS ? n : GSO_SEGMENTS;
}

#define GSO_BATCH 8

static int cmd_blast_gso(int argc, char **argv) {
  int fam = (int)arg_long(argc, argv, 2), port = (int)arg_long(argc, argv, 3);
  int size = (int)arg_long(argc, argv, 4);
  long ms = arg_long(argc, argv, 5);
  int segments = gso_segments(size);
  if (size < 1 || segments < 1) {
    fprintf(stderr, "udpbench: SIZE must be 1 to %d\n", GSO_MAX_BYTES);
    return 2;
  }
  alarm((unsigned)(ms / 1000 + 5));
  struct sockaddr_storage ss;
  socklen_t len = loopback(fam, port, &ss);
  int fd = udp_socket(fam);
  if (connect(fd, (struct sockaddr *)&ss, len) < 0) die("connect");
  // As a socket option, every send of more than SIZE bytes is split by the kernel.
  if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, sizeof size) < 0) die("setsockopt UDP_SEGMENT");
  static char payload[MAXDGRAM];
  memset(payload, 'g', sizeof payload);
  struct mmsghdr msgs[GSO_BATCH];
  struct iovec iov[GSO_BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < GSO_BATCH; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = (size_t)size * (size_t)segments;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int64_t end = now_ns() + ms * 1000000LL;
  uint64_t sent = 0, errors = 0;
  while (now_ns() < end) {
    int n = sendmmsg(fd, msgs, GSO_BATCH, 0);
    if (n < 0) {
      errors++;
      if (errno == ECONNREFUSED) usleep(1000);
      continue;
    }
    sent += (uint64_t)n * (uint64_t)segments;
  }
  printf("{\"sent\":%llu,\"errors\":%llu,\"segments\":%d}\n", (unsigned long long)sent,
         (unsigned long long)errors, segments);
  return 0;
}

// ---- recv: the C receiver (recv scenario's limit) --------------------------
// Room per message for the UDP_GRO control message (an int).
static char rcontrol[BATCH][CMSG_SPACE(sizeof(int))];

static void setup_gro_control(int n) {
  for (int i = 0; i < n; i++) {
    rmsgs[i].msg_hdr.msg_control = rcontrol[i];
    rmsgs[i].msg_hdr.msg_controllen = sizeof rcontrol[i];
  }
}

// The datagrams one received message holds: with UDP_GRO, the buffer's
// length over the segment size in its control message (the last may be
// shorter); `bad` counts segment sizes other than `size`.
static uint64_t datagrams_of(struct mmsghdr *m, int size, uint64_t *bad) {
  int segment = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m->msg_hdr); c; c = CMSG_NXTHDR(&m->msg_hdr, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) memcpy(&segment, CMSG_DATA(c), sizeof segment);
  }
  if (segment <= 0 || (unsigned)segment >= m->msg_len) {
    if ((int)m->msg_len != size) (*bad)++;
    return 1;
  }
  if (segment != size) (*bad)++;
  return (m->msg_len + (unsigned)segment - 1) / (unsigned)segment;
}

static int run_recv(int argc, char **argv, int gro);

static int cmd_recv(int argc, char **argv) { return run_recv(argc, argv, 0); }

static int cmd_recv_gro(int argc, char **argv) { return run_recv(argc, argv, 1); }

static int run_recv(int argc, char **argv, int gro) {
  int fam = (int)arg_long(argc, argv, 2);
  int size = (int)arg_long(argc, argv, 3);
  long warmup = arg_long(argc, argv, 4), window = arg_long(argc, argv, 5);
  long max = arg_long(argc, argv, 6);
  // Optional: SO_RCVBUF as the bench's --recv-buffer gives the modules' receivers.
  int rcvbuf = argc > 7 ? (int)arg_long(argc, argv, 7) : 0;
  alarm((unsigned)(max / 1000 + 2));
  int port;
  int fd = bound_socket(fam, &port);
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0) die("setsockopt SO_RCVBUF");
  set_timeout(fd, SO_RCVTIMEO, 50);
  setup_recv();
  int on = 1;
  if (gro && setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) < 0) die("setsockopt UDP_GRO");
  if (gro) setup_gro_control(BATCH);
  printf("{\"port\":%d}\n", port);
  fflush(stdout);
  int64_t deadline = now_ns() + max * 1000000LL;
  uint64_t count = 0, bytes = 0, bad = 0;
  int64_t start = 0, t0 = 0, t1 = 0, c0 = 0;
  uint64_t n0 = 0, n1 = 0;
  int phase = 0; // 0 waiting, 1 warm-up, 2 measuring
  for (;;) {
    int n = recvmmsg(fd, rmsgs, BATCH, MSG_WAITFORONE, NULL);
    int64_t t = now_ns();
    if (n > 0) {
      for (int i = 0; i < n; i++) {
        bytes += rmsgs[i].msg_len;
        if (gro) {
          count += datagrams_of(&rmsgs[i], size, &bad);
        } else {
          count++;
          if ((int)rmsgs[i].msg_len != size) bad++;
        }
      }
      reset_names(n);
      if (gro) setup_gro_control(n);
      if (phase == 0) {
        phase = 1;
        start = t;
      }
    }
    if (phase == 1 && t - start >= warmup * 1000000LL) {
      phase = 2;
      t0 = t;
      c0 = cpu_ns();
      n0 = count;
    } else if (phase == 2 && t - t0 >= window * 1000000LL) {
      t1 = t;
      n1 = count;
      break;
    }
    if (t > deadline) {
      printf("{\"error\":\"no traffic before the deadline\"}\n");
      return 1;
    }
  }
  int64_t cpu = cpu_ns() - c0;
  printf("{\"result\":{\"count\":%llu,\"ns\":%lld,\"cpuNs\":%lld,\"maxRssKiB\":%ld,\"badSize\":%llu}}\n",
         (unsigned long long)(n1 - n0), (long long)(t1 - t0), (long long)cpu, maxrss_kib(),
         (unsigned long long)bad);
  return 0;
}

// ---- recv-reuseport: THREADS receivers on one port (reuseport's limit) -------
#define MAX_THREADS 64

struct reuseport_thread {
  int fd;
  _Atomic uint64_t count;
  pthread_t thread;
};

static int reuseport_socket(int fam, int port, int *port_out) {
  int fd = udp_socket(fam);
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0) die("SO_REUSEPORT");
  struct sockaddr_storage ss;
  socklen_t len = loopback(fam, port, &ss);
  if (bind(fd, (struct sockaddr *)&ss, len) < 0) die("bind");
  len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) die("getsockname");
  *port_out = fam == 6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  return fd;
}

// Each thread receives into its own slots until the process exits.
static void *reuseport_receive(void *arg) {
  struct reuseport_thread *self = arg;
  char *buf = malloc((size_t)BATCH * MAXDGRAM);
  if (!buf) die("malloc");
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = buf + (size_t)i * MAXDGRAM;
    iov[i].iov_len = MAXDGRAM;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  for (;;) {
    int n = recvmmsg(self->fd, msgs, BATCH, MSG_WAITFORONE, NULL);
    if (n > 0) atomic_fetch_add_explicit(&self->count, (uint64_t)n, memory_order_relaxed);
  }
  return NULL;
}

static uint64_t reuseport_total(struct reuseport_thread *t, long threads) {
  uint64_t sum = 0;
  for (long i = 0; i < threads; i++) sum += atomic_load_explicit(&t[i].count, memory_order_relaxed);
  return sum;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static int cmd_recv_reuseport(int argc, char **argv) {
  int fam = (int)arg_long(argc, argv, 2);
  long warmup = arg_long(argc, argv, 4), window = arg_long(argc, argv, 5);
  long max = arg_long(argc, argv, 6), threads = arg_long(argc, argv, 7);
  if (threads < 1 || threads > MAX_THREADS) {
    fprintf(stderr, "udpbench: THREADS must be 1 to %d\n", MAX_THREADS);
    return 2;
  }
  alarm((unsigned)(max / 1000 + 2));
  static struct reuseport_thread t[MAX_THREADS];
  int port = 0;
  for (long i = 0; i < threads; i++) {
    t[i].fd = reuseport_socket(fam, port, &port);
    set_timeout(t[i].fd, SO_RCVTIMEO, 50);
  }
  for (long i = 0; i < threads; i++) {
    if (pthread_create(&t[i].thread, NULL, reuseport_receive, &t[i]) != 0) die("pthread_create");
  }
  printf("{\"port\":%d}\n", port);
  fflush(stdout);
  int64_t deadline = now_ns() + max * 1000000LL;
  while (reuseport_total(t, threads) == 0) {
    if (now_ns() > deadline) {
      printf("{\"error\":\"no traffic before the deadline\"}\n");
      return 1;
    }
    sleep_ms(1);
  }
  sleep_ms(warmup);
  uint64_t n0 = reuseport_total(t, threads);
  int64_t t0 = now_ns(), c0 = cpu_ns();
  sleep_ms(window);
  uint64_t n1 = reuseport_total(t, threads);
  int64_t t1 = now_ns(), cpu = cpu_ns() - c0;
  printf("{\"result\":{\"count\":%llu,\"ns\":%lld,\"cpuNs\":%lld,\"perThread\":[",
         (unsigned long long)(n1 - n0), (long long)(t1 - t0), (long long)cpu);
  for (long i = 0; i < threads; i++) {
    printf("%s%llu", i ? "," : "", (unsigned long long)atomic_load(&t[i].count));
  }
  printf("]}}\n");
  fflush(stdout);
  _exit(0); // the receiving threads never return
}

// ---- sink: counts datagrams for the send scenario ---------------------------
static _Atomic uint64_t sink_count;

static void *sink_stdin(void *arg) {
  (void)arg;
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    if (line[0] == 'm') {
      uint64_t c = atomic_load_explicit(&sink_count, memory_order_relaxed);
      printf("{\"count\":%llu,\"ns\":%lld}\n", (unsigned long long)c, (long long)now_ns());
      fflush(stdout);
    } else if (line[0] == 'q') {
      break;
    }
  }
  fflush(stdout);
  _exit(0);
  return NULL;
}

static int cmd_sink(int argc, char **argv) {
  int fam = (int)arg_long(argc, argv, 2);
  long max = arg_long(argc, argv, 3);
  alarm((unsigned)(max / 1000 + 1));
  int port;
  int fd = bound_socket(fam, &port);
  set_max_rcvbuf(fd);
  set_timeout(fd, SO_RCVTIMEO, 100);
  setup_recv();
  printf("{\"port\":%d}\n", port);
  fflush(stdout);
  pthread_t th;
  if (pthread_create(&th, NULL, sink_stdin, NULL) != 0) die("pthread_create");
  int64_t deadline = now_ns() + max * 1000000LL;
  while (now_ns() < deadline) {
    int n = recvmmsg(fd, rmsgs, BATCH, MSG_WAITFORONE, NULL);
    if (n > 0) {
      atomic_fetch_add_explicit(&sink_count, (uint64_t)n, memory_order_relaxed);
      reset_names(n);
    }
  }
  return 0;
}

// ---- send: the C sender (send scenario's limit) -----------------------------
static int cmd_send(int argc, char **argv) {
  int fam = (int)arg_long(argc, argv, 2), port = (int)arg_long(argc, argv, 3);
  int size = (int)arg_long(argc, argv, 4);
  long warmup = arg_long(argc, argv, 5), window = arg_long(argc, argv, 6);
  alarm((unsigned)((warmup + window) / 1000 + 5));
  int fd = udp_socket(fam);
  struct sockaddr_storage dst;
  socklen_t dlen = loopback(fam, port, &dst);
  static char payload[MAXDGRAM];
  memset(payload, 's', sizeof payload);
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) { // unconnected, an address on every datagram
    iov[i].iov_base = payload;
    iov[i].iov_len = (size_t)size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &dst;
    msgs[i].msg_hdr.msg_namelen = dlen;
  }
  int64_t start = now_ns(), t0 = 0, c0 = 0;
  uint64_t sent = 0, n0 = 0, errors = 0;
  int phase = 1;
  for (;;) {
    int n = sendmmsg(fd, msgs, BATCH, 0);
    if (n < 0) errors++;
    else sent += (uint64_t)n;
    int64_t t = now_ns();
    if (phase == 1 && t - start >= warmup * 1000000LL) {
      phase = 2;
      printf("{\"mark\":\"start\"}\n");
      fflush(stdout);
      t0 = now_ns();
      c0 = cpu_ns();
      n0 = sent;
    } else if (phase == 2 && t - t0 >= window * 1000000LL) {
      int64_t cpu = cpu_ns() - c0;
      int64_t t1 = now_ns();
      printf("{\"mark\":\"end\"}\n");
      printf("{\"result\":{\"count\":%llu,\"ns\":%lld,\"cpuNs\":%lld,\"errors\":%llu}}\n",
             (unsigned long long)(sent - n0), (long long)(t1 - t0), (long long)cpu,
             (unsigned long long)errors);
      return 0;
    }
  }
}

// ---- echo-server: the C echo server (echo scenario's limit) -----------------
static int cmd_echo_server(int argc, char **argv) {
  int fam = (int)arg_long(argc, argv, 2);
  long max = arg_long(argc, argv, 3);
  alarm((unsigned)(max / 1000 + 1));
  int port;
  int fd = bound_socket(fam, &port);
  set_timeout(fd, SO_RCVTIMEO, 100);
  setup_recv();
  printf("{\"port\":%d}\n", port);
  fflush(stdout);
  int64_t deadline = now_ns() + max * 1000000LL;
  uint64_t echoed = 0;
  while (now_ns() < deadline) {
    int n = recvmmsg(fd, rmsgs, BATCH, MSG_WAITFORONE, NULL);
    if (n <= 0) continue;
    for (int i = 0; i < n; i++) riov[i].iov_len = rmsgs[i].msg_len;
    int off = 0;
    while (off < n) {
      int m = sendmmsg(fd, rmsgs + off, (unsigned)(n - off), 0);
      if (m <= 0) break;
      off += m;
    }
    echoed += (uint64_t)off;
    for (int i = 0; i < n; i++) riov[i].iov_len = MAXDGRAM;
    reset_names(n);
  }
  return 0;
}

// ---- echo-client: paced load, counts echoes of the measured window ----------
static int cmd_echo_client(int argc, char **argv) {
  int fam = (int)arg_long(argc, argv, 2), port = (int)arg_long(argc, argv, 3);
  int size = (int)arg_long(argc, argv, 4);
  long rate = arg_long(argc, argv, 5);
  long warmup = arg_long(argc, argv, 6), window = arg_long(argc, argv, 7);
  long drain = arg_long(argc, argv, 8);
  alarm((unsigned)((warmup + window + drain) / 1000 + 5));
  if (size < 8) size = 8;
  int fd = udp_socket(fam);
  set_max_rcvbuf(fd);
  struct sockaddr_storage dst;
  socklen_t dlen = loopback(fam, port, &dst);
  if (connect(fd, (struct sockaddr *)&dst, dlen) < 0) die("connect");
  setup_recv();
  static char payload[BATCH][MAXDGRAM];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    memset(payload[i], 'e', (size_t)size);
    iov[i].iov_base = payload[i];
    iov[i].iov_len = (size_t)size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const int64_t tick = 100000; // pace in 100 µs steps
  int64_t start = now_ns();
  int64_t w0 = start + warmup * 1000000LL, w1 = w0 + window * 1000000LL;
  int64_t stop = w1 + drain * 1000000LL;
  uint64_t seq = 0, first = UINT64_MAX, last = 0; // seqs [first, last) were sent in the window
  uint64_t echoed = 0, send_errors = 0, late = 0;
  for (;;) {
    int64_t t = now_ns();
    if (t >= stop) break;
    if (t < w1) {
      uint64_t due = (uint64_t)((double)(t - start) * (double)rate / 1e9);
      while (seq < due) {
        int k = 0;
        while (k < BATCH && seq + (uint64_t)k < due) {
          uint64_t s = seq + (uint64_t)k;
          memcpy(payload[k], &s, sizeof s);
          k++;
        }
        if (t >= w0 && first == UINT64_MAX) first = seq;
        int n = sendmmsg(fd, msgs, (unsigned)k, 0);
        if (n <= 0) {
          send_errors++;
          n = k; // counted as sent (and lost): the load is offered regardless
        }
        seq += (uint64_t)n;
      }
      if (first != UINT64_MAX) last = seq;
    }
    // receive whatever has come back, waiting at most until the next tick
    int64_t wait = tick - ((t - start) % tick);
    struct timespec ts = {0, (long)wait};
    struct pollfd p = {fd, POLLIN, 0};
    if (ppoll(&p, 1, &ts, NULL) > 0) {
      for (;;) {
        int n = recvmmsg(fd, rmsgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) break;
        for (int i = 0; i < n; i++) {
          uint64_t s;
          if (rmsgs[i].msg_len < 8) continue;
          memcpy(&s, rbuf[i], sizeof s);
          if (first != UINT64_MAX && s >= first && s < last) echoed++;
          else if (first == UINT64_MAX || s < first) late++;
        }
        reset_names(n);
      }
    }
  }
  uint64_t offered = first == UINT64_MAX ? 0 : last - first;
  printf("{\"result\":{\"offered\":%llu,\"echoed\":%llu,\"ns\":%lld,\"sendErrors\":%llu}}\n",
         (unsigned long long)offered, (unsigned long long)echoed, (long long)(window * 1000000LL),
         (unsigned long long)send_errors);
  (void)late;
  return 0;
}

// ---- pingpong: one datagram between two sockets, blocking --------------------
static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int cmd_pingpong(int argc, char **argv) {
  int fam = (int)arg_long(argc, argv, 2);
  int size = (int)arg_long(argc, argv, 3);
  long warm = arg_long(argc, argv, 4), count = arg_long(argc, argv, 5);
  long max = arg_long(argc, argv, 6);
  alarm((unsigned)(max / 1000 + 2));
  int pa, pb;
  int a = bound_socket(fam, &pa), b = bound_socket(fam, &pb);
  set_timeout(a, SO_RCVTIMEO, 500);
  set_timeout(b, SO_RCVTIMEO, 500);
  struct sockaddr_storage sa, sb;
  socklen_t la = loopback(fam, pa, &sa), lb = loopback(fam, pb, &sb);
  if (connect(a, (struct sockaddr *)&sb, lb) < 0) die("connect");
  if (connect(b, (struct sockaddr *)&sa, la) < 0) die("connect");
  static char buf[MAXDGRAM];
  memset(buf, 'p', sizeof buf);
  int64_t *rtt = calloc((size_t)count, sizeof *rtt);
  if (!rtt) die("calloc");
  int64_t deadline = now_ns() + max * 1000000LL;
  long n = 0, lost = 0;
  for (long i = 0; i < warm + count && now_ns() < deadline; i++) {
    int64_t t0 = now_ns();
    if (send(a, buf, (size_t)size, 0) < 0) die("send");
    ssize_t r = recv(b, buf, sizeof buf, 0);
    if (r < 0) { lost++; continue; }
    if (send(b, buf, (size_t)r, 0) < 0) die("send");
    if (recv(a, buf, sizeof buf, 0) < 0) { lost++; continue; }
    int64_t t1 = now_ns();
    if (i >= warm) rtt[n++] = t1 - t0;
  }
  if (n == 0) {
    printf("{\"error\":\"no round trip\"}\n");
    return 1;
  }
  qsort(rtt, (size_t)n, sizeof *rtt, cmp_i64);
  long i50 = (n * 50 + 99) / 100 - 1, i99 = (n * 99 + 99) / 100 - 1;
  printf("{\"result\":{\"n\":%ld,\"p50Ns\":%lld,\"p99Ns\":%lld,\"lost\":%ld}}\n", n,
         (long long)rtt[i50], (long long)rtt[i99], lost);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    fprintf(stderr, "usage: udpbench blast|blast-gso|recv|recv-gro|recv-reuseport|sink|send|echo-server|echo-client|pingpong ...\n");
    return 2;
  }
  const char *c = argv[1];
  if (!strcmp(c, "blast")) return cmd_blast(argc, argv);
  if (!strcmp(c, "recv")) return cmd_recv(argc, argv);
  if (!strcmp(c, "blast-gso")) return cmd_blast_gso(argc, argv);
  if (!strcmp(c, "recv-gro")) return cmd_recv_gro(argc, argv);
  if (!strcmp(c, "recv-reuseport")) return cmd_recv_reuseport(argc, argv);
  if (!strcmp(c, "sink")) return cmd_sink(argc, argv);
  if (!strcmp(c, "send")) return cmd_send(argc, argv);
  if (!strcmp(c, "echo-server")) return cmd_echo_server(argc, argv);
  if (!strcmp(c, "echo-client")) return cmd_echo_client(argc, argv);
  if (!strcmp(c, "pingpong")) return cmd_pingpong(argc, argv);
  fprintf(stderr, "udpbench: unknown mode %s\n", c);
  return 2;
}
