/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdgen.c - a generation per fd number, moved on by every close(): a reused number told from the file it held */
/*
 * DOC: Theory of Operation
 *
 * pollset.c keeps libslirp's sockets in an epoll set across iterations and
 * calls epoll_ctl() only when the events libslirp wants change. libslirp
 * closes its sockets without a reliable word to us: its unregister_poll_fd
 * callback is missing on some paths, and register_poll_fd names the wrong fd
 * for an accepted forward in 4.7 (tcp_connect() passes the old so->s). The
 * kernel drops a closed file from every epoll set by itself, but the next
 * socket() may get the same number: if libslirp then wants the same events
 * on it, nothing would tell the set that this is a new file, and it would
 * never be polled.
 *
 * So the executable defines close() (glibc allows a program to replace its
 * functions; every library's calls go through the definition, as heap.c's
 * malloc() does): it moves the number's generation on, then closes. A poll
 * set records the generation with each registration and registers again
 * when it changed. The counter moves before the file is closed, so no
 * thread can get the number back and read the old generation. glibc's own
 * internal closes (fclose(), closedir()) do not come through here: they
 * never close a file that a poll set registered, only their own.
 *
 * The table is FDGEN_MAX 32-bit counters in zero pages (4 MiB of address
 * space, one resident page per 1024 fd numbers in use). Larger numbers have
 * no generation: fdgen_known() is false for them and a poll set checks them
 * with the kernel every time.
 */
#include <unistd.h>

#include "fdgen.h"

/* glibc's close() under its other exported name */
extern int __close(int fd);

uint32_t fdgen_table[FDGEN_MAX];
uint32_t fdgen_closes;

/* replaces glibc's close() in the whole process */
int close(int fd)
{
    if ((unsigned int)fd < FDGEN_MAX)
        __atomic_add_fetch(&fdgen_table[fd], 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&fdgen_closes, 1, __ATOMIC_RELEASE);
    return __close(fd);
}
