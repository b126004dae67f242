/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-splice.c - the splice engine against real sockets in a private network namespace */
/*
 * The test process moves into a network namespace of its own (root, or a
 * user namespace) whose loopback plays both the host and the target: the
 * helper joins that same namespace, so the "guest" is a listener on
 * 127.0.0.1 here. One poll loop drives the engine (its epoll fd) and the
 * test's own client and server sockets, every wait bounded by a deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/tcp.h>      /* struct tcp_info with tcpi_segs_in */
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "fwd.h"
#include "ns.h"
#include "nshelper.h"
#include "dispatch.h"
#include "reactor.h"
#include "splice.h"
#include "engine.h"
#include "netns.h"
#include "tapout.h"

static struct engine en = ENGINE_INIT;

static uint8_t pattern(uint64_t off, unsigned int seed)
{
    return (uint8_t)((off * 2654435761u) >> 13) ^ (uint8_t)seed;
}

/*
 * Send @n bytes from @a to @b, then shutdown(@a, SHUT_WR); @b reads to
 * EOF. The engine runs in between. Return: bytes @b got that matched, or
 * -1 on a mismatch, error or timeout.
 */
static int64_t transfer(int a, int b, uint64_t n, unsigned int seed, int ms)
{
    static uint8_t buf[256 * 1024];
    uint64_t sent = 0, got = 0;
    bool shut = false;
    int64_t end = netns_now_ms() + ms;

    while (netns_now_ms() < end) {
        struct pollfd p[3] = {
            { .fd = reactor_fd(&en.re), .events = POLLIN },
            { .fd = a, .events = sent < n ? POLLOUT : 0 },
            { .fd = b, .events = POLLIN },
        };
        ssize_t k;

        poll(p, 3, 20);
        if (p[0].revents)
            dispatch_reactor(&en.disp);
        if (sent < n) {
            size_t len = n - sent < sizeof(buf) ? n - sent : sizeof(buf);
            size_t i;

            for (i = 0; i < len; i++)
                buf[i] = pattern(sent + i, seed);
            k = send(a, buf, len, MSG_NOSIGNAL);
            if (k > 0)
                sent += (uint64_t)k;
            else if (k < 0 && errno != EAGAIN)
                return -1;
        }
        if (sent == n && !shut) {
            shutdown(a, SHUT_WR);
            shut = true;
        }
        for (;;) {
            size_t i;

            k = recv(b, buf, sizeof(buf), 0);
            if (k == 0)
                return got == n ? (int64_t)got : -1;
            if (k < 0)
                break;
            for (i = 0; i < (size_t)k; i++)
                if (buf[i] != pattern(got + i, seed))
                    return -1;
            got += (uint64_t)k;
        }
        if (errno != EAGAIN)
            return -1;
    }
    return -1;
}

/* segments @fd has received (tcpi_segs_in), or -1 */
static long segs_in(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return -1;
    return (long)ti.tcpi_segs_in;
}

/* read @want bytes, or up to EOF (@eof set), from @fd within @ms,
 * driving the engine; @buf holds @want + 1 bytes, so a byte too many
 * shows. Return: the bytes read, or -errno */
static ssize_t read_upto(int fd, char *buf, size_t want, bool *eof, int ms)
{
    int64_t end = netns_now_ms() + ms;
    size_t got = 0;

    *eof = false;
    while (netns_now_ms() < end) {
        ssize_t k;

        engine_drive(&en, fd);
        k = recv(fd, buf + got, want - got + 1, 0);
        if (k == 0) {
            *eof = true;
            return (ssize_t)got;
        }
        if (k > 0)
            got += (size_t)k;
        else if (errno != EAGAIN)
            return -errno;
        if (got >= want)
            return (ssize_t)got;
    }
    return -ETIMEDOUT;
}

/*
 * A server that answers and closes at once: the engine sees the answer
 * and the FIN in one wake-up and passes both on in one segment.
 */
