/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stop-child-preload.c - LD_PRELOAD for test-start-deadline.sh: a process that joins a network namespace stops there */
/*
 * Built by test-start-deadline.sh (cc -shared -fPIC) and preloaded into the
 * daemon, so the shipped binary carries no test hook. Once a process has
 * joined a network namespace with setns() -- in the daemon that is only the
 * child that makes the tap inside the target's namespaces -- it stops itself
 * with SIGSTOP, as a process inside the namespace could stop it, and
 * says so on stderr ("preload: stopped in the namespace").
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

int setns(int fd, int nstype)
{
    static int (*real)(int, int);
    static const char msg[] = "preload: stopped in the namespace\n";
    int r;

    if (!real)
        real = (int (*)(int, int))dlsym(RTLD_NEXT, "setns");
    r = real(fd, nstype);
    if (r == 0 && nstype == CLONE_NEWNET) {
        ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);

        (void)w;
        raise(SIGSTOP);
    }
    return r;
}
