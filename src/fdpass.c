/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdpass.c - pass file descriptors and a fixed-size payload over a UNIX socket (SCM_RIGHTS) */
/*
 * One message is a payload of a size both sides agree on (a status word, a
 * caller's struct) and up to FDPASS_MAX descriptors. The receiving side may
 * face a hostile peer (a process in the target's namespaces): a message
 * that is not exactly what was asked for is refused as a whole, and every
 * descriptor it carried is closed, so none leaks whatever the peer sends.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

/**
 * fdpass_sendmsg() - send a payload and up to FDPASS_MAX descriptors
 * @sock:	connected UNIX socket (SOCK_SEQPACKET: one message each)
 * @data:	the payload
 * @len:	its size (not 0)
 * @fds:	the descriptors, or NULL with @n 0
 * @n:		how many
 * @flags:	0, or FDPASS_DONTWAIT
 *
 * Without descriptors it is a plain send() (sendto), which the daemon's
 * seccomp filter allows where sendmsg is not.
 *
 * Return: 0, -EINVAL for more than FDPASS_MAX descriptors, -EAGAIN (with
 *	   FDPASS_DONTWAIT), -EIO for a short send, or another negative errno
 */
int fdpass_sendmsg(int sock, const void *data, size_t len, const int *fds,
                   size_t n, int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    int mflags = MSG_NOSIGNAL | (flags & FDPASS_DONTWAIT ? MSG_DONTWAIT : 0);
    struct cmsghdr *cmsg;
    ssize_t r;

    if (n > FDPASS_MAX || (n && !fds) || !len || (flags & ~FDPASS_DONTWAIT))
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
        r = n ? sendmsg(sock, &msg, mflags) : send(sock, data, len, mflags);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    return (size_t)r == len ? 0 : -EIO;
}

/* the descriptors of a received message's SCM_RIGHTS headers: the first
 * @max into @fds (*@ret_n of them), the rest closed. Return: whether any
 * was closed */
static bool fdpass_take_fds(struct msghdr *msg, int *fds, size_t max,
                            size_t *ret_n)
{
    struct cmsghdr *cmsg;
    bool extra = false;
    size_t got = 0, i;

    for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
        size_t nfd;

        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
            cmsg->cmsg_len < CMSG_LEN(0))
            continue;
        nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < nfd; i++) {
            int f;

            memcpy(&f, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(f));
            if (got < max) {
                fds[got++] = f;
            } else {
                close(f);
                extra = true;
            }
        }
    }
    *ret_n = got;
    return extra;
}

/**
 * fdpass_recvmsg() - receive what fdpass_sendmsg() sent, checked
 * @sock:	connected UNIX socket (SOCK_SEQPACKET: one message each)
 * @data:	room for the payload
 * @len:	its size (not 0): a message of another size is refused
 * @fds:	room for @max descriptors (close-on-exec), in the order sent;
 *		NULL with @max 0
 * @max:	the most that may come, at most FDPASS_MAX
 * @ret_n:	how many came (0 on an error); may be NULL with @max 0
 * @flags:	0, or FDPASS_DONTWAIT
 *
 * On an error no descriptor is kept: all that came are closed.
 *
 * Return: 0; -EPIPE if the peer closed (end of file, nothing came);
 *	   -EMSGSIZE if the payload was shorter or longer than @len;
 *	   -EPROTO if more than @max descriptors came, or the kernel had to
 *	   drop some (MSG_CTRUNC): then the payload came in full, in @data;
 *	   -EAGAIN (with FDPASS_DONTWAIT); -EINVAL for bad arguments; or the
 *	   errno of recvmsg()
 */
int fdpass_recvmsg(int sock, void *data, size_t len, int *fds, size_t max,
                   size_t *ret_n, int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
        struct cmsghdr align;
    } u;
    int in[FDPASS_MAX];
    struct iovec iov = { .iov_base = data, .iov_len = len };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
    };
    int mflags = MSG_CMSG_CLOEXEC | (flags & FDPASS_DONTWAIT ? MSG_DONTWAIT : 0);
    size_t got = 0, i;
    bool extra;
    ssize_t n;
    int r = 0;

    if (ret_n)
        *ret_n = 0;
    if (max > FDPASS_MAX || (max && (!fds || !ret_n)) || !len ||
        (flags & ~FDPASS_DONTWAIT))
        return -EINVAL;
    do
        n = recvmsg(sock, &msg, mflags);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    /* every descriptor that came, also beyond @max, is in @in or closed */
    extra = fdpass_take_fds(&msg, in, max, &got);
    if (extra || (msg.msg_flags & MSG_CTRUNC))
        r = -EPROTO;
    if ((size_t)n != len || (msg.msg_flags & MSG_TRUNC))
        r = n == 0 && !got && !extra && !(msg.msg_flags & MSG_CTRUNC) ?
            -EPIPE : -EMSGSIZE;
    if (r < 0) {
        for (i = 0; i < got; i++)
            close(in[i]);
        return r;
    }
    if (got)
        memcpy(fds, in, sizeof(int) * got);
    if (ret_n)
        *ret_n = got;
    return 0;
}

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
    return fdpass_sendmsg(sock, &status, sizeof(status), fds, n, 0);
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
 * @max:	the most that may come, at most FDPASS_MAX
 * @ret_n:	how many came
 * @ret_status:	the sender's status word
 *
 * Return: 0, or a negative errno as fdpass_recvmsg() (-EPIPE: the peer
 *	   closed without sending; -EPROTO: more than @max came, all closed)
 */
int fdpass_recv_fds(int sock, int *fds, size_t max, size_t *ret_n,
                    int32_t *ret_status)
{
    int32_t status = 0;
    int r;

    r = fdpass_recvmsg(sock, &status, sizeof(status), fds, max, ret_n, 0);
    if (r == 0)
        *ret_status = status;
    return r;
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
