/* SPDX-License-Identifier: GPL-2.0-or-later */
/* steer.c - which libslirp instance a frame belongs to: a hash of its flow, and a bounded table of the flows an instance started */
/*
 * DOC: Theory of Operation
 *
 * libslirp's public API walks every socket of an instance on every fill
 * and every poll. With thousands of connections those walks are the
 * daemon's time, so the stack runs several instances (shards) with the
 * same configuration behind the one tap, and a wake-up walks only the
 * shards that have something to do. Each flow must stay with one shard
 * for its life: this file says which.
 *
 * From the namespace (steer_in()):
 *   - ARP and neighbour solicitations/advertisements go to every shard:
 *     each one learns the namespace's MAC addresses from them;
 *   - DHCP, router solicitations, anything to the DNS address (cidr+3),
 *     anything to a multicast or the broadcast address (the MLD reports
 *     Linux sends as an interface comes up: no flow answers them, and a
 *     hash would start another shard's instance for nothing) and anything
 *     not classified go to shard 0;
 *   - a TCP segment goes where the table says (a flow a shard started,
 *     or one of the first connections), else by a hash of its addresses
 *     and ports. The first connections the namespace opens (SYNs) all go
 *     to shard 0, each recorded in the table where the hash says
 *     otherwise, until STEER_GATHER are recorded or another shard's
 *     instance has started (steer_gather_stop()): a namespace that opens a
 *     handful of connections runs one libslirp instance, as it would
 *     without shards (each started instance costs about 50 KiB and its
 *     own walks; with a handful of sockets sharding gains nothing);
 *   - UDP, ICMP and IP fragments go where the table says (UDP), else by a
 *     hash of the addresses alone: a fragment carries no ports after the
 *     first, and all fragments of a datagram must meet in one shard to be
 *     reassembled. So the UDP flows and pings between two addresses share
 *     a shard; TCP, the protocol of many connections, spreads by port.
 *     (A fragmented TCP segment would be split across shards; Linux sends
 *     TCP with DF set and never fragments it.)
 *
 * Towards the namespace (steer_out()):
 *   - only shard 0's ARP replies, neighbour advertisements and router
 *     advertisements pass: every shard answers the ARP requests it is
 *     given, and one answer is enough. Requests pass from all: a shard
 *     that lacks a MAC must be able to ask;
 *   - a flow a shard starts (a SYN without ACK: a connection to a port
 *     forward through libslirp; a UDP datagram of such a forward) whose
 *     replies the hash would send to another shard is recorded in the
 *     table, so the namespace's answers come back to it.
 *
 * The table only holds those exceptions: every other flow's shard is a
 * function of its header, so it needs no memory and no clean-up. An entry
 * ends on an RST, 60 s after both FINs (the last ACK, retransmitted FINs),
 * or 240 s after a UDP flow's last datagram (libslirp's own expiry of its
 * UDP sockets); ended entries are dropped when met, or in a sweep when the
 * table is full (at most once a second). A flow that finds the table full
 * is refused: its SYN (or datagram) is dropped, libslirp retransmits the
 * SYN, and the count of such flows is kept. The table grows by doubling up
 * to its bound (STEER_FLOWS_DEFAULT), so an idle daemon pays nothing.
 *
 * The hash has a random seed: the namespace cannot choose ports that pile
 * its flows onto one shard any better than it could by chance (which
 * would cost only itself).
 */
#include <errno.h>
#include <linux/if_arp.h>
#include <netinet/icmp6.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "steer.h"

#define STEER_SWEEP_MS 1000

struct steer_key {
    uint8_t ipver;
    uint8_t proto;
    uint16_t ns_port;
    uint16_t remote_port;
    uint16_t pad;
    union frame_addr ns;
    union frame_addr remote;
};

/* the flow's ends: FIN seen from the namespace, from the shard */
#define STEER_FIN_NS 1
#define STEER_FIN_SHARD 2

struct steer_flow {
    struct steer_key key;
    int64_t expire_ms;      /* INT64_MAX while open */
    uint32_t next;          /* chain (or free list): index + 1, 0 ends */
    uint8_t shard;
    uint8_t fin;
    bool used;
};

