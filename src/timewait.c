/* SPDX-License-Identifier: GPL-2.0-or-later */
/* timewait.c - ends libslirp's TIME_WAIT at once for flows it closed first, once both FINs are acked */
/*
 * DOC: Theory of Operation
 *
 * When the host side of a connection closes first (a server that answers
 * and closes: HTTP/1.0, the benchmark's short connections), libslirp sends
 * the namespace its FIN first and, once the namespace's FIN arrives, keeps
 * the socket in TIME_WAIT for 10 s, with its host fd, its two 128 KiB
 * buffers, and its place in the socket list that both slirp_pollfds_fill()
 * and slirp_pollfds_poll() walk on every iteration. After a burst of short
 * connections those walks over thousands of dead sockets bound the
 * connection rate (docs/performance.md, "Why crr_out stops"), and the fds
 * count against RLIMIT_NOFILE.
 *
 * TIME_WAIT protects a new incarnation of a 4-tuple from old duplicates
 * still in the network, and makes the last ACK retransmittable. Between
 * libslirp and the namespace there is no network: a tap, which neither
 * delays, duplicates nor reorders; and the host side of the connection is
 * already closed (its peer holds the kernel's own TIME_WAIT). So slirpd
 * ends it at once, with libslirp as Debian ships it: libslirp's tcp_input()
 * closes a TIME_WAIT socket on an in-window RST (the BSD rule), so slirpd
 * hands it one, as from the namespace.
 *
 * Which flows, from the frames both ways (nothing else is visible):
 *   - a FIN from libslirp to the namespace starts following the flow, with
 *     the sequence number after that FIN;
 *   - a FIN from the namespace records where its own sequence ends (the
 *     RST's sequence number: exactly libslirp's rcv_nxt, so in its window);
 *   - once a segment from the namespace carries that FIN, or follows it,
 *     and acknowledges libslirp's FIN, every byte both ways has been
 *     acknowledged and libslirp is in TIME_WAIT: the flow is "ready";
 *   - an RST either way forgets the flow.
 * One thing the frames cannot show: bytes libslirp acknowledged but has not
 * yet written to the host socket (its receive buffer drains into a slow
 * reader after the FIN). So before any reset, slirp_connection_info() (one
 * call per loop iteration that has ready flows) must show the socket in
 * TIME_WAIT with an empty receive queue; otherwise the reset waits for a
 * later round (up to TIMEWAIT_TRIES), and a flow that never gets there is
 * left to libslirp's own timer. That table is IPv4-only in libslirp 4.7
 * (an IPv6 socket's addresses are garbage, its ports are right), so a flow
 * is matched by its two ports, and every line with those ports must agree;
 * a port forward's connections are listed by the host port they came in on
 * and the guest port, not by the port the namespace sees, so there every
 * connection of the forward must be in TIME_WAIT and drained. An RST for a
 * socket that is already gone is dropped by libslirp without an answer.
 *
 * The table has no allocation per flow: a flow hashes to a group of slots;
 * a full group doubles the table (up to TIMEWAIT_SLOTS), or once it is that
 * large evicts its oldest entry, whose socket then simply keeps libslirp's
 * normal TIME_WAIT. The table starts at TIMEWAIT_SLOTS_MIN, when the first
 * flow needs it: short connections one after the other keep a few flows
 * at a time, but their hashes touch every page of a table of the full
 * size in the end (69 pages, in every shard: 2.2 MB of the peak RSS of a
 * run of short connections with eight shards).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

#include "frame.h"
#include "offload.h"
#include "slirpinfo.h"
#include "timewait.h"

#define TIMEWAIT_GROUP 8            /* slots probed per flow */
#define TIMEWAIT_IP_DF 0x4000       /* IPv4 frag_off: don't fragment */
#define TIMEWAIT_TTL 64

struct timewait_key {
    uint8_t family;                 /* 4 or 6 */
    uint16_t gport, rport;          /* host order */
    uint8_t gaddr[16], raddr[16];   /* the namespace's, the remote's */
};

struct timewait_ent {
    bool used;
    bool guest_fin;                 /* the namespace's FIN was seen */
    bool ready;                     /* both FINs acked: reap when drained */
    uint8_t tries;
    uint32_t stamp;                 /* insertion order, for eviction */
    uint32_t slirp_fin_end;         /* libslirp's sequence after its FIN */
    uint32_t guest_fin_end;         /* the namespace's, after its FIN */
    struct ethhdr eth;              /* a frame's Ethernet header, from the namespace */
    struct timewait_key k;
};

