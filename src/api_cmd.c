/* SPDX-License-Identifier: GPL-2.0-or-later */
/* api_cmd.c - the API's JSON commands: slirp4netns's three and our own */
/*
 * DOC: Theory of Operation
 *
 * api.c hands over one complete request; api_cmd_handle() parses it with
 * json.c, looks "execute" up in a table and returns one compact reply.
 * Replies keep slirp4netns's shapes, key order and error texts byte for
 * byte wherever slirp4netns answers at all, so that podman (which only
 * looks for an "error" key) and RootlessKit (which needs a numeric
 * return.id) cannot tell the difference; whatever is new is added after
 * the keys slirp4netns has. docs/api.md is the reference for every reply.
 *
 * Nothing from the request reaches libslirp unchecked: the fields go
 * through fwd_spec_from_req() first. The parser bounds the nesting
 * (API_CMD_DEPTH_MAX), so a hostile request cannot exhaust the stack.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "api.h"
#include "api_cmd.h"
#include "build-config.h"
#include "commit.h"
#include "config.h"
#include "err.h"
#include "fdlimit.h"
#include "finwait.h"
#include "fwd.h"
#include "json.h"
#include "slirpinfo.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "splice.h"
#include "udprelay.h"
#include "stack.h"
#include "syn6.h"
#include "timewait.h"

/* room for fwd_spec_format_addr(): an IPv6 address with a zone, or unix:PATH */
#define API_CMD_ADDR_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + \
                          sizeof(((struct sockaddr_un *)0)->sun_path) + 8)

typedef char *(*api_cmd_fn)(struct api_cmd_ctx *ctx,
                            const struct json_value *args, size_t *ret_len);

static char *api_cmd_reply(struct json_writer *b, size_t *ret_len)
{
    return json_writer_finish(b, ret_len);
}

static char *api_cmd_errorf(size_t *ret_len, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *api_cmd_errorf(size_t *ret_len, const char *fmt, ...)
{
    g_autofree char *desc = NULL;
    va_list ap;

    va_start(ap, fmt);
    desc = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return api_error_reply(desc, ret_len);
}

static void api_cmd_add_str(struct json_writer *b, const char *name, const char *v)
{
    json_key(b, name);
    if (v)
        json_str(b, v);
    else
        json_null(b);
}

static void api_cmd_add_int(struct json_writer *b, const char *name, int64_t v)
{
    json_key(b, name);
    json_int(b, v);
}

static void api_cmd_add_bool(struct json_writer *b, const char *name, bool v)
{
    json_key(b, name);
    json_bool(b, v);
}

static void api_cmd_add_addr(struct json_writer *b, const char *name,
                             const struct sockaddr_storage *ss)
{
    char buf[API_CMD_ADDR_MAX];

    api_cmd_add_str(b, name, fwd_spec_format_addr(ss, buf, sizeof(buf)) == 0 ?
                                 buf : NULL);
}

static void api_cmd_add_in4(struct json_writer *b, const char *name,
                            struct in_addr a)
{
    char buf[INET_ADDRSTRLEN];

    api_cmd_add_str(b, name, inet_ntop(AF_INET, &a, buf, sizeof(buf)));
}

static void api_cmd_add_in6(struct json_writer *b, const char *name,
                            const struct in6_addr *a)
{
    char buf[INET6_ADDRSTRLEN];

    api_cmd_add_str(b, name, inet_ntop(AF_INET6, a, buf, sizeof(buf)));
}

/*
 * A string argument: NULL if missing or null, @bad if of another type (a
 * value no validator accepts, so the field's own error is reported).
 */
static const char *api_cmd_arg_str(const struct json_value *args,
                                   const char *key, const char *bad)
{
    const struct json_value *n = json_member(args, key);

    if (!n || n->type == JSON_NULL)
        return NULL;
    if (n->type != JSON_STRING)
        return bad;
    return n->u.s;
}

/* an integer argument in @min..@max, FWD_PORT_MISSING, or FWD_PORT_INVALID */
static int64_t api_cmd_arg_int(const struct json_value *args, const char *key,
                               int64_t min, int64_t max)
{
    const struct json_value *n = json_member(args, key);
    int64_t v;
    double d;

    if (!n)
        return FWD_PORT_MISSING;
    switch (n->type) {
    case JSON_INT:
        v = n->u.i;
        break;
    case JSON_DOUBLE:
        /* parson reads every number as a double: 8080.0 is 8080 there */
        d = n->u.d;
        if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max)
            return FWD_PORT_INVALID;
        v = (int64_t)d;
        break;
    default:
        return FWD_PORT_INVALID;
    }
    return v < min || v > max ? FWD_PORT_INVALID : v;
}

static const char *const api_cmd_field_names[] = {
    [FWD_FIELD_NONE] = "arguments",
    [FWD_FIELD_PROTO] = "proto",
    [FWD_FIELD_HOST_ADDR] = "host_addr",
    [FWD_FIELD_HOST_PORT] = "host_port",
    [FWD_FIELD_GUEST_ADDR] = "guest_addr",
    [FWD_FIELD_GUEST_PORT] = "guest_port",
    [FWD_FIELD_PATH] = "path",
};

