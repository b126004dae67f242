/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-udprelay.c - the UDP relay against real sockets in a private network namespace */
/*
 * As test-splice.c: the test process moves into a network namespace of its
 * own whose loopback plays both the host and the target (the splice helper
 * joins that same namespace). The "guest" is a UDP echo server on
 * 127.0.0.1 run by the test's own loop, which answers "echo:" + the
 * datagram to whoever sent it. Every wait is bounded by a deadline.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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
#include "udprelay.h"

#define MAX_FLOWS 64
#define TIMEOUT_MS 2000

static struct engine en = ENGINE_INIT;  /* its side fd: the echo server */
static struct udprelay *u;
static int srv = -1;                /* the guest's echo server */
static unsigned int srv_seen;       /* datagrams it answered */
static struct sockaddr_in srv_last; /* the last source address it saw */

static void echo_all(void)
{
    static char buf[65536 + 8];

    for (;;) {
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(srv, buf + 5, 65536, MSG_DONTWAIT,
                             (struct sockaddr *)&from, &flen);

        if (n < 0)
            return;
        memcpy(buf, "echo:", 5);
        sendto(srv, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, flen);
        srv_seen++;
        srv_last = from;
    }
}

/* receive one datagram on @fd within @ms, driving everything */
static ssize_t recv_within(int fd, char *buf, size_t len, int ms)
{
    int64_t end = netns_now_ms() + ms;

    while (netns_now_ms() < end) {
        ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

        if (n >= 0)
            return n;
        engine_settle(&en, 10);
    }
    return -ETIMEDOUT;
}

static int udp_bound(int family, struct sockaddr_storage *ss, socklen_t *len)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        ((struct sockaddr_in *)ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)ss)->sin6_addr = in6addr_loopback;
        *len = sizeof(struct sockaddr_in6);
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)ss, *len) < 0 ||
        getsockname(fd, (struct sockaddr *)ss, len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* a client socket connected to @to */
static int client(const struct sockaddr_storage *to, socklen_t len)
{
    int fd = socket(to->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd >= 0 && connect(fd, (const struct sockaddr *)to, len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* fds of the test process, not counting the helper's pooled UDP sockets */
static int fds_but_pool(void)
{
    struct splice_stats ss;

    splice_get_stats(en.sp, &ss);
    return netns_count_fds() - (int)(ss.dpool_v4 + ss.dpool_v6);
}

/* @c sends "@tag", gets "echo:@tag" back */
static bool round_trip(int c, const char *tag)
{
    char buf[256];
    ssize_t n;

    if (send(c, tag, strlen(tag), 0) != (ssize_t)strlen(tag))
        return false;
    n = recv_within(c, buf, sizeof(buf) - 1, 2000);
    if (n < 0)
        return false;
    buf[n] = 0;
    return !strncmp(buf, "echo:", 5) && !strcmp(buf + 5, tag);
}

/*
 * No local port is free in the namespace (its ip_local_port_range is one
 * port, and that is taken): connect() of a flow's socket says EAGAIN. The
 * datagram is dropped; the forward must not wait for helper sockets that
 * nobody sends, and carries the next client once a port is free.
 */
static void test_no_local_port(const struct sockaddr_storage *gaddr,
                               socklen_t glen)
{
    static const char range[] = "/proc/sys/net/ipv4/ip_local_port_range";
    struct sockaddr_in host = { .sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in taken = { .sin_family = AF_INET,
                                 .sin_port = htons(61000) };
    struct sockaddr_storage bound;
    struct udprelay_stats st;
    char saved[64] = "";
    socklen_t blen;
    int pf, hold, fwd = -1, cl, cl2, ok;
    uint64_t dropped;
    ssize_t n = -1;

    /* the forward and its client have their ports before */
    udprelay_listen(u, (struct sockaddr *)&host, sizeof(host),
                    (const struct sockaddr *)gaddr, glen, &fwd, &bound, &blen);
    cl = client(&bound, blen);
    engine_settle(&en, 200);  /* a full pool: nothing is asked of the helper */
    pf = open(range, O_RDWR | O_CLOEXEC);
    if (pf >= 0)
        n = read(pf, saved, sizeof(saved) - 1);
    hold = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (n <= 0 || pwrite(pf, "61000 61000", 11, 0) != 11 ||
        bind(hold, (struct sockaddr *)&taken, sizeof(taken)) < 0) {
        TAP_OK(true, "# SKIP cannot narrow %s here", range);
        TAP_OK(true, "# SKIP");
        TAP_OK(true, "# SKIP");
        if (n > 0 && pwrite(pf, saved, (size_t)n, 0) < 0)
            n = 0;
        if (pf >= 0)
            close(pf);
        close(hold);
        close(cl);
        udprelay_unlisten(u, fwd);
        return;
    }
    udprelay_get_stats(u, &st);
    dropped = st.dropped;
    send(cl, "no port", 7, 0);
    engine_settle(&en, 200);
    udprelay_get_stats(u, &st);
    TAP_IS_INT(st.dropped, dropped + 1, "no local port in the namespace: "
               "the datagram is dropped, counted");
    if (pwrite(pf, saved, (size_t)n, 0) != n)
        TAP_OK(false, "restore %s", range);
    close(hold);
    cl2 = client(&bound, blen);
    ok = round_trip(cl2, "a port again");
    TAP_OK(ok, "... and the forward carries the next client");
    TAP_OK(round_trip(cl, "me too"), "... and the first one, now");
    close(cl);
    close(cl2);
    close(pf);
    udprelay_unlisten(u, fwd);
}

static void test_choose_path(void)
{
    struct config cfg;
    struct fwd_table *t;
    struct fwd_spec s;
    struct fwd_req req = { "udp", "127.0.0.1", 8080, "", 80, "auto" };
    struct err fe;
    int r = engine_fwd_table(&cfg, &t);

    if (r < 0) {
        TAP_OK(false, "config for fwd_choose_path: %s", strerror(-r));
        return;
    }
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), 0,
               "udp 127.0.0.1 -> cidr+100, auto");
    fwd_set_splice(t, en.sp, FWD_PATH_AUTO);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SLIRP,
               "auto, UDP, splice engine but no relay: libslirp");
    fwd_set_udprelay(t, u);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SPLICE,
               "auto, UDP on loopback with the relay: relay");
    req.host_addr = "0.0.0.0";
    fwd_spec_from_req(&req, &cfg, &s, &fe);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SLIRP,
               "auto, UDP on the wildcard address: libslirp");
    req.path = "splice";
    fwd_spec_from_req(&req, &cfg, &s, &fe);
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SPLICE,
               "splice named for a wildcard UDP forward: relay");
    req.host_addr = "::1";
    req.path = NULL;
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), 0,
               "udp [::1] -> cidr+100: valid");
    TAP_IS_INT(fwd_choose_path(t, &s), FWD_PATH_SPLICE,
               "... and relayed (libslirp cannot)");
    req.path = "slirp";
    TAP_IS_INT(fwd_spec_from_req(&req, &cfg, &s, &fe), -EINVAL,
               "udp [::1] -> cidr+100 on slirp: refused");
    fwd_free(t);
    config_free(&cfg);
}