static void test_answer_and_close(int lfd, const struct sockaddr_storage *bound,
                                  socklen_t blen)
{
    char buf[16];
    bool eof;
    long s0, s1;
    ssize_t n;
    int c, s;

    c = netns_connect(bound, blen);
    s = engine_accept(&en, lfd, 2000);
    TAP_OK(c >= 0 && s >= 0, "answer and close: connected");
    if (c < 0 || s < 0)
        goto out;
    n = send(c, "q", 1, MSG_NOSIGNAL);
    n = n == 1 ? read_upto(s, buf, 1, &eof, 2000) : -1;
    TAP_IS_INT(n, 1, "answer and close: the request came");
    engine_settle(&en, 50);   /* every ACK of the set-up and the request is in */
    s0 = segs_in(c);
    n = send(s, "answer", 6, MSG_NOSIGNAL);
    close(s);
    s = -1;
    n = n == 6 ? read_upto(c, buf, sizeof(buf) - 1, &eof, 3000) : -1;
    TAP_OK(n == 6 && eof && !memcmp(buf, "answer", 6),
           "answer and close: the client got the answer, then EOF (%zd)", n);
    s1 = segs_in(c);
    TAP_OK(s0 >= 0 && s1 - s0 == 1,
           "answer and close: in one segment (%ld segments)", s1 - s0);
out:
    if (c >= 0)
        close(c);
    if (s >= 0)
        close(s);
}

/* clients that connect at once are all served: one accept per event
 * where the listener was quiet, all of them when it stays readable */
static void test_burst(int lfd, const struct sockaddr_storage *bound,
                       socklen_t blen)
{
    enum { N = 40 };
    int c[N], s[N], i, ok = 0, conn = 0;

    for (i = 0; i < N; i++) {
        c[i] = netns_connect(bound, blen);
        conn += c[i] >= 0;
    }
    for (i = 0; i < N; i++)
        s[i] = engine_accept(&en, lfd, 2000);
    for (i = 0; i < N; i++) {
        char x = (char)i, y[2] = { 0 };
        bool eof;

        if (c[i] >= 0 && s[i] >= 0 && send(c[i], &x, 1, MSG_NOSIGNAL) == 1)
            ok += read_upto(s[i], y, 1, &eof, 2000) == 1 && y[0] == x;
    }
    TAP_OK(conn == N && ok == N, "a burst of %d clients: %d connected, %d "
           "served", N, conn, ok);
    for (i = 0; i < N; i++) {
        if (c[i] >= 0)
            close(c[i]);
        if (s[i] >= 0)
            close(s[i]);
    }
    engine_settle(&en, 100);
}

static void test_choose_path(void)
{
    struct config cfg;
    struct fwd_table *t;
    struct fwd_spec s;
    struct fwd_req req = { "tcp", "127.0.0.1", 8080, "", 80, "auto" };
    struct err fe;
    int r = engine_fwd_table(&cfg, &t);

    if (r < 0) {
        TAP_OK(false, "config for fwd_choose_path: %s", strerror(-r));
        return;
    }
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), 0,
               "127.0.0.1 -> cidr+100, auto");
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SLIRP,
               "auto without a splice engine: libslirp");
    fwd_set_splice(t, en.sp, FWD_PATH_AUTO);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SPLICE,
               "auto, loopback host address: splice");
    req.host_addr = "0.0.0.0";
    fwd_spec_from_req(&req, &cfg, &s, &fe);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SLIRP,
               "auto, wildcard host address: libslirp (real source address)");
    req.path = "splice";
    fwd_spec_from_req(&req, &cfg, &s, &fe);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SPLICE,
               "splice named for a wildcard forward: splice");
    req.path = "auto";
    req.host_addr = "::";
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), 0,
               "[::] -> cidr+100 is valid with a path");
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SPLICE,
               "auto, IPv6 host to IPv4 guest: splice (libslirp cannot)");
    TAP_IS_INT(fwd_spec_family_check(&s, NULL), -EAFNOSUPPORT,
               "... and libslirp cannot carry it");
    fwd_set_splice(t, en.sp, FWD_PATH_SPLICE);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SPLICE,
               "default splice, IPv6 host to IPv4 guest: splice");
    fwd_set_splice(t, en.sp, FWD_PATH_AUTO);
    req.path = "splice";
    fwd_spec_from_req(&req, &cfg, &s, &fe);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SPLICE,
               "splice named, IPv6 host to IPv4 guest: splice");
    req.path = NULL;
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), 0,
               "[::] -> cidr+100 without a path (podman#13229): valid");
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SPLICE,
               "... and it takes the splice path");
    req.path = "slirp";
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), -EINVAL,
               "[::] -> cidr+100 with path slirp: libslirp's rules");
    req.path = NULL;
    req.path = "slirp";
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), -EINVAL,
               "[::] -> cidr+100 on slirp: refused");
    TAP_IS_INT(fe.subject, FWD_FIELD_GUEST_ADDR, "... for the guest address");
    req = (struct fwd_req){ "udp", "127.0.0.1", 8080, "", 80, "splice" };
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), 0,
               "UDP on the splice path (the relay): valid");
    req.path = "auto";
    fwd_spec_from_req(&req, &cfg, &s, &fe);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SLIRP,
               "auto, UDP without a relay: libslirp");
    req = (struct fwd_req){ "tcp", "unix:/tmp/x.sock", 0, "", 80, "splice" };
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), -EINVAL,
               "a unix: forward on the splice path: refused");
    TAP_IS_INT(fe.subject, FWD_FIELD_PATH, "... for the path");
    req = (struct fwd_req){ "tcp", "127.0.0.1", 8080, "", 80, "fast" };
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), -EINVAL,
               "an unknown path name: refused");
    req.path = "auto";
    fwd_spec_from_req(&req, &cfg, &s, &fe);
    fwd_set_splice(t, en.sp, FWD_PATH_SLIRP);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SLIRP,
               "default slirp: loopback stays on libslirp");
    fwd_set_splice(t, NULL, FWD_PATH_AUTO);
    fwd_free(t);
    config_free(&cfg);
}

