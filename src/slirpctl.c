/* SPDX-License-Identifier: GPL-2.0-or-later */
/* slirpctl.c - command-line client for the API socket (slirpd, slirp4netns) */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "build-config.h"
#include "commit.h"
#include "err.h"
#include "fwd_spec.h"
#include "json.h"
#include "policy_rule.h"
#include "util.h"

#define CTL_REPLY_MAX (64 * 1024 * 1024)
#define CTL_EXIT_ERROR 1
#define CTL_EXIT_USAGE 2

struct ctl {
    const char *socket;
    bool json;
    int timeout_ms;
};

static void ctl_usage(FILE *f)
{
    fputs(
"Usage: slirpctl [OPTION]... COMMAND [ARG]...\n"
"Talk to the API socket of slirpd (or slirp4netns).\n"
"\n"
"Commands:\n"
"  add [--guest-addr=ADDR] SPEC\n"
"        forward a host port; SPEC as --publish:\n"
"        [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp], [::1]:8080:80,\n"
"        unix:/PATH:GUESTPORT; HOSTPORT 0 picks a free port\n"
"  add [--guest-addr=ADDR] tcp|udp HOST GUEST\n"
"        the same in three words: HOST is [ADDR:]PORT, [IPv6]:PORT or\n"
"        unix:/PATH, GUEST is [ADDR:]PORT or [IPv6]:PORT\n"
"  list                  the forwards\n"
"  remove ID...          remove forwards\n"
"  info                  version, configuration, counters\n"
"  connections           connections (libslirp's and spliced) and neighbours\n"
"  shutdown              stop the daemon (it exits 0 after replying)\n"
"  policy                the egress rules, their origins and hit counters\n"
"  policy set [--reset] [allow=RULE|deny=RULE]...\n"
"        replace every rule at once (deny=all: default deny; none: allow\n"
"        everything); RULE is [tcp|udp|icmp:]ADDR[/LEN][:PORT[-PORT]],\n"
"        [IPv6]:PORT, any, host-loopback, dns or metadata; --reset also\n"
"        ends open flows the new rules deny\n"
"  raw JSON              send JSON as is, print the reply\n"
"\n"
"Options:\n"
"  -a, --api-socket=PATH   the socket (default: $SLIRPD_API_SOCKET)\n"
"  -j, --json              print the daemon's JSON reply as is\n"
"  -t, --timeout=SECONDS   give up after this long (default 10)\n"
"  -h, --help              show this help and exit\n"
"  -v, --version           show the version and exit\n"
"\n"
"Exit status: 0 success, 1 the daemon refused or could not be reached,\n"
"2 usage.\n",
        f);
}

static int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int ctl_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("slirpctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_EXIT_ERROR;
}

/* a formatted string, for free(); like glib's allocator, no NULL: abort */
static char *ctl_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *ctl_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    return s;
}

