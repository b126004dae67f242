/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-tap.c - frames through a tap: the read budget, virtio-net headers, drops, errors */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "offload.h"
#include "tap.h"
#include "tapout.h"

/* the frames the callback saw */
#define SEEN_MAX 16
static size_t seen_len[SEEN_MAX];
static uint8_t seen_first[SEEN_MAX];    /* a frame's byte 14 */
static unsigned int n_seen;
static void *seen_opaque;

static void on_frame(void *opaque, const uint8_t *frame,
                     const struct frame_info *fi)
{
    size_t len = fi->len;

    if (n_seen < SEEN_MAX) {
        seen_len[n_seen] = len;
        seen_first[n_seen] = len > 14 ? frame[14] : 0;
    }
    n_seen++;
    seen_opaque = opaque;
}

/* an Ethernet frame of @len bytes whose byte 14 is @mark */
static void frame_fill(uint8_t *f, size_t len, uint8_t mark)
{
    memset(f, 0xab, len);
    f[12] = 0x08;
    f[13] = 0x00;
    f[14] = mark;
}

/* Ethernet + IPv6 + TCP (20 bytes) + @plen bytes, behind a TSO6 header */
static size_t tso6_fill(uint8_t *buf, int vnet_len, size_t plen, size_t mss)
{
    struct virtio_net_hdr *vh = (struct virtio_net_hdr *)buf;
    uint8_t *f = buf + vnet_len, *ip = f + 14, *th = ip + 40;

    memset(buf, 0, (size_t)vnet_len + 14 + 40 + 20 + plen);
    vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
    vh->gso_size = htole16((uint16_t)mss);
    f[12] = 0x86;
    f[13] = 0xdd;
    ip[0] = 0x60;
    ip[4] = (uint8_t)((20 + plen) >> 8);
    ip[5] = (uint8_t)(20 + plen);
    ip[6] = 6;
    ip[7] = 64;
    ip[23] = 1;
    ip[39] = 2;
    th[12] = 5 << 4;
    th[13] = 0x10;
    return (size_t)vnet_len + 14 + 40 + 20 + plen;
}

static void reset_seen(void)
{
    n_seen = 0;
    seen_opaque = NULL;
    memset(seen_len, 0, sizeof(seen_len));
}

