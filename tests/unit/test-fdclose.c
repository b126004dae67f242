/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-fdclose.c - fdclose_except(): the kept fds stay, every other fd >= 3 is closed, stdio never */
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "fdclose.h"
#include "tapout.h"

static bool is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

int main(void)
{
    int fds[8], keep[6], i;

    tap_plan(6);
    for (i = 0; i < 8; i++)
        fds[i] = open("/dev/null", O_RDONLY);
    /* unsorted, a duplicate, -1 and stdio in the list */
    keep[0] = fds[5];
    keep[1] = -1;
    keep[2] = fds[1];
    keep[3] = 1;
    keep[4] = fds[5];
    keep[5] = fds[7];
    TAP_IS_INT(fdclose_except(keep, 6), 0, "fdclose_except() succeeds");
    TAP_OK(is_open(fds[1]) && is_open(fds[5]) && is_open(fds[7]),
           "the kept fds stay open");
    TAP_OK(!is_open(fds[0]) && !is_open(fds[2]) && !is_open(fds[3]) &&
           !is_open(fds[4]) && !is_open(fds[6]), "every other one is closed");
    TAP_OK(is_open(0) && is_open(1) && is_open(2),
           "stdio stays, whatever the list holds (-1 included)");
    TAP_IS_INT(fdclose_except(NULL, 0), 0, "nothing to keep");
    TAP_OK(!is_open(fds[1]) && !is_open(fds[5]) && !is_open(fds[7]) &&
           is_open(2), "then only stdio is left");
    return tap_done();
}