/* add_hostfwd refused for the field the failure is about (its subject) */
static char *api_cmd_bad_field(const struct err *e, size_t *ret_len)
{
    return api_cmd_errorf(ret_len, "bad request: add_hostfwd: bad "
                          "arguments.%s%s%s%s",
                          api_cmd_field_names[e->subject],
                          e->msg[0] ? " (" : "", e->msg, e->msg[0] ? ")" : "");
}

static char *api_cmd_add_hostfwd(struct api_cmd_ctx *ctx,
                                 const struct json_value *args, size_t *ret_len)
{
    struct json_writer wr, *b = &wr;
    const struct fwd_rule *rule;
    struct fwd_spec spec;
    struct err e;
    struct fwd_req req = {
        .proto = api_cmd_arg_str(args, "proto", NULL),
        .host_addr = api_cmd_arg_str(args, "host_addr", "?"),
        .host_port = api_cmd_arg_int(args, "host_port", 0, 65535),
        .guest_addr = api_cmd_arg_str(args, "guest_addr", "?"),
        .guest_port = api_cmd_arg_int(args, "guest_port", 0, 65535),
        .path = api_cmd_arg_str(args, "path", "?"),
    };

    /* not named: "auto", i.e. the daemon's default (--forward-path) */
    if (!req.path && ctx->fwd)
        req.path = "auto";

    if (fwd_spec_from_req(&req, ctx->cfg, &spec, &e) < 0)
        return api_cmd_bad_field(&e, ret_len);
    if (!ctx->fwd)
        return api_error_reply("bad request: add_hostfwd: port forwarding is "
                             "not available", ret_len);
    if (fwd_full(ctx->fwd))
        return api_cmd_errorf(ret_len, "bad request: add_hostfwd: too many "
                              "forwards (the limit is %zu)", fwd_max(ctx->fwd));
    if (fwd_add(ctx->fwd, &spec, &rule, &e) < 0)
        return e.subject != FWD_FIELD_NONE ? api_cmd_bad_field(&e, ret_len) :
               api_cmd_errorf(ret_len, "bad request: add_hostfwd: "
                              "slirp_add_hostfwd failed: %s", e.msg);

    json_writer_init(b);
    json_begin_object(b);
    json_key(b, "return");
    json_begin_object(b);
    api_cmd_add_int(b, "id", rule->id);
    if (rule->ephemeral)
        api_cmd_add_int(b, "host_port", fwd_spec_addr_port(&rule->bound));
    json_end_object(b);
    json_end_object(b);
    return api_cmd_reply(b, ret_len);
}

static void api_cmd_add_rule(struct json_writer *b, const struct fwd_rule *r)
{
    json_begin_object(b);
    api_cmd_add_int(b, "id", r->id);
    api_cmd_add_str(b, "proto", fwd_spec_proto_name(r->spec.proto));
    api_cmd_add_addr(b, "host_addr", &r->spec.host);
    api_cmd_add_int(b, "host_port", fwd_spec_addr_port(&r->bound));
    api_cmd_add_addr(b, "guest_addr", &r->spec.guest);
    api_cmd_add_int(b, "guest_port", fwd_spec_addr_port(&r->spec.guest));
    /* new keys only after slirp4netns's, and only where there is news */
    if (r->spec.host.ss_family == AF_INET6)
        api_cmd_add_str(b, "family", "ipv6");
    else if (r->spec.host.ss_family == AF_UNIX)
        api_cmd_add_str(b, "family", "unix");
    if (r->ephemeral)
        api_cmd_add_bool(b, "ephemeral", true);
    /* the path taken, where the request named one (what "auto" chose is
     * in get_connections and get_info) */
    if (r->spec.path != FWD_PATH_AUTO)
        api_cmd_add_str(b, "path", fwd_spec_path_name(r->path));
    json_end_object(b);
}

/* slirp4netns sends the entries without a "return" wrapper: so do we */
static char *api_cmd_list_hostfwd(struct api_cmd_ctx *ctx,
                                  const struct json_value *args, size_t *ret_len)
{
    struct json_writer wr, *b = &wr;

    json_writer_init(b);
    size_t i, n = ctx->fwd ? fwd_count(ctx->fwd) : 0;

    json_begin_object(b);
    json_key(b, "entries");
    json_begin_array(b);
    for (i = 0; i < n; i++)
        api_cmd_add_rule(b, fwd_get(ctx->fwd, i));
    json_end_array(b);
    json_end_object(b);
    return api_cmd_reply(b, ret_len);
}

static char *api_cmd_empty_return(size_t *ret_len)
{
    struct json_writer wr, *b = &wr;

    json_writer_init(b);
    json_begin_object(b);
    json_key(b, "return");
    json_begin_object(b);
    json_end_object(b);
    json_end_object(b);
    return api_cmd_reply(b, ret_len);
}

static char *api_cmd_remove_hostfwd(struct api_cmd_ctx *ctx,
                                    const struct json_value *args, size_t *ret_len)
{
    int64_t id = api_cmd_arg_int(args, "id", 1, UINT32_MAX);
    int r = -ENOENT;

    if (id > 0 && ctx->fwd)
        r = fwd_remove(ctx->fwd, (uint32_t)id);
    if (r == -EIO)
        return api_error_reply("bad request: remove_hostfwd: "
                             "slirp_remove_hostfwd failed", ret_len);
    if (r < 0)
        return api_error_reply("bad request: remove_hostfwd: bad arguments.id",
                             ret_len);
    return api_cmd_empty_return(ret_len);
}