static int64_t ctl_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait for @events on @fd until @deadline; -ETIMEDOUT past it */
static int ctl_wait(int fd, short events, int64_t deadline)
{
    struct pollfd p = { .fd = fd, .events = events };
    int64_t left;
    int n;

    for (;;) {
        left = deadline - ctl_now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

/*
 * One request the way podman and RootlessKit send it: the JSON and a
 * newline, shutdown(SHUT_WR), then read to EOF.
 */
static int ctl_request(const struct ctl *c, const char *req, char **ret_reply)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int64_t deadline = ctl_now_ms() + c->timeout_ms;
    _cleanup_close_ int fd = -1;
    _cleanup_free_ char *msg = ctl_printf("%s\n", req);
    _cleanup_free_ char *reply = NULL;
    size_t off = 0, len = strlen(msg), used = 0;
    char buf[65536];
    int r;

    if (strlen(c->socket) >= sizeof(sun.sun_path))
        return -ENAMETOOLONG;
    strcpy(sun.sun_path, c->socket);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        if (errno != EINPROGRESS && errno != EAGAIN)
            return -errno;
        r = ctl_wait(fd, POLLOUT, deadline);
        if (r < 0)
            return r;
    }
    while (off < len) {
        ssize_t n = send(fd, msg + off, len - off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -errno;
            r = ctl_wait(fd, POLLOUT, deadline);
            if (r < 0)
                return r;
            continue;
        }
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n > 0) {
            char *p;

            if (used + (size_t)n > CTL_REPLY_MAX)
                return -EMSGSIZE;
            p = realloc(reply, used + (size_t)n + 1);
            if (!p)
                return -ENOMEM;
            reply = p;
            memcpy(reply + used, buf, (size_t)n);
            used += (size_t)n;
            reply[used] = '\0';
            continue;
        }
        if (n == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -errno;
        r = ctl_wait(fd, POLLIN, deadline);
        if (r < 0)
            return r;
    }
    *ret_reply = reply ? reply : strdup("");
    reply = NULL;
    return *ret_reply ? 0 : -ENOMEM;
}

#define CTL_JSON_DEPTH 32

/* the string member @key of @o, or NULL */
static const char *ctl_str(const struct json_value *o, const char *key)
{
    const struct json_value *n = json_member(o, key);

    return n && n->type == JSON_STRING ? n->u.s : NULL;
}

static const char *ctl_strd(const struct json_value *o, const char *key,
                            const char *dflt)
{
    const char *s = ctl_str(o, key);

    return s ? s : dflt;
}

/* the member @key of @o if it is of @type */
static const struct json_value *ctl_typed(const struct json_value *o,
                                          const char *key, enum json_type type)
{
    const struct json_value *n = json_member(o, key);

    return n && n->type == type ? n : NULL;
}

/* the reply as an object (for json_free()); a daemon error is printed,
 * and gives NULL */
static struct json_value *ctl_parse(const char *reply, int *ret_status)
{
    const struct json_value *e;
    struct json_value *root;

    *ret_status = CTL_EXIT_ERROR;
    if (!*reply) {
        ctl_fail("the daemon closed the connection without a reply");
        return NULL;
    }
    root = json_parse(reply, strlen(reply), CTL_JSON_DEPTH);
    if (!root || root->type != JSON_OBJECT) {
        json_free(root);
        ctl_fail("unexpected reply: %s", reply);
        return NULL;
    }
    if (json_member(root, "error")) {
        e = ctl_typed(root, "error", JSON_OBJECT);
        if (ctl_str(e, "desc"))
            ctl_fail("%s", ctl_str(e, "desc"));
        else
            ctl_fail("the daemon says: %s", reply);
        json_free(root);
        return NULL;
    }
    *ret_status = 0;
    return root;
}

static int64_t ctl_int(const struct json_value *o, const char *key,
                       int64_t dflt)
{
    const struct json_value *n = json_member(o, key);

    if (n && n->type == JSON_INT)
        return n->u.i;
    if (n && n->type == JSON_DOUBLE)
        return (int64_t)n->u.d;
    return dflt;
}

/* "addr:port", "[v6]:port", "unix:/path" */
static char *ctl_endpoint(const char *addr, int64_t port)
{
    if (!addr)
        return ctl_printf("?:%" PRId64, port);
    if (!strncmp(addr, "unix:", 5))
        return ctl_printf("%s", addr);
    if (strchr(addr, ':'))
        return ctl_printf("[%s]:%" PRId64, addr, port);
    return ctl_printf("%s:%" PRId64, addr, port);
}

/* one request; its reply, parsed, in *@ret_obj (json_free()), or NULL */
static int ctl_send(const struct ctl *c, const char *req,
                    struct json_value **ret_obj, char **ret_reply)
{
    int r, status;

