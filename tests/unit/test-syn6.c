/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-syn6.c - unit tests for the IPv6 TCP flows the namespace started and their match to libslirp's sockets */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "syn6.h"
#include "tapout.h"

static struct frame_info syn(const char *src, uint16_t sport, const char *dst,
                             uint16_t dport)
{
    struct frame_info fi = { .cls = FRAME_IP6_TCP, .ipver = 6,
                             .tcp_flags = FRAME_TCP_SYN,
                             .sport = sport, .dport = dport };

    inet_pton(AF_INET6, src, &fi.saddr.v6);
    inet_pton(AF_INET6, dst, &fi.daddr.v6);
    return fi;
}

static struct syn6_sock sock(int fd, uint16_t sport, uint16_t dport,
                             const char *peer, uint16_t pport)
{
    struct syn6_sock k = { .fd = fd, .sport = sport, .dport = dport };

    if (peer) {
        k.has_peer = true;
        k.peer.sin6_family = AF_INET6;
        k.peer.sin6_port = htons(pport);
        inet_pton(AF_INET6, peer, &k.peer.sin6_addr);
    }
    return k;
}

/* syn6_deny_fn: the flows to port 666 are denied */
static bool deny_666(const struct syn6_flow *f, void *opaque)
{
    (void)opaque;
    return f->dport == 666;
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(void)
{
    struct syn6_names names = { .prefix_len = 64 };
    struct syn6_stats st;
    struct syn6 *s;
    struct frame_info fi;
    struct syn6_sock k[8];
    struct syn6_flow f;
    int64_t t0;
    unsigned int i;
    int r;

    tap_plan(28);
    inet_pton(AF_INET6, "fd00::", &names.prefix);
    inet_pton(AF_INET6, "fd00::3", &names.dns);
    TAP_IS_INT(syn6_new(&names, &s), 0, "syn6_new");

    /* what matches: the listing's ports, then the host's view of the
     * destination */
    fi = syn("fd00::100", 40000, "2001:db8::1", 666);
    f = (struct syn6_flow){ .saddr = fi.saddr.v6, .daddr = fi.daddr.v6,
                            .sport = 40000, .dport = 666 };
    k[0] = sock(9, 40000, 666, "2001:db8::1", 666);
    TAP_OK(syn6_matches(s, &f, &k[0]), "an outside destination: the same peer");
    k[0] = sock(9, 40000, 666, "2001:db8::2", 666);
    TAP_OK(!syn6_matches(s, &f, &k[0]), "... another peer address: no");
    k[0] = sock(9, 40000, 666, "2001:db8::1", 667);
    TAP_OK(!syn6_matches(s, &f, &k[0]), "... another peer port: no");
    k[0] = sock(9, 40001, 666, "2001:db8::1", 666);
    TAP_OK(!syn6_matches(s, &f, &k[0]), "... another source port listed: no");
    k[0] = sock(9, 40000, 666, "::1", 666);
    TAP_OK(!syn6_matches(s, &f, &k[0]), "... the host's ::1: no");
    k[0] = sock(9, 40000, 666, NULL, 0);
    TAP_OK(syn6_matches(s, &f, &k[0]), "... still connecting (no peer): the ports decide");
    inet_pton(AF_INET6, "fd00::2", &f.daddr);
    k[0] = sock(9, 40000, 666, "::1", 666);
    TAP_OK(syn6_matches(s, &f, &k[0]), "fd00::2 is the host's ::1");
    inet_pton(AF_INET6, "fd00::99", &f.daddr);
    TAP_OK(syn6_matches(s, &f, &k[0]), "so is any address of the prefix");
    inet_pton(AF_INET6, "fd00:0:0:1::2", &f.daddr);
    TAP_OK(!syn6_matches(s, &f, &k[0]), "an address past the prefix is not");
    inet_pton(AF_INET6, "fd00::3", &f.daddr);
    k[0] = sock(9, 40000, 666, "2001:db8::53", 666);
    TAP_OK(syn6_matches(s, &f, &k[0]), "fd00::3 is the host's resolver, whichever");
    inet_pton(AF_INET6, "fd00::2", &f.daddr);
    TAP_OK(!syn6_matches(s, &f, &k[0]), "fd00::2 is not");

    /* a reset: flows out, a forward's connection, two that share ports */
    TAP_IS_INT(syn6_note(s, &fi), 0, "a SYN to a denied port noted");
    TAP_IS_INT(syn6_note(s, &fi), 0, "... retransmitted: kept once");
    fi = syn("fd00::100", 40001, "2001:db8::1", 80);
    syn6_note(s, &fi);
    fi = syn("fd00::100", 40002, "fd00::2", 666);
    syn6_note(s, &fi);
    fi = syn("fd00::100", 40003, "2001:db8::9", 80);
    syn6_note(s, &fi);      /* its socket is gone: swept */
    syn6_get_stats(s, &st);
    TAP_IS_INT(st.count, 4, "four flows recorded");
    k[0] = sock(10, 40000, 666, "2001:db8::1", 666);    /* denied */
    k[1] = sock(11, 40001, 80, "2001:db8::1", 80);      /* allowed */
    k[2] = sock(12, 40002, 666, "::1", 666);            /* denied, to the host */
    /* a port forward's connection: the host port 666 listed as its
     * source, the namespace's port 40000, a client at [::1]:55555 */
    k[3] = sock(13, 666, 40000, "::1", 55555);
    k[4] = sock(14, 40000, 666, "2001:db8::1", 666);   /* in TIME_WAIT */
    k[4].ended = true;
    TAP_IS_INT(syn6_resolve(s, k, 5, deny_666, NULL), 0, "syn6_resolve");
    TAP_OK(k[0].cut, "the denied flow is cut");
    TAP_OK(!k[1].cut, "the allowed one is not");
    TAP_OK(k[2].cut, "the denied flow to the host's loopback is cut");
    TAP_OK(!k[3].cut, "the port forward's connection is not");
    TAP_OK(!k[4].cut, "a socket in TIME_WAIT is not");
    syn6_get_stats(s, &st);
    TAP_IS_INT(st.count, 3, "the record without a socket was dropped");
    TAP_IS_INT(st.swept, 1, "... and counted");

    /* the same two ports, two addresses the host sees as ::1: both cut */
    fi = syn("fd00::100", 41000, "fd00::2", 666);
    syn6_note(s, &fi);
    fi = syn("fd00::100", 41000, "fd00::99", 666);
    syn6_note(s, &fi);
    k[0] = sock(20, 41000, 666, "::1", 666);
    k[1] = sock(21, 41000, 666, "::1", 666);
    syn6_resolve(s, k, 2, deny_666, NULL);
    TAP_OK(k[0].cut && k[1].cut, "two flows with one host view: both cut when denied");

    /* full: a sweep without sockets empties it; then it grows when a sweep
     * leaves it more than half full */
    for (i = 0, r = 0; i < SYN6_MIN + 1 && r == 0; i++) {
        fi = syn("fd00::100", (uint16_t)(1 + i), "2001:db8::1", 80);
        r = syn6_note(s, &fi);
    }
    TAP_IS_INT(r, -ENOSPC, "a full table says so");
    syn6_resolve(s, NULL, 0, NULL, NULL);
    syn6_get_stats(s, &st);
    TAP_IS_INT(st.count, 0, "a sweep without sockets empties it");
    for (i = 0; i < SYN6_MIN; i++) {
        fi = syn("fd00::100", (uint16_t)(1 + i), "2001:db8::1", 80);
        syn6_note(s, &fi);
    }
    {
        struct syn6_sock *all = calloc(SYN6_MIN, sizeof(*all));

        for (i = 0; i < SYN6_MIN; i++)
            all[i] = sock((int)i, (uint16_t)(1 + i), 80, "2001:db8::1", 80);
        syn6_resolve(s, all, SYN6_MIN, NULL, NULL);
        free(all);
    }
    syn6_get_stats(s, &st);
    TAP_OK(st.count == SYN6_MIN && st.max == 2 * SYN6_MIN,
           "every record live: kept, and the table doubled (%zu of %zu)",
           st.count, st.max);
    fi = syn("fd00::100", 9, "2001:db8::2", 80);
    TAP_IS_INT(syn6_note(s, &fi), 0, "... room for more");

    /* the cost of a SYN: a hash and a chain */
    fi = syn("fd00::100", 1, "2001:db8::1", 80);
    t0 = now_ns();
    for (i = 0; i < 100000; i++) {
        fi.sport = (uint16_t)(1 + i % 512);
        syn6_note(s, &fi);
    }
    printf("# syn6_note() of a flow already noted: %lld ns\n",
           (long long)((now_ns() - t0) / 100000));
    syn6_free(s);
    return tap_done();
}