struct timewait {
    struct timewait_ent *tab;       /* NULL until a flow needs it */
    unsigned int cap;               /* its slots: a power of two */
    uint32_t stamp;
    unsigned int used;              /* entries in use */
    unsigned int pending;           /* entries with ready set */
    struct timewait_stats st;
};

/*
 * A whole TCP segment libslirp takes: IPv4 unfragmented, or IPv6 with TCP
 * as the first next header (libslirp drops IPv6 packets with extension
 * headers, so they change nothing).
 */
static bool timewait_tcp(const struct frame_info *fi)
{
    return frame_is_tcp(fi) && !fi->ip6_ext;
}

static void timewait_key_of(struct timewait_key *k, const struct frame_info *fi,
                            bool from_guest)
{
    size_t n = fi->ipver == 4 ? sizeof(fi->saddr.v4) : sizeof(fi->saddr.v6);

    memset(k, 0, sizeof(*k));
    k->family = fi->ipver;
    k->gport = from_guest ? fi->sport : fi->dport;
    k->rport = from_guest ? fi->dport : fi->sport;
    memcpy(k->gaddr, from_guest ? &fi->saddr : &fi->daddr, n);
    memcpy(k->raddr, from_guest ? &fi->daddr : &fi->saddr, n);
}

static uint32_t timewait_hash(const struct timewait_key *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < sizeof(*k); i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* the first slot of @k's group in a table of @cap slots */
static uint32_t timewait_group(const struct timewait_key *k, unsigned int cap)
{
    return timewait_hash(k) & (cap - 1) & ~(TIMEWAIT_GROUP - 1u);
}

static struct timewait_ent *timewait_find(struct timewait *tw,
                                          const struct timewait_key *k)
{
    uint32_t base;
    unsigned int i;

    if (!tw->tab)
        return NULL;
    base = timewait_group(k, tw->cap);
    for (i = 0; i < TIMEWAIT_GROUP; i++) {
        struct timewait_ent *e = &tw->tab[base + i];

        if (e->used && !memcmp(&e->k, k, sizeof(*k)))
            return e;
    }
    return NULL;
}

static void timewait_forget(struct timewait *tw, struct timewait_ent *e)
{
    if (e->ready)
        tw->pending--;
    tw->used--;
    memset(e, 0, sizeof(*e));
}

/*
 * A table of @cap slots with every entry of the old one (each old group
 * splits into two new ones: none overflows). Return: 0 or -ENOMEM (the
 * old table stays)
 */
static int timewait_resize(struct timewait *tw, unsigned int cap)
{
    struct timewait_ent *tab = calloc(cap, sizeof(*tab));
    unsigned int i, j;

    if (!tab)
        return -ENOMEM;
    for (i = 0; i < tw->cap; i++) {
        const struct timewait_ent *e = &tw->tab[i];
        uint32_t base;

        if (!e->used)
            continue;
        base = timewait_group(&e->k, cap);
        for (j = 0; tab[base + j].used; j++)
            ;
        tab[base + j] = *e;
    }
    free(tw->tab);
    tw->tab = tab;
    tw->cap = cap;
    return 0;
}

/* a free slot of @k's group (the table grows while it may), or its oldest
 * entry (evicted); NULL: no table to be had */
static struct timewait_ent *timewait_slot(struct timewait *tw,
                                          const struct timewait_key *k)
{
    struct timewait_ent *old = NULL;
    uint32_t base;
    unsigned int i;

    if (!tw->tab && timewait_resize(tw, TIMEWAIT_SLOTS_MIN) < 0)
        return NULL;
again:
    base = timewait_group(k, tw->cap);
    for (i = 0; i < TIMEWAIT_GROUP; i++) {
        struct timewait_ent *e = &tw->tab[base + i];

        if (!e->used)
            return e;
    }
    if (tw->cap < TIMEWAIT_SLOTS && timewait_resize(tw, tw->cap * 2) == 0)
        goto again;
    for (i = 0; i < TIMEWAIT_GROUP; i++) {
        struct timewait_ent *e = &tw->tab[base + i];

        if (!old || (int32_t)(e->stamp - old->stamp) < 0)
            old = e;
    }
    tw->st.dropped++;
    timewait_forget(tw, old);
    return old;
}

/**
 * timewait_new() - an empty table
 * @ret:	the new state
 *
 * Return: 0 or -ENOMEM
 */
int timewait_new(struct timewait **ret)
{
    struct timewait *tw = calloc(1, sizeof(*tw));

    if (!tw)
        return -ENOMEM;
    *ret = tw;
    return 0;
}

void timewait_free(struct timewait *tw)
{
    if (!tw)
        return;
    free(tw->tab);
    free(tw);
}

/**
 * timewait_note_out() - a frame libslirp sends to the namespace
 * @tw:		the state
 * @fi:		its classification (frame_parse())
 */
void timewait_note_out(struct timewait *tw, const struct frame_info *fi)
{
    struct timewait_key k;
    struct timewait_ent *e;

    if (!timewait_tcp(fi) || !(fi->tcp_flags & (FRAME_TCP_FIN | FRAME_TCP_RST)))
        return;
    timewait_key_of(&k, fi, false);
    e = timewait_find(tw, &k);
    if (fi->tcp_flags & FRAME_TCP_RST) {
        if (e)
            timewait_forget(tw, e);
        return;
    }
    if (!e) {
        e = timewait_slot(tw, &k);
        if (!e) {
            tw->st.dropped++;       /* it keeps libslirp's TIME_WAIT */
            return;
        }
        tw->used++;
        e->used = true;
        e->k = k;
        e->stamp = tw->stamp++;
    }
    /* a retransmitted FIN ends at the same place */
    e->slirp_fin_end = fi->seq + fi->paylen + 1;
}

/**
 * timewait_note_in() - a frame from the namespace, after slirp_input()
 * @tw:		the state
 * @frame:	the Ethernet frame
 * @fi:		its classification (frame_parse())
 */
void timewait_note_in(struct timewait *tw, const uint8_t *frame,
                      const struct frame_info *fi)
{
    struct timewait_key k;
    struct timewait_ent *e;

    /* nearly always: no close of libslirp's is under way */
    if (!tw->used || !timewait_tcp(fi))
        return;
    timewait_key_of(&k, fi, true);
    e = timewait_find(tw, &k);
    if (!e)
        return;
    if (fi->tcp_flags & FRAME_TCP_RST) {
        timewait_forget(tw, e);
        return;
    }
    if (fi->tcp_flags & FRAME_TCP_FIN) {
        e->guest_fin = true;
        e->guest_fin_end = fi->seq + fi->paylen + 1;
    }
    if (e->guest_fin && (fi->tcp_flags & FRAME_TCP_ACK) &&
        fi->ack == e->slirp_fin_end && !e->ready) {
        e->ready = true;
        e->tries = 0;
        memcpy(&e->eth, frame, sizeof(e->eth));
        tw->pending++;
    }
}

unsigned int timewait_pending(const struct timewait *tw)
{
    return tw->pending;
}

/**
 * timewait_slots() - the table's size now
 * @tw:	the state
 *
 * Return: its slots: 0 before the first flow, then TIMEWAIT_SLOTS_MIN
 *	   doubled as groups filled, up to TIMEWAIT_SLOTS
 */
unsigned int timewait_slots(const struct timewait *tw)
{
    return tw->cap;
}

/* the RST that closes @e in libslirp: from the namespace, in its window */
static size_t timewait_build_rst(const struct timewait_ent *e, uint8_t *f)
{
    const struct timewait_key *k = &e->k;
    size_t alen = k->family == 4 ? 4 : 16;
    size_t iphl = k->family == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
    size_t l3off = sizeof(struct ethhdr), l4off = l3off + iphl;
    union tcp_word_hdr th = { 0 };
    uint64_t sum = 0;
    /* zero, proto, TCP length: the same 16-bit words as IPv6's pseudo-header */
    uint8_t pseudo[4] = { 0, IPPROTO_TCP, 0, sizeof(th.hdr) };

    memcpy(f, &e->eth, l3off);
    if (k->family == 4) {
        struct iphdr ip = { 0 };

        ip.version = 4;
        ip.ihl = sizeof(ip) / 4;
        ip.tot_len = htons(sizeof(ip) + sizeof(th.hdr));
        ip.frag_off = htons(TIMEWAIT_IP_DF);
        ip.ttl = TIMEWAIT_TTL;
        ip.protocol = IPPROTO_TCP;
        memcpy(&ip.saddr, k->gaddr, alen);
        memcpy(&ip.daddr, k->raddr, alen);
        /* in the data's byte order */
        ip.check = (uint16_t)~offload_csum_fold(offload_csum_add(0, &ip, sizeof(ip)));
        memcpy(f + l3off, &ip, sizeof(ip));
    } else {
        struct ipv6hdr ip = { 0 };

        ip.version = 6;
        ip.payload_len = htons(sizeof(th.hdr));
        ip.nexthdr = IPPROTO_TCP;
        ip.hop_limit = TIMEWAIT_TTL;
        memcpy(&ip.saddr, k->gaddr, alen);
        memcpy(&ip.daddr, k->raddr, alen);
        memcpy(f + l3off, &ip, sizeof(ip));
    }
    th.hdr.source = htons(k->gport);
    th.hdr.dest = htons(k->rport);
    th.hdr.seq = htonl(e->guest_fin_end);
    th.hdr.doff = sizeof(th.hdr) / 4;
    tcp_flag_word(&th.hdr) |= TCP_FLAG_RST;
    sum = offload_csum_add(sum, k->gaddr, alen);
    sum = offload_csum_add(sum, k->raddr, alen);
    sum = offload_csum_add(sum, pseudo, sizeof(pseudo));
    sum = offload_csum_add(sum, &th.hdr, sizeof(th.hdr));
    th.hdr.check = (uint16_t)~offload_csum_fold(sum);
    memcpy(f + l4off, &th.hdr, sizeof(th.hdr));
    return l4off + sizeof(th.hdr);
}

/* one TCP line of slirp_connection_info() */
struct timewait_line {
    int fd;                         /* libslirp's host socket */
    uint16_t p1, p2;
    bool time_wait;
    long recvq;
};

static size_t timewait_lines(const char *info, struct timewait_line **ret)
{
    size_t n = 0, cap = 0;
    struct timewait_line *v = NULL;
    const char *l = info;

    while (l && *l) {
        const char *nl = strchr(l, '\n');
        struct slirpinfo_conn c;

        /* a forward's listener is no connection */
        if (slirpinfo_parse(l, nl ? (size_t)(nl - l) : strlen(l), &c) &&
            !strcmp(c.proto, "tcp") && strcmp(c.state, "HOST_FORWARD")) {
            if (n == cap) {
                struct timewait_line *w;

                cap = cap ? cap * 2 : 64;
                w = realloc(v, cap * sizeof(*v));
                if (!w)
                    break;
                v = w;
            }
            v[n].fd = c.fd;
            v[n].p1 = (uint16_t)atoi(c.sport);
            v[n].p2 = (uint16_t)atoi(c.dport);
            v[n].time_wait = !strcmp(c.state, "TIME_WAIT");
            v[n].recvq = c.recvq;
            n++;
        }
        l = nl ? nl + 1 : NULL;
    }
    *ret = v;
    return n;
}

/*
 * 1: reset it now; 0: not yet (not in TIME_WAIT, or bytes still to drain);
 * -1: no such socket any more
 */
static bool timewait_other_peer(int fd, uint16_t rport)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
        return false;       /* closed: cannot tell */
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port) != rport;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) != rport;
    return false;
}

