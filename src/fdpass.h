/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdpass.h - pass file descriptors and a status over a UNIX socket (SCM_RIGHTS) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FDPASS_MAX 4    /* descriptors in one message */

int fdpass_send(int sock, int fd, int32_t status);
int fdpass_recv(int sock, int *ret_fd, int32_t *ret_status);
int fdpass_send_fds(int sock, const int *fds, size_t n, int32_t status);
int fdpass_recv_fds(int sock, int *fds, size_t max, size_t *ret_n,
                    int32_t *ret_status);
