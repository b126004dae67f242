/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tap.c - /dev/net/tun: set a tap up, and move its frames (virtio-net header, offloads) */
/*
 * DOC: Theory of Operation
 *
 * Two halves. The first sets a tap up: tap_open() creates or attaches one
 * (TUNSETIFF), tap_query() learns what a tap that came from elsewhere is,
 * tap_enable_offload() asks for virtio-net headers and the offloads.
 *
 * The second moves frames, for the stack (stack.c) behind it. With a
 * virtio-net header on the tap (--disable-offload leaves it off), each
 * frame read starts with one: tap_read_frames() completes a partial
 * checksum (offload_rx()), classifies the frame once (frame_parse()),
 * passes TCP super-frames (TSO4, TSO6) on whole, cuts only a TCP/IPv6 one
 * larger than libslirp's if_mtu takes into segments (offload_rx_tso6()), counts
 * and drops what is malformed, and hands each frame or segment, header
 * stripped, with its classification to its caller, at most a budget of
 * reads per call so host sockets are not starved. tap_write_frame() puts
 * the header given (a GSO frame's, or "checksum valid") in front of a
 * frame with one writev(); a frame the tap cannot take now is dropped
 * and counted, and TCP retransmits it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frame.h"
#include "offload.h"
#include "tap.h"
#include "util.h"

/* libslirp compares an IPv6 packet's payload, without this, to if_mtu */
#define TAP_IP6_HLEN 40

struct tap {
    int fd;                 /* not owned */
    int vnet_len;           /* virtio-net header before each frame, or 0 */
    uint8_t *buf;           /* one frame as read */
    uint8_t *segbuf;        /* one software-segmented TSO6 segment */
    tap_frame_fn fn;        /* during tap_read_frames(): the caller's */
    void *fn_opaque;
    struct tap_stats stats;
};

/**
 * tap_open() - create a tap, or attach to an existing persistent one
 * @name:	interface name
 * @flags:	TUNSETIFF flags, normally IFF_TAP | IFF_NO_PI
 * @ret_fd:	the tap fd (close-on-exec)
 *
 * Return: 0 or a negative errno
 */
int tap_open(const char *name, unsigned int flags, int *ret_fd)
{
    _cleanup_close_ int fd = -1;
    struct ifreq ifr = { 0 };

    if (strlen(name) >= IFNAMSIZ)
        return -ENAMETOOLONG;
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    strcpy(ifr.ifr_name, name);
    ifr.ifr_flags = (short)flags;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        return -errno;
    *ret_fd = util_take_fd(&fd);
    return 0;
}

/**
 * tap_query() - name and flags of a tap fd that came from elsewhere
 * @fd:		the fd
 * @ret:	name and TUNSETIFF flags
 *
 * Return: 0, -EBADFD if @fd is not attached to a tap, or a negative errno
 */
int tap_query(int fd, struct tap_info *ret)
{
    struct ifreq ifr = { 0 };

    if (ioctl(fd, TUNGETIFF, &ifr) < 0)
        return errno == EINVAL || errno == ENOTTY ? -EBADFD : -errno;
    if (!(ifr.ifr_flags & IFF_TAP))
        return -EBADFD;
    memcpy(ret->name, ifr.ifr_name, IFNAMSIZ);
    ret->name[IFNAMSIZ - 1] = '\0';
    ret->flags = (unsigned short)ifr.ifr_flags;
    return 0;
}

/**
 * tap_set_nonblock() - make reads return EAGAIN instead of blocking
 * @fd:	the tap fd
 *
 * Return: 0 or a negative errno
 */
int tap_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

/**
 * tap_enable_offload() - let the namespace hand us partial checksums and
 *			  TCP/IPv4 super-frames (needs IFF_VNET_HDR)
 * @fd:		the tap fd, opened with IFF_VNET_HDR
 * @ret_offload:	the TUN_F_* flags the kernel accepted (0 if none)
 *
 * Tries CSUM|TSO4|TSO6, then CSUM|TSO4, then CSUM alone, then nothing: a
 * kernel that refuses a flag still gets a working tap. Never UFO/USO (see
 * offload.c).
 *
 * Return: 0 or a negative errno (of TUNSETVNETHDRSZ)
 */
