/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-timewait.c - which closes end libslirp's TIME_WAIT, and the RST that does it */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "offload.h"
#include "tapout.h"
#include "timewait.h"
#include "util.h"

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

static const uint8_t guest4[4] = { 10, 0, 2, 100 }, remote4[4] = { 10, 0, 2, 2 };
static uint8_t guest6[16] = { 0xfd }, remote6[16] = { 0xfd };

/* an Ethernet frame with one TCP segment; @from_guest picks the direction */
static size_t seg(uint8_t *f, int fam, int from_guest, uint16_t gport,
                  uint16_t rport, uint32_t seq, uint32_t ack, uint8_t flags,
                  size_t plen)
{
    size_t iphl = fam == 4 ? 20 : 40, alen = fam == 4 ? 4 : 16;
    const uint8_t *ga = fam == 4 ? guest4 : guest6, *ra = fam == 4 ? remote4 : remote6;
    uint8_t *ip = f + 14, *tcp = ip + iphl;

    memset(f, 0, 14 + iphl + 20 + plen);
    memset(f, from_guest ? 0x52 : 0x54, 6);   /* dst MAC */
    memset(f + 6, from_guest ? 0x54 : 0x52, 6);
    if (fam == 4) {
        f[12] = 0x08;
        ip[0] = 0x45;
        ip[2] = (uint8_t)((20 + 20 + plen) >> 8);
        ip[3] = (uint8_t)(20 + 20 + plen);
        ip[8] = 64;
        ip[9] = 6;
        memcpy(ip + 12, from_guest ? ga : ra, alen);
        memcpy(ip + 16, from_guest ? ra : ga, alen);
    } else {
        f[12] = 0x86;
        f[13] = 0xdd;
        ip[0] = 0x60;
        ip[4] = (uint8_t)((20 + plen) >> 8);
        ip[5] = (uint8_t)(20 + plen);
        ip[6] = 6;
        ip[7] = 64;
        memcpy(ip + 8, from_guest ? ga : ra, alen);
        memcpy(ip + 24, from_guest ? ra : ga, alen);
    }
    util_put_be16(tcp, from_guest ? gport : rport);
    util_put_be16(tcp + 2, from_guest ? rport : gport);
    util_put_be32(tcp + 4, seq);
    util_put_be32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    return 14 + iphl + 20 + plen;
}

/* the stack's calls: each frame classified once, then noted */
static void note_out(struct timewait *tw, const uint8_t *f, size_t n)
{
    struct frame_info fi;

    frame_parse(f, n, &fi);
    timewait_note_out(tw, &fi);
}

static void note_in(struct timewait *tw, const uint8_t *f, size_t n)
{
    struct frame_info fi;

    frame_parse(f, n, &fi);
    timewait_note_in(tw, f, &fi);
}

static uint8_t got[128];
static size_t got_len;
static int got_n;

static void inject(void *arg, const uint8_t *frame, size_t len)
{
    (void)arg;
    got_n++;
    got_len = len < sizeof(got) ? len : sizeof(got);
    memcpy(got, frame, got_len);
}

/* one's-complement sum over a pseudo-header and the segment: 0 if valid */
static uint16_t tcp_csum_check(const uint8_t *f, int fam)
{
    size_t iphl = fam == 4 ? 20 : 40, alen = fam == 4 ? 4 : 16;
    const uint8_t *ip = f + 14;
    uint8_t pseudo[4] = { 0, 6, 0, 20 };
    uint64_t s = 0;

    s = offload_csum_add(s, ip + (fam == 4 ? 12 : 8), alen);
    s = offload_csum_add(s, ip + (fam == 4 ? 16 : 24), alen);
    s = offload_csum_add(s, pseudo, 4);
    s = offload_csum_add(s, ip + iphl, 20);
    return (uint16_t)~offload_csum_fold(s);
}

static const char *info_tw =
    "  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\n"
    "  TCP[TIME_WAIT]     12       10.0.2.100 40000       10.0.2.2    80     0     0\n"
    "  TCP[ESTABLISHED]   13       10.0.2.100 40001       10.0.2.2    80     0     0\n";

/* libslirp closes first (FIN to the guest, seq 1000 with 5 bytes), the
 * guest's FIN (seq 7000 with 3 bytes) acknowledges it */
static void close_by_slirp(struct timewait *tw, int fam, uint16_t gport)
{
    uint8_t f[256];
    size_t n;

    n = seg(f, fam, 0, gport, 80, 1000, 7000, F_FIN | F_ACK, 5);
    note_out(tw, f, n);
    n = seg(f, fam, 1, gport, 80, 7000, 1006, F_FIN | F_ACK, 3);
    note_in(tw, f, n);
}