int main(void)
{
    pid_t hpid = -1;
    struct sockaddr_storage gaddr, host, bound, h6, b6;
    socklen_t glen, hlen, blen, h6len, b6len;
    struct udprelay_stats st;
    int fwdfd, fwd6 = -1, c[MAX_FLOWS + 8], i, r, fds0, bad;
    unsigned short ports[3];
    char big[60000], buf[65536];

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (netns_private() < 0)
        return 0;
    /* as the daemon: the tap's child (here handing over /dev/null) goes on
     * as the splice helper */
    r = engine_real(&en, &hpid);
    TAP_IS_INT(r, 0, "the helper joined the namespace");
    if (r < 0)
        return tap_done();
    TAP_IS_INT(udprelay_new(&en.re, en.hp, 0, MAX_FLOWS, &u), -EINVAL,
               "a zero timeout is refused");
    fds0 = fds_but_pool();
    r = udprelay_new(&en.re, en.hp, TIMEOUT_MS, MAX_FLOWS, &u);
    en.disp.relay = u;
    TAP_IS_INT(r, 0, "udprelay_new");
    if (r < 0)
        return tap_done();
    test_choose_path();

    srv = udp_bound(AF_INET, &gaddr, &glen);
    TAP_OK(srv >= 0, "an echo server on 127.0.0.1:%d",
           ntohs(((struct sockaddr_in *)&gaddr)->sin_port));
    fcntl(srv, F_SETFL, O_NONBLOCK);
    en.side_fd = srv;
    en.side_fn = echo_all;
    memset(&host, 0, sizeof(host));
    ((struct sockaddr_in *)&host)->sin_family = AF_INET;
    ((struct sockaddr_in *)&host)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    hlen = sizeof(struct sockaddr_in);
    r = udprelay_listen(u, (struct sockaddr *)&host, hlen,
                        (struct sockaddr *)&gaddr, glen, &fwdfd, &bound,
                        &blen);
    TAP_IS_INT(r, 0, "udprelay_listen on 127.0.0.1:0");
    TAP_OK(fwd_spec_addr_port(&bound) > 0, "... bound port %d",
           fwd_spec_addr_port(&bound));
    engine_settle(&en, 100);      /* the helper fills the UDP pool */

    /* both ways, content checked; several clients get their own replies */
    for (i = 0; i < 3; i++)
        c[i] = client(&bound, blen);
    bad = 0;
    for (i = 0; i < 3; i++) {
        char tag[32];

        snprintf(tag, sizeof(tag), "hello from client %d", i);
        bad += !round_trip(c[i], tag);
        ports[i] = srv_last.sin_port;
    }
    TAP_IS_INT(bad, 0, "3 clients, each gets its own reply");
    TAP_OK(ports[0] != ports[1] && ports[1] != ports[2] &&
           ports[0] != ports[2], "the guest sees one source port per client");
    bad = 0;
    for (i = 2; i >= 0; i--) {
        char tag[32];

        snprintf(tag, sizeof(tag), "again %d", i);
        bad += !round_trip(c[i], tag);
        bad += srv_last.sin_port != ports[i];
    }
    TAP_IS_INT(bad, 0, "a client keeps its flow (and source port)");
    udprelay_get_stats(u, &st);
    TAP_IS_INT(st.flows, 3, "3 flows");

    /* a large datagram, intact */
    for (i = 0; i < (int)sizeof(big); i++)
        big[i] = (char)(i * 7 + 3);
    send(c[0], big, sizeof(big), 0);
    r = (int)recv_within(c[0], buf, sizeof(buf), 2000);
    TAP_OK(r == (int)sizeof(big) + 5 && !memcmp(buf + 5, big, sizeof(big)),
           "a 60000-byte datagram both ways, intact (%d)", r);

    /* many datagrams, in windows so that no socket buffer overflows */
    {
        unsigned int sent = 0, got = 0, wrong = 0;
        int64_t end = netns_now_ms() + 20000;

        while (got < 4000 && netns_now_ms() < end) {
            unsigned int w;

            for (w = 0; w < 64 && sent < 4000; w++, sent++) {
                uint32_t seq = sent;
                char d[1000];

                memset(d, (int)(seq & 0xff), sizeof(d));
                memcpy(d, &seq, sizeof(seq));
                send(c[1], d, sizeof(d), 0);
            }
            engine_settle(&en, 5);
            while (got < sent) {
                uint32_t seq;
                ssize_t n = recv_within(c[1], buf, sizeof(buf), 1000);

                if (n < 0)
                    break;
                memcpy(&seq, buf + 5, sizeof(seq));
                if (n != 1005 || seq != got ||
                    (unsigned char)buf[500] != (seq & 0xff))
                    wrong++;
                got++;
            }
        }
        TAP_IS_INT(got, 4000, "4000 datagrams of 1000 bytes came back");
        TAP_IS_INT(wrong, 0, "... in order, content intact");
    }
    udprelay_get_stats(u, &st);
    TAP_IS_INT(st.dgrams_in, st.dgrams_out, "as many datagrams in as out");
    TAP_IS_INT(st.dropped, 0, "nothing dropped");

    /* more new clients at once than the pool holds: the rest wait for it */
    for (i = 3; i < 48; i++)
        c[i] = client(&bound, blen);
    for (i = 3; i < 48; i++) {
        char tag[32];

        snprintf(tag, sizeof(tag), "burst %d", i);
        send(c[i], tag, strlen(tag), 0);
    }
    bad = 0;
    for (i = 3; i < 48; i++) {
        char tag[32];
        ssize_t n = recv_within(c[i], buf, sizeof(buf) - 1, 2000);

        snprintf(tag, sizeof(tag), "echo:burst %d", i);
        if (n < 0 || (buf[n] = 0, strcmp(buf, tag)))
            bad++;
    }
    TAP_IS_INT(bad, 0, "45 new clients at once (more than the pool): every "
               "reply");

    /* past the flow limit the least recently used flow goes (all 48 are
     * refreshed first, so that none expires meanwhile) */
    bad = 0;
    for (i = 0; i < 48; i++)
        bad += !round_trip(c[i], "refresh");
    TAP_IS_INT(bad, 0, "48 flows answer");
    for (i = 48; i < MAX_FLOWS + 8; i++) {
        c[i] = client(&bound, blen);
        send(c[i], "x", 1, 0);
        engine_settle(&en, 5);
    }
    engine_settle(&en, 50);
    udprelay_get_stats(u, &st);
    TAP_IS_INT(st.flows, MAX_FLOWS, "flows stay at the limit");
    TAP_IS_INT(st.evicted, 8, "the 8 oldest were closed");
    TAP_OK(round_trip(c[0], "evicted, back again"),
           "an evicted client gets a new flow");

    /* idle expiry */
    {
        int64_t end = netns_now_ms() + TIMEOUT_MS * 4;

        do {
            engine_settle(&en, 50);
            udprelay_get_stats(u, &st);
        } while (st.flows && netns_now_ms() < end);
    }
    TAP_IS_INT(st.flows, 0, "every flow expired when idle");
    TAP_OK(st.expired >= MAX_FLOWS, "... counted (%llu)",
           (unsigned long long)st.expired);
    TAP_OK(round_trip(c[2], "after expiry"), "a client after expiry: new flow");

    /* IPv6 host address to the IPv4 guest */
    h6len = sizeof(struct sockaddr_in6);
    memset(&h6, 0, sizeof(h6));
    ((struct sockaddr_in6 *)&h6)->sin6_family = AF_INET6;
    ((struct sockaddr_in6 *)&h6)->sin6_addr = in6addr_loopback;
    r = udprelay_listen(u, (struct sockaddr *)&h6, h6len,
                        (struct sockaddr *)&gaddr, glen, &fwd6, &b6, &b6len);
    if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT) {
        TAP_OK(true, "# SKIP no IPv6 loopback here");
        fwd6 = -1;
    } else {
        int c6 = client(&b6, b6len);

        TAP_OK(r == 0 && round_trip(c6, "over IPv6"),
               "[::1] -> 127.0.0.1: a reply");
        close(c6);
    }

    /* removal while flows exist closes them */
    udprelay_get_stats(u, &st);
    TAP_OK(st.flows >= 1, "flows open before removal (%llu)",
           (unsigned long long)st.flows);
    TAP_IS_INT(udprelay_unlisten(u, fwdfd), 0, "udprelay_unlisten");
    if (fwd6 >= 0)
        udprelay_unlisten(u, fwd6);
    TAP_IS_INT(udprelay_unlisten(u, fwdfd), -ENOENT, "... once");
    udprelay_get_stats(u, &st);
    TAP_IS_INT(st.flows, 0, "no flow is left");
    srv_seen = 0;
    send(c[2], "lost", 4, 0);
    engine_settle(&en, 200);
    TAP_IS_INT(srv_seen, 0, "nothing reaches the guest after removal");
    TAP_IS_INT(fds_but_pool(), fds0 + 1 + MAX_FLOWS + 8 + 1,
               "fds: the relay's timer, the clients, the server; no flow's");

    /* a closed guest port: the ICMP error does not end the flow */
    {
        struct sockaddr_storage g2;
        socklen_t g2len;
        int s2 = udp_bound(AF_INET, &g2, &g2len), s3, cl;

        close(s2);
        udprelay_listen(u, (struct sockaddr *)&host, hlen,
                        (struct sockaddr *)&g2, g2len, &fwdfd, &bound, &blen);
        cl = client(&bound, blen);
        send(cl, "nobody", 6, 0);
        engine_settle(&en, 100);
        send(cl, "nobody", 6, 0);
        engine_settle(&en, 100);
        s3 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        r = bind(s3, (struct sockaddr *)&g2, g2len);
        send(cl, "now", 3, 0);
        engine_settle(&en, 100);
        r = r == 0 ? (int)recv(s3, buf, sizeof(buf), MSG_DONTWAIT) : -1;
        TAP_IS_INT(r, 3, "after a closed port, the same flow carries data");
        udprelay_get_stats(u, &st);
        TAP_IS_INT(st.flows, 1, "... one flow");
        close(s3);
        close(cl);
    }

    test_no_local_port(&gaddr, glen);

    for (i = 0; i < MAX_FLOWS + 8; i++)
        close(c[i]);
    close(srv);
    srv = en.side_fd = -1;
    udprelay_free(u);   /* closes the last forward and its flow */
    en.disp.relay = NULL;
    TAP_IS_INT(fds_but_pool(), fds0, "udprelay_free: no fd is left");
    engine_free(&en);
    return tap_done();
}