struct steer {
    unsigned int shards;
    size_t max;
    struct in_addr dns4;
    struct in6_addr dns6;
    uint64_t seed;
    struct steer_flow *pool;    /* cap entries */
    uint32_t *bucket;           /* cap heads (index + 1), cap a power of 2 */
    size_t cap;
    uint32_t free;              /* free list head (index + 1) */
    size_t n;                   /* in use */
    int64_t swept_ms;
    unsigned int gather_left;   /* first connections still to gather */
    bool gather_stopped;        /* (atomic: any thread) */
    struct steer_stats stats;
};

static uint64_t steer_mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 31);
}

static uint64_t steer_mix_addr(uint64_t h, const union frame_addr *a)
{
    uint64_t w[2];

    memcpy(w, a, sizeof(w));
    return steer_mix(steer_mix(h, w[0]), w[1]);
}

/* the hash of a flow: by addresses, and the ports for TCP */
static unsigned int steer_hash_shard(const struct steer *s,
                                     const struct steer_key *k)
{
    uint64_t h = steer_mix(s->seed, (uint64_t)k->ipver << 8 |
                           (k->proto == IPPROTO_TCP));

    h = steer_mix_addr(h, &k->ns);
    h = steer_mix_addr(h, &k->remote);
    if (k->proto == IPPROTO_TCP)
        h = steer_mix(h, (uint64_t)k->ns_port << 16 | k->remote_port);
    return (unsigned int)((h >> 32) % s->shards);
}

static bool steer_is_dns(const struct steer *s, const struct steer_key *k)
{
    if (k->ipver == 4)
        return k->remote.v4.s_addr == s->dns4.s_addr;
    return !memcmp(&k->remote.v6, &s->dns6, sizeof(s->dns6));
}

/* a remote end that is a group, not a peer: multicast, or broadcast */
static bool steer_is_group(const struct steer_key *k)
{
    if (k->ipver == 4)
        return IN_MULTICAST(ntohl(k->remote.v4.s_addr)) ||
               k->remote.v4.s_addr == htonl(INADDR_BROADCAST);
    return k->remote.v6.s6_addr[0] == 0xff;
}

/* the shard a flow goes to when the table does not say otherwise */
static unsigned int steer_default(const struct steer *s,
                                  const struct steer_key *k)
{
    return steer_is_dns(s, k) || steer_is_group(k) ? 0 :
           steer_hash_shard(s, k);
}

/* @fi's flow as the namespace sees it: its end, then the remote end */
static void steer_key(struct steer_key *k, const struct frame_info *fi,
                      bool from_ns)
{
    memset(k, 0, sizeof(*k));
    k->ipver = fi->ipver;
    k->proto = fi->l4proto;
    if (fi->ipver == 4) {
        k->ns.v4 = from_ns ? fi->saddr.v4 : fi->daddr.v4;
        k->remote.v4 = from_ns ? fi->daddr.v4 : fi->saddr.v4;
    } else {
        k->ns.v6 = from_ns ? fi->saddr.v6 : fi->daddr.v6;
        k->remote.v6 = from_ns ? fi->daddr.v6 : fi->saddr.v6;
    }
    if (fi->l4proto == IPPROTO_TCP || fi->l4proto == IPPROTO_UDP) {
        k->ns_port = from_ns ? fi->sport : fi->dport;
        k->remote_port = from_ns ? fi->dport : fi->sport;
    }
}

static size_t steer_bucket(const struct steer *s, const struct steer_key *k)
{
    uint64_t h = steer_mix(s->seed ^ 0x5bd1e995, (uint64_t)k->ipver << 8 |
                           k->proto);

    h = steer_mix_addr(h, &k->ns);
    h = steer_mix_addr(h, &k->remote);
    h = steer_mix(h, (uint64_t)k->ns_port << 16 | k->remote_port);
    return (size_t)(h >> 17) & (s->cap - 1);
}