static void api_cmd_add_config(struct json_writer *b, const struct config *c)
{
    char buf[INET6_ADDRSTRLEN + 8];
    struct sockaddr_storage ss;

    json_key(b, "config");
    json_begin_object(b);
    api_cmd_add_int(b, "mtu", c->mtu);
    inet_ntop(AF_INET, &c->vnetwork, buf, sizeof(buf));
    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%u", c->prefix);
    api_cmd_add_str(b, "cidr", buf);
    api_cmd_add_in4(b, "netmask", c->vnetmask);
    api_cmd_add_in4(b, "gateway", c->vhost);
    api_cmd_add_in4(b, "dns", c->vnameserver);
    api_cmd_add_in4(b, "dhcp_begin", c->vdhcp_start);
    api_cmd_add_in4(b, "dhcp_end", c->vdhcp_end);
    api_cmd_add_in4(b, "recommended_ip", c->recommended);
    api_cmd_add_bool(b, "ipv6", c->enable_ipv6);
    inet_ntop(AF_INET6, &c->vprefix6, buf, sizeof(buf));
    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%u",
             c->vprefix6_len);
    api_cmd_add_str(b, "ipv6_prefix", buf);
    api_cmd_add_in6(b, "ipv6_gateway", &c->vhost6);
    api_cmd_add_in6(b, "ipv6_dns", &c->vnameserver6);
    api_cmd_add_bool(b, "configure", c->configure);
    api_cmd_add_bool(b, "disable_host_loopback", c->disable_host_loopback);
    api_cmd_add_bool(b, "disable_dns", c->disable_dns);
    api_cmd_add_bool(b, "enable_sandbox", c->enable_sandbox);
    api_cmd_add_bool(b, "enable_seccomp", c->enable_seccomp);
    memcpy(&ss, &c->outbound_addr, sizeof(c->outbound_addr));
    if (c->outbound_set)
        api_cmd_add_addr(b, "outbound_addr", &ss);
    else
        api_cmd_add_str(b, "outbound_addr", NULL);
    memcpy(&ss, &c->outbound_addr6, sizeof(c->outbound_addr6));
    if (c->outbound6_set)
        api_cmd_add_addr(b, "outbound_addr6", &ss);
    else
        api_cmd_add_str(b, "outbound_addr6", NULL);
    api_cmd_add_str(b, "ifname", c->ifname[0] ? c->ifname : NULL);
    api_cmd_add_str(b, "api_socket", c->api_socket);
    json_end_object(b);
}

static void api_cmd_add_policy_entry(struct json_writer *b,
                                     const struct policy_entry *pe)
{
    json_begin_object(b);
    api_cmd_add_str(b, "action", policy_action_name(pe->rule.action));
    api_cmd_add_str(b, "rule", pe->rule.text);
    api_cmd_add_str(b, "origin", pe->origin);
    api_cmd_add_int(b, "hits", (int64_t)pe->hits);
    json_end_object(b);
}

/* the policy's object: get_policy's return, get_info's "policy" */
static void api_cmd_add_policy(struct json_writer *b, struct api_cmd_ctx *ctx)
{
    struct policy *p = stack_policy(ctx->stack);
    const struct policy_entry *imp = policy_implicit(p);
    struct policy_stats ps;
    struct syn6_stats ss;
    size_t i;

    policy_get_stats(p, &ps);
    json_begin_object(b);
    api_cmd_add_str(b, "default", policy_action_name(policy_default(p)));
    api_cmd_add_bool(b, "log_denied", policy_log_denied(p));
    json_key(b, "config_files");
    json_begin_array(b);
    for (i = 0; i < 2; i++)
        if (ctx->cfg->conf_files[i])
            json_str(b, ctx->cfg->conf_files[i]);
    json_end_array(b);
    json_key(b, "rules");
    json_begin_array(b);
    for (i = 0; i < policy_count(p); i++)
        api_cmd_add_policy_entry(b, policy_entry(p, i));
    json_end_array(b);
    json_key(b, "host_loopback_rule");
    if (imp)
        api_cmd_add_policy_entry(b, imp);
    else
        json_null(b);
    api_cmd_add_int(b, "default_hits", (int64_t)ps.default_hits);
    api_cmd_add_int(b, "denied_tcp", (int64_t)ps.denied_tcp);
    api_cmd_add_int(b, "denied_udp", (int64_t)ps.denied_udp);
    api_cmd_add_int(b, "denied_icmp", (int64_t)ps.denied_icmp);
    api_cmd_add_int(b, "denied_fragments", (int64_t)ps.denied_frag);
    api_cmd_add_int(b, "icmp_sent", (int64_t)ps.icmp_sent);
    api_cmd_add_int(b, "icmp_rate_limited", (int64_t)ps.icmp_limited);
    api_cmd_add_int(b, "flow_cache_hits", (int64_t)ps.cache_hits);
    api_cmd_add_int(b, "log_lines", (int64_t)ps.log_lines);
    api_cmd_add_int(b, "log_suppressed", (int64_t)ps.log_suppressed);
    json_key(b, "ipv6_flows");
    if (stack_get_syn6_stats(ctx->stack, &ss)) {
        json_begin_object(b);
        api_cmd_add_int(b, "recorded", (int64_t)ss.count);
        api_cmd_add_int(b, "capacity", (int64_t)ss.max);
        api_cmd_add_int(b, "swept", (int64_t)ss.swept);
        api_cmd_add_int(b, "unrecorded", (int64_t)ss.unrecorded);
        json_end_object(b);
    } else {
        json_null(b);
    }
    json_end_object(b);
}