/*
 * The table's size: flows one after the other keep it at its first size
 * (a table of the full size has every page touched by their hashes in
 * the end, in every shard); open ones grow it to TIMEWAIT_SLOTS, and
 * entries made before a growth are still found after it.
 */
static void table_size(void)
{
    struct timewait *tw;
    struct timewait_stats st;
    uint8_t f[256];
    unsigned int i, k;
    size_t n;

    if (timewait_new(&tw) < 0)
        abort();
    TAP_IS_INT(timewait_slots(tw), 0, "size: no table before the first flow");
    for (i = 0; i < 5000; i++) {
        close_by_slirp(tw, 4, (uint16_t)(1024 + i));
        n = seg(f, 4, 0, (uint16_t)(1024 + i), 80, 1006, 7004, F_RST, 0);
        note_out(tw, f, n);
    }
    TAP_IS_INT(timewait_slots(tw), TIMEWAIT_SLOTS_MIN,
               "size: 5000 flows one after the other keep the first size");
    for (i = 0; i < 5000; i++)
        close_by_slirp(tw, 4, (uint16_t)(1024 + i));
    TAP_IS_INT(timewait_slots(tw), TIMEWAIT_SLOTS,
               "size: 5000 at once grow it to TIMEWAIT_SLOTS");
    k = timewait_pending(tw);
    timewait_get_stats(tw, &st);
    TAP_OK(k <= TIMEWAIT_SLOTS && k >= TIMEWAIT_SLOTS / 2 &&
           st.dropped == 5000 - k,
           "size: at most TIMEWAIT_SLOTS followed (%u), the rest evicted", k);
    /* the last flow went in at the full size, the first ones when it was
     * small; with all but one listed as open, only a followed one is
     * reset */
    got_n = 0;
    timewait_reap(tw, "  TCP[TIME_WAIT]     12       10.0.2.100  6023       10.0.2.2    80     0     0\n",
                  inject, NULL);
    TAP_IS_INT(got_n, 1, "size: an entry made after the growths is found");
    timewait_free(tw);

    if (timewait_new(&tw) < 0)
        abort();
    close_by_slirp(tw, 4, 1024);
    for (i = 1; i < 1000; i++)
        close_by_slirp(tw, 4, (uint16_t)(1024 + i));
    got_n = 0;
    timewait_reap(tw, "  TCP[TIME_WAIT]     12       10.0.2.100  1024       10.0.2.2    80     0     0\n",
                  inject, NULL);
    TAP_OK(timewait_slots(tw) > TIMEWAIT_SLOTS_MIN && got_n == 1,
           "size: an entry made before the growths (to %u) is found",
           timewait_slots(tw));
    timewait_free(tw);
}