static int fail_fn(void *arg)
{
    return -EPERM;
}

int main(void)
{
    struct ns ns = { -1, -1, false };
    int nullfd = -1, hsock, status = 0;
    pid_t hpid = -1;
    struct sockaddr_in srv;
    struct sockaddr_storage host, bound, guest;
    struct splice_stats st;
    socklen_t blen;
    int lfd, fwdfd, c, s, r, i, fds0, fds1, bad;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (netns_private() < 0)
        return 0;
    ns.netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    /* as the daemon: the child that hands over the tap (here /dev/null)
     * goes on as the helper; one whose function fails does not */
    hsock = -1;
    r = ns_call_then(&ns, fail_fn, NULL, nshelper_run, NULL, &nullfd,
                     &status, &hsock, &hpid);
    TAP_IS_INT(r, -EPERM, "ns_call_then: the function's error");
    TAP_OK(hsock == -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1,
           "ns_call_then: no helper after a failure, the child reaped");
    r = ns_call_then(&ns, netns_null_fn, NULL, nshelper_run, NULL,
                     &nullfd, &status, &hsock, &hpid);
    TAP_IS_INT(r, 0, "ns_call_then: the fd came, the child lives on");
    if (r < 0)
        return tap_done();
    TAP_OK(nullfd >= 0 && hsock >= 0 && hpid > 0, "fd %d, helper socket %d, "
           "pid %d", nullfd, hsock, (int)hpid);
    close(nullfd);
    r = engine_new(&en, hsock, hpid);
    TAP_IS_INT(r, 0, "nshelper_new, splice_new: an engine around the helper");
    if (r < 0)
        return tap_done();
    r = nshelper_wait(en.hp);
    TAP_IS_INT(r, 0, "nshelper_wait: the helper joined the namespace");
    if (r < 0)
        return tap_done();
    TAP_IS_INT(nshelper_wait(en.hp), 0, "a second wait: the same answer");
    TAP_OK(splice_available(en.sp), "the engine is available");
    close(ns.netns_fd);

    test_choose_path();

    lfd = netns_listen_lo(&srv);
    TAP_OK(lfd >= 0, "a server on 127.0.0.1:%d", ntohs(srv.sin_port));
    memset(&host, 0, sizeof(host));
    ((struct sockaddr_in *)&host)->sin_family = AF_INET;
    ((struct sockaddr_in *)&host)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memcpy(&guest, &srv, sizeof(srv));
    r = splice_listen(en.sp, (struct sockaddr *)&host, sizeof(struct sockaddr_in),
                      (struct sockaddr *)&guest, sizeof(srv), &fwdfd, &bound,
                      &blen);
    TAP_IS_INT(r, 0, "splice_listen on 127.0.0.1:0");
    engine_settle(&en, 200);  /* the pool fills */

    /* data both ways, half-close passed on */
    c = netns_connect(&bound, blen);
    s = engine_accept(&en, lfd, 2000);
    TAP_OK(c >= 0 && s >= 0, "a client through the forward reaches the server");
    TAP_IS_INT(transfer(c, s, 64 << 20, 1, 20000), 64 << 20,
               "64 MiB client -> server intact, then EOF (half-close)");
    TAP_IS_INT(transfer(s, c, 64 << 20, 2, 20000), 64 << 20,
               "64 MiB server -> client intact after the half-close, then EOF");
    close(c);
    close(s);
    engine_settle(&en, 100);
    splice_get_stats(en.sp, &st);
    TAP_IS_INT(st.active, 0, "the connection is gone after both closed");
    TAP_IS_INT(st.closed, 1, "... counted as a clean close");
    TAP_IS_INT(st.bytes_in, 64 << 20, "bytes host -> namespace");
    TAP_IS_INT(st.bytes_out, 64 << 20, "bytes namespace -> host");

    /* the server resets: the client sees a reset */
    c = netns_connect(&bound, blen);
    s = engine_accept(&en, lfd, 2000);
    netns_reset_close(s);
    r = engine_read_end(&en, c, 3000);
    TAP_IS_INT(r, -ECONNRESET, "server reset -> client reset");
    close(c);

    /* the client resets: the server sees a reset */
    c = netns_connect(&bound, blen);
    s = engine_accept(&en, lfd, 2000);
    engine_settle(&en, 50);
    netns_reset_close(c);
    r = engine_read_end(&en, s, 3000);
    TAP_IS_INT(r, -ECONNRESET, "client reset -> server reset");
    close(s);

    test_answer_and_close(lfd, &bound, blen);
    test_burst(lfd, &bound, blen);

    /* removing the forward keeps the connection */
    c = netns_connect(&bound, blen);
    s = engine_accept(&en, lfd, 2000);
    TAP_IS_INT(splice_unlisten(en.sp, fwdfd), 0, "splice_unlisten");
    TAP_IS_INT(transfer(c, s, 1 << 20, 3, 5000), 1 << 20,
               "an open connection carries data after its forward is gone");
    TAP_IS_INT(transfer(s, c, 1 << 20, 4, 5000), 1 << 20, "... both ways");
    close(c);
    close(s);
    c = netns_connect(&bound, blen);
    TAP_OK(c < 0 || engine_read_end(&en, c, 1000) < 0, "the forward's port is closed");
    if (c >= 0)
        close(c);

    /* nothing listens on the guest side: the client is reset */
    r = splice_listen(en.sp, (struct sockaddr *)&host, sizeof(struct sockaddr_in),
                      (struct sockaddr *)&guest, sizeof(srv), &fwdfd, &bound,
                      &blen);
    close(lfd);
    c = netns_connect(&bound, blen);
    r = engine_read_end(&en, c, 3000);
    TAP_OK(r == -ECONNRESET || r == -ECONNREFUSED,
           "the guest port is closed: the client sees a reset (%d)", r);
    close(c);

    /* 2000 connections leave no fd behind */
    lfd = netns_listen_lo(&srv);
    memcpy(&guest, &srv, sizeof(srv));
    splice_unlisten(en.sp, fwdfd);
    splice_listen(en.sp, (struct sockaddr *)&host, sizeof(struct sockaddr_in),
                  (struct sockaddr *)&guest, sizeof(srv), &fwdfd, &bound,
                  &blen);
    engine_settle(&en, 100);
    fds0 = netns_count_fds();
    bad = 0;
    for (i = 0; i < 2000; i++) {
        char x = 'x';

        c = netns_connect(&bound, blen);
        s = engine_accept(&en, lfd, 2000);
        if (c < 0 || s < 0) {
            bad++;
            break;
        }
        if (transfer(c, s, 1, (unsigned int)i, 2000) != 1 ||
            send(s, &x, 1, 0) != 1 || shutdown(s, SHUT_WR) < 0 ||
            engine_read_end(&en, c, 2000) != 0)
            bad++;
        close(c);
        close(s);
    }
    engine_settle(&en, 200);
    fds1 = netns_count_fds();
    splice_get_stats(en.sp, &st);
    TAP_IS_INT(bad, 0, "2000 short connections, each one byte each way");
    TAP_IS_INT(st.active, 0, "none is left open");
    TAP_OK(fds1 <= fds0 + 4 * 16 + NSHELPER_POOL_MAX,
           "fds before %d, after %d (pool and pipe cache bounded)", fds0,
           fds1);

    engine_free(&en);
    close(lfd);
    return tap_done();
}
