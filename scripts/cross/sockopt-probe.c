/* Which UDP socket options, as fastdgram and node:dgram use them, work here.
 * scripts/test-cross.sh builds it for x86_64 and for the emulated target and
 * runs both: an option that works natively but fails under qemu-user is one
 * qemu does not translate (linux-user's do_setsockopt/do_getsockopt), and the
 * tests that need it skip under emulation (__test__/helpers/emulation.mjs).
 * Prints one line per option: NAME ok | NAME <errno text>. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

static void report(const char *name, int result) {
  printf("%s %s\n", name, result == 0 ? "ok" : strerror(errno));
}

static int udp_socket(int family) {
  int fd = socket(family, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    _exit(1);
  }
  return fd;
}

static int set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value);
}

/* getsockopt of an int that needs a connected socket (IP_MTU, IPV6_MTU). */
static int get_int(int fd, int level, int name) {
  int value = 0;
  socklen_t length = sizeof value;
  return getsockopt(fd, level, name, &value, &length);
}

static int connect_loopback(int fd, int family) {
  if (family == AF_INET) {
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return connect(fd, (struct sockaddr *)&to, sizeof to);
  }
  struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = in6addr_loopback};
  return connect(fd, (struct sockaddr *)&to, sizeof to);
}

static int source_group_v4(int fd, int name) {
  struct group_source_req request;
  memset(&request, 0, sizeof request);
  struct sockaddr_in *group = (struct sockaddr_in *)&request.gsr_group;
  struct sockaddr_in *source = (struct sockaddr_in *)&request.gsr_source;
  group->sin_family = source->sin_family = AF_INET;
  inet_pton(AF_INET, "232.1.1.1", &group->sin_addr);
  inet_pton(AF_INET, "127.0.0.1", &source->sin_addr);
  request.gsr_interface = if_nametoindex("lo");
  return setsockopt(fd, IPPROTO_IP, name, &request, sizeof request);
}

static int send_with_segment(int fd) {
  char payload[64] = {0};
  struct iovec iov = {.iov_base = payload, .iov_len = sizeof payload};
  union {
    char buffer[CMSG_SPACE(sizeof(unsigned short))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer,
                           .msg_controllen = sizeof control.buffer};
  struct cmsghdr *header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_UDP;
  header->cmsg_type = UDP_SEGMENT;
  header->cmsg_len = CMSG_LEN(sizeof(unsigned short));
  unsigned short size = 16;
  memcpy(CMSG_DATA(header), &size, sizeof size);
  return sendmsg(fd, &message, 0) < 0 ? -1 : 0;
}

int main(void) {
  int v4 = udp_socket(AF_INET), v6 = udp_socket(AF_INET6);
  report("SO_REUSEADDR", set_int(v4, SOL_SOCKET, SO_REUSEADDR, 1));
  report("SO_REUSEPORT", set_int(v4, SOL_SOCKET, SO_REUSEPORT, 1));
  report("SO_BROADCAST", set_int(v4, SOL_SOCKET, SO_BROADCAST, 1));
  report("SO_RCVBUF", set_int(v4, SOL_SOCKET, SO_RCVBUF, 65536));
  report("SO_SNDBUF", set_int(v4, SOL_SOCKET, SO_SNDBUF, 65536));
  report("SO_RXQ_OVFL", set_int(v4, SOL_SOCKET, SO_RXQ_OVFL, 1));
  report("IP_TTL", set_int(v4, IPPROTO_IP, IP_TTL, 9));
  report("IP_TOS", set_int(v4, IPPROTO_IP, IP_TOS, 0x10));
  report("IP_PKTINFO", set_int(v4, IPPROTO_IP, IP_PKTINFO, 1));
  report("IP_MTU_DISCOVER", set_int(v4, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO));
  report("IP_MULTICAST_TTL", set_int(v4, IPPROTO_IP, IP_MULTICAST_TTL, 3));
  report("IP_MULTICAST_LOOP", set_int(v4, IPPROTO_IP, IP_MULTICAST_LOOP, 0));
  struct in_addr loopback = {.s_addr = htonl(INADDR_LOOPBACK)};
  report("IP_MULTICAST_IF", setsockopt(v4, IPPROTO_IP, IP_MULTICAST_IF, &loopback, sizeof loopback));
  struct ip_mreq membership;
  inet_pton(AF_INET, "239.1.2.3", &membership.imr_multiaddr);
  membership.imr_interface = loopback;
  report("IP_ADD_MEMBERSHIP", setsockopt(v4, IPPROTO_IP, IP_ADD_MEMBERSHIP, &membership, sizeof membership));
  report("IP_DROP_MEMBERSHIP", setsockopt(v4, IPPROTO_IP, IP_DROP_MEMBERSHIP, &membership, sizeof membership));
  struct ip_mreq_source source_membership;
  inet_pton(AF_INET, "232.1.1.2", &source_membership.imr_multiaddr);
  source_membership.imr_interface = loopback;
  source_membership.imr_sourceaddr = loopback;
  report("IP_ADD_SOURCE_MEMBERSHIP",
         setsockopt(v4, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &source_membership, sizeof source_membership));
  report("MCAST_JOIN_SOURCE_GROUP", source_group_v4(v4, MCAST_JOIN_SOURCE_GROUP));
  report("MCAST_LEAVE_SOURCE_GROUP", source_group_v4(v4, MCAST_LEAVE_SOURCE_GROUP));
  report("UDP_SEGMENT", set_int(v4, SOL_UDP, UDP_SEGMENT, 16));
  int connected = udp_socket(AF_INET);
  connect_loopback(connected, AF_INET);
  report("IP_MTU", get_int(connected, IPPROTO_IP, IP_MTU));
  report("UDP_SEGMENT_CMSG", send_with_segment(connected));

  report("IPV6_V6ONLY", set_int(v6, IPPROTO_IPV6, IPV6_V6ONLY, 1));
  report("IPV6_UNICAST_HOPS", set_int(v6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9));
  report("IPV6_TCLASS", set_int(v6, IPPROTO_IPV6, IPV6_TCLASS, 0x10));
  report("IPV6_RECVPKTINFO", set_int(v6, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1));
  report("IPV6_MTU_DISCOVER", set_int(v6, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO));
  report("IPV6_DONTFRAG", set_int(v6, IPPROTO_IPV6, IPV6_DONTFRAG, 1));
  report("IPV6_MULTICAST_HOPS", set_int(v6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 3));
  report("IPV6_MULTICAST_LOOP", set_int(v6, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0));
  report("IPV6_MULTICAST_IF", set_int(v6, IPPROTO_IPV6, IPV6_MULTICAST_IF, (int)if_nametoindex("lo")));
  struct ipv6_mreq membership6;
  inet_pton(AF_INET6, "ff02::1:3", &membership6.ipv6mr_multiaddr);
  membership6.ipv6mr_interface = if_nametoindex("lo");
  report("IPV6_JOIN_GROUP", setsockopt(v6, IPPROTO_IPV6, IPV6_JOIN_GROUP, &membership6, sizeof membership6));
  report("IPV6_LEAVE_GROUP", setsockopt(v6, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &membership6, sizeof membership6));
  int connected6 = udp_socket(AF_INET6);
  connect_loopback(connected6, AF_INET6);
  report("IPV6_MTU", get_int(connected6, IPPROTO_IPV6, IPV6_MTU));
  return 0;
}
