/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fwd.h - the port-forward rule table shared by --publish and the API */
#pragma once

#include <libslirp.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "fwd_spec.h"

struct config;
struct splice;
struct udprelay;

/* podman publishes a range as one forward per port: -p 10000-20000 is 10 001 */
#define FWD_MAX_DEFAULT (65536 * 2)
/* libslirp listens with a backlog of 1; every TCP listener gets this instead */
#define FWD_BACKLOG 4096

/* one forward in the table */
struct fwd_rule {
    uint32_t id;                    /* from 1, never reused */
    struct fwd_spec spec;           /* as requested */
    struct sockaddr_storage bound;  /* the listener's real address */
    socklen_t bound_len;
    int fd;                         /* the listener: libslirp's, or splice's */
    enum fwd_path path;             /* the path taken: SPLICE or SLIRP */
    bool ephemeral;                 /* host port 0 was asked for */
    int dirfd;                      /* AF_UNIX: the socket file's directory;
                                     * bound is "/proc/self/fd/DIRFD/NAME" */
    dev_t unix_dev;                 /* AF_UNIX: the socket file we made */
    ino_t unix_ino;
};

struct fwd_table;

int fwd_new(Slirp *slirp, size_t max, struct fwd_table **ret);
void fwd_free(struct fwd_table *t);
void fwd_restrict_unix(struct fwd_table *t);
void fwd_set_splice(struct fwd_table *t, struct splice *sp,
                    enum fwd_path dflt);
void fwd_set_udprelay(struct fwd_table *t, struct udprelay *u);
enum fwd_path fwd_default_path(const struct fwd_table *t);
enum fwd_path fwd_choose_path(const struct fwd_table *t,
                              const struct fwd_spec *spec);
size_t fwd_count_path(const struct fwd_table *t, enum fwd_path path);

bool fwd_full(const struct fwd_table *t);
int fwd_add(struct fwd_table *t, const struct fwd_spec *spec,
            const struct fwd_rule **ret, struct err *e);
int fwd_remove(struct fwd_table *t, uint32_t id);
int fwd_find_listener(const struct fwd_table *t, const struct fwd_spec *spec,
                      int guess, struct sockaddr_storage *ret_bound,
                      socklen_t *ret_len);

size_t fwd_count(const struct fwd_table *t);
size_t fwd_max(const struct fwd_table *t);
uint32_t fwd_next_id(const struct fwd_table *t);
const struct fwd_rule *fwd_get(const struct fwd_table *t, size_t i);
const struct fwd_rule *fwd_find(const struct fwd_table *t, uint32_t id);
const struct fwd_rule *fwd_find_unix_bound(const struct fwd_table *t,
                                           const struct sockaddr_storage *ss);

int fwd_publish(struct fwd_table *t, const char *const *specs, size_t n,
                const struct config *cfg, struct err *e);
void fwd_print(const struct fwd_table *t, FILE *f);