int main(void)
{
    struct timewait *tw;
    struct timewait_stats st;
    uint8_t f[256];
    size_t n;

    guest6[15] = 0x64;
    remote6[15] = 2;
    tap_plan(35);
    TAP_IS_INT(timewait_new(&tw), 0, "a table");

    /* IPv4: the whole close, then the RST */
    close_by_slirp(tw, 4, 40000);
    TAP_IS_INT(timewait_pending(tw), 1, "a close libslirp began and the guest acked is ready");
    got_n = 0;
    timewait_reap(tw, info_tw, inject, NULL);
    TAP_IS_INT(got_n, 1, "its TIME_WAIT socket gets one frame");
    TAP_IS_INT(got_len, 14 + 20 + 20, "an IPv4 TCP segment without options or data");
    TAP_OK(got[14 + 20 + 13] == F_RST, "with only RST set");
    TAP_IS_INT(util_get_be32(got + 14 + 20 + 4), 7000 + 3 + 1,
               "its sequence number is libslirp's rcv_nxt: after the guest's FIN");
    TAP_IS_INT(util_get_be16(got + 14 + 20), 40000, "from the guest's port");
    TAP_IS_INT(util_get_be16(got + 14 + 20 + 2), 80, "to the remote port");
    TAP_OK(!memcmp(got + 14 + 12, guest4, 4) && !memcmp(got + 14 + 16, remote4, 4),
           "from the guest's address to the remote's");
    TAP_OK(got[0] == 0x52 && got[6] == 0x54, "with the guest's Ethernet header");
    TAP_IS_INT(offload_csum_fold(offload_csum_add(0, got + 14, 20)), 0xffff,
               "the IPv4 header checksum is valid");
    TAP_IS_INT(tcp_csum_check(got, 4), 0, "the TCP checksum is valid");
    TAP_IS_INT(timewait_pending(tw), 0, "and the flow is forgotten");

    /* bytes still to drain, or another state: not yet */
    close_by_slirp(tw, 4, 40000);
    got_n = 0;
    timewait_reap(tw, "  TCP[TIME_WAIT]  12  10.0.2.100 40000  10.0.2.2 80  512 0\n", inject, NULL);
    TAP_IS_INT(got_n, 0, "not while libslirp's receive buffer holds bytes for the host");
    timewait_reap(tw, "  TCP[CLOSING]  12  10.0.2.100 40000  10.0.2.2 80  0 0\n", inject, NULL);
    TAP_IS_INT(got_n, 0, "not in another state");
    TAP_IS_INT(timewait_pending(tw), 1, "the flow waits for a later round");
    timewait_reap(tw, info_tw, inject, NULL);
    TAP_IS_INT(got_n, 1, "and is reset once drained");
    close_by_slirp(tw, 4, 40002);
    timewait_reap(tw, info_tw, inject, NULL);
    TAP_IS_INT(timewait_pending(tw), 0, "a socket libslirp no longer lists is forgotten");

    /* closes that must not be touched */
    got_n = 0;
    n = seg(f, 4, 1, 40003, 80, 7000, 1000, F_FIN | F_ACK, 0);
    note_in(tw, f, n);
    TAP_IS_INT(timewait_pending(tw), 0, "the guest closing first is libslirp's LAST_ACK: nothing to do");
    n = seg(f, 4, 0, 40004, 80, 1000, 7000, F_FIN | F_ACK, 0);
    note_out(tw, f, n);
    n = seg(f, 4, 1, 40004, 80, 7000, 1000, F_FIN | F_ACK, 0);
    note_in(tw, f, n);
    TAP_IS_INT(timewait_pending(tw), 0, "a guest FIN that does not ack libslirp's FIN: not yet");
    n = seg(f, 4, 1, 40004, 80, 7001, 1001, F_ACK, 0);
    note_in(tw, f, n);
    TAP_IS_INT(timewait_pending(tw), 1, "the ACK that follows completes the close");
    n = seg(f, 4, 0, 40004, 80, 1001, 7001, F_RST, 0);
    note_out(tw, f, n);
    TAP_IS_INT(timewait_pending(tw), 0, "an RST forgets the flow");
    n = seg(f, 4, 0, 40005, 80, 1000, 7000, F_FIN | F_ACK, 0);
    note_out(tw, f, n);
    n = seg(f, 4, 1, 40005, 80, 7000, 1001, F_ACK, 0);
    note_in(tw, f, n);
    TAP_IS_INT(timewait_pending(tw), 0, "libslirp's FIN acked, the guest still open: nothing to do");

    /* IPv6 */
    close_by_slirp(tw, 6, 40006);
    got_n = 0;
    timewait_reap(tw, "  TCP[TIME_WAIT]  12  1.2.3.4 40006  5.6.7.8 80  0 0\n", inject, NULL);
    TAP_IS_INT(got_n, 1, "IPv6: matched by ports (libslirp 4.7 lists IPv6 addresses wrongly)");
    TAP_OK(got_len == 14 + 40 + 20 && got[12] == 0x86 && got[14 + 40 + 13] == F_RST,
           "IPv6: an RST in an IPv6 frame");
    TAP_IS_INT(tcp_csum_check(got, 6), 0, "IPv6: the TCP checksum is valid");

    /* a libslirp forward: listed by its host port and the guest port */
    close_by_slirp(tw, 4, 81);
    got_n = 0;
    timewait_reap(tw, "  TCP[TIME_WAIT]  12  127.0.0.1 45123  10.0.2.100 81  0 0\n"
                      "  TCP[ESTABLISHED]  14  127.0.0.1 45123  10.0.2.100 81  0 0\n",
                  inject, NULL);
    TAP_IS_INT(got_n, 0, "forward: not while another of its connections is open");
    timewait_reap(tw, "  TCP[TIME_WAIT]  12  127.0.0.1 45123  10.0.2.100 81  0 0\n"
                      "  TCP[HOST_FORWARD]  13  0.0.0.0 45123  10.0.2.100 81  0 0\n",
                  inject, NULL);
    TAP_IS_INT(got_n, 1, "forward: reset once all its connections are in TIME_WAIT");

    timewait_get_stats(tw, &st);
    TAP_OK(st.reaped == 4 && st.deferred == 3 && st.dropped == 1,
           "counted: 4 reset, 3 deferred rounds, 1 given up");
    timewait_free(tw);

    table_size();
    return tap_done();
}