int tap_enable_offload(int fd, unsigned int *ret_offload)
{
    static const unsigned int tries[] = {
        TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
        TUN_F_CSUM | TUN_F_TSO4,
        TUN_F_CSUM,
    };
    int hdrlen = (int)sizeof(struct virtio_net_hdr), le = 1;
    size_t i;

    if (ioctl(fd, TUNSETVNETHDRSZ, &hdrlen) < 0)
        return -errno;
    /* only matters on big-endian hosts; kernels without cross-endian
     * support refuse it, and do not need it on little-endian ones */
    (void)ioctl(fd, TUNSETVNETLE, &le);
    *ret_offload = 0;
    for (i = 0; i < ARRAY_SIZE(tries); i++) {
        if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tries[i]) == 0) {
            *ret_offload = tries[i];
            return 0;
        }
    }
    (void)ioctl(fd, TUNSETOFFLOAD, 0UL);
    return 0;
}

/**
 * tap_vnet_hdr_len() - length of the virtio-net header on each frame
 * @fd:		the tap fd
 * @flags:	its TUNSETIFF flags (from tap_query())
 *
 * Return: 0 without IFF_VNET_HDR, the header length, or a negative errno
 */
int tap_vnet_hdr_len(int fd, unsigned int flags)
{
    int len;

    if (!(flags & IFF_VNET_HDR))
        return 0;
    if (ioctl(fd, TUNGETVNETHDRSZ, &len) < 0)
        return -errno;
    return len;
}

/**
 * tap_new() - frame I/O on a tap
 * @fd:		the non-blocking tap fd (not owned: tap_free() leaves it open)
 * @ret:	the tap; free with tap_free()
 *
 * Frames carry no virtio-net header until tap_set_vnet_hdr().
 *
 * Return: 0 or -ENOMEM
 */
int tap_new(int fd, struct tap **ret)
{
    struct tap *t = calloc(1, sizeof(*t));

    if (!t)
        return -ENOMEM;
    t->fd = fd;
    t->buf = malloc(TAP_FRAME_MAX);
    t->segbuf = malloc(TAP_FRAME_MAX);
    if (!t->buf || !t->segbuf) {
        tap_free(t);
        return -ENOMEM;
    }
    *ret = t;
    return 0;
}

/**
 * tap_free() - free what tap_new() made (the fd stays open)
 * @t:	the tap, or NULL
 */
void tap_free(struct tap *t)
{
    if (!t)
        return;
    free(t->buf);
    free(t->segbuf);
    free(t);
}

/**
 * tap_set_vnet_hdr() - frames on the tap carry a virtio-net header
 * @t:		the tap
 * @len:	its length (tap_vnet_hdr_len(): 10, or 12 with num_buffers),
 *		0 for none
 */
void tap_set_vnet_hdr(struct tap *t, int len)
{
    t->vnet_len = len;
}

/**
 * tap_get_vnet_hdr() - the virtio-net header length tap_set_vnet_hdr() set
 * @t:	the tap
 *
 * Return: the length, 0 for plain frames
 */
int tap_get_vnet_hdr(const struct tap *t)
{
    return t->vnet_len;
}

/**
 * tap_get_stats() - the tap's counters
 * @t:	the tap
 *
 * Return: the counters, updated in place
 */
const struct tap_stats *tap_get_stats(const struct tap *t)
{
    return &t->stats;
}

/* offload_input_fn for the segments of a TSO6 super-frame */
static void tap_input_segment(void *opaque, const uint8_t *frame,
                              const struct frame_info *fi)
{
    struct tap *t = opaque;

    t->stats.rx_frames++;
    t->stats.rx_bytes += fi->len;
    t->fn(t->fn_opaque, frame, fi);
}

