/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-fdpass.c - unit tests for passing fds and status over a socketpair */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "tapout.h"

int main(void)
{
    int sv[2], p[2], fd = -1, r;
    int32_t st = 1;
    char buf[8] = "";
    struct stat a, b;
    pid_t pid;

    TAP_IS_INT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0,
               "socketpair");
    TAP_IS_INT(pipe(p), 0, "pipe");

    /* an fd and status 0 */
    TAP_IS_INT(fdpass_send(sv[0], p[1], 0), 0, "send fd");
    r = fdpass_recv(sv[1], &fd, &st);
    TAP_IS_INT(r, 0, "recv fd");
    TAP_IS_INT(st, 0, "status 0");
    TAP_OK(fd >= 0 && fd != p[1], "a new fd number");
    fstat(fd, &a);
    fstat(p[1], &b);
    TAP_OK(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "same open file");
    TAP_OK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "received fd is close-on-exec");
    TAP_IS_INT(write(fd, "hi", 2), 2, "write through the passed fd");
    TAP_IS_INT(read(p[0], buf, sizeof(buf)), 2, "read it back");
    TAP_IS_STR(buf, "hi", "data");
    close(fd);

    /* status only */
    TAP_IS_INT(fdpass_send(sv[0], -1, -EPERM), 0, "send status only");
    fd = 123;
    r = fdpass_recv(sv[1], &fd, &st);
    TAP_IS_INT(r, 0, "recv status only");
    TAP_IS_INT(st, -EPERM, "status -EPERM");
    TAP_IS_INT(fd, -1, "no fd");

    /* across fork, as ns_call uses it */
    pid = fork();
    if (pid == 0) {
        close(sv[1]);
        _exit(fdpass_send(sv[0], p[0], 0) < 0);
    }
    r = fdpass_recv(sv[1], &fd, &st);
    TAP_IS_INT(r, 0, "recv from a child");
    waitpid(pid, NULL, 0);
    TAP_IS_INT(write(p[1], "x", 1), 1, "write");
    TAP_IS_INT(read(fd, buf, 1), 1, "read through the child's fd");
    close(fd);

    /* several fds in one message, in order; more than asked are closed */
    {
        int three[3] = { p[0], p[1], sv[0] }, got[FDPASS_MAX] = { -1, -1, -1, -1 };
        size_t n = 0;

        TAP_IS_INT(fdpass_send_fds(sv[0], three, 3, 0), 0, "send 3 fds");
        TAP_IS_INT(fdpass_recv_fds(sv[1], got, 3, &n, &st), 0, "recv 3 fds");
        TAP_IS_INT((int)n, 3, "3 came");
        fstat(got[1], &a);
        fstat(p[1], &b);
        TAP_OK(a.st_ino == b.st_ino, "the second is the pipe's write end");
        TAP_IS_INT(write(got[1], "z", 1), 1, "write through it");
        TAP_IS_INT(read(got[0], buf, 1), 1, "read through the first");
        for (r = 0; r < 3; r++)
            close(got[r]);
        TAP_IS_INT(fdpass_send_fds(sv[0], three, 3, 0), 0, "send 3 again");
        TAP_IS_INT(fdpass_recv(sv[1], &fd, &st), 0, "fdpass_recv takes one");
        fstat(fd, &a);
        fstat(p[0], &b);
        TAP_OK(a.st_ino == b.st_ino, "the first one");
        close(fd);
        TAP_IS_INT(fdpass_send_fds(sv[0], three, FDPASS_MAX + 1, 0), -EINVAL,
                   "more than FDPASS_MAX: -EINVAL");
    }

    /* peer closed without a word */
    close(sv[0]);
    r = fdpass_recv(sv[1], &fd, &st);
    TAP_IS_INT(r, -EPIPE, "EOF is -EPIPE");
    close(sv[1]);

    /* a bad socket */
    TAP_OK(fdpass_send(-1, p[0], 0) < 0, "send on a bad socket fails");
    close(p[0]);
    close(p[1]);
    return tap_done();
}
