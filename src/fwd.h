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

struct config;
struct splice;
struct udprelay;

/* podman publishes a range as one forward per port: -p 10000-20000 is 10 001 */
#define FWD_MAX_DEFAULT (65536 * 2)
/* libslirp listens with a backlog of 1; every TCP listener gets this instead */
#define FWD_BACKLOG 4096

/* struct fwd_req port values that are not ports */
#define FWD_PORT_MISSING (-1)   /* the field was not given */
#define FWD_PORT_INVALID (-2)   /* given, but not an integer in 0..65535 */

enum fwd_proto {
    FWD_TCP,
    FWD_UDP,
};

/* the data path of a forward: libslirp's hostfwd, or ours (splice.c for
 * TCP, udprelay.c for UDP) */
enum fwd_path {
    FWD_PATH_AUTO,      /* the table's default decides (fwd_choose_path()) */
    FWD_PATH_SPLICE,    /* our listener, a socket in the namespace, splice() */
    FWD_PATH_SLIRP,     /* libslirp's listener and TCP/IP stack */
};

/* the request field a validation error is about: "bad arguments.<field>" */
enum fwd_field {
    FWD_FIELD_NONE,
    FWD_FIELD_PROTO,
    FWD_FIELD_HOST_ADDR,
    FWD_FIELD_HOST_PORT,
    FWD_FIELD_GUEST_ADDR,
    FWD_FIELD_GUEST_PORT,
    FWD_FIELD_PATH,
};

/* one forward as a caller gives it: raw, unvalidated */
struct fwd_req {
    const char *proto;          /* "tcp", "udp"; NULL: missing */
    const char *host_addr;      /* NULL/"": 0.0.0.0; IPv4, IPv6, unix:/path */
    int64_t host_port;          /* 0: ephemeral; or FWD_PORT_* */
    const char *guest_addr;     /* NULL or "": cidr+100; IPv4 or IPv6 */
    int64_t guest_port;         /* 1..65535, or FWD_PORT_* */
    const char *path;           /* "auto", "splice", "slirp"; NULL: auto
                                 * with libslirp's family rules (no IPv6 to
                                 * IPv4), for callers without a default */
};

/* one validated forward, ready for libslirp */
struct fwd_spec {
    enum fwd_proto proto;
    struct sockaddr_storage host;   /* AF_INET[6] (port 0: ephemeral), UNIX */
    socklen_t host_len;
    struct sockaddr_storage guest;  /* AF_INET or AF_INET6, port set */
    socklen_t guest_len;
    enum fwd_path path;             /* as asked; AUTO: the table decides */
    bool path_given;                /* asked for by name ("path" given) */
};

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
int fwd_path_parse(const char *s, enum fwd_path *ret);
const char *fwd_path_name(enum fwd_path path);
const char *fwd_family_why(const struct fwd_spec *spec);
size_t fwd_count_path(const struct fwd_table *t, enum fwd_path path);

int fwd_spec_from_req(const struct fwd_req *req, const struct config *cfg,
                      struct fwd_spec *ret, enum fwd_field *ret_field,
                      const char **ret_why);
int fwd_add(struct fwd_table *t, const struct fwd_spec *spec,
            const struct fwd_rule **ret);
int fwd_remove(struct fwd_table *t, uint32_t id);
const char *fwd_strerror(int r);
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

const char *fwd_proto_name(enum fwd_proto proto);
int fwd_format_addr(const struct sockaddr_storage *ss, char *buf, size_t len);
int fwd_addr_port(const struct sockaddr_storage *ss);

int fwd_split_publish(const char *spec, char *buf, size_t buflen,
                      struct fwd_req *ret, const char **ret_why);
int fwd_parse_publish(const char *spec, const struct config *cfg,
                      struct fwd_spec *ret, char *errbuf, size_t errlen);
int fwd_publish_check(const char *const *specs, size_t n,
                      const struct config *cfg, char *errbuf, size_t errlen);
int fwd_publish(struct fwd_table *t, const char *const *specs, size_t n,
                const struct config *cfg, char *errbuf, size_t errlen);
void fwd_print(const struct fwd_table *t, FILE *f);
