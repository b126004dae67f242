/* tap.c - /dev/net/tun: create or attach a tap, learn the flags of one we got */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
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
