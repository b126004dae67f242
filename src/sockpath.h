/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sockpath.h - UNIX socket files: a held directory, names bound through it, stale files replaced only when dead */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

/* "/proc/self/fd/" + an int's 10 digits + "/" + NAME + NUL fit in sun_path */
#define SOCKPATH_NAME_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - \
                           sizeof("/proc/self/fd/") - 10 - 1)

int sockpath_split(const char *path, char *dir, size_t dirlen,
                   const char **ret_name);
int sockpath_open_dir(const char *dir, bool nofollow, int *ret_fd);
int sockpath_open_dir_walk(const char *dir, int *ret_fd);
int sockpath_at(int dirfd, const char *name, struct sockaddr_un *ret);
int sockpath_clear(int dirfd, const char *name,
                   const struct sockaddr_un *probe);
int sockpath_identify(int dirfd, const char *name, dev_t *ret_dev,
                      ino_t *ret_ino);
bool sockpath_unlink_if(int dirfd, const char *name, dev_t dev, ino_t ino);
