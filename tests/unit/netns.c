/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netns.c - helpers the unit tests that run in a private network namespace share */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"

/* CLOCK_MONOTONIC in milliseconds */
int64_t netns_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* bring up lo of the namespace we are in: 0 or a negative errno */
int netns_lo_up(void)
{
    struct ifreq ifr = { .ifr_name = "lo" };
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

    if (fd < 0)
        return -errno;
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        r = -errno;
    ifr.ifr_flags |= IFF_UP;
    if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        r = -errno;
    close(fd);
    return r;
}

/* move into a network namespace of our own (root, or a user namespace of
 * our own) with lo up: 0, or -1 when it cannot (the TAP plan says the
 * test is skipped) */
int netns_private(void)
{
    if (unshare(CLONE_NEWNET) < 0 &&
        unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
        printf("1..0 # SKIP no private network namespace: %s\n",
               strerror(errno));
        return -1;
    }
    if (netns_lo_up() < 0) {
        printf("1..0 # SKIP cannot bring lo up\n");
        return -1;
    }
    return 0;
}

/* how many fds this process has open (not counting the one that reads) */
int netns_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n - 1;
}

/* an ns_fn for ns_call_then(): hands over /dev/null as "the tap" */
int netns_null_fn(void *arg)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    (void)arg;
    return fd < 0 ? -errno : fd;
}

/* a TCP listener on 127.0.0.1, a port the kernel picks; @ret: its address */
int netns_listen_lo(struct sockaddr_in *ret)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    socklen_t len = sizeof(*ret);

    memset(ret, 0, sizeof(*ret));
    ret->sin_family = AF_INET;
    ret->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)ret, sizeof(*ret)) < 0 ||
        listen(fd, 4096) < 0 ||
        getsockname(fd, (struct sockaddr *)ret, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* close @fd with a reset (SO_LINGER 0), not a FIN */
void netns_reset_close(int fd)
{
    struct linger lg = { 1, 0 };

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/* a non-blocking TCP connect() to @ss, under way or done */
int netns_connect(const struct sockaddr_storage *ss, socklen_t len)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);

    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)ss, len) < 0 &&
        errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}
