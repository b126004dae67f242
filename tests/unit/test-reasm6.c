/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-reasm6.c - unit tests for reassembling IPv6 fragments from the namespace */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "offload.h"
#include "reasm6.h"
#include "tapout.h"

#define MAXF 70000
#define MAXFRAG 64

static struct frag {
    uint8_t f[1600];
    size_t len;
} frags[MAXFRAG];
static unsigned int nfrag;

static void on_frag(void *opaque, const uint8_t *f, size_t len)
{
    if (nfrag < MAXFRAG && len <= sizeof(frags[0].f)) {
        memcpy(frags[nfrag].f, f, len);
        frags[nfrag].len = len;
    }
    nfrag++;
}

/* an IPv6 UDP datagram with @plen payload bytes from fd00::100 */
static size_t build6(uint8_t *f, size_t plen, uint8_t seed)
{
    uint8_t *ip = f + 14, *uh = ip + 40;
    size_t i;

    memset(f, 0, 14 + 48);
    f[0] = 0x52; f[6] = 0x9a;
    f[12] = 0x86;
    f[13] = 0xdd;
    ip[0] = 0x60;
    ip[4] = (uint8_t)((8 + plen) >> 8);
    ip[5] = (uint8_t)(8 + plen);
    ip[6] = 17;
    ip[7] = 64;
    ip[8] = 0xfd; ip[23] = 0x64;
    ip[24] = 0xfd; ip[39] = 0x02;
    uh[0] = 0x9c; uh[1] = 0x40; uh[2] = 0x00; uh[3] = 0x35;
    uh[4] = (uint8_t)((8 + plen) >> 8);
    uh[5] = (uint8_t)(8 + plen);
    uh[6] = 0x12; uh[7] = 0x34;         /* not checked here */
    for (i = 0; i < plen; i++)
        uh[8 + i] = (uint8_t)(seed + i * 13 + (i >> 9));
    return 14 + 48 + plen;
}

/* cut @f into fragments of at most @mtu with identification @id */
static unsigned int cut(const uint8_t *f, size_t len, size_t mtu, uint32_t id)
{
    static uint8_t scratch[MAXF];
    struct frame_info fi;

    nfrag = 0;
    frame_parse(f, len, &fi);
    offload_tx_fit(f, &fi, mtu, id, scratch, on_frag, NULL);
    return nfrag;
}

static int add(struct reasm6 *r, unsigned int i, int64_t now,
               const uint8_t **out, size_t *olen)
{
    struct frame_info fi;

    frame_parse(frags[i].f, frags[i].len, &fi);
    return reasm6_add(r, frags[i].f, &fi, now, out, olen);
}

/* feed fragments in @order; 1 if the result is @f exactly, after the last only */
static int feed(struct reasm6 *r, const uint8_t *f, size_t len,
                const unsigned int *order, unsigned int n, int64_t now)
{
    const uint8_t *out = NULL;
    size_t olen = 0;
    unsigned int i;
    int ret;

    for (i = 0; i < n; i++) {
        ret = add(r, order[i], now, &out, &olen);
        if (ret != (i + 1 == n ? 1 : 0))
            return 0;
    }
    return olen == len && !memcmp(out, f, len);
}

