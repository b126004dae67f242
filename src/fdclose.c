/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdclose.c - close every file descriptor but a few: the daemon at start, the splice helper, the hook's waiter */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdclose.h"

/* the fallback for kernels without close_range() (before 5.9) */
static int fdclose_proc(const int *keep, size_t n)
{
    struct dirent *de;
    size_t i;
    DIR *d;

    d = opendir("/proc/self/fd");
    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        bool kept = *end || de->d_name[0] < '0' || de->d_name[0] > '9' ||
                    fd < 3 || fd == dirfd(d);

        for (i = 0; i < n && !kept; i++)
            kept = keep[i] == fd;
        if (!kept)
            close((int)fd);
    }
    closedir(d);
    return 0;
}

/**
 * fdclose_except() - close every fd >= 3 that is not in @keep
 * @keep:	the fds to keep; entries below 3 (and -1) are ignored. The
 *		array is sorted in place.
 * @n:		its length
 *
 * With close_range() (Linux 5.9) for each gap between the kept fds, else
 * by listing /proc/self/fd.
 *
 * Return: 0 or a negative errno (only the fallback can fail)
 */
int fdclose_except(int *keep, size_t n)
{
    unsigned int from = 3;
    size_t i, j;

    for (i = 1; i < n; i++)            /* a few entries: insertion sort */
        for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];

            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    for (i = 0; i <= n; i++) {
        unsigned int to;

        if (i < n && keep[i] < (int)from)
            continue;               /* below 3, or a duplicate */
        to = i < n ? (unsigned int)keep[i] - 1 : ~0U;
        if (to >= from && close_range(from, to, 0) < 0)
            return errno == ENOSYS || errno == EINVAL ?
                   fdclose_proc(keep, n) : -errno;
        if (i < n)
            from = (unsigned int)keep[i] + 1;
    }
    return 0;
}
