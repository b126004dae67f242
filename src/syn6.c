/* SPDX-License-Identifier: GPL-2.0-or-later */
/* syn6.c - the IPv6 TCP flows the namespace started, so that a policy reset finds their host sockets */
/*
 * DOC: Theory of Operation
 *
 * A policy reset (set_policy with "reset") ends the TCP connections out of
 * the namespace that the new rules deny, by disconnecting libslirp's host
 * socket. The only view of libslirp's sockets is slirp_connection_info(),
 * which is IPv4-only in libslirp 4.7: for an IPv6 socket it prints bytes of
 * the wrong structure as addresses ("*" and 0.0.0.0), while the ports are
 * right (the namespace's source and destination ports for a flow out; the
 * host port and the namespace's port for a port forward's connection). The
 * socket itself only tells the host's view: getpeername() gives ::1 for
 * every destination in the namespace's prefix but the DNS address, the
 * host's resolver for that one, and the same address for the rest.
 *
 * So the namespace's own view is kept: stack.c hands every SYN without
 * ACK that the namespace sends over IPv6 and the policy lets through
 * (whatever the rules: a reset may come when rules are first set) to
 * syn6_note(), which records its 4-tuple. That is the frames that start a
 * flow, never a segment of an established one. At a reset, every IPv6 TCP
 * socket libslirp lists (all shards) is matched to the records with the
 * listing's two ports and a destination the socket's peer can stand for
 * (syn6_matches()); the sockets a denied record matches are cut. A port
 * forward's connection was started by libslirp, not by a SYN from the
 * namespace, and lists the forward's host port as its source port: no
 * record has it.
 *
 * Two flows of the namespace with the same two ports whose destinations
 * the host sees as one peer (two addresses of its prefix, both ::1 on the
 * host; or the DNS address and the resolver's real one) cannot be told
 * apart: if either is denied both are cut. A flow the rules deny is never
 * kept open by a reset, and the one error possible ends a flow of the
 * namespace's own that shares its ports with a denied one.
 *
 * The table holds what is live: when it is full, stack.c sweeps it with
 * the same matching (syn6_resolve() without a policy), and a record that
 * matches no socket any more is dropped. It starts at SYN6_MIN records,
 * doubles when a sweep leaves it more than half full, and stops at
 * SYN6_MAX, which only that many live libslirp sockets can fill (a flow
 * not recorded then is counted).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "frame.h"
#include "syn6.h"

struct syn6_rec {
    struct syn6_flow f;
    struct syn6_rec *next;
};

struct syn6 {
    struct syn6_names names;
    struct syn6_rec **bucket;   /* max buckets, chained */
    size_t count, max;
    uint64_t seed;
    struct syn6_stats st;
};

static uint64_t syn6_hash(const struct syn6 *s, const struct syn6_flow *f)
{
    uint64_t w[4], h = s->seed;
    size_t i;

    memcpy(&w[0], &f->saddr, 16);
    memcpy(&w[2], &f->daddr, 16);
    for (i = 0; i < 4; i++)
        h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
    h = (h ^ ((uint64_t)f->sport << 16 | f->dport)) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static bool syn6_same(const struct syn6_flow *a, const struct syn6_flow *b)
{
    return a->sport == b->sport && a->dport == b->dport &&
           !memcmp(&a->saddr, &b->saddr, 16) && !memcmp(&a->daddr, &b->daddr, 16);
}

/**
 * syn6_new() - an empty table
 * @names:	the namespace's addresses libslirp sends elsewhere
 * @ret:	the table, for syn6_free()
 *
 * Return: 0 or -ENOMEM
 */
int syn6_new(const struct syn6_names *names, struct syn6 **ret)
{
    struct syn6 *s = calloc(1, sizeof(*s));

    if (!s)
        return -ENOMEM;
    s->names = *names;
    s->max = SYN6_MIN;
    s->bucket = calloc(s->max, sizeof(*s->bucket));
    if (!s->bucket) {
        free(s);
        return -ENOMEM;
    }
    if (getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) != sizeof(s->seed))
        s->seed = (uint64_t)(uintptr_t)s ^ 0x5bd1e9955bd1e995ull;
    s->seed |= 1;
    *ret = s;
    return 0;
}

/**
 * syn6_free() - free the table
 * @s:	from syn6_new(), or NULL
 */
void syn6_free(struct syn6 *s)
{
    struct syn6_rec *r, *next;
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->max; i++)
        for (r = s->bucket[i]; r; r = next) {
            next = r->next;
            free(r);
        }
    free(s->bucket);
    free(s);
}

/**
 * syn6_note() - record a flow the namespace starts
 * @s:	the table
 * @fi:	a SYN without ACK from the namespace (FRAME_IP6_TCP)
 *
 * A flow already recorded (a retransmitted SYN) is kept once.
 *
 * Return: 0; -ENOSPC if the table is full (sweep it with syn6_resolve()
 *	   and note again), -ENOMEM
 */
