/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-fdpass.c - unit tests for passing fds and a payload over a socketpair */
/*
 * The receiving side may face a hostile peer: besides what fdpass_sendmsg()
 * sends, a raw sender here sends what it refuses (more descriptors than
 * FDPASS_MAX, in two SCM_RIGHTS headers) and payloads of the wrong size.
 * Every case that refuses a message checks that no descriptor is left
 * open (the count of /proc/self/fd).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "netns.h"
#include "tapout.h"

/* a caller's struct, of a size that is not a multiple of 4 */
struct payload {
    int32_t a;
    char name[13];
};

/* are @x and @y the same open file? */
static bool same_file(int x, int y)
{
    struct stat a, b;

    return fstat(x, &a) == 0 && fstat(y, &b) == 0 && a.st_ino == b.st_ino &&
           a.st_dev == b.st_dev;
}

/*
 * What a hostile peer may send: @len bytes of @data and @n copies of @fd,
 * split over two SCM_RIGHTS headers (fdpass_sendmsg() sends one, and at
 * most FDPASS_MAX). Return: 0 or -errno
 */
static int raw_send(int sock, const void *data, size_t len, int fd, size_t n)
{
    enum { MOST = 2 * FDPASS_MAX };
    union {
        char buf[2 * CMSG_SPACE(sizeof(int) * MOST)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    size_t part[2] = { n / 2, n - n / 2 }, i, k, space = 0;
    struct cmsghdr *cmsg;
    int fds[MOST];

    if (n > MOST)
        return -EINVAL;
    for (i = 0; i < n; i++)
        fds[i] = fd;
    memset(&u, 0, sizeof(u));
    msg.msg_control = u.buf;
    for (k = 0; k < 2; k++)
        if (part[k])
            space += CMSG_SPACE(sizeof(int) * part[k]);
    msg.msg_controllen = space;
    cmsg = CMSG_FIRSTHDR(&msg);
    for (k = 0, i = 0; k < 2 && cmsg; k++) {
        if (!part[k])
            continue;
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * part[k]);
        memcpy(CMSG_DATA(cmsg), fds + i, sizeof(int) * part[k]);
        i += part[k];
        cmsg = CMSG_NXTHDR(&msg, cmsg);
    }
    if (!space)
        msg.msg_control = NULL;
    return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* the status word of fdpass_send() and fdpass_recv(), across fork */
static void test_status(int sv[2], int p[2])
{
    int fd = -1, r;
    int32_t st = 1;
    char buf[8] = "";
    pid_t pid;

    TAP_IS_INT(fdpass_send(sv[0], p[1], 0), 0, "send fd");
    r = fdpass_recv(sv[1], &fd, &st);
    TAP_IS_INT(r, 0, "recv fd");
    TAP_IS_INT(st, 0, "status 0");
    TAP_OK(fd >= 0 && fd != p[1], "a new fd number");
    TAP_OK(same_file(fd, p[1]), "same open file");
    TAP_OK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "received fd is close-on-exec");
    TAP_IS_INT(write(fd, "hi", 2), 2, "write through the passed fd");
    TAP_IS_INT(read(p[0], buf, sizeof(buf)), 2, "read it back");
    TAP_IS_STR(buf, "hi", "data");
    close(fd);

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
}

/* a caller's struct and 0 .. FDPASS_MAX descriptors, in order */
static void test_payload(int sv[2], int p[2])
{
    static const size_t counts[] = { 0, 1, 3, FDPASS_MAX };
    size_t c, i;

    for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
        struct payload out = { .a = (int32_t)(1000 + c), .name = "twelve chars" };
        struct payload in = { 0 };
        int fds[FDPASS_MAX], got[FDPASS_MAX];
        size_t k = counts[c], n = 99;
        int fds0 = netns_count_fds(), bad = 0;

        for (i = 0; i < k; i++)
            fds[i] = p[i % 2];
        TAP_OK(fdpass_sendmsg(sv[0], &out, sizeof(out), fds, k, 0) == 0,
               "payload and %zu fds: sent", k);
        TAP_OK(fdpass_recvmsg(sv[1], &in, sizeof(in), got, FDPASS_MAX, &n,
                              0) == 0, "payload and %zu fds: received", k);
        TAP_OK(n == k, "... %zu came (%zu)", k, n);
        TAP_OK(in.a == out.a && !memcmp(in.name, out.name, sizeof(in.name)),
               "... the payload intact");
        for (i = 0; i < n && i < k; i++)
            bad += !same_file(got[i], p[i % 2]) ||
                   !(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
        TAP_IS_INT(bad, 0, "... each the file sent, in order, close-on-exec");
        for (i = 0; i < n; i++)
            close(got[i]);
        TAP_IS_INT(netns_count_fds(), fds0, "... all closed again");
    }
    {
        int one[1];
        size_t n = 7;
        int32_t v = 5;

        TAP_IS_INT(fdpass_sendmsg(sv[0], &v, sizeof(v), NULL, 0, 0), 0,
                   "payload only");
        TAP_IS_INT(fdpass_recvmsg(sv[1], &v, sizeof(v), one, 1, &n, 0), 0,
                   "payload only: received");
        TAP_IS_INT((int)n, 0, "... no fd");
    }
}

/* more descriptors than asked for: refused, every one closed */
static void test_too_many(int sv[2], int p[2])
{
    struct payload out = { .a = 7, .name = "x" }, in = { 0 };
    int three[3] = { p[0], p[1], p[0] }, got[FDPASS_MAX] = { -1, -1 };
    int fds0 = netns_count_fds(), fd = -1;
    int32_t st = 0;
    size_t n = 9;

    TAP_IS_INT(fdpass_sendmsg(sv[0], &out, sizeof(out), three, 3, 0), 0,
               "3 fds sent");
    TAP_IS_INT(fdpass_recvmsg(sv[1], &in, sizeof(in), got, 2, &n, 0), -EPROTO,
               "2 asked for, 3 came: -EPROTO");
    TAP_IS_INT((int)n, 0, "... none returned");
    TAP_OK(got[0] == -1 && got[1] == -1, "... the caller's array untouched");
    TAP_OK(in.a == 7, "... the payload came in full");
    TAP_IS_INT(netns_count_fds(), fds0, "... none left open");

    TAP_IS_INT(fdpass_send_fds(sv[0], three, 2, 0), 0, "2 fds with a status");
    TAP_IS_INT(fdpass_recv(sv[1], &fd, &st), -EPROTO,
               "fdpass_recv takes one: -EPROTO");
    TAP_IS_INT(fd, -1, "... no fd");
    TAP_IS_INT(netns_count_fds(), fds0, "... none left open");

    TAP_IS_INT(raw_send(sv[0], &out, sizeof(out), p[1], FDPASS_MAX + 5), 0,
               "a peer sends FDPASS_MAX + 5 fds in two headers");
    TAP_IS_INT(fdpass_recvmsg(sv[1], &in, sizeof(in), got, FDPASS_MAX, &n, 0),
               -EPROTO, "... -EPROTO (MSG_CTRUNC)");
    TAP_IS_INT(netns_count_fds(), fds0, "... none left open");

    TAP_IS_INT(raw_send(sv[0], &out, sizeof(out), p[1], 4), 0,
               "a peer sends 4 fds in two headers");
    TAP_IS_INT(fdpass_recvmsg(sv[1], &in, sizeof(in), got, 4, &n, 0), 0,
               "... taken when 4 are asked for");
    TAP_IS_INT((int)n, 4, "... all 4");
    for (; n > 0; n--)
        close(got[n - 1]);
    TAP_IS_INT(fdpass_sendmsg(sv[0], &out, sizeof(out), three,
                              FDPASS_MAX + 1, 0), -EINVAL,
               "sending more than FDPASS_MAX: -EINVAL");
}

/* a payload shorter or longer than asked: refused, its fds closed */
static void test_size(int sv[2], int p[2])
{
    char big[sizeof(struct payload) + 8] = "longer than the payload";
    struct payload in;
    int got[2], fds0 = netns_count_fds();
    size_t n = 3;

    TAP_IS_INT(raw_send(sv[0], big, 4, p[0], 1), 0,
               "a peer sends 4 bytes and an fd");
    TAP_IS_INT(fdpass_recvmsg(sv[1], &in, sizeof(in), got, 2, &n, 0),
               -EMSGSIZE, "... a short payload: -EMSGSIZE");
    TAP_IS_INT((int)n, 0, "... no fd returned");
    TAP_IS_INT(netns_count_fds(), fds0, "... none left open");

    TAP_IS_INT(raw_send(sv[0], big, sizeof(big), p[0], 2), 0,
               "a peer sends a longer payload and 2 fds");
    TAP_IS_INT(fdpass_recvmsg(sv[1], &in, sizeof(in), got, 2, &n, 0),
               -EMSGSIZE, "... a long payload: -EMSGSIZE");
    TAP_IS_INT(netns_count_fds(), fds0, "... none left open");

    TAP_IS_INT(raw_send(sv[0], big, 0, p[0], 1), 0,
               "a peer sends an empty message with an fd");
    TAP_IS_INT(fdpass_recvmsg(sv[1], &in, sizeof(in), got, 2, &n, 0),
               -EMSGSIZE, "... -EMSGSIZE, not end of file");
    TAP_IS_INT(netns_count_fds(), fds0, "... none left open");

    TAP_IS_INT(fdpass_recvmsg(sv[1], &in, 0, NULL, 0, NULL, 0), -EINVAL,
               "an empty payload asked for: -EINVAL");
    TAP_IS_INT(fdpass_recvmsg(sv[1], &in, sizeof(in), got, FDPASS_MAX + 1,
                              &n, 0), -EINVAL, "more than FDPASS_MAX asked "
               "for: -EINVAL");
    TAP_IS_INT(fdpass_recvmsg(sv[1], &in, sizeof(in), NULL, 0, NULL,
                              MSG_PEEK), -EINVAL, "an unknown flag: -EINVAL");
}

/* FDPASS_DONTWAIT: -EAGAIN on either side instead of waiting */
static void test_dontwait(int sv[2])
{
    struct payload m = { .a = 1 };
    int r = 0, i;

    TAP_IS_INT(fdpass_recvmsg(sv[1], &m, sizeof(m), NULL, 0, NULL,
                              FDPASS_DONTWAIT), -EAGAIN,
               "nothing there, FDPASS_DONTWAIT: -EAGAIN");
    for (i = 0; i < 100000 && r == 0; i++)
        r = fdpass_sendmsg(sv[0], &m, sizeof(m), NULL, 0, FDPASS_DONTWAIT);
    TAP_OK(r == -EAGAIN, "a full socket, FDPASS_DONTWAIT: -EAGAIN (after "
           "%d messages; %d)", i - 1, r);
    for (r = 0; r == 0 && i-- > 0;)
        r = fdpass_recvmsg(sv[1], &m, sizeof(m), NULL, 0, NULL,
                           FDPASS_DONTWAIT);
    TAP_IS_INT(r, -EAGAIN, "... all taken again, then -EAGAIN");
}

int main(void)
{
    int sv[2], p[2], fd = -1, r;
    int32_t st = 1;

    TAP_IS_INT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0,
               "socketpair");
    TAP_IS_INT(pipe(p), 0, "pipe");

    test_status(sv, p);
    test_payload(sv, p);
    test_too_many(sv, p);
    test_size(sv, p);
    test_dontwait(sv);

    /* a message, then the peer closes: the message, then -EPIPE */
    TAP_IS_INT(fdpass_send(sv[0], p[0], 3), 0, "a last message");
    close(sv[0]);
    r = fdpass_recv(sv[1], &fd, &st);
    TAP_OK(r == 0 && st == 3 && fd >= 0, "... it comes after the peer "
           "closed");
    close(fd);
    r = fdpass_recv(sv[1], &fd, &st);
    TAP_IS_INT(r, -EPIPE, "then EOF is -EPIPE");
    TAP_IS_INT(fdpass_recvmsg(sv[1], &st, sizeof(st), NULL, 0, NULL,
                              FDPASS_DONTWAIT), -EPIPE,
               "... also with FDPASS_DONTWAIT");
    close(sv[1]);

    /* a bad socket */
    TAP_OK(fdpass_send(-1, p[0], 0) < 0, "send on a bad socket fails");
    close(p[0]);
    close(p[1]);
    return tap_done();
}
