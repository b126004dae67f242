/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tap.h - /dev/net/tun: create or attach a tap, learn the flags of one we got */
#pragma once

#include <net/if.h>
#include <stddef.h>

struct tap_info {
    char name[IFNAMSIZ];
    unsigned int flags;   /* IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, ... */
};

int tap_open(const char *name, unsigned int flags, int *ret_fd);
int tap_query(int fd, struct tap_info *ret);
int tap_set_nonblock(int fd);
int tap_enable_offload(int fd, unsigned int *ret_offload);
int tap_vnet_hdr_len(int fd, unsigned int flags);
