/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ptraceprobe.c - try PTRACE_SEIZE on each PID given and say what happened (test-ptrace.sh) */
/*
 * Usage: ptraceprobe PID...
 *
 * Prints one line per PID: "PID attached" or "PID ERRNONAME" (EPERM,
 * ESRCH, ...). PTRACE_SEIZE does not stop the tracee; every tracee is
 * detached when this process exits, right after the last line. Exit status
 * 0 unless the arguments are wrong (2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>

int main(int argc, char **argv)
{
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PID...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        char *end;
        long pid = strtol(argv[i], &end, 10);

        if (*end || pid <= 0) {
            fprintf(stderr, "%s: not a PID: %s\n", argv[0], argv[i]);
            return 2;
        }
        if (ptrace(PTRACE_SEIZE, (pid_t)pid, NULL, NULL) == 0)
            printf("%ld attached\n", pid);
        else
            printf("%ld %s\n", pid, strerrorname_np(errno) ?
                   strerrorname_np(errno) : "error");
    }
    return 0;
}