    *ret_obj = NULL;
    r = ctl_request(c, req, ret_reply);
    if (r == -ETIMEDOUT)
        return ctl_fail("%s: no reply within %d s", c->socket,
                        c->timeout_ms / 1000);
    if (r < 0)
        return ctl_fail("cannot talk to the API socket %s: %s", c->socket,
                        strerror(-r));
    if (c->json)
        printf("%s\n", *ret_reply);
    *ret_obj = ctl_parse(*ret_reply, &status);
    return status;
}

/* the JSON of an add_hostfwd request from the raw fields */
static char *ctl_add_json(const struct fwd_req *req)
{
    struct json_writer w;

    json_writer_init(&w);
    json_begin_object(&w);
    json_key(&w, "execute");
    json_str(&w, "add_hostfwd");
    json_key(&w, "arguments");
    json_begin_object(&w);
    json_key(&w, "proto");
    json_str(&w, req->proto);
    json_key(&w, "host_addr");
    json_str(&w, req->host_addr ? req->host_addr : "");
    if (req->host_port >= 0) {
        json_key(&w, "host_port");
        json_int(&w, req->host_port);
    }
    json_key(&w, "guest_addr");
    json_str(&w, req->guest_addr ? req->guest_addr : "");
    json_key(&w, "guest_port");
    json_int(&w, req->guest_port);
    json_end_object(&w);
    json_end_object(&w);
    return json_writer_finish(&w, NULL);
}

/* "[ADDR:]PORT" or "[IPv6]:PORT" into an address (maybe NULL) and a port */
static bool ctl_split_endpoint(char *s, const char **ret_addr, char **ret_port)
{
    char *colon;

    *ret_addr = NULL;
    if (s[0] == '[') {
        char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return false;
        *close = '\0';
        *ret_addr = s + 1;
        *ret_port = close + 2;
        return true;
    }
    colon = strrchr(s, ':');
    if (!colon) {
        *ret_port = s;
        return true;
    }
    *colon = '\0';
    if (strchr(s, ':'))
        return false;
    *ret_addr = s;
    *ret_port = colon + 1;
    return true;
}

static int ctl_add(const struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "guest-addr", required_argument, NULL, 'g' },
        { NULL, 0, NULL, 0 },
    };
    _cleanup_free_ char *spec = NULL, *buf = NULL, *req_json = NULL;
    _cleanup_free_ char *reply = NULL, *guest_copy = NULL;
    const char *guest_addr = NULL;
    struct fwd_req req;
    struct err e;
    struct json_value *o = NULL;
    const struct json_value *ret;
    int opt, status;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "+g:", opts, NULL)) != -1) {
        if (opt != 'g') {
            ctl_usage(stderr);
            return CTL_EXIT_USAGE;
        }
        guest_addr = optarg;
    }
    argc -= optind;
    argv += optind;

    if (argc == 1) {
        spec = ctl_printf("%s", argv[0]);
    } else if (argc == 3) {
        const char *gaddr;
        char *gport;

        /* tcp|udp HOST GUEST -> HOST:GUESTPORT/PROTO (+ the guest address) */
        guest_copy = ctl_printf("%s", argv[2]);
        if (!ctl_split_endpoint(guest_copy, &gaddr, &gport)) {
            fprintf(stderr, "slirpctl: add: bad GUEST %s: expected [ADDR:]PORT "
                    "or [IPv6]:PORT\n", argv[2]);
            return CTL_EXIT_USAGE;
        }
        if (gaddr && !guest_addr)
            guest_addr = gaddr;
        spec = ctl_printf("%s:%s/%s", argv[1], gport, argv[0]);
    } else {
        ctl_usage(stderr);
        return CTL_EXIT_USAGE;
    }

    buf = ctl_printf("%s", spec);
    if (fwd_spec_split_publish(spec, buf, strlen(spec) + 1, &req, &e) < 0) {
        fprintf(stderr, "slirpctl: add: %s: %s\n", spec,
                e.msg[0] ? e.msg : "bad spec");
        return CTL_EXIT_USAGE;
    }
    if (req.host_port == FWD_PORT_INVALID || req.guest_port < 0) {
        fprintf(stderr, "slirpctl: add: %s: ports are numbers 0..65535\n",
                spec);
        return CTL_EXIT_USAGE;
    }
    req.guest_addr = guest_addr;
    /* as --publish: an IPv6 listener goes to the guest's IPv6 address */
    if (!guest_addr && req.host_addr && strncmp(req.host_addr, "unix:", 5) &&
        strchr(req.host_addr, ':'))
        req.guest_addr = "::";
    req_json = ctl_add_json(&req);

    status = ctl_send(c, req_json, &o, &reply);
    if (status || c->json)
        goto out;
    ret = ctl_typed(o, "return", JSON_OBJECT);
    if (!json_member(ret, "id"))
        status = ctl_fail("unexpected reply: %s", reply);
    else if (json_member(ret, "host_port"))
        printf("added forward %" PRId64 " on host port %" PRId64 "\n",
               ctl_int(ret, "id", -1), ctl_int(ret, "host_port", -1));
    else
        printf("added forward %" PRId64 "\n", ctl_int(ret, "id", -1));