/* {"execute": "get_policy"}: the rules in force and their counters */
static char *api_cmd_get_policy(struct api_cmd_ctx *ctx,
                                const struct json_value *args, size_t *ret_len)
{
    struct json_writer wr, *b = &wr;

    if (!ctx->stack)
        return api_error_reply("get_policy is not available", ret_len);
    json_writer_init(b);
    json_begin_object(b);
    json_key(b, "return");
    api_cmd_add_policy(b, ctx);
    json_end_object(b);
    return api_cmd_reply(b, ret_len);
}

/*
 * {"execute": "set_policy", "arguments": {"rules": ["deny=tcp:...", ...],
 * "reset": false}}: every rule replaced at once, or none ("deny=all" sets
 * the default; without it the default is allow). Open flows stay unless
 * "reset" is true.
 */
static char *api_cmd_set_policy(struct api_cmd_ctx *ctx,
                                const struct json_value *args, size_t *ret_len)
{
    const struct json_value *rules = json_member(args, "rules");
    const struct json_value *reset = json_member(args, "reset");
    enum policy_action dflt = POLICY_ALLOW;
    struct policy_rule *pr = NULL;
    const char **origins = NULL;
    struct json_writer wr, *b = &wr;
    const struct json_value *v;
    unsigned int cut = 0;
    size_t n = 0, max;
    struct err e;
    char *reply;
    int r;

    if (!ctx->stack)
        return api_error_reply("set_policy is not available", ret_len);
    if (!rules || rules->type != JSON_ARRAY)
        return api_error_reply("bad arguments.rules (an array of "
                               "\"allow=RULE\" and \"deny=RULE\" strings)",
                               ret_len);
    if (reset && reset->type != JSON_BOOL)
        return api_error_reply("bad arguments.reset (true or false)", ret_len);
    max = json_count(rules);
    if (max > POLICY_RULES_MAX)
        return api_cmd_errorf(ret_len, "bad arguments.rules (too many: at "
                              "most %d)", POLICY_RULES_MAX);
    pr = g_new0(struct policy_rule, max + 1);
    origins = g_new0(const char *, max + 1);
    for (v = rules->u.first; v; v = v->next) {
        if (v->type != JSON_STRING) {
            reply = api_error_reply("bad arguments.rules (an array of "
                                    "strings)", ret_len);
            goto out;
        }
        r = policy_rule_parse_word(v->u.s, &pr[n], &e);
        if (r < 0) {
            reply = api_cmd_errorf(ret_len, "bad arguments.rules (%s)", e.msg);
            goto out;
        }
        if (r == POLICY_RULE_DEFAULT) {
            dflt = (enum policy_action)pr[n].action;
            continue;
        }
        origins[n++] = "api";
    }
    r = stack_policy_set(ctx->stack, pr, origins, n, dflt,
                         reset && reset->u.b, &cut, &e);
    if (r < 0) {
        reply = api_cmd_errorf(ret_len, "%s", e.msg);
        goto out;
    }
    info("API: policy set: %zu rules, default %s%s", n,
         policy_action_name(dflt), reset && reset->u.b ? ", reset" : "");
    json_writer_init(b);
    json_begin_object(b);
    json_key(b, "return");
    json_begin_object(b);
    api_cmd_add_int(b, "rules", (int64_t)n);
    api_cmd_add_str(b, "default", policy_action_name(dflt));
    api_cmd_add_int(b, "reset_connections", cut);
    json_end_object(b);
    json_end_object(b);
    reply = api_cmd_reply(b, ret_len);
out:
    g_free(pr);
    g_free(origins);
    return reply;
}