int main(void)
{
    static uint8_t buf[TAP_FRAME_MAX], got[TAP_FRAME_MAX];
    const struct tap_stats *s;
    struct virtio_net_hdr vh;
    struct tap *t, *dir;
    int sv[2], r, i, dfd, marker = 42;
    ssize_t n;

    tap_plan(42);
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   sv) < 0 || tap_new(sv[0], &t) < 0) {
        printf("Bail out! no socketpair or tap\n");
        return 1;
    }
    s = tap_get_stats(t);

    /* --- plain frames: the budget, then EAGAIN */
    TAP_IS_INT(tap_get_vnet_hdr(t), 0, "no virtio-net header at first");
    frame_fill(buf, 60, 1);
    send(sv[1], buf, 60, 0);
    frame_fill(buf, 100, 2);
    send(sv[1], buf, 100, 0);
    frame_fill(buf, 1514, 3);
    send(sv[1], buf, 1514, 0);
    reset_seen();
    TAP_IS_INT(tap_read_frames(t, 2, on_frame, &marker), 2,
               "a budget of 2 reads 2 frames");
    TAP_OK(n_seen == 2 && seen_len[0] == 60 && seen_len[1] == 100 &&
           seen_first[0] == 1 && seen_first[1] == 2,
           "... handed on whole, in order");
    TAP_OK(seen_opaque == &marker, "... with the caller's opaque");
    reset_seen();
    TAP_IS_INT(tap_read_frames(t, 64, on_frame, &marker), 1,
               "the rest: one frame, then EAGAIN ends the call");
    TAP_OK(n_seen == 1 && seen_len[0] == 1514 && seen_first[0] == 3,
           "... the third frame");
    TAP_IS_INT(tap_read_frames(t, 64, on_frame, &marker), 0,
               "nothing queued: 0");
    TAP_IS_INT(s->rx_frames, 3, "rx_frames counts them");
    TAP_IS_INT(s->rx_bytes, 60 + 100 + 1514, "rx_bytes too");

    /* --- plain writes */
    frame_fill(buf, 70, 7);
    TAP_IS_INT(tap_write_frame(t, NULL, buf, 70), 0, "a plain write");
    n = recv(sv[1], got, sizeof(got), 0);
    TAP_OK(n == 70 && !memcmp(got, buf, 70), "... is the frame alone");
    TAP_OK(s->tx_frames == 1 && s->tx_bytes == 70, "tx_frames, tx_bytes");

    /* --- with a virtio-net header */
    tap_set_vnet_hdr(t, (int)sizeof(vh));
    TAP_IS_INT(tap_get_vnet_hdr(t), sizeof(vh), "a 10-byte header now");
    memset(buf, 0, sizeof(vh));
    frame_fill(buf + sizeof(vh), 80, 9);
    send(sv[1], buf, sizeof(vh) + 80, 0);
    reset_seen();
    TAP_IS_INT(tap_read_frames(t, 64, on_frame, NULL), 1, "a framed read");
    TAP_OK(n_seen == 1 && seen_len[0] == 80 && seen_first[0] == 9,
           "... hands on the frame without its header");

    /* a GSO type never advertised (UDP), and a read shorter than the
     * header: dropped and counted, but read */
    ((struct virtio_net_hdr *)buf)->gso_type = VIRTIO_NET_HDR_GSO_UDP;
    send(sv[1], buf, sizeof(vh) + 80, 0);
    send(sv[1], buf, 5, 0);
    reset_seen();
    TAP_IS_INT(tap_read_frames(t, 64, on_frame, NULL), 2,
               "two bad frames are read");
    TAP_IS_INT(n_seen, 0, "... and not handed on");
    TAP_IS_INT(s->rx_dropped, 2, "... but counted as dropped");
    TAP_IS_INT(s->rx_frames, 4, "... not as received");

    /* TCP super-frames go on whole, IPv4 and IPv6 (libslirp's if_mtu
     * takes them); only a TCP/IPv6 one above that is cut */
    memset(buf, 0, sizeof(vh));
    ((struct virtio_net_hdr *)buf)->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    ((struct virtio_net_hdr *)buf)->gso_size = htole16(1400);
    frame_fill(buf + sizeof(vh), 3000, 4);
    send(sv[1], buf, sizeof(vh) + 3000, 0);
    reset_seen();
    TAP_IS_INT(tap_read_frames(t, 64, on_frame, NULL), 1, "a TSO4 frame");
    TAP_OK(n_seen == 1 && seen_len[0] == 3000, "... goes on whole");
    TAP_IS_INT(s->rx_gso_frames, 1, "... counted in rx_gso_frames");
    send(sv[1], buf, tso6_fill(buf, (int)sizeof(vh), 250, 100), 0);
    reset_seen();
    TAP_IS_INT(tap_read_frames(t, 64, on_frame, NULL), 1,
               "a TSO6 frame is one read");
    TAP_OK(n_seen == 1 && seen_len[0] == 74 + 250, "... and goes on whole");
    TAP_IS_INT(s->rx_gso_frames, 2, "... counted in rx_gso_frames");
    TAP_IS_INT(s->rx_frames, 5 + 1, "... and once in rx_frames");
    /* an IPv6 payload of if_mtu + 1: cut */
    send(sv[1], buf,
         tso6_fill(buf, (int)sizeof(vh), OFFLOAD_SLIRP_MTU + 1 - 20, 32000), 0);
    reset_seen();
    TAP_IS_INT(tap_read_frames(t, 64, on_frame, NULL), 1,
               "a TSO6 frame above libslirp's if_mtu is one read");
    TAP_OK(n_seen == 3 && seen_len[0] == 74 + 32000 && seen_len[1] == 74 + 32000 &&
           seen_len[2] == 74 + OFFLOAD_SLIRP_MTU + 1 - 20 - 64000,
           "... cut into three segments");
    TAP_IS_INT(s->rx_gso_frames, 3, "... counted in rx_gso_frames");
    TAP_IS_INT(s->rx_frames, 6 + 3, "... and each segment in rx_frames");
    /* exactly if_mtu: whole */
    send(sv[1], buf,
         tso6_fill(buf, (int)sizeof(vh), OFFLOAD_SLIRP_MTU - 20, 32000), 0);
    reset_seen();
    tap_read_frames(t, 64, on_frame, NULL);
    TAP_OK(n_seen == 1 && seen_len[0] == 54 + OFFLOAD_SLIRP_MTU,
           "a TSO6 frame of exactly libslirp's if_mtu goes on whole");
    /* one above it that cannot be cut (gso_size 1) */
    send(sv[1], buf,
         tso6_fill(buf, (int)sizeof(vh), OFFLOAD_SLIRP_MTU + 1 - 20, 1), 0);
    reset_seen();
    tap_read_frames(t, 64, on_frame, NULL);
    TAP_OK(n_seen == 0 && s->rx_dropped == 3,
           "a TSO6 frame above it that cannot be cut is dropped");

    /* --- writes with a header: 10 bytes, or 12 (num_buffers zeroed) */
    memset(&vh, 0, sizeof(vh));
    vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    frame_fill(buf, 90, 8);
    TAP_IS_INT(tap_write_frame(t, &vh, buf, 90), 0, "a framed write");
    n = recv(sv[1], got, sizeof(got), 0);
    TAP_OK(n == 10 + 90 && !memcmp(got, &vh, 10) && !memcmp(got + 10, buf, 90),
           "... is the header, then the frame");
    tap_set_vnet_hdr(t, 12);
    tap_write_frame(t, &vh, buf, 90);
    n = recv(sv[1], got, sizeof(got), 0);
    TAP_OK(n == 12 + 90 && !memcmp(got, &vh, 10) && got[10] == 0 &&
           got[11] == 0 && !memcmp(got + 12, buf, 90),
           "a 12-byte header: num_buffers 0");
    TAP_OK(s->tx_frames == 3 && s->tx_bytes == 70 + 90 + 90,
           "tx_bytes counts frames, not headers");

    /* --- a full tap: the frame is dropped and counted */
    for (i = 0, r = 0; i < 100000 && r == 0; i++)
        r = tap_write_frame(t, &vh, buf, 1500);
    TAP_IS_INT(r, -EAGAIN, "a full queue: -EAGAIN");
    TAP_IS_INT(s->tx_dropped, 1, "... and the frame counted as dropped");
    while (recv(sv[1], got, sizeof(got), 0) > 0)
        ;

    /* --- a read of 0 bytes: the interface is gone */
    send(sv[1], buf, 0, 0);
    TAP_IS_INT(tap_read_frames(t, 64, on_frame, NULL), -EBADFD,
               "a read of 0 bytes: -EBADFD");
    tap_free(t);

    /* --- any other read error comes back as it is */
    dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || tap_new(dfd, &dir) < 0) {
        printf("Bail out! no directory fd or tap\n");
        return 1;
    }
    TAP_OK(tap_get_vnet_hdr(dir) == 0, "a tap on a directory fd");
    TAP_IS_INT(tap_read_frames(dir, 64, on_frame, NULL), -EISDIR,
               "a failed read: its errno");
    tap_free(dir);
    TAP_OK(fcntl(dfd, F_GETFD) >= 0, "tap_free() leaves the fd open");
    close(dfd);
    close(sv[0]);
    close(sv[1]);
    return tap_done();
}