static int timewait_verdict(const struct timewait_ent *e,
                            const struct timewait_line *v, size_t n)
{
    size_t i, seen = 0;

    for (i = 0; i < n; i++) {
        bool exact = (v[i].p1 == e->k.gport && v[i].p2 == e->k.rport) ||
                     (v[i].p1 == e->k.rport && v[i].p2 == e->k.gport);

        /* a forward's sockets are listed by the host port they were
         * accepted on and the guest port, not by the remote port the
         * guest sees (the host client's): any of them may be this flow,
         * unless its host socket is still connected to another client */
        if (!exact && v[i].p2 != e->k.gport)
            continue;
        seen++;
        if (v[i].time_wait && v[i].recvq == 0)
            continue;
        if (!exact && timewait_other_peer(v[i].fd, e->k.rport))
            continue;
        return 0;
    }
    return seen ? 1 : -1;
}

/**
 * timewait_reap() - reset the ready flows whose sockets may go now
 * @tw:		the state
 * @conn_info:	slirp_connection_info()'s text, taken just now
 * @inject:	gives libslirp a frame (slirp_input)
 * @arg:	for @inject
 */
void timewait_reap(struct timewait *tw, const char *conn_info,
                   timewait_inject_fn inject, void *arg)
{
    struct timewait_line *v = NULL;
    size_t n = timewait_lines(conn_info, &v), i;
    uint8_t frame[sizeof(struct ethhdr) + sizeof(struct ipv6hdr) +
                  sizeof(struct tcphdr)];

    for (i = 0; i < tw->cap && tw->pending; i++) {
        struct timewait_ent *e = &tw->tab[i];
        int r;

        if (!e->used || !e->ready)
            continue;
        r = timewait_verdict(e, v, n);
        if (r > 0) {
            size_t len = timewait_build_rst(e, frame);

            timewait_forget(tw, e);
            tw->st.reaped++;
            inject(arg, frame, len);
        } else if (r == 0 && ++e->tries < TIMEWAIT_TRIES) {
            tw->st.deferred++;
        } else {
            tw->st.dropped++;
            timewait_forget(tw, e);
        }
    }
    free(v);
}

/**
 * timewait_get_stats() - the counters
 * @tw:		the state
 * @ret:	filled
 */
void timewait_get_stats(const struct timewait *tw, struct timewait_stats *ret)
{
    *ret = tw->st;
}