static char *api_cmd_get_info(struct api_cmd_ctx *ctx,
                              const struct json_value *args, size_t *ret_len)
{
    struct json_writer wr, *b = &wr;

    json_writer_init(b);
    json_begin_object(b);
    json_key(b, "return");
    json_begin_object(b);
    api_cmd_add_str(b, "version", SLIRPD_VERSION);
    api_cmd_add_str(b, "commit", SLIRPD_COMMIT);
    api_cmd_add_str(b, "libslirp", slirp_version_string());
    api_cmd_add_config(b, ctx->cfg);

    json_key(b, "api");
    json_begin_object(b);
    api_cmd_add_int(b, "connections",
                    ctx->api ? (int64_t)api_conn_count(ctx->api) : 0);
    api_cmd_add_int(b, "requests",
                    ctx->api ? (int64_t)api_request_count(ctx->api) : 0);
    api_cmd_add_int(b, "max_connections", API_CONN_MAX);
    api_cmd_add_int(b, "max_request_bytes", API_REQUEST_MAX);
    api_cmd_add_int(b, "deadline_ms", API_DEADLINE_MS);
    json_end_object(b);

    json_key(b, "forwards");
    json_begin_object(b);
    api_cmd_add_int(b, "count", ctx->fwd ? (int64_t)fwd_count(ctx->fwd) : 0);
    api_cmd_add_int(b, "max", ctx->fwd ? (int64_t)fwd_max(ctx->fwd) : 0);
    api_cmd_add_int(b, "next_id", ctx->fwd ? fwd_next_id(ctx->fwd) : 1);
    json_end_object(b);

    if (ctx->stack) {
        const struct stack_stats *s = stack_get_stats(ctx->stack);
        struct timewait_stats tws;
        struct finwait_stats fws;
        struct fdlimit_stats fls;

        json_key(b, "stats");
        json_begin_object(b);
        api_cmd_add_int(b, "rx_frames", (int64_t)s->rx_frames);
        api_cmd_add_int(b, "rx_bytes", (int64_t)s->rx_bytes);
        api_cmd_add_int(b, "tx_frames", (int64_t)s->tx_frames);
        api_cmd_add_int(b, "tx_bytes", (int64_t)s->tx_bytes);
        api_cmd_add_int(b, "tx_dropped", (int64_t)s->tx_dropped);
        api_cmd_add_int(b, "guest_errors", (int64_t)s->guest_errors);
        api_cmd_add_int(b, "rx_dropped", (int64_t)s->rx_dropped);
        api_cmd_add_int(b, "rx_gso_frames", (int64_t)s->rx_gso_frames);
        api_cmd_add_int(b, "tx_gso_frames", (int64_t)s->tx_gso_frames);
        api_cmd_add_int(b, "tx_gso_segments", (int64_t)s->tx_gso_segments);
        api_cmd_add_int(b, "tx_fragmented", (int64_t)s->tx_fragmented);
        api_cmd_add_int(b, "tx_oversize", (int64_t)s->tx_oversize);
        api_cmd_add_int(b, "rx_reassembled", (int64_t)s->rx_reassembled);
        api_cmd_add_int(b, "rx_reasm_dropped", (int64_t)s->rx_reasm_dropped);
        api_cmd_add_int(b, "vnet_hdr_len", s->vnet_hdr_len);
        stack_get_timewait_stats(ctx->stack, &tws);
        api_cmd_add_int(b, "timewait_reset", (int64_t)tws.reaped);
        api_cmd_add_int(b, "timewait_deferred", (int64_t)tws.deferred);
        api_cmd_add_int(b, "timewait_kept", (int64_t)tws.dropped);
        api_cmd_add_int(b, "shards", s->shards);
        api_cmd_add_int(b, "threads", s->threads);
        api_cmd_add_int(b, "slirp_sockets", s->slirp_fds);
        api_cmd_add_int(b, "slirp_fills", (int64_t)s->slirp_fills);
        api_cmd_add_int(b, "slirp_polls", (int64_t)s->slirp_polls);
        api_cmd_add_int(b, "epoll_changes", (int64_t)s->epoll_ctls);
        api_cmd_add_int(b, "epoll_shards", s->epoll_shards);
        api_cmd_add_int(b, "steered_flows", (int64_t)s->steered_flows);
        api_cmd_add_int(b, "steer_full", (int64_t)s->steer_full);
        stack_get_finwait_stats(ctx->stack, &fws);
        api_cmd_add_int(b, "fin_timeout_reset", (int64_t)fws.ended);
        api_cmd_add_int(b, "fin_timeout_held", (int64_t)fws.held);
        fdlimit_get_stats(&fls);
        api_cmd_add_int(b, "out_of_fds_accepts", (int64_t)fls.accept_failed);
        api_cmd_add_int(b, "out_of_fds_sockets", (int64_t)fls.socket_failed);
        api_cmd_add_int(b, "listener_rests", (int64_t)fls.paused);
        json_end_object(b);
    }
    if (ctx->stack) {
        json_key(b, "policy");
        api_cmd_add_policy(b, ctx);
    }
    if (ctx->loop) {
        const struct busypoll *bp = &ctx->loop->busy;

        json_key(b, "busy_poll");
        json_begin_object(b);
        api_cmd_add_int(b, "max_us", bp->max_us);
        api_cmd_add_int(b, "window_us", bp->win_us);
        api_cmd_add_int(b, "hits", (int64_t)bp->hits);
        api_cmd_add_int(b, "misses", (int64_t)bp->misses);
        api_cmd_add_int(b, "spun_us", (int64_t)bp->spun_us);
        json_end_object(b);
    }
    if (ctx->splice) {
        struct splice_stats ss;

        splice_get_stats(ctx->splice, &ss);
        json_key(b, "splice");
        json_begin_object(b);
        api_cmd_add_bool(b, "available", ss.helper_alive);
        api_cmd_add_str(b, "default_path", ctx->fwd ?
                        fwd_spec_path_name(fwd_default_path(ctx->fwd)) :
                        "auto");
        api_cmd_add_int(b, "forwards", ctx->fwd ?
                        (int64_t)fwd_count_path(ctx->fwd, FWD_PATH_SPLICE) : 0);
        api_cmd_add_int(b, "active", (int64_t)ss.active);
        api_cmd_add_int(b, "accepted", (int64_t)ss.accepted);
        api_cmd_add_int(b, "connected", (int64_t)ss.connected);
        api_cmd_add_int(b, "failed", (int64_t)ss.failed);
        api_cmd_add_int(b, "closed", (int64_t)ss.closed);
        api_cmd_add_int(b, "reset", (int64_t)ss.reset);
        api_cmd_add_int(b, "bytes_in", (int64_t)ss.bytes_in);
        api_cmd_add_int(b, "bytes_out", (int64_t)ss.bytes_out);
        api_cmd_add_int(b, "pool_ipv4", (int64_t)ss.pool_v4);
        api_cmd_add_int(b, "pool_ipv6", (int64_t)ss.pool_v6);
        api_cmd_add_int(b, "pool_waits", (int64_t)ss.pool_waits);
        api_cmd_add_int(b, "fin_timeout_reset", (int64_t)ss.fin_timeout_reset);
        api_cmd_add_int(b, "udp_pool_ipv4", (int64_t)ss.dpool_v4);
        api_cmd_add_int(b, "udp_pool_ipv6", (int64_t)ss.dpool_v6);
        json_end_object(b);
    }
    if (ctx->relay) {
        struct udprelay_stats us;

        udprelay_get_stats(ctx->relay, &us);
        json_key(b, "udp_relay");
        json_begin_object(b);
        api_cmd_add_int(b, "forwards", (int64_t)us.listeners);
        api_cmd_add_int(b, "timeout_ms", (int64_t)ctx->cfg->udp_timeout_ms);
        api_cmd_add_int(b, "flows", (int64_t)us.flows);
        api_cmd_add_int(b, "flows_opened", (int64_t)us.flows_opened);
        api_cmd_add_int(b, "expired", (int64_t)us.expired);
        api_cmd_add_int(b, "evicted", (int64_t)us.evicted);
        api_cmd_add_int(b, "dgrams_in", (int64_t)us.dgrams_in);
        api_cmd_add_int(b, "bytes_in", (int64_t)us.bytes_in);
        api_cmd_add_int(b, "dgrams_out", (int64_t)us.dgrams_out);
        api_cmd_add_int(b, "bytes_out", (int64_t)us.bytes_out);
        api_cmd_add_int(b, "dropped", (int64_t)us.dropped);
        json_end_object(b);
    }
    json_end_object(b);
    json_end_object(b);
    return api_cmd_reply(b, ret_len);
}