out:
    json_free(o);
    return status;
}

static int ctl_list(const struct ctl *c)
{
    _cleanup_free_ char *reply = NULL;
    struct json_value *o = NULL;
    const struct json_value *r, *a, *e;
    int status;

    status = ctl_send(c, "{\"execute\":\"list_hostfwd\"}", &o, &reply);
    if (status || c->json)
        goto out;
    /* slirp4netns's real shape, and the one its documentation gives */
    r = ctl_typed(o, "return", JSON_OBJECT);
    a = ctl_typed(r ? r : o, "entries", JSON_ARRAY);
    if (!a) {
        status = ctl_fail("unexpected reply: %s", reply);
        goto out;
    }
    printf("%-6s %-5s %-32s %s\n", "ID", "PROTO", "HOST", "GUEST");
    for (e = a->u.first; e; e = e->next) {
        _cleanup_free_ char *h = NULL, *g = NULL;

        if (e->type != JSON_OBJECT)
            continue;
        h = ctl_endpoint(ctl_str(e, "host_addr"), ctl_int(e, "host_port", 0));
        g = ctl_endpoint(ctl_str(e, "guest_addr"), ctl_int(e, "guest_port", 0));
        printf("%-6" PRId64 " %-5s %-32s %s\n", ctl_int(e, "id", -1),
               ctl_strd(e, "proto", "?"), h, g);
    }
out:
    json_free(o);
    return status;
}