static void steer_unlink(struct steer *s, uint32_t idx)
{
    struct steer_flow *f = &s->pool[idx];
    uint32_t *p = &s->bucket[steer_bucket(s, &f->key)];

    while (*p && *p != idx + 1)
        p = &s->pool[*p - 1].next;
    if (*p)
        *p = f->next;
    f->used = false;
    f->next = s->free;
    s->free = idx + 1;
    s->n--;
    s->stats.ended++;
}

static struct steer_flow *steer_lookup(struct steer *s,
                                       const struct steer_key *k,
                                       int64_t now)
{
    uint32_t i;

    if (!s->n)
        return NULL;
    for (i = s->bucket[steer_bucket(s, k)]; i; i = s->pool[i - 1].next) {
        struct steer_flow *f = &s->pool[i - 1];

        if (memcmp(&f->key, k, sizeof(*k)))
            continue;
        if (f->expire_ms <= now) {
            steer_unlink(s, i - 1);
            return NULL;
        }
        return f;
    }
    return NULL;
}

/* double the table (rehashing every entry); -ENOSPC at the bound */
static int steer_grow(struct steer *s)
{
    size_t cap = s->cap ? 2 * s->cap : 64, i, old = s->cap;
    struct steer_flow *pool;
    uint32_t *bucket;

    if (old >= s->max)
        return -ENOSPC;
    if (cap > s->max)
        cap = s->max;
    pool = realloc(s->pool, cap * sizeof(*pool));
    if (!pool)
        return -ENOMEM;
    s->pool = pool;
    /* the bucket count stays a power of two, at least the pool's size */
    bucket = calloc(cap, sizeof(*bucket));
    if (!bucket)
        return -ENOMEM;
    free(s->bucket);
    s->bucket = bucket;
    s->cap = cap;
    memset(pool + old, 0, (cap - old) * sizeof(*pool));
    s->free = 0;
    for (i = cap; i-- > 0;) {
        struct steer_flow *f = &pool[i];

        if (f->used) {
            size_t b = steer_bucket(s, &f->key);

            f->next = bucket[b];
            bucket[b] = (uint32_t)i + 1;
        } else {
            f->next = s->free;
            s->free = (uint32_t)i + 1;
        }
    }
    return 0;
}

/* drop every ended entry: when the table is full, at most once a second */
static void steer_sweep(struct steer *s, int64_t now)
{
    size_t i;

    if (now - s->swept_ms < STEER_SWEEP_MS)
        return;
    s->swept_ms = now;
    for (i = 0; i < s->cap; i++) {
        if (s->pool[i].used && s->pool[i].expire_ms <= now)
            steer_unlink(s, (uint32_t)i);
    }
}

static struct steer_flow *steer_add(struct steer *s, const struct steer_key *k,
                                    int64_t now)
{
    struct steer_flow *f;
    uint32_t i;
    size_t b;

    if (!s->free)
        steer_sweep(s, now);
    if (!s->free && steer_grow(s) < 0) {
        s->stats.full++;
        return NULL;
    }
    i = s->free - 1;
    f = &s->pool[i];
    s->free = f->next;
    memset(f, 0, sizeof(*f));
    f->key = *k;
    f->used = true;
    b = steer_bucket(s, k);
    f->next = s->bucket[b];
    s->bucket[b] = i + 1;
    s->n++;
    s->stats.added++;
    return f;
}

/* a TCP segment of a flow in the table: its end, if it is one */
static void steer_tcp_end(struct steer_flow *f, uint8_t flags, bool from_ns,
                          int64_t now)
{
    if (flags & FRAME_TCP_RST) {
        f->expire_ms = now;         /* this segment still gets through */
        return;
    }
    if (flags & FRAME_TCP_FIN)
        f->fin |= from_ns ? STEER_FIN_NS : STEER_FIN_SHARD;
    if (f->fin == (STEER_FIN_NS | STEER_FIN_SHARD) &&
        f->expire_ms == INT64_MAX)
        f->expire_ms = now + STEER_TCP_LINGER_MS;
}

/**
 * steer_new() - a steering table for @conf->shards instances
 * @conf:	the number of shards, the table's bound, the DNS addresses
 * @ret:	the table; free with steer_free()
 *
 * Return: 0, -EINVAL for a shard count out of range, -ENOMEM
 */