/* a port column of slirp_connection_info(): a number, or "-" (null) */
static void api_cmd_add_port_text(struct json_writer *b, const char *name,
                                  const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);

    json_key(b, name);
    if (*s && !*end)
        json_int(b, v);
    else
        json_null(b);
}

/*
 * @fd's own (or, with @peer, its peer's) address as @addr_key/@port_key.
 * A UNIX forward's listener is bound through its directory fd (fwd.c):
 * with @fwd, that name is shown as the path the forward was asked for.
 */
static void api_cmd_add_sockname(struct json_writer *b, const char *addr_key,
                                 const char *port_key, int fd, bool peer,
                                 const struct fwd_table *fwd)
{
    const struct fwd_rule *rule;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int r;

    memset(&ss, 0, sizeof(ss));
    r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
             : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (r < 0 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6 &&
                  ss.ss_family != AF_UNIX))
        return;
    /* an unnamed (or abstract) UNIX peer has no path to show */
    if (ss.ss_family == AF_UNIX && !((struct sockaddr_un *)&ss)->sun_path[0])
        return;
    rule = fwd ? fwd_find_unix_bound(fwd, &ss) : NULL;
    api_cmd_add_addr(b, addr_key, rule ? &rule->spec.host : &ss);
    if (ss.ss_family != AF_UNIX)
        api_cmd_add_int(b, port_key, fwd_spec_addr_port(&ss));
}

/*
 * One line of slirp_connection_info():
 *   "  TCP[ESTABLISHED]   9  10.0.2.100 41234  192.0.2.1    80     0     0"
 *   "  UDP[28 sec]  ...", "  ICMP[3 sec] ...  -  ...  -  ..."
 * The table is IPv4-only in libslirp 4.7: for an IPv6 (or UNIX) socket
 * its addresses are bytes of the wrong structure (the ports are right), so
 * they are reported as null, and the socket's own local and peer addresses
 * are added for every entry.
 */
static bool api_cmd_add_conn_line(struct json_writer *b, const char *line,
                                  const struct fwd_table *fwd)
{
    struct slirpinfo_conn c;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd, fam = -1;

    if (!slirpinfo_parse(line, strlen(line), &c))
        return false;
    fd = c.fd;
    if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        fam = ss.ss_family;

    json_begin_object(b);
    api_cmd_add_str(b, "proto", c.proto);
    api_cmd_add_str(b, "state", c.state);
    api_cmd_add_int(b, "fd", fd);
    api_cmd_add_str(b, "src_addr", fam == AF_INET6 || fam == AF_UNIX ? NULL :
                                   strcmp(c.src, "*") ? c.src : "0.0.0.0");
    if (fam == AF_UNIX)
        api_cmd_add_str(b, "src_port", NULL);
    else
        api_cmd_add_port_text(b, "src_port", c.sport);
    api_cmd_add_str(b, "dst_addr", fam == AF_INET6 ? NULL : c.dst);
    api_cmd_add_port_text(b, "dst_port", c.dport);
    api_cmd_add_int(b, "recv_q", c.recvq);
    api_cmd_add_int(b, "send_q", c.sendq);
    api_cmd_add_str(b, "family", fam == AF_INET ? "ipv4" : fam == AF_INET6 ?
                                 "ipv6" : fam == AF_UNIX ? "unix" : NULL);
    if (fam >= 0) {
        api_cmd_add_sockname(b, "local_addr", "local_port", fd, false, fwd);
        api_cmd_add_sockname(b, "peer_addr", "peer_port", fd, true, fwd);
    }
    json_end_object(b);
    return true;
}

