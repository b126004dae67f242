/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-ns.c - the children that act inside the namespaces: a deadline on their answer, never dumpable */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "netns.h"
#include "ns.h"
#include "tapout.h"

enum child_kind { CHILD_SLEEPS, CHILD_STOPS, CHILD_ANSWERS, CHILD_EXITS };

/* a child of ns_fork() that does @kind with its end of the socketpair */
static pid_t start_child(enum child_kind kind, int *ret_sock)
{
    pid_t pid = ns_fork(ret_sock);

    if (pid != 0)
        return pid;
    switch (kind) {
    case CHILD_SLEEPS:
        sleep(30);
        break;
    case CHILD_STOPS:
        raise(SIGSTOP);
        break;
    case CHILD_ANSWERS:
        usleep(50 * 1000);
        fdpass_send(*ret_sock, open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
        break;
    case CHILD_EXITS:
        break;
    }
    _exit(0);
}

/* the child is gone or a zombie within 2 s, and reaped here: its status */
static int reap(pid_t pid)
{
    int64_t end = netns_now_ms() + 2000;
    int status = -1;

    while (netns_now_ms() < end) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            return status;
        if (r < 0)
            return -1;
        usleep(10 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void check_deadline(enum child_kind kind, const char *what)
{
    int sock, fd = -1, status;
    int32_t st = 0;
    int64_t t0, dt;
    pid_t pid = start_child(kind, &sock);
    int r;

    t0 = netns_now_ms();
    r = ns_await(sock, pid, 300, &fd, &st);
    dt = netns_now_ms() - t0;
    TAP_OK(r == -ETIMEDOUT, "a child that %s: -ETIMEDOUT (%d)", what, r);
    TAP_OK(dt >= 290 && dt < 3000, "... after the deadline (%lld ms)",
           (long long)dt);
    status = reap(pid);
    TAP_OK(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
           "... and it was killed (status %#x)", status);
    close(sock);
}

/* ns_fn: hands over /dev/null if this child is not dumpable */
static int undumpable_fn(void *arg)
{
    (void)arg;
    if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
        return -EPERM;
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* ns_fn: stops itself, as a process in the namespace could make it */
static int stopped_fn(void *arg)
{
    (void)arg;
    raise(SIGSTOP);
    return -EIO;
}

int main(void)
{
    struct ns ns = { -1, -1, false };
    int sock, fd = -1, status = 0, r;
    int32_t st = -1;
    int64_t t0, dt;
    pid_t pid;

    setvbuf(stdout, NULL, _IOLBF, 0);

    /* ns_await() */
    check_deadline(CHILD_SLEEPS, "sleeps");
    check_deadline(CHILD_STOPS, "is stopped");
    pid = start_child(CHILD_ANSWERS, &sock);
    r = ns_await(sock, pid, 3000, &fd, &st);
    TAP_IS_INT(r, 0, "a child that answers in time: its answer");
    TAP_OK(fd >= 0 && st == 0, "... the fd (%d) and the status word", fd);
    if (fd >= 0)
        close(fd);
    status = reap(pid);
    TAP_OK(status != -1 && WIFEXITED(status), "... and it was left to exit");
    close(sock);
    pid = start_child(CHILD_EXITS, &sock);
    TAP_IS_INT(ns_await(sock, pid, 3000, &fd, &st), -EPIPE,
               "a child that exits without a word: -EPIPE at once");
    reap(pid);
    close(sock);

    /* ns_call(): through the namespaces (our own, private one) */
    if (unshare(CLONE_NEWNET) < 0 &&
        unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
        TAP_OK(true, "# SKIP no private network namespace: %s",
               strerror(errno));
        return tap_done();
    }
    ns.netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    TAP_OK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1,
           "premise: this process is dumpable");
    fd = -1;
    r = ns_call(&ns, undumpable_fn, NULL, &fd, &status);
    TAP_IS_INT(r, 0, "the child that joined the namespaces is not dumpable");
    if (fd >= 0)
        close(fd);
    t0 = netns_now_ms();
    r = ns_call(&ns, stopped_fn, NULL, &fd, &status);
    dt = netns_now_ms() - t0;
    TAP_IS_INT(r, -ETIMEDOUT, "a child stopped inside the namespaces: "
               "-ETIMEDOUT");
    TAP_OK(dt >= NS_ANSWER_TIMEOUT_MS - 10 &&
           dt < NS_ANSWER_TIMEOUT_MS + 3000,
           "... after NS_ANSWER_TIMEOUT_MS (%lld ms)", (long long)dt);
    TAP_OK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
           "... killed and reaped (status %#x)", status);
    close(ns.netns_fd);
    return tap_done();
}
