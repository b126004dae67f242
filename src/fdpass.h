/* fdpass.h - pass a file descriptor and a status over a UNIX socket (SCM_RIGHTS) */
#pragma once

#include <stdint.h>

int fdpass_send(int sock, int fd, int32_t status);
int fdpass_recv(int sock, int *ret_fd, int32_t *ret_status);