/*
 * The keys an entry of ours shares with libslirp's, up to "family": @fd's
 * own address is src (null for IPv6, as libslirp's table is IPv4-only),
 * @guest is dst. The caller adds local_*, peer_*, "path" and ends the
 * object.
 */
static void api_cmd_begin_entry(struct json_writer *b, const char *proto,
                                const char *state, int fd,
                                const struct sockaddr_storage *guest,
                                uint64_t recv_q, uint64_t send_q)
{
    struct sockaddr_storage self;
    socklen_t len = sizeof(self);

    memset(&self, 0, sizeof(self));
    if (getsockname(fd, (struct sockaddr *)&self, &len) < 0)
        self.ss_family = AF_UNSPEC;
    json_begin_object(b);
    api_cmd_add_str(b, "proto", proto);
    api_cmd_add_str(b, "state", state);
    api_cmd_add_int(b, "fd", fd);
    if (self.ss_family == AF_INET)
        api_cmd_add_addr(b, "src_addr", &self);
    else
        api_cmd_add_str(b, "src_addr", NULL);
    api_cmd_add_int(b, "src_port", fwd_spec_addr_port(&self));
    if (guest->ss_family == AF_INET)
        api_cmd_add_addr(b, "dst_addr", guest);
    else
        api_cmd_add_str(b, "dst_addr", NULL);
    api_cmd_add_int(b, "dst_port", fwd_spec_addr_port(guest));
    api_cmd_add_int(b, "recv_q", (int64_t)recv_q);
    api_cmd_add_int(b, "send_q", (int64_t)send_q);
    api_cmd_add_str(b, "family", self.ss_family == AF_INET ? "ipv4" :
                                 self.ss_family == AF_INET6 ? "ipv6" : NULL);
    api_cmd_add_sockname(b, "local_addr", "local_port", fd, false, NULL);
}

/* a splice forward's listener, in the shape of libslirp's HOST_FORWARD */
static void api_cmd_add_splice_listener(struct json_writer *b,
                                        const struct fwd_rule *r)
{
    api_cmd_begin_entry(b, fwd_spec_proto_name(r->spec.proto), "HOST_FORWARD",
                        r->fd, &r->spec.guest, 0, 0);
    api_cmd_add_str(b, "path", "splice");
    json_end_object(b);
}

