// udpecho: the C reference row of aioloop's demo. A UDP echo server as lean as C on Linux makes
// it: one thread, one non-blocking socket, level-triggered epoll, recvmmsg of up to 64 datagrams
// per call into 64 buffers of 64 KiB (the depth and buffer size aioloop uses), every batch echoed
// with sendmmsg from the same buffers, reading until a call returns fewer than 64. No allocation
// after start, no per-datagram work but the two syscalls' share. It shows the limit that this
// machine's loopback and kernel set for 64-byte echo, which no Go server can pass by much.
//
//	udpecho -udp 127.0.0.1:PORT [-json]
//
// Like cmd/echoserver, it prints "ready" once serving; on SIGINT or SIGTERM it prints what it
// echoed (with -json, the same JSON object echoserver prints) and exits 0. IPv4 only.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 64, BUFSZ = 65536 };

static volatile sig_atomic_t stopping;
static void on_signal(int sig) { (void)sig; stopping = 1; }

static char bufs[BATCH][BUFSZ];
static struct sockaddr_in names[BATCH];
static struct iovec iovs[BATCH], out_iovs[BATCH];
static struct mmsghdr in[BATCH], out[BATCH];

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int fail(const char *what) {
	fprintf(stderr, "udpecho: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv) {
	const char *addr = NULL;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-udp") == 0 && i + 1 < argc) {
			addr = argv[++i];
		} else if (strcmp(argv[i], "-json") == 0) {
			json = 1;
		} else {
			fprintf(stderr, "udpecho: unknown argument %s; usage: udpecho -udp HOST:PORT [-json]\n", argv[i]);
			return 2;
		}
	}
	if (addr == NULL) {
		fprintf(stderr, "udpecho: -udp HOST:PORT is required\n");
		return 2;
	}
	char host[64];
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || colon - addr >= (long)sizeof host) {
		fprintf(stderr, "udpecho: -udp %s: want IPv4 HOST:PORT\n", addr);
		return 2;
	}
	memcpy(host, addr, colon - addr);
	host[colon - addr] = 0;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "udpecho: -udp %s: %s is not an IPv4 address\n", addr, host);
		return 2;
	}

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) return fail("socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) return fail("bind");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) return fail("epoll_create1");
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) return fail("epoll_ctl");
	struct sigaction act = {.sa_handler = on_signal}; // no SA_RESTART: epoll_wait returns EINTR
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);

	for (int i = 0; i < BATCH; i++) {
		iovs[i] = (struct iovec){.iov_base = bufs[i], .iov_len = BUFSZ};
		in[i].msg_hdr = (struct msghdr){.msg_name = &names[i], .msg_iov = &iovs[i], .msg_iovlen = 1};
		out_iovs[i].iov_base = bufs[i];
		out[i].msg_hdr = (struct msghdr){.msg_name = &names[i], .msg_iov = &out_iovs[i], .msg_iovlen = 1};
	}
	unsigned long long datagrams = 0, bytes = 0, dropped = 0, calls = 0, wakeups = 0;
	printf("ready\n");
	fflush(stdout);
	double t0 = now(), c0 = cpu();
	while (!stopping) {
		if (epoll_wait(ep, &ev, 1, -1) < 0) {
			if (errno == EINTR) continue;
			return fail("epoll_wait");
		}
		wakeups++;
		for (;;) {
			for (int i = 0; i < BATCH; i++) in[i].msg_hdr.msg_namelen = sizeof names[i];
			int n = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
			calls++;
			if (n <= 0) break; // EAGAIN: drained (an ICMP error on a send: ignored, as echoserver does)
			for (int i = 0; i < n; i++) {
				out_iovs[i].iov_len = in[i].msg_len;
				out[i].msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
				bytes += in[i].msg_len;
			}
			for (int sent = 0; sent < n;) {
				int s = sendmmsg(fd, out + sent, n - sent, 0);
				if (s < 0) { // a full send buffer or an error: the rest of the batch is dropped
					dropped += n - sent;
					break;
				}
				sent += s;
			}
			datagrams += n;
			if (n < BATCH) break;
		}
	}
	double secs = now() - t0, cpus = cpu() - c0;
	if (json) {
		printf("{\"impl\":\"c-epoll\",\"datagrams\":%llu,\"udp_bytes\":%llu,\"stream_bytes\":0,\"conns\":0,"
		       "\"mallocs\":0,\"allocs_per_datagram\":0,\"seconds\":%.3f,\"cpu_seconds\":%.3f,\"dropped\":%llu,"
		       "\"recvmmsg_calls\":%llu,\"epoll_waits\":%llu}\n",
		       datagrams, bytes, secs, cpus, dropped, calls, wakeups);
	} else {
		printf("c-epoll echoed %llu datagrams (%llu bytes), dropped %llu, in %llu recvmmsg calls after %llu "
		       "epoll waits; CPU %.2f s in %.2f s\n", datagrams, bytes, dropped, calls, wakeups, cpus, secs);
	}
	close(ep);
	close(fd);
	return 0;
}