static int ctl_remove(const struct ctl *c, int argc, char **argv)
{
    int i, status = 0;

    if (argc < 2) {
        ctl_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    for (i = 1; i < argc; i++) {
        _cleanup_free_ char *req = NULL, *reply = NULL;
        char *end;
        long long id = strtoll(argv[i], &end, 10);
        struct json_value *o;
        int s;

        if (!*argv[i] || *end || id <= 0) {
            fprintf(stderr, "slirpctl: remove: bad ID %s\n", argv[i]);
            return CTL_EXIT_USAGE;
        }
        req = ctl_printf("{\"execute\":\"remove_hostfwd\",\"arguments\":"
                         "{\"id\":%lld}}", id);
        s = ctl_send(c, req, &o, &reply);
        json_free(o);
        if (s)
            status = s;
        else if (!c->json)
            printf("removed forward %lld\n", id);
    }
    return status;
}

/* "prefix.key: value" for every leaf; arrays as JSON */
static void ctl_print_flat(const char *prefix, const struct json_value *n)
{
    const struct json_value *m;
    struct json_writer w;
    char *s;

    switch (n->type) {
    case JSON_OBJECT:
        for (m = n->u.first; m; m = m->next) {
            _cleanup_free_ char *k = *prefix ? ctl_printf("%s.%s", prefix,
                                                          m->key)
                                             : ctl_printf("%s", m->key);
            ctl_print_flat(k, m);
        }
        break;
    case JSON_NULL:
        printf("%s: -\n", prefix);
        break;
    case JSON_STRING:
        printf("%s: %s\n", prefix, n->u.s);
        break;
    case JSON_BOOL:
        printf("%s: %s\n", prefix, n->u.b ? "yes" : "no");
        break;
    case JSON_INT:
        printf("%s: %" PRId64 "\n", prefix, n->u.i);
        break;
    case JSON_DOUBLE:
        printf("%s: %g\n", prefix, n->u.d);
        break;
    case JSON_ARRAY:
        json_writer_init(&w);
        json_tree(&w, n);
        s = json_writer_finish(&w, NULL);
        printf("%s: %s\n", prefix, s);
        free(s);
        break;
    }
}

static int ctl_info(const struct ctl *c)
{
    _cleanup_free_ char *reply = NULL;
    struct json_value *o = NULL;
    const struct json_value *r;
    int status;

    status = ctl_send(c, "{\"execute\":\"get_info\"}", &o, &reply);
    if (status || c->json)
        goto out;
    r = json_member(o, "return");
    if (!r)
        status = ctl_fail("unexpected reply: %s", reply);
    else
        ctl_print_flat("", r);
out:
    json_free(o);
    return status;
}

static void ctl_print_rule(const char *num, const struct json_value *e)
{
    printf("%-4s %-6s %-36s %-8" PRId64 " %s\n", num,
           ctl_strd(e, "action", "?"), ctl_strd(e, "rule", "?"),
           ctl_int(e, "hits", 0), ctl_strd(e, "origin", ""));
}

static int ctl_policy_show(const struct ctl *c)
{
    static const char *const counters[] = {
        "denied_tcp", "denied_udp", "denied_icmp", "denied_fragments",
        "icmp_sent", "icmp_rate_limited", "flow_cache_hits", "log_lines",
        "log_suppressed",
    };
    _cleanup_free_ char *reply = NULL;
    const struct json_value *r, *a, *e;
    struct json_value *o = NULL;
    char num[24];
    int status, i = 0;
    size_t k;

    status = ctl_send(c, "{\"execute\":\"get_policy\"}", &o, &reply);
    if (status || c->json)
        goto out;
    r = ctl_typed(o, "return", JSON_OBJECT);
    a = ctl_typed(r, "rules", JSON_ARRAY);
    if (!a) {
        status = ctl_fail("unexpected reply: %s", reply);
        goto out;
    }
    printf("default: %s, log denied: %s\n", ctl_strd(r, "default", "?"),
           json_member(r, "log_denied") &&
           json_member(r, "log_denied")->type == JSON_BOOL &&
           json_member(r, "log_denied")->u.b ? "yes" : "no");
    e = ctl_typed(r, "config_files", JSON_ARRAY);
    for (e = e ? e->u.first : NULL; e; e = e->next)
        if (e->type == JSON_STRING)
            printf("configuration file: %s\n", e->u.s);
    printf("%-4s %-6s %-36s %-8s %s\n", "#", "ACTION", "RULE", "HITS", "ORIGIN");
    for (e = a->u.first; e; e = e->next) {
        if (e->type != JSON_OBJECT)
            continue;
        snprintf(num, sizeof(num), "%d", ++i);
        ctl_print_rule(num, e);
    }
    e = ctl_typed(r, "host_loopback_rule", JSON_OBJECT);
    if (e)
        ctl_print_rule("-", e);
    printf("%-4s %-6s %-36s %-8" PRId64 "\n", "*", ctl_strd(r, "default", "?"),
           "(default)", ctl_int(r, "default_hits", 0));
    for (k = 0; k < ARRAY_SIZE(counters); k++)
        printf("%s%s: %" PRId64, k ? ", " : "", counters[k],
               ctl_int(r, counters[k], 0));
    printf("\n");
out:
    json_free(o);
    return status;
}

static int ctl_policy_set(const struct ctl *c, int argc, char **argv)
{
    _cleanup_free_ char *reply = NULL, *req = NULL;
    struct json_value *o = NULL;
    struct json_writer w;
    struct policy_rule pr;
    bool reset = false;
    struct err e;
    int i = 2, status;

    if (i < argc && !strcmp(argv[i], "--reset")) {
        reset = true;
        i++;
    }
    json_writer_init(&w);
    json_begin_object(&w);
    json_key(&w, "execute");
    json_str(&w, "set_policy");
    json_key(&w, "arguments");
    json_begin_object(&w);
    json_key(&w, "rules");
    json_begin_array(&w);
    for (; i < argc; i++) {
        if (policy_rule_parse_word(argv[i], &pr, &e) < 0) {
            free(json_writer_finish(&w, NULL));
            fprintf(stderr, "slirpctl: policy set: %s\n", e.msg);
            return CTL_EXIT_USAGE;
        }
        json_str(&w, argv[i]);
    }
    json_end_array(&w);
    json_key(&w, "reset");
    json_bool(&w, reset);
    json_end_object(&w);
    json_end_object(&w);
    req = json_writer_finish(&w, NULL);
    status = ctl_send(c, req, &o, &reply);
    if (!status && !c->json) {
        const struct json_value *r = ctl_typed(o, "return", JSON_OBJECT);

        printf("%" PRId64 " rules, default %s", ctl_int(r, "rules", 0),
               ctl_strd(r, "default", "?"));
        if (reset)
            printf(", %" PRId64 " connections reset",
                   ctl_int(r, "reset_connections", 0));
        printf("\n");
    }
    json_free(o);
    return status;
}

static int ctl_shutdown(const struct ctl *c)
{
    _cleanup_free_ char *reply = NULL;
    struct json_value *o;
    int status;

    status = ctl_send(c, "{\"execute\":\"shutdown\"}", &o, &reply);
    json_free(o);
    if (!status && !c->json)
        printf("the daemon is stopping\n");
    return status;
}

static int ctl_connections(const struct ctl *c)
{
    _cleanup_free_ char *reply = NULL;
    struct json_value *o = NULL;
    const struct json_value *ret, *a, *e;
    int status;

    status = ctl_send(c, "{\"execute\":\"get_connections\"}", &o, &reply);
    if (status || c->json)
        goto out;
    ret = ctl_typed(o, "return", JSON_OBJECT);
    a = ctl_typed(ret, "connections", JSON_ARRAY);
    if (!a) {
        status = ctl_fail("unexpected reply: %s", reply);
        goto out;
    }
    printf("%-5s %-14s %5s %-32s %-32s %6s %6s\n", "PROTO", "STATE", "FD",
           "SOURCE", "DESTINATION", "RECV-Q", "SEND-Q");
    for (e = a->u.first; e; e = e->next) {
        _cleanup_free_ char *src = NULL, *dst = NULL;

        if (e->type != JSON_OBJECT)
            continue;
        /* an IPv6 or UNIX socket: libslirp's table has no address for
         * the host side, the socket itself has */
        if (ctl_str(e, "src_addr"))
            src = ctl_endpoint(ctl_str(e, "src_addr"),
                               ctl_int(e, "src_port", 0));
        else if (ctl_str(e, "local_addr"))
            src = ctl_endpoint(ctl_str(e, "local_addr"),
                               ctl_int(e, "local_port", 0));
        else
            src = ctl_endpoint("*", ctl_int(e, "src_port", 0));
        dst = ctl_endpoint(ctl_strd(e, "dst_addr", "*"),
                           ctl_int(e, "dst_port", 0));
        printf("%-5s %-14s %5" PRId64 " %-32s %-32s %6" PRId64 " %6" PRId64
               "\n",
               ctl_strd(e, "proto", "?"),
               ctl_strd(e, "state", "?"),
               ctl_int(e, "fd", -1), src, dst, ctl_int(e, "recv_q", 0),
               ctl_int(e, "send_q", 0));
    }
    a = ctl_typed(ret, "neighbors", JSON_ARRAY);
    if (json_count(a)) {
        printf("\n%-6s %-18s %s\n", "TABLE", "MAC", "ADDRESS");
        for (e = a->u.first; e; e = e->next)
            if (e->type == JSON_OBJECT)
                printf("%-6s %-18s %s\n", ctl_strd(e, "table", "?"),
                       ctl_strd(e, "mac", "?"), ctl_strd(e, "addr", "?"));
    }
out:
    json_free(o);
    return status;
}

static int ctl_raw(const struct ctl *c, int argc, char **argv)
{
    _cleanup_free_ char *reply = NULL;
    int r;

    if (argc != 2) {
        ctl_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    r = ctl_request(c, argv[1], &reply);
    if (r < 0)
        return ctl_fail("cannot talk to the API socket %s: %s", c->socket,
                        strerror(-r));
    printf("%s\n", reply);
    return strstr(reply, "\"error\"") ? CTL_EXIT_ERROR : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "api-socket", required_argument, NULL, 'a' },
        { "json", no_argument, NULL, 'j' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    struct ctl c = {
        .socket = getenv("SLIRPD_API_SOCKET"),
        .timeout_ms = 10000,
    };
    const char *cmd;
    char *end;
    long secs;
    int opt;

    /* "+": options end at the command, whose own options follow it */
    while ((opt = getopt_long(argc, argv, "+a:jt:hv", opts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            c.socket = optarg;
            break;
        case 'j':
            c.json = true;
            break;
        case 't':
            secs = strtol(optarg, &end, 10);
            if (!*optarg || *end || secs <= 0 || secs > 3600) {
                fprintf(stderr, "slirpctl: --timeout takes 1..3600 seconds\n");
                return CTL_EXIT_USAGE;
            }
            c.timeout_ms = (int)secs * 1000;
            break;
        case 'h':
            ctl_usage(stdout);
            return 0;
        case 'v':
            printf("slirpctl version %s\ncommit: %s\n", SLIRPD_VERSION,
                   SLIRPD_COMMIT);
            return 0;
        default:
            ctl_usage(stderr);
            return CTL_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        ctl_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    if (!c.socket || !*c.socket) {
        fprintf(stderr, "slirpctl: no API socket: use --api-socket PATH or set "
                "SLIRPD_API_SOCKET\n");
        return CTL_EXIT_USAGE;
    }
    argc -= optind;
    argv += optind;
    cmd = argv[0];
    if (!strcmp(cmd, "add"))
        return ctl_add(&c, argc, argv);
    if (!strcmp(cmd, "list") && argc == 1)
        return ctl_list(&c);
    if (!strcmp(cmd, "remove"))
        return ctl_remove(&c, argc, argv);
    if (!strcmp(cmd, "info") && argc == 1)
        return ctl_info(&c);
    if (!strcmp(cmd, "connections") && argc == 1)
        return ctl_connections(&c);
    if (!strcmp(cmd, "shutdown") && argc == 1)
        return ctl_shutdown(&c);
    if (!strcmp(cmd, "raw"))
        return ctl_raw(&c, argc, argv);
    if (!strcmp(cmd, "policy") && argc == 1)
        return ctl_policy_show(&c);
    if (!strcmp(cmd, "policy") && !strcmp(argv[1], "set"))
        return ctl_policy_set(&c, argc, argv);
    fprintf(stderr, "slirpctl: unknown command or arguments: %s\n", cmd);
    ctl_usage(stderr);
    return CTL_EXIT_USAGE;
}
