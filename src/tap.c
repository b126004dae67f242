/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tap.c - /dev/net/tun: create or attach a tap, learn the flags of one we got */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

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
