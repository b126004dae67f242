/* fdpass.c - pass a file descriptor and a status over a UNIX socket (SCM_RIGHTS) */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

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
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = &status, .iov_len = sizeof(status) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    struct cmsghdr *cmsg;
    ssize_t n;

    if (fd >= 0) {
        memset(&u, 0, sizeof(u));
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof(u.buf);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return n == sizeof(status) ? 0 : -EIO;
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
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } u;
    int32_t status = 0;
    struct iovec iov = { .iov_base = &status, .iov_len = sizeof(status) };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
    };
    struct cmsghdr *cmsg;
    int fd = -1;
    ssize_t n;

    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;

    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            size_t i, nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int *fds = (int *)CMSG_DATA(cmsg);
            for (i = 0; i < nfd; i++) {
                int f;
                memcpy(&f, &fds[i], sizeof(f));
                if (fd < 0)
                    fd = f;
                else
                    close(f); /* we asked for one */
            }
        }
    }
    if (n == 0 && fd < 0)
        return -EPIPE;
    if (n != sizeof(status) || (msg.msg_flags & MSG_CTRUNC)) {
        if (fd >= 0)
            close(fd);
        return -EPROTO;
    }
    *ret_fd = fd;
    *ret_status = status;
    return 0;
}