int main(void)
{
    static uint8_t f[MAXF], g[MAXF];
    unsigned int order[MAXFRAG], n, i;
    const uint8_t *out;
    struct reasm6 *r;
    struct frame_info fi;
    size_t len, olen, sizes[] = { 1453, 1500, 3000, 8000, 65527 - 40 - 8 };
    unsigned int k;

    TAP_IS_INT(reasm6_new(&r), 0, "a table");

    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        len = build6(f, sizes[k], (uint8_t)k);
        n = cut(f, len, 1500, 100 + k);
        for (i = 0; i < n; i++)
            order[i] = i;
        TAP_OK(n >= 2 && n <= MAXFRAG && feed(r, f, len, order, n, 0),
               "UDP payload %zu in %u fragments, in order: the datagram as sent",
               sizes[k], n);
        for (i = 0; i < n; i++)
            order[i] = n - 1 - i;
        TAP_OK(feed(r, f, len, order, n, 0),
               "... in reverse order: the same");
    }

    /* interleaved datagrams from one source */
    len = build6(f, 3000, 1);
    build6(g, 3000, 2);
    n = cut(f, len, 1500, 7);
    {
        struct frag a[3], b[3];
        int ok = 1;

        memcpy(a, frags, sizeof(a));
        cut(g, len, 1500, 8);
        memcpy(b, frags, sizeof(b));
        for (i = 0; i < 3; i++) {
            int want = i == 2;

            frame_parse(a[i].f, a[i].len, &fi);
            ok &= reasm6_add(r, a[i].f, &fi, 0, &out, &olen) == want;
            if (want)
                ok &= olen == len && !memcmp(out, f, len);
            frame_parse(b[i].f, b[i].len, &fi);
            ok &= reasm6_add(r, b[i].f, &fi, 0, &out, &olen) == want;
            if (want)
                ok &= olen == len && !memcmp(out, g, len);
        }
        TAP_OK(n == 3 && ok, "two datagrams interleaved: both");
    }

    /* an atomic fragment (offset 0, no M): handed on at once */
    len = build6(f, 3000, 3);
    cut(f, len, 1500, 9);
    frags[0].f[14 + 40 + 3] = 0;         /* clear M */
    frags[0].f[14 + 5] = (uint8_t)(frags[0].len - 54);
    frags[0].f[14 + 4] = (uint8_t)((frags[0].len - 54) >> 8);
    TAP_IS_INT(add(r, 0, 0, &out, &olen), 1, "an atomic fragment: a datagram");
    TAP_OK(olen == frags[0].len - 8 && out[14 + 6] == 17 &&
           !memcmp(out + 54, frags[0].f + 62, olen - 54),
           "... without its fragment header");

    /* overlaps and duplicates drop the datagram */
    len = build6(f, 3000, 4);
    n = cut(f, len, 1500, 10);
    {
        const struct reasm6_stats *s = reasm6_get_stats(r);
        uint64_t d0 = s->dropped;

        TAP_IS_INT(add(r, 0, 0, &out, &olen), 0, "first fragment kept");
        TAP_IS_INT(add(r, 0, 0, &out, &olen), 0, "... the same again");
        TAP_IS_INT(add(r, 1, 0, &out, &olen), 0, "... the second");
        TAP_IS_INT(add(r, 2, 0, &out, &olen), 0, "... the last: nothing, the datagram was dropped");
        TAP_OK(s->dropped >= d0 + 1, "... and counted");
    }
    /* a later fragment that overlaps an earlier one by 8 bytes */
    len = build6(f, 3000, 5);
    n = cut(f, len, 1500, 11);
    {
        uint8_t *fh = frags[1].f + 54;
        unsigned int fo = (unsigned int)(fh[2] << 8 | fh[3]);

        fo -= 8;
        fh[2] = (uint8_t)(fo >> 8);
        fh[3] = (uint8_t)fo;
        TAP_OK(add(r, 0, 0, &out, &olen) == 0 && add(r, 1, 0, &out, &olen) == 0 &&
               add(r, 2, 0, &out, &olen) == 0, "an overlap by 8 bytes: no datagram");
    }
    /* a middle fragment whose length is no multiple of 8 */
    len = build6(f, 3000, 6);
    n = cut(f, len, 1500, 12);
    frags[0].len -= 3;
    frags[0].f[14 + 5] = (uint8_t)(frags[0].f[14 + 5] - 3);
    TAP_OK(add(r, 0, 0, &out, &olen) == 0 && add(r, 1, 0, &out, &olen) == 0 &&
           add(r, 2, 0, &out, &olen) == 0,
           "a non-final fragment of 8n-3 bytes: no datagram");
    /* beyond 65535 bytes of payload */
    len = build6(f, 3000, 7);
    n = cut(f, len, 1500, 13);
    frags[2].f[54 + 2] = 0xff;
    frags[2].f[54 + 3] = 0xf8;
    TAP_OK(add(r, 0, 0, &out, &olen) == 0 && add(r, 1, 0, &out, &olen) == 0 &&
           add(r, 2, 0, &out, &olen) == 0,
           "a fragment ending beyond 65535: no datagram");

    /* a full table evicts the oldest; a datagram times out */
    len = build6(f, 3000, 8);
    for (k = 0; k <= REASM6_SLOTS; k++) {
        cut(f, len, 1500, 200 + k);
        add(r, 0, (int64_t)k, &out, &olen);
    }
    cut(f, len, 1500, 200);
    TAP_OK(add(r, 1, 100, &out, &olen) == 0 && add(r, 2, 100, &out, &olen) == 0,
           "%d datagrams begun: the oldest was evicted", REASM6_SLOTS + 1);
    cut(f, len, 1500, 200 + REASM6_SLOTS);
    TAP_OK(add(r, 1, 100, &out, &olen) == 0 && add(r, 2, 100, &out, &olen) == 1 &&
           olen == len && !memcmp(out, f, len), "... the newest completes");
    cut(f, len, 1500, 201);
    TAP_OK(add(r, 1, REASM6_TIMEOUT_MS + 10, &out, &olen) == 0 &&
           add(r, 2, REASM6_TIMEOUT_MS + 10, &out, &olen) == 0,
           "a datagram older than %d ms: timed out", REASM6_TIMEOUT_MS);

    /* not taken: a fragment behind another extension header, not a fragment */
    len = build6(f, 100, 9);
    frame_parse(f, len, &fi);
    TAP_IS_INT(reasm6_add(r, f, &fi, 0, &out, &olen), -EINVAL, "not a fragment: not taken");

    reasm6_free(r);
    return tap_done();
}
