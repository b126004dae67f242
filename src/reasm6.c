/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reasm6.c - IPv6 fragments from the namespace reassembled for libslirp, which drops them */
/*
 * DOC: Theory of Operation
 *
 * libslirp 4.7's ip6_input() knows no extension header: a fragment goes
 * to its "default" case and is freed, so a UDP datagram the namespace
 * sends over IPv6 larger than its MTU never left it (slirp4netns alike).
 * Its size check compares the payload with if_mtu, which the stack now
 * sets to 65520 whatever the tap's MTU, so a datagram reassembled here
 * goes through libslirp whole, as IPv4 ones do (libslirp reassembles
 * those itself).
 *
 * Only fragments whose fragment header follows the IPv6 header directly
 * are taken (what Linux sends); others go on as they came. A fixed table
 * of REASM6_SLOTS datagrams keyed by source, destination and
 * identification, allocated at the first fragment the namespace sends
 * (most never send one); each slot's buffer (one full datagram) is
 * allocated at its first fragment and freed when the datagram is
 * complete, dropped, evicted (a new datagram takes the oldest slot when
 * all are in use) or timed out (REASM6_TIMEOUT_MS after its first
 * fragment, checked when a fragment arrives). Overlapping fragments drop
 * the whole datagram (RFC 5722), as do a non-final fragment whose length
 * is not a multiple of 8, a payload beyond 65535 bytes and final lengths
 * that disagree. Received data is tracked per 8-byte block. The namespace
 * can fill the table with its own datagrams only: what it costs is
 * bounded by the table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reasm6.h"

#define REASM6_HDR (14 + 40)            /* Ethernet + IPv6 header */
#define REASM6_PAYLOAD_MAX 65535
#define REASM6_BLOCKS ((REASM6_PAYLOAD_MAX + 7) / 8)
#define REASM6_MF 0x0001

struct reasm6_slot {
    bool used;
    bool have_first;        /* the fragment at offset 0 came: headers */
    uint8_t nexthdr;        /* from the first fragment's header */
    uint32_t id;
    struct in6_addr src, dst;
    int64_t start_ms;
    uint32_t total;         /* payload length once the last came, else 0 */
    uint32_t received;      /* payload bytes received */
    uint8_t *buf;           /* REASM6_FRAME_MAX: headers, then payload */
    uint64_t seen[(REASM6_BLOCKS + 63) / 64];
};

struct reasm6 {
    struct reasm6_slot *slot;   /* REASM6_SLOTS, from the first fragment */
    uint8_t *out;           /* the last datagram handed on */
    struct reasm6_stats stats;
};

/**
 * reasm6_new() - an empty reassembly table
 * @ret:	the table; free with reasm6_free()
 *
 * Return: 0 or -ENOMEM
 */
int reasm6_new(struct reasm6 **ret)
{
    struct reasm6 *r = calloc(1, sizeof(*r));

    if (!r)
        return -ENOMEM;
    *ret = r;
    return 0;
}

static void reasm6_release(struct reasm6_slot *s)
{
    free(s->buf);
    memset(s, 0, sizeof(*s));
}

/**
 * reasm6_free() - free the table and every datagram in it
 * @r:	the table, or NULL
 */
void reasm6_free(struct reasm6 *r)
{
    unsigned int i;

    if (!r)
        return;
    for (i = 0; r->slot && i < REASM6_SLOTS; i++)
        reasm6_release(&r->slot[i]);
    free(r->slot);
    free(r->out);
    free(r);
}

const struct reasm6_stats *reasm6_get_stats(const struct reasm6 *r)
{
    return &r->stats;
}

static void reasm6_drop(struct reasm6 *r, struct reasm6_slot *s)
{
    reasm6_release(s);
    r->stats.dropped++;
}