int steer_new(const struct steer_conf *conf, struct steer **ret)
{
    struct steer *s;

    if (conf->shards < 1 || conf->shards > STEER_SHARDS_MAX)
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->shards = conf->shards;
    s->max = conf->max_flows ? conf->max_flows : STEER_FLOWS_DEFAULT;
    if (s->max > UINT32_MAX - 1)
        s->max = UINT32_MAX - 1;
    s->dns4 = conf->dns4;
    s->dns6 = conf->dns6;
    s->seed = conf->seed;
    if (!s->seed && getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) !=
                        (ssize_t)sizeof(s->seed))
        s->seed = (uint64_t)(uintptr_t)s ^ 0x2545f4914f6cdd1dull;
    s->swept_ms = INT64_MIN / 2;
    s->gather_left = STEER_GATHER;
    *ret = s;
    return 0;
}

/**
 * steer_free() - free the table
 * @s:	the table, or NULL
 */
void steer_free(struct steer *s)
{
    if (!s)
        return;
    free(s->pool);
    free(s->bucket);
    free(s);
}

/**
 * steer_shards() - how many instances the frames are steered to
 * @s:	the table
 *
 * Return: the shard count
 */
unsigned int steer_shards(const struct steer *s)
{
    return s->shards;
}

/**
 * steer_in() - the shard a frame from the namespace goes to
 * @s:		the table
 * @frame:	the frame
 * @fi:		its classification (frame_parse())
 * @now_ms:	a monotonic clock, ms
 *
 * Return: a shard index, or STEER_ALL for every shard
 */
int steer_in(struct steer *s, const uint8_t *frame, const struct frame_info *fi,
             int64_t now_ms)
{
    struct steer_flow *f;
    struct steer_key k;

    (void)frame;
    if (s->shards == 1)
        return 0;
    switch ((enum frame_class)fi->cls) {
    case FRAME_ARP:
    case FRAME_IP6_NDP:
        return STEER_ALL;
    case FRAME_IP4_TCP:
    case FRAME_IP6_TCP:
    case FRAME_IP4_UDP:
    case FRAME_IP6_UDP:
    case FRAME_IP4_ICMP:
    case FRAME_IP6_ICMP:
    case FRAME_IP4_FRAG:
    case FRAME_IP6_FRAG:
        break;
    default:
        return 0;
    }
    steer_key(&k, fi, true);
    if (fi->cls != FRAME_IP4_FRAG && fi->cls != FRAME_IP6_FRAG &&
        (f = steer_lookup(s, &k, now_ms))) {
        if (k.proto == IPPROTO_TCP)
            steer_tcp_end(f, fi->tcp_flags, true, now_ms);
        else
            f->expire_ms = now_ms + STEER_UDP_IDLE_MS;
        return f->shard;
    }
    if (k.proto == IPPROTO_TCP && s->gather_left &&
        !__atomic_load_n(&s->gather_stopped, __ATOMIC_RELAXED) &&
        (fi->tcp_flags & (FRAME_TCP_SYN | FRAME_TCP_ACK)) == FRAME_TCP_SYN) {
        /* (one whose hash says shard 0 needs nothing, and is not counted:
         * its retransmitted SYN would count it again) */
        if (steer_default(s, &k) == 0)
            return 0;
        f = steer_add(s, &k, now_ms);
        if (!f)
            return (int)steer_default(s, &k);   /* full: as if not gathered */
        s->gather_left--;
        s->stats.gathered++;
        f->shard = 0;
        f->expire_ms = INT64_MAX;
        return 0;
    }
    if (k.proto != IPPROTO_TCP) {
        /* UDP and ICMP by addresses alone, as their fragments */
        k.ns_port = k.remote_port = 0;
        k.proto = 0;
    }
    return (int)steer_default(s, &k);
}

