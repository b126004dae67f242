/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netns.h - helpers the unit tests that run in a private network namespace share */
#pragma once

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

int64_t netns_now_ms(void);
int netns_lo_up(void);
int netns_private(void);
int netns_count_fds(void);
int netns_null_fn(void *arg);
int netns_listen_lo(struct sockaddr_in *ret);
int netns_connect(const struct sockaddr_storage *ss, socklen_t len);
void netns_reset_close(int fd);