/* the slot of (src, dst, id), a new one, or NULL without memory */
static struct reasm6_slot *reasm6_slot(struct reasm6 *r,
                                       const struct frame_info *fi,
                                       uint32_t id, int64_t now_ms)
{
    struct reasm6_slot *s, *free_s = NULL, *oldest = NULL;
    unsigned int i;

    if (!r->slot && !(r->slot = calloc(REASM6_SLOTS, sizeof(*r->slot))))
        return NULL;
    for (i = 0; i < REASM6_SLOTS; i++) {
        s = &r->slot[i];
        if (s->used && now_ms - s->start_ms > REASM6_TIMEOUT_MS)
            reasm6_drop(r, s);
        if (!s->used) {
            if (!free_s)
                free_s = s;
            continue;
        }
        if (s->id == id && !memcmp(&s->src, &fi->saddr.v6, sizeof(s->src)) &&
            !memcmp(&s->dst, &fi->daddr.v6, sizeof(s->dst)))
            return s;
        if (!oldest || s->start_ms < oldest->start_ms)
            oldest = s;
    }
    if (!free_s) {
        reasm6_drop(r, oldest);
        free_s = oldest;
    }
    s = free_s;
    s->buf = malloc(REASM6_FRAME_MAX);
    if (!s->buf)
        return NULL;
    s->used = true;
    s->id = id;
    s->src = fi->saddr.v6;
    s->dst = fi->daddr.v6;
    s->start_ms = now_ms;
    return s;
}

/* was any of blocks [from, to) received? */
static bool reasm6_any(const struct reasm6_slot *s, size_t from, size_t to)
{
    size_t b;

    for (b = from; b < to; b++)
        if (s->seen[b / 64] & (UINT64_C(1) << (b % 64)))
            return true;
    return false;
}

/**
 * reasm6_add() - take one IPv6 fragment from the namespace
 * @r:		the table
 * @frame:	the frame
 * @fi:		its classification (FRAME_IP6_FRAG)
 * @now_ms:	a monotonic clock, for the timeout
 * @ret_frame:	the reassembled frame when one is complete (valid until the
 *		next call)
 * @ret_len:	its length
 *
 * Return: 1 with a complete datagram in @ret_frame (Ethernet and IPv6
 *	   headers of its first fragment, no fragment header), 0 when the
 *	   fragment was kept or dropped, -EINVAL for a frame this does not
 *	   take (not a fragment right after the IPv6 header): the caller
 *	   passes it on as it is, -ENOMEM
 */
int reasm6_add(struct reasm6 *r, const uint8_t *frame,
               const struct frame_info *fi, int64_t now_ms,
               const uint8_t **ret_frame, size_t *ret_len)
{
    size_t off, dlen, end, b;
    const uint8_t *fh, *data;
    struct reasm6_slot *s;
    uint16_t fo, pl;
    uint32_t id;
    bool more;

    if (fi->cls != FRAME_IP6_FRAG || fi->ip6_ext != 1 ||
        fi->l4off != fi->l3off + 40 + 8 || fi->l3off != 14)
        return -EINVAL;
    fh = frame + fi->l4off - 8;
    fo = (uint16_t)(fh[2] << 8 | fh[3]);
    memcpy(&id, fh + 4, sizeof(id));
    off = fo & ~7u;
    more = fo & REASM6_MF;
    data = frame + fi->l4off;
    dlen = fi->l3off + fi->l3len - fi->l4off;
    end = off + dlen;

    s = reasm6_slot(r, fi, id, now_ms);
    if (!s)
        return -ENOMEM;
    if ((more && (dlen == 0 || dlen % 8)) || end > REASM6_PAYLOAD_MAX ||
        (s->total && end > s->total) || (!more && (s->total || end == 0)) ||
        (!more && reasm6_any(s, (end + 7) / 8, REASM6_BLOCKS)) ||
        reasm6_any(s, off / 8, (end + 7) / 8)) {
        /* lengths that disagree, a second last fragment, an overlap */
        reasm6_drop(r, s);
        return 0;
    }
    for (b = off / 8; b < (end + 7) / 8; b++)
        s->seen[b / 64] |= UINT64_C(1) << (b % 64);
    if (!more)
        s->total = (uint32_t)end;
    memcpy(s->buf + REASM6_HDR + off, data, dlen);
    s->received += (uint32_t)dlen;
    if (off == 0) {
        memcpy(s->buf, frame, REASM6_HDR);
        s->nexthdr = fh[0];
        s->have_first = true;
    }
    if (!s->total || !s->have_first || s->received != s->total)
        return 0;

    if (!r->out) {
        r->out = malloc(REASM6_FRAME_MAX);
        if (!r->out) {
            reasm6_drop(r, s);
            return -ENOMEM;
        }
    }
    pl = htons((uint16_t)s->total);
    memcpy(r->out, s->buf, REASM6_HDR + s->total);
    memcpy(r->out + 14 + 4, &pl, sizeof(pl));
    r->out[14 + 6] = s->nexthdr;
    *ret_frame = r->out;
    *ret_len = REASM6_HDR + s->total;
    reasm6_release(s);
    r->stats.done++;
    return 1;
}
