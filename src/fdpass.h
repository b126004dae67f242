/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdpass.h - pass file descriptors and a fixed-size payload over a UNIX socket (SCM_RIGHTS) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FDPASS_MAX 64   /* descriptors in one message */

/* flags of fdpass_sendmsg() and fdpass_recvmsg() */
#define FDPASS_DONTWAIT 0x1 /* do not wait: -EAGAIN if the socket is not ready */

int fdpass_sendmsg(int sock, const void *data, size_t len, const int *fds,
                   size_t n, int flags);
int fdpass_recvmsg(int sock, void *data, size_t len, int *fds, size_t max,
                   size_t *ret_n, int flags);

int fdpass_send(int sock, int fd, int32_t status);
int fdpass_recv(int sock, int *ret_fd, int32_t *ret_status);
int fdpass_send_fds(int sock, const int *fds, size_t n, int32_t status);
int fdpass_recv_fds(int sock, int *fds, size_t max, size_t *ret_n,
                    int32_t *ret_status);
