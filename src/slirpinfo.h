/* SPDX-License-Identifier: GPL-2.0-or-later */
/* slirpinfo.h - one line of libslirp's slirp_connection_info() text */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* "  TCP[ESTABLISHED]   9  10.0.2.100 41234  192.0.2.1    80     0     0" */
struct slirpinfo_conn {
    char proto[16];         /* lower case: "tcp", "udp", "icmp" */
    char state[32];         /* "ESTABLISHED", "HOST_FORWARD", "28 sec" */
    int fd;                 /* libslirp's host socket, or -1 */
    char src[64], sport[16];
    char dst[64], dport[16];    /* ports as text: a number, or "-" */
    long recvq, sendq;
};

bool slirpinfo_parse(const char *line, size_t len, struct slirpinfo_conn *c);