/* the kernel's TCP states (tcpi_state), in libslirp's spelling */
static const char *const api_cmd_tcp_states[] = {
    [TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
    [TCP_SYN_RECV] = "SYN_RCVD", [TCP_FIN_WAIT1] = "FIN_WAIT_1",
    [TCP_FIN_WAIT2] = "FIN_WAIT_2", [TCP_TIME_WAIT] = "TIME_WAIT",
    [TCP_CLOSE] = "CLOSED", [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
    [TCP_LAST_ACK] = "LAST_ACK", [TCP_LISTEN] = "LISTEN",
    [TCP_CLOSING] = "CLOSING",
};

/*
 * A connection on the splice path, in the shape of a connection libslirp
 * accepted for a forward: src the host side (the accepted socket's own
 * address), dst the guest side; the state is the host socket's; recv_q
 * and send_q the bytes held in the connection's pipes (host -> namespace,
 * namespace -> host), as libslirp's are the bytes it holds.
 */
static void api_cmd_add_splice_conn(const struct splice_conn_info *ci,
                                    void *arg)
{
    struct json_writer *b = arg;
    struct tcp_info ti;
    socklen_t tlen = sizeof(ti);
    const char *state = NULL;

    if (getsockopt(ci->fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0 &&
        ti.tcpi_state < G_N_ELEMENTS(api_cmd_tcp_states))
        state = api_cmd_tcp_states[ti.tcpi_state];
    api_cmd_begin_entry(b, "tcp", state, ci->fd, ci->guest, ci->recv_q,
                        ci->send_q);
    api_cmd_add_sockname(b, "peer_addr", "peer_port", ci->fd, true, NULL);
    api_cmd_add_str(b, "path", "splice");
    json_end_object(b);
}

/*
 * A flow of the UDP relay, in the shape of libslirp's UDP entries: state
 * the seconds left before it closes if idle, fd and src_* the forward's
 * host socket, dst_* the guest side, peer_* the client.
 */
static void api_cmd_add_relay_flow(const struct udprelay_flow_info *fi,
                                   void *arg)
{
    struct json_writer *b = arg;
    char state[32];

    snprintf(state, sizeof(state), "%" PRId64 " sec",
             (fi->left_ms + 999) / 1000);
    api_cmd_begin_entry(b, "udp", state, fi->host_fd, fi->guest, 0, 0);
    api_cmd_add_addr(b, "peer_addr", fi->client);
    api_cmd_add_int(b, "peer_port", fwd_spec_addr_port(fi->client));
    api_cmd_add_str(b, "path", "splice");
    json_end_object(b);
}

static char *api_cmd_get_connections(struct api_cmd_ctx *ctx,
                                     const struct json_value *args, size_t *ret_len)
{
    struct json_writer wr, *b = &wr;
    g_autofree char *conns = NULL, *neigh = NULL;
    g_auto(GStrv) lines = NULL;
    Slirp *slirp;
    size_t i;

    if (!ctx->stack)
        return api_error_reply("bad request: get_connections: not available",
                             ret_len);
    slirp = stack_slirp(ctx->stack);
    conns = stack_connection_info(ctx->stack);
    neigh = slirp_neighbor_info(slirp);

    json_writer_init(b);
    json_begin_object(b);
    json_key(b, "return");
    json_begin_object(b);
    json_key(b, "connections");
    json_begin_array(b);
    lines = g_strsplit(conns ? conns : "", "\n", -1);
    for (i = 1; lines[0] && lines[i]; i++)  /* [0] is the header */
        api_cmd_add_conn_line(b, lines[i], ctx->fwd);
    for (i = 0; ctx->fwd && i < fwd_count(ctx->fwd); i++) {
        const struct fwd_rule *r = fwd_get(ctx->fwd, i);

        if (r->path == FWD_PATH_SPLICE)
            api_cmd_add_splice_listener(b, r);
    }
    splice_foreach_conn(ctx->splice, api_cmd_add_splice_conn, b);
    udprelay_foreach_flow(ctx->relay, api_cmd_add_relay_flow, b);
    json_end_array(b);

    json_key(b, "neighbors");
    json_begin_array(b);
    g_strfreev(lines);
    lines = g_strsplit(neigh ? neigh : "", "\n", -1);
    for (i = 1; lines[0] && lines[i]; i++) {
        char table[16], mac[32], ip[INET6_ADDRSTRLEN];

        if (sscanf(lines[i], "%15s %31s %45s", table, mac, ip) != 3)
            continue;
        json_begin_object(b);
        api_cmd_add_str(b, "table", table);
        api_cmd_add_str(b, "mac", mac);
        api_cmd_add_str(b, "addr", ip);
        json_end_object(b);
    }
    json_end_array(b);
    json_end_object(b);
    json_end_object(b);
    return api_cmd_reply(b, ret_len);
}

/*
 * {"execute": "shutdown"}: end the daemon after this reply, as --exit-fd
 * would. The OCI hook's poststop stage stops a container's daemon this way,
 * through the daemon's own socket, never by a PID read from a file.
 */
static char *api_cmd_shutdown(struct api_cmd_ctx *ctx,
                              const struct json_value *args, size_t *ret_len)
{
    if (!ctx->loop)
        return api_error_reply("shutdown is not available", ret_len);
    info("API: shutdown requested");
    loop_quit(ctx->loop, 0);
    return api_cmd_empty_return(ret_len);
}

static const struct {
    const char *name;
    api_cmd_fn fn;
} api_cmd_table[] = {
    { "add_hostfwd", api_cmd_add_hostfwd },
    { "list_hostfwd", api_cmd_list_hostfwd },
    { "remove_hostfwd", api_cmd_remove_hostfwd },
    { "get_info", api_cmd_get_info },
    { "get_connections", api_cmd_get_connections },
    { "shutdown", api_cmd_shutdown },
    { "get_policy", api_cmd_get_policy },
    { "set_policy", api_cmd_set_policy },
};

/**
 * api_cmd_handle() - answer one API request (an api_handler_fn)
 * @data:	the struct api_cmd_ctx
 * @req:	the request bytes (need not be NUL-terminated)
 * @len:	their length
 * @ret_len:	the reply's length
 *
 * Return: the reply, compact JSON without a trailing newline, for free();
 *	   never NULL
 */
char *api_cmd_handle(void *data, const char *req, size_t len, size_t *ret_len)
{
    struct api_cmd_ctx *ctx = data;
    const struct json_value *n, *args;
    struct json_value *root;
    char *reply = NULL;
    size_t i;

    if (log_get_level() >= LOG_LVL_DEBUG)
        debug("API request: %.*s", (int)(len > 512 ? 512 : len), req);

    root = json_parse(req, len, API_CMD_DEPTH_MAX);
    if (!root)
        return api_error_reply("bad request: cannot parse JSON", ret_len);
    if (root->type != JSON_OBJECT) {
        reply = api_error_reply("bad request: json_object() failed", ret_len);
        goto out;
    }
    n = json_member(root, "execute");
    if (!n || n->type != JSON_STRING) {
        reply = api_error_reply("bad request: no execute found", ret_len);
        goto out;
    }
    args = json_member(root, "arguments");
    if (args && args->type != JSON_OBJECT)
        args = NULL;

    for (i = 0; i < G_N_ELEMENTS(api_cmd_table); i++) {
        if (!strcmp(n->u.s, api_cmd_table[i].name)) {
            reply = api_cmd_table[i].fn(ctx, args, ret_len);
            goto out;
        }
    }
    reply = api_error_reply("bad request: unknown execute", ret_len);
out:
    json_free(root);
    return reply;
}
