/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdpass.c - pass file descriptors and a status over a UNIX socket (SCM_RIGHTS) */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

/**
 * fdpass_send_fds() - send a status word and up to FDPASS_MAX descriptors
 * @sock:	connected UNIX socket
 * @fds:	the descriptors, or NULL with @n 0
 * @n:		how many (0 sends only @status)
 * @status:	0, or a negative errno telling the receiver why there is none
 *
 * Return: 0 or a negative errno (-EINVAL for more than FDPASS_MAX)
 */
int fdpass_send_fds(int sock, const int *fds, size_t n, int32_t status)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = &status, .iov_len = sizeof(status) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    struct cmsghdr *cmsg;
    ssize_t r;

    if (n > FDPASS_MAX)
        return -EINVAL;
    if (n > 0) {
        memset(&u, 0, sizeof(u));
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n);
    }
    do
        r = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    return r == sizeof(status) ? 0 : -EIO;
}

/**
 * fdpass_send() - send a status word and, optionally, a file descriptor
 * @sock:	connected UNIX socket
 * @fd:		descriptor to pass, or -1 to send only @status
 * @status:	0, or a negative errno telling the receiver why there is no fd
 *
 * Return: 0 or a negative errno
 */
int fdpass_send(int sock, int fd, int32_t status)
{
    return fdpass_send_fds(sock, &fd, fd >= 0 ? 1 : 0, status);
}

/**
 * fdpass_recv_fds() - receive what fdpass_send_fds() sent
 * @sock:	connected UNIX socket
 * @fds:	room for @max descriptors (close-on-exec), in the order sent
 * @max:	at most FDPASS_MAX; descriptors beyond it are closed
 * @ret_n:	how many came
 * @ret_status:	the sender's status word
 *
 * Return: 0, -EPIPE if the peer closed without sending, or a negative errno
 */
int fdpass_recv_fds(int sock, int *fds, size_t max, size_t *ret_n,
                    int32_t *ret_status)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * (FDPASS_MAX + 1))];
        struct cmsghdr align;
    } u;
    int32_t status = 0;
    struct iovec iov = { .iov_base = &status, .iov_len = sizeof(status) };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
    };
    struct cmsghdr *cmsg;
    size_t got = 0, i;
    ssize_t n;

    if (max > FDPASS_MAX)
        max = FDPASS_MAX;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;

    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            size_t nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int *in = (int *)CMSG_DATA(cmsg);

            for (i = 0; i < nfd; i++) {
                int f;

                memcpy(&f, &in[i], sizeof(f));
                if (got < max)
                    fds[got++] = f;
                else
                    close(f);   /* more than we asked for */
            }
        }
    }
    if (n == 0 && got == 0)
        return -EPIPE;
    if (n != sizeof(status) || (msg.msg_flags & MSG_CTRUNC)) {
        for (i = 0; i < got; i++)
            close(fds[i]);
        return -EPROTO;
    }
    *ret_n = got;
    *ret_status = status;
    return 0;
}

/**
 * fdpass_recv() - receive what fdpass_send() sent
 * @sock:	connected UNIX socket
 * @ret_fd:	the descriptor (close-on-exec), or -1 if none came
 * @ret_status:	the sender's status word
 *
 * Return: 0, -EPIPE if the peer closed without sending, or a negative errno
 */
int fdpass_recv(int sock, int *ret_fd, int32_t *ret_status)
{
    size_t n = 0;
    int fd = -1, r;

    r = fdpass_recv_fds(sock, &fd, 1, &n, ret_status);
    if (r < 0)
        return r;
    *ret_fd = n ? fd : -1;
    return 0;
}