/**
 * tap_read_frames() - read frames from the tap and hand them on
 * @t:		the tap
 * @budget:	at most this many frames, so host sockets are not starved
 * @fn:		called with each frame, or each segment of a TSO6
 *		super-frame, without the virtio-net header, and its
 *		classification (frame_parse(), once per frame); it may not
 *		call tap_read_frames()
 * @opaque:	for @fn
 *
 * A frame whose virtio-net header or offsets are bad is dropped and
 * counted (rx_dropped); it still counts against @budget.
 *
 * Return: frames read (>= 0), or a negative errno if the tap failed
 *	   (-EBADFD: the interface is gone)
 */
int tap_read_frames(struct tap *t, unsigned int budget, tap_frame_fn fn,
                    void *opaque)
{
    unsigned int n;

    t->fn = fn;
    t->fn_opaque = opaque;
    for (n = 0; n < budget; n++) {
        ssize_t len = read(t->fd, t->buf, TAP_FRAME_MAX);
        struct frame_info fi;
        uint8_t *frame;

        if (len < 0) {
            if (errno == EINTR) {
                n--;
                continue;
            }
            if (errno == EAGAIN)
                break;
            return -errno;
        }
        if (len == 0)
            return -EBADFD;
        frame = t->buf;
        if (t->vnet_len) {
            const struct virtio_net_hdr *vh = (const void *)t->buf;
            if (len >= t->vnet_len &&
                (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) ==
                    VIRTIO_NET_HDR_GSO_TCPV6) {
                frame += t->vnet_len;
                frame_parse(frame, (size_t)(len - t->vnet_len), &fi);
                if (fi.cls == FRAME_IP6_TCP &&
                    fi.l3len - TAP_IP6_HLEN > OFFLOAD_SLIRP_MTU) {
                    /* more than libslirp's if_mtu takes: cut it */
                    t->stats.rx_gso_frames++;
                    if (offload_rx_tso6(vh, frame, &fi, t->segbuf,
                                        tap_input_segment, t) < 0)
                        t->stats.rx_dropped++;
                    continue;
                }
                frame = t->buf;
            }
            if (len < t->vnet_len ||
                offload_rx((const struct virtio_net_hdr *)t->buf,
                           t->buf + t->vnet_len,
                           (size_t)(len - t->vnet_len)) < 0) {
                t->stats.rx_dropped++;
                continue;
            }
            if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
                t->stats.rx_gso_frames++;
            frame += t->vnet_len;
            len -= t->vnet_len;
        }
        frame_parse(frame, (size_t)len, &fi);
        t->stats.rx_frames++;
        t->stats.rx_bytes += (uint64_t)len;
        fn(opaque, frame, &fi);
    }
    return (int)n;
}

/**
 * tap_write_frame() - write one frame, with its virtio-net header if the
 *		       tap has them
 * @t:		the tap
 * @vh:		the header (ignored without tap_set_vnet_hdr())
 * @buf:	the Ethernet frame
 * @len:	its length
 *
 * A frame the tap cannot take now is dropped and counted (tx_dropped):
 * TCP retransmits it.
 *
 * Return: 0 or the negative errno of the write (-EAGAIN: the tap's queue
 *	   is full)
 */
int tap_write_frame(struct tap *t, const struct virtio_net_hdr *vh,
                    const void *buf, size_t len)
{
    uint8_t hdr[16] = { 0 };
    struct iovec iov[2] = {
        { .iov_base = hdr, .iov_len = (size_t)t->vnet_len },
        { .iov_base = (void *)buf, .iov_len = len },
    };
    ssize_t n;

    if (t->vnet_len)
        memcpy(hdr, vh, sizeof(*vh));
    do
        n = t->vnet_len ? writev(t->fd, iov, 2) : write(t->fd, buf, len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        t->stats.tx_dropped++;
        return -errno;
    }
    t->stats.tx_frames++;
    t->stats.tx_bytes += len;
    return 0;
}
