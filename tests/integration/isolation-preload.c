/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isolation-preload.c - LD_PRELOAD probe for the isolation tests: does things the sandboxed daemon must not */
/*
 * Built by test-seccomp.sh / test-sandbox.sh (cc -shared -fPIC) and preloaded
 * into the daemon, so the shipped binary carries no test hook. What it does
 * is chosen by SLIRPD_PRELOAD_ACTION:
 *
 *   thread    start a thread from a constructor, before main(): the daemon
 *             is multi-threaded from the start (TSYNC and the
 *             single-thread checks are tested with it)
 *   trap      on the first poll() -- the loop's, after isolation -- call
 *             personality(0xffffffff) (a harmless query no allow-list
 *             needs): with --enable-seccomp the daemon must trap and exit
 *   escape    on the first poll(), try unshare(CLONE_NEWUSER) and report
 *             the result on stderr ("preload: unshare(CLONE_NEWUSER) = ...")
 *   dotdot    on the first poll(), for every directory fd the daemon holds,
 *             try to open ../../../../etc/passwd through it and report
 *             ("preload: dirfd N: blocked (ENOENT)" or "... OPENED")
 *
 * Every report line starts with "preload: " and goes to stderr with write(2).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int preload_done;

static void preload_say(const char *s)
{
    ssize_t w = write(STDERR_FILENO, s, strlen(s));
    (void)w;
}

static void *preload_thread(void *arg)
{
    for (;;)
        pause();
    return arg;
}

__attribute__((constructor)) static void preload_init(void)
{
    const char *a = getenv("SLIRPD_PRELOAD_ACTION");
    pthread_t t;

    if (a && !strcmp(a, "thread")) {
        if (pthread_create(&t, NULL, preload_thread, NULL) == 0)
            preload_say("preload: thread started\n");
        else
            preload_say("preload: pthread_create failed\n");
    }
}

static void preload_act(void)
{
    const char *a = getenv("SLIRPD_PRELOAD_ACTION");
    char buf[128];

    if (preload_done || !a)
        return;
    preload_done = 1;
    if (!strcmp(a, "trap")) {
        preload_say("preload: calling personality()\n");
        syscall(SYS_personality, 0xffffffffUL);
        preload_say("preload: personality() returned: not trapped\n");
    } else if (!strcmp(a, "dotdot")) {
        struct stat st;
        int fd, r;

        for (fd = 3; fd < 1024; fd++) {
            if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
                continue;
            r = openat(fd, "../../../../../../../../etc/passwd", O_RDONLY);
            if (r >= 0) {
                snprintf(buf, sizeof(buf), "preload: dirfd %d: OPENED\n", fd);
                close(r);
            } else {
                snprintf(buf, sizeof(buf), "preload: dirfd %d: blocked (%s)\n",
                         fd, strerrorname_np(errno));
            }
            preload_say(buf);
        }
        preload_say("preload: dotdot done\n");
    } else if (!strcmp(a, "escape")) {
        int r = unshare(CLONE_NEWUSER);

        snprintf(buf, sizeof(buf), "preload: unshare(CLONE_NEWUSER) = %d %s\n",
                 r, r < 0 ? strerrorname_np(errno) : "OK");
        preload_say(buf);
    }
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    static int (*real)(struct pollfd *, nfds_t, int);

    if (!real)
        real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
    preload_act();
    return real(fds, n, timeout);
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
          const sigset_t *mask)
{
    static int (*real)(struct pollfd *, nfds_t, const struct timespec *,
                       const sigset_t *);

    if (!real)
        real = (int (*)(struct pollfd *, nfds_t, const struct timespec *,
                        const sigset_t *))dlsym(RTLD_NEXT, "ppoll");
    preload_act();
    return real(fds, n, ts, mask);
}