/* an answer to the namespace that only shard 0 may give */
static bool steer_answer_only(const uint8_t *frame, const struct frame_info *fi)
{
    struct arphdr ah;

    switch ((enum frame_class)fi->cls) {
    case FRAME_ARP:
        if (fi->l3off + sizeof(ah) > fi->len)
            return true;
        memcpy(&ah, frame + fi->l3off, sizeof(ah));
        return ah.ar_op == htons(ARPOP_REPLY);
    case FRAME_IP6_NDP:
        return fi->icmp_type == ND_NEIGHBOR_ADVERT;
    case FRAME_IP6_RA:
        return true;
    default:
        return false;
    }
}

/**
 * steer_out() - may a frame of a shard go to the namespace? (and note the
 *		 flows the shard starts)
 * @s:		the table
 * @shard:	the shard that sends it
 * @frame:	the frame
 * @fi:		its classification
 * @now_ms:	a monotonic clock, ms
 *
 * Return: false to drop it: another shard's copy of an answer, or a flow
 *	   the full table cannot take
 */
bool steer_out(struct steer *s, unsigned int shard, const uint8_t *frame,
               const struct frame_info *fi, int64_t now_ms)
{
    struct steer_flow *f;
    struct steer_key k;
    bool start;

    if (s->shards == 1)
        return true;
    if (steer_answer_only(frame, fi))
        return shard == 0;
    if (fi->cls == FRAME_IP4_TCP || fi->cls == FRAME_IP6_TCP) {
        start = (fi->tcp_flags & (FRAME_TCP_SYN | FRAME_TCP_ACK)) ==
                FRAME_TCP_SYN;
        if (!start && (!s->n || !(fi->tcp_flags & (FRAME_TCP_FIN |
                                                   FRAME_TCP_RST))))
            return true;
    } else if (fi->cls == FRAME_IP4_UDP || fi->cls == FRAME_IP6_UDP) {
        start = true;
    } else {
        return true;
    }
    steer_key(&k, fi, false);
    f = steer_lookup(s, &k, now_ms);
    if (f && k.proto == IPPROTO_TCP && !start) {
        if (f->shard == shard)
            steer_tcp_end(f, fi->tcp_flags, false, now_ms);
        return true;
    }
    if (f) {
        /* a new SYN of the same four-tuple, or the flow's next datagram */
        f->shard = (uint8_t)shard;
        f->fin = 0;
        f->expire_ms = k.proto == IPPROTO_TCP ? INT64_MAX :
                       now_ms + STEER_UDP_IDLE_MS;
        return true;
    }
    if (!start)
        return true;
    {
        struct steer_key d = k;

        if (d.proto != IPPROTO_TCP) {
            d.ns_port = d.remote_port = 0;
            d.proto = 0;
        }
        if (steer_default(s, &d) == shard)
            return true;
    }
    f = steer_add(s, &k, now_ms);
    if (!f)
        return false;
    f->shard = (uint8_t)shard;
    f->expire_ms = k.proto == IPPROTO_TCP ? INT64_MAX :
                   now_ms + STEER_UDP_IDLE_MS;
    return true;
}

/**
 * steer_out_stateless() - steer_out() without the table, for a shard that
 *			   starts no flow of its own (every shard but 0, which
 *			   holds the forwards): only shard 0's answers pass
 * @shard:	the shard that sends it
 * @frame:	the frame
 * @fi:		its classification
 *
 * Safe from any thread: it reads nothing but the frame.
 *
 * Return: false to drop it (another shard's copy of an answer)
 */
bool steer_out_stateless(unsigned int shard, const uint8_t *frame,
                         const struct frame_info *fi)
{
    return shard == 0 || !steer_answer_only(frame, fi);
}

/**
 * steer_gather_stop() - another shard's instance started: new connections
 *			 go by the hash from now on
 * @s:	the table
 *
 * Any thread may call it (a worker starts its shards' instances).
 */
void steer_gather_stop(struct steer *s)
{
    __atomic_store_n(&s->gather_stopped, true, __ATOMIC_RELAXED);
}

/**
 * steer_get_stats() - the table's counters
 * @s:		the table
 * @ret:	filled
 */
void steer_get_stats(const struct steer *s, struct steer_stats *ret)
{
    *ret = s->stats;
    ret->flows = s->n;
}
