/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fwd_spec.h - port forwards as text: the -p parser, request checks, address formatting */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct config;
struct err;

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

/* the request field a failure is about (struct err.subject): the API's
 * "bad arguments.<field>" */
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

int fwd_spec_path_parse(const char *s, enum fwd_path *ret);
const char *fwd_spec_path_name(enum fwd_path path);
int fwd_spec_family_check(const struct fwd_spec *spec, struct err *e);

int fwd_spec_from_req(const struct fwd_req *req, const struct config *cfg,
                      struct fwd_spec *ret, struct err *e);

const char *fwd_spec_proto_name(enum fwd_proto proto);
int fwd_spec_format_addr(const struct sockaddr_storage *ss, char *buf,
                         size_t len);
int fwd_spec_addr_port(const struct sockaddr_storage *ss);
bool fwd_spec_ip_is_any(const struct sockaddr_storage *ss);
bool fwd_spec_ip_equal(const struct sockaddr_storage *a,
                       const struct sockaddr_storage *b);

int fwd_spec_split_publish(const char *spec, char *buf, size_t buflen,
                           struct fwd_req *ret, struct err *e);
int fwd_spec_parse_publish(const char *spec, const struct config *cfg,
                           struct fwd_spec *ret, struct err *e);
int fwd_spec_publish_check(const char *const *specs, size_t n,
                           const struct config *cfg, struct err *e);