int syn6_note(struct syn6 *s, const struct frame_info *fi)
{
    struct syn6_flow f = { .saddr = fi->saddr.v6, .daddr = fi->daddr.v6,
                           .sport = fi->sport, .dport = fi->dport };
    size_t b = syn6_hash(s, &f) & (s->max - 1);
    struct syn6_rec *r;

    for (r = s->bucket[b]; r; r = r->next)
        if (syn6_same(&r->f, &f))
            return 0;
    if (s->count >= s->max) {
        if (s->max >= SYN6_MAX)
            s->st.unrecorded++;
        return -ENOSPC;
    }
    r = malloc(sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->f = f;
    r->next = s->bucket[b];
    s->bucket[b] = r;
    s->count++;
    s->st.noted++;
    return 0;
}

static bool syn6_in_prefix(const struct syn6 *s, const struct in6_addr *a)
{
    unsigned int bits = s->names.prefix_len, i;

    for (i = 0; i < bits / 8; i++)
        if (a->s6_addr[i] != s->names.prefix.s6_addr[i])
            return false;
    if (bits % 8) {
        uint8_t m = (uint8_t)(0xff << (8 - bits % 8));

        return (a->s6_addr[i] & m) == (s->names.prefix.s6_addr[i] & m);
    }
    return true;
}

/**
 * syn6_matches() - a recorded flow may be a socket's
 * @s:	the table (its names)
 * @f:	the flow, as the namespace asked for it
 * @k:	the socket
 *
 * The listing's ports are the flow's; the socket's peer, once connected,
 * is the flow's destination port and the address libslirp sent the
 * destination to: itself, the host's ::1 for one in the namespace's prefix,
 * the host's resolver (any address) for the DNS address.
 *
 * Return: true if @k may carry @f
 */
bool syn6_matches(const struct syn6 *s, const struct syn6_flow *f,
                  const struct syn6_sock *k)
{
    const struct in6_addr *pa = &k->peer.sin6_addr;

    if (f->sport != k->sport || f->dport != k->dport)
        return false;
    if (!k->has_peer)
        return true;
    if (ntohs(k->peer.sin6_port) != f->dport)
        return false;
    if (IN6_ARE_ADDR_EQUAL(pa, &f->daddr))
        return true;
    if (!syn6_in_prefix(s, &f->daddr))
        return false;
    if (IN6_ARE_ADDR_EQUAL(&f->daddr, &s->names.dns))
        return true;
    return IN6_IS_ADDR_LOOPBACK(pa);
}

static uint32_t syn6_ports(uint16_t sport, uint16_t dport)
{
    return (uint32_t)sport << 16 | dport;
}

static int syn6_cmp_idx(const void *a, const void *b, void *base)
{
    const struct syn6_sock *socks = base;
    uint32_t x = syn6_ports(socks[*(const size_t *)a].sport,
                            socks[*(const size_t *)a].dport);
    uint32_t y = syn6_ports(socks[*(const size_t *)b].sport,
                            socks[*(const size_t *)b].dport);

    return x < y ? -1 : x > y;
}

/* the first of @idx (sorted by ports) whose socket has @key's ports or more */
static size_t syn6_lower(const struct syn6_sock *socks, const size_t *idx,
                         size_t n, uint32_t key)
{
    size_t lo = 0, hi = n, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (syn6_ports(socks[idx[mid]].sport, socks[idx[mid]].dport) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* twice the buckets, every record rehashed (nothing lost on -ENOMEM) */
static void syn6_grow(struct syn6 *s)
{
    size_t nmax = s->max * 2, i, b;
    struct syn6_rec **nb = calloc(nmax, sizeof(*nb)), *r, *next;

    if (!nb)
        return;
    for (i = 0; i < s->max; i++)
        for (r = s->bucket[i]; r; r = next) {
            next = r->next;
            b = syn6_hash(s, &r->f) & (nmax - 1);
            r->next = nb[b];
            nb[b] = r;
        }
    free(s->bucket);
    s->bucket = nb;
    s->max = nmax;
}

/**
 * syn6_resolve() - match libslirp's IPv6 TCP sockets to the flows recorded:
 *		    drop the records no socket has, mark the sockets to cut
 * @s:		the table
 * @socks:	every IPv6 TCP socket of every shard (left in their order)
 * @n:		how many
 * @deny:	the policy's verdict on a flow, or NULL (a sweep: no cut)
 * @opaque:	for @deny
 *
 * A socket is marked (->cut) when any record it matches is denied. After
 * the sweep the table doubles if it is more than half full (up to
 * SYN6_MAX). O((n + records) log n), plus the matches.
 *
 * Return: 0 or -ENOMEM (nothing dropped, nothing marked)
 */
int syn6_resolve(struct syn6 *s, struct syn6_sock *socks, size_t n,
                 syn6_deny_fn deny, void *opaque)
{
    struct syn6_rec **pp, *r;
    size_t *idx = NULL, i, j, b;

    if (n) {
        idx = malloc(n * sizeof(*idx));
        if (!idx)
            return -ENOMEM;
        for (i = 0; i < n; i++) {
            idx[i] = i;
            socks[i].cut = false;
        }
        qsort_r(idx, n, sizeof(*idx), syn6_cmp_idx, socks);
    }
    for (b = 0; b < s->max; b++) {
        for (pp = &s->bucket[b]; (r = *pp);) {
            uint32_t key = syn6_ports(r->f.sport, r->f.dport);
            bool live = false;
            int denied = -1;    /* not asked yet */

            for (j = n ? syn6_lower(socks, idx, n, key) : 0;
                 j < n && syn6_ports(socks[idx[j]].sport, socks[idx[j]].dport) == key;
                 j++) {
                struct syn6_sock *k = &socks[idx[j]];

                if (!syn6_matches(s, &r->f, k))
                    continue;
                live = true;
                if (!deny)
                    break;
                if (denied < 0)
                    denied = deny(&r->f, opaque);
                if (denied && !k->ended)
                    k->cut = true;
            }
            if (live) {
                pp = &r->next;
                continue;
            }
            *pp = r->next;
            free(r);
            s->count--;
            s->st.swept++;
        }
    }
    free(idx);
    if (s->count > s->max / 2 && s->max < SYN6_MAX)
        syn6_grow(s);
    return 0;
}

/**
 * syn6_get_stats() - what the table did, and holds
 * @s:		the table
 * @ret:	the counters
 */
void syn6_get_stats(const struct syn6 *s, struct syn6_stats *ret)
{
    *ret = s->st;
    ret->count = s->count;
    ret->max = s->max;
}
