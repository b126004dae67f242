/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fwd_spec.c - port forwards as text: the -p parser, request checks, address formatting */
/*
 * DOC: Theory of Operation
 *
 * The pure half of the forwards, with no libslirp and no table (fwd.c has
 * those): it turns what a caller writes into a struct fwd_spec and back.
 *
 *   -p text  -> fwd_spec_split_publish() cuts [HOSTADDR:]HOSTPORT:GUESTPORT
 *               [/PROTO] into the raw fields of a struct fwd_req, which is
 *               also what add_hostfwd's JSON arguments give;
 *   fwd_req  -> fwd_spec_from_req() checks each field in slirp4netns's
 *               order and makes the sockaddrs, refusing everything libslirp
 *               would abort on (it g_assert()s on unknown families) or
 *               cannot carry: libslirp 4.7 takes the family of a forwarded
 *               connection from the host side, so an IPv6 listener cannot
 *               reach an IPv4 guest, nor an IPv4 listener an IPv6 guest,
 *               and a UNIX listener reaches IPv4 only. A forward between
 *               IPv6 and IPv4 that does not name the slirp path passes:
 *               the splice path can carry it, and fwd_add() (fwd.c) knows
 *               whether that path is there;
 *   sockaddr -> fwd_spec_format_addr() and fwd_spec_addr_port(), as the
 *               API and the banner show them.
 *
 * slirpctl links this file (and json.c) alone, to check a spec before it
 * is sent; the daemon, the unit tests and the fuzzers get it through the
 * core library.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"
#include "err.h"
#include "fwd_spec.h"
#include "sockpath.h"
#include "util.h"

/**
 * fwd_spec_path_parse() - "auto", "splice" or "slirp"
 * @s:		the name
 * @ret:	the path
 *
 * Return: 0 or -EINVAL
 */
int fwd_spec_path_parse(const char *s, enum fwd_path *ret)
{
    if (!s)
        return -EINVAL;
    if (!strcmp(s, "auto"))
        *ret = FWD_PATH_AUTO;
    else if (!strcmp(s, "splice"))
        *ret = FWD_PATH_SPLICE;
    else if (!strcmp(s, "slirp"))
        *ret = FWD_PATH_SLIRP;
    else
        return -EINVAL;
    return 0;
}

/**
 * fwd_spec_path_name() - the name fwd_spec_path_parse() takes
 * @path:	the path
 *
 * Return: "auto", "splice" or "slirp"
 */
const char *fwd_spec_path_name(enum fwd_path path)
{
    return path == FWD_PATH_SPLICE ? "splice" :
           path == FWD_PATH_SLIRP ? "slirp" : "auto";
}

/**
 * fwd_spec_proto_name() - "tcp" or "udp"
 * @proto:	the protocol
 *
 * Return: its name as the API spells it
 */
const char *fwd_spec_proto_name(enum fwd_proto proto)
{
    return proto == FWD_UDP ? "udp" : "tcp";
}

/**
 * fwd_spec_format_addr() - the address of @ss as the API shows it, without port
 * @ss:		AF_INET ("10.0.2.100"), AF_INET6 ("::1", "fe80::1%eth0") or
 *		AF_UNIX ("unix:/path")
 * @buf:	where to write
 * @len:	its size (INET6_ADDRSTRLEN + IF_NAMESIZE + 1 holds every IP;
 *		sizeof(sun_path) + 5 every path)
 *
 * Return: 0, -ENOSPC, or -EAFNOSUPPORT
 */
int fwd_spec_format_addr(const struct sockaddr_storage *ss, char *buf,
                         size_t len)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
    char ifname[IF_NAMESIZE];
    size_t used;
    int n;

    switch (ss->ss_family) {
    case AF_INET:
        return inet_ntop(AF_INET, &sin->sin_addr, buf, len) ? 0 : -ENOSPC;
    case AF_INET6:
        if (!inet_ntop(AF_INET6, &sin6->sin6_addr, buf, len))
            return -ENOSPC;
        if (!sin6->sin6_scope_id)
            return 0;
        used = strlen(buf);
        if (if_indextoname(sin6->sin6_scope_id, ifname))
            n = snprintf(buf + used, len - used, "%%%s", ifname);
        else
            n = snprintf(buf + used, len - used, "%%%u", sin6->sin6_scope_id);
        return n < 0 || (size_t)n >= len - used ? -ENOSPC : 0;
    case AF_UNIX:
        n = snprintf(buf, len, "unix:%.*s", (int)sizeof(sun->sun_path),
                     sun->sun_path);
        return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
    default:
        return -EAFNOSUPPORT;
    }
}

/**
 * fwd_spec_addr_port() - the port of an IP socket address, in host order
 * @ss:	the address
 *
 * Return: the port, 0 for AF_UNIX
 */
int fwd_spec_addr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return 0;
}

static void fwd_spec_set_port(struct sockaddr_storage *ss, int port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* an IPv4 or IPv6 literal (IPv6 with an optional %zone if @zone_ok) */
static int fwd_spec_parse_ip(const char *s, bool zone_ok,
                             struct sockaddr_storage *ret, socklen_t *ret_len)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ret;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ret;
    char buf[INET6_ADDRSTRLEN];
    const char *zone = strchr(s, '%');
    size_t alen = zone ? (size_t)(zone - s) : strlen(s);

    memset(ret, 0, sizeof(*ret));
    if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        *ret_len = sizeof(*sin);
        return 0;
    }
    if (alen >= sizeof(buf) || (zone && !zone_ok))
        return -EINVAL;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
        return -EINVAL;
    sin6->sin6_family = AF_INET6;
    if (zone) {
        const char *z = zone + 1;
        char *end;
        unsigned long idx;

        if (!*z)
            return -EINVAL;
        if (isdigit((unsigned char)*z)) {
            errno = 0;
            idx = strtoul(z, &end, 10);
            if (errno || *end || idx == 0 || idx > UINT32_MAX)
                return -EINVAL;
        } else {
            idx = if_nametoindex(z);
            if (!idx)
                return -EINVAL;
        }
        sin6->sin6_scope_id = (uint32_t)idx;
    }
    *ret_len = sizeof(*sin6);
    return 0;
}

/* -EINVAL about @field; @reason: what is new, or NULL where slirp4netns
 * refuses the field the same way (the field says it all) */
static int fwd_spec_bad(struct err *e, enum fwd_field field,
                        const char *reason)
{
    err_make(e, -EINVAL, "%s", reason ? reason : "");
    if (e)
        e->subject = field;
    return -EINVAL;
}

/* libslirp 4.7's family rule: the reason it cannot carry a forward from
 * @hfam to @gfam, or NULL if it can */
static const char *fwd_spec_family_rule(int hfam, int gfam)
{
    if (hfam == AF_INET6 && gfam != AF_INET6)
        return "an IPv6 host_addr needs an IPv6 guest_addr: libslirp 4.7 "
               "cannot forward IPv6 to IPv4";
    if (hfam == AF_INET && gfam != AF_INET)
        return "an IPv4 host_addr needs an IPv4 guest_addr: libslirp 4.7 "
               "cannot forward IPv4 to IPv6";
    return NULL;
}

static bool fwd_spec_port_ok(int64_t port, int64_t min)
{
    return port >= min && port <= 65535;
}

/**
 * fwd_spec_from_req() - validate one forward's raw fields
 * @req:	the fields
 * @cfg:	for the default guest address (cidr+100) and IPv6
 * @ret:	the forward, ready for fwd_add()
 * @e:		on failure, the field at fault as the subject (an enum
 *		fwd_field: the first, in slirp4netns's order: proto,
 *		host_addr, host_port, guest_addr, guest_port, then path) and,
 *		as the message, what is new: "" where slirp4netns refuses the
 *		field the same way
 *
 * Return: 0 or -EINVAL
 */
int fwd_spec_from_req(const struct fwd_req *req, const struct config *cfg,
                      struct fwd_spec *ret, struct err *e)
{
    struct fwd_spec s;
    const char *ha = req->host_addr, *ga = req->guest_addr;
    enum fwd_path want = FWD_PATH_AUTO;
    const char *reason;
    bool path_ok, cross_ok;
    int hfam, gfam;

    memset(&s, 0, sizeof(s));

    if (!req->proto)
        return fwd_spec_bad(e, FWD_FIELD_PROTO, NULL);
    if (!strcmp(req->proto, "tcp"))
        s.proto = FWD_TCP;
    else if (!strcmp(req->proto, "udp"))
        s.proto = FWD_UDP;
    else
        return fwd_spec_bad(e, FWD_FIELD_PROTO, NULL);

    if (ha && !strncmp(ha, "unix:", 5)) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&s.host;
        const char *path = ha + 5;

        if (path[0] != '/' || path[strlen(path) - 1] == '/')
            return fwd_spec_bad(e, FWD_FIELD_HOST_ADDR,
                                "unix: needs an absolute path to a socket file");
        if (strlen(path) >= sizeof(sun->sun_path))
            return fwd_spec_bad(e, FWD_FIELD_HOST_ADDR,
                                "unix: path too long (107 bytes at most)");
        if (strlen(strrchr(path, '/') + 1) > SOCKPATH_NAME_MAX)
            return fwd_spec_bad(e, FWD_FIELD_HOST_ADDR,
                                "unix: file name too long (82 bytes at most)");
        if (s.proto != FWD_TCP)
            return fwd_spec_bad(e, FWD_FIELD_HOST_ADDR,
                                "unix: forwards are TCP only");
        sun->sun_family = AF_UNIX;
        strcpy(sun->sun_path, path);
        s.host_len = sizeof(*sun);
    } else if (fwd_spec_parse_ip(ha && *ha ? ha : "0.0.0.0", true, &s.host,
                                 &s.host_len) < 0) {
        return fwd_spec_bad(e, FWD_FIELD_HOST_ADDR, NULL);
    }
    hfam = s.host.ss_family;

    if (hfam == AF_UNIX) {
        if (req->host_port != 0 && req->host_port != FWD_PORT_MISSING)
            return fwd_spec_bad(e, FWD_FIELD_HOST_PORT,
                                "must be 0 or left out with a unix: host_addr");
    } else {
        if (!fwd_spec_port_ok(req->host_port, 0))
            return fwd_spec_bad(e, FWD_FIELD_HOST_PORT, NULL);
        fwd_spec_set_port(&s.host, (int)req->host_port);
    }

    if (fwd_spec_parse_ip(ga && *ga ? ga : "0.0.0.0", false, &s.guest,
                          &s.guest_len) < 0)
        return fwd_spec_bad(e, FWD_FIELD_GUEST_ADDR, NULL);
    if (!ga || !*ga)
        ((struct sockaddr_in *)&s.guest)->sin_addr = cfg->recommended;
    gfam = s.guest.ss_family;
    if (gfam == AF_INET6 && !cfg->enable_ipv6)
        return fwd_spec_bad(e, FWD_FIELD_GUEST_ADDR,
                            "IPv6 is not enabled (--enable-ipv6)");

    if (!fwd_spec_port_ok(req->guest_port, 1))
        return fwd_spec_bad(e, FWD_FIELD_GUEST_PORT, NULL);
    fwd_spec_set_port(&s.guest, (int)req->guest_port);

    path_ok = !req->path || !*req->path ||
              fwd_spec_path_parse(req->path, &want) == 0;
    if (!path_ok)
        return fwd_spec_bad(e, FWD_FIELD_PATH, "auto, splice or slirp");
    if (want == FWD_PATH_SPLICE && hfam == AF_UNIX)
        return fwd_spec_bad(e, FWD_FIELD_PATH, "the splice path forwards from "
                            "an IP host address only");
    s.path = want;
    /* the splice path connects across families; libslirp cannot. Whether
     * the splice path is there is known at fwd_add(), which refuses the
     * forward with libslirp's reason if it is not */
    cross_ok = want != FWD_PATH_SLIRP && hfam != AF_UNIX;

    reason = cross_ok ? NULL : fwd_spec_family_rule(hfam, gfam);
    if (reason)
        return fwd_spec_bad(e, FWD_FIELD_GUEST_ADDR, reason);
    if (gfam == AF_INET6 && s.proto == FWD_UDP &&
        IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&s.guest)->sin6_addr))
        return fwd_spec_bad(e, FWD_FIELD_GUEST_ADDR,
                            "libslirp 4.7 learns the guest's IPv6 address "
                            "(\"::\") for TCP only: give it for UDP");
    if (hfam == AF_UNIX && gfam != AF_INET)
        return fwd_spec_bad(e, FWD_FIELD_GUEST_ADDR,
                            "a unix: host_addr forwards to an IPv4 "
                            "guest_addr only");

    *ret = s;
    return 0;
}

/**
 * fwd_spec_ip_is_any() - is @ss the unspecified address (0.0.0.0 or ::)?
 * @ss:	an AF_INET or AF_INET6 address
 *
 * Return: true if it is
 */
bool fwd_spec_ip_is_any(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == INADDR_ANY;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

    return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

/**
 * fwd_spec_family_check() - can libslirp 4.7 carry @spec's families?
 * @spec:	a forward
 * @e:		if not, the reason (the text fwd_spec_from_req() gives for
 *		path "slirp"), about the guest address
 *
 * Return: 0, or -EAFNOSUPPORT if the host and guest families do not fit
 *	   libslirp
 */
int fwd_spec_family_check(const struct fwd_spec *spec, struct err *e)
{
    const char *reason = fwd_spec_family_rule(spec->host.ss_family,
                                           spec->guest.ss_family);

    if (!reason)
        return 0;
    err_make(e, -EAFNOSUPPORT, "%s", reason);
    if (e)
        e->subject = FWD_FIELD_GUEST_ADDR;
    return -EAFNOSUPPORT;
}

/**
 * fwd_spec_ip_equal() - the same family and IP address (ports not compared)
 * @a:	an AF_INET or AF_INET6 address
 * @b:	another
 *
 * Return: true if they are equal
 */
bool fwd_spec_ip_equal(const struct sockaddr_storage *a,
                       const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)b)->sin6_addr,
                   sizeof(struct in6_addr));
}

/* "" (missing), a decimal port, or FWD_PORT_INVALID */
static int64_t fwd_spec_publish_port(const char *s)
{
    size_t i;

    if (!*s)
        return FWD_PORT_MISSING;
    for (i = 0; s[i]; i++) {
        if (!isdigit((unsigned char)s[i]) || i >= 5)
            return FWD_PORT_INVALID;
    }
    return strtol(s, NULL, 10);
}

/**
 * fwd_spec_split_publish() - split a --publish spec into its raw fields
 * @spec:	[HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp], with an IPv6 HOSTADDR
 *		in brackets ([::1]:8080:80), or unix:/path:GUESTPORT[/tcp]
 * @buf:	scratch space the returned strings point into
 * @buflen:	its size (strlen(@spec) + 1 is enough)
 * @ret:	the fields (guest_addr NULL); values are not checked here
 * @e:		on failure, what is wrong (no subject: the spec as a whole)
 *
 * Return: 0, -EINVAL, or -ENOSPC if @buf is too small
 */
int fwd_spec_split_publish(const char *spec, char *buf, size_t buflen,
                           struct fwd_req *ret, struct err *e)
{
    char *p, *proto, *last, *first;

    memset(ret, 0, sizeof(*ret));
    if (strlen(spec) >= buflen)
        return err_make(e, -ENOSPC, "the spec is longer than %zu bytes",
                        buflen - 1);
    strcpy(buf, spec);
    ret->proto = "tcp";

    proto = strrchr(buf, '/');
    if (proto && !strchr(proto, ':')) {
        *proto++ = '\0';
        if (!strcmp(proto, "tcp"))
            ret->proto = "tcp";
        else if (!strcmp(proto, "udp"))
            ret->proto = "udp";
        else
            return err_make(e, -EINVAL, "the protocol must be tcp or udp");
    }

    last = strrchr(buf, ':');
    if (!last)
        return err_make(e, -EINVAL, "expected [HOSTADDR:]HOSTPORT:GUESTPORT");
    *last = '\0';
    ret->guest_port = fwd_spec_publish_port(last + 1);

    if (!strncmp(buf, "unix:", 5)) {
        ret->host_addr = buf;
        ret->host_port = FWD_PORT_MISSING;
        return 0;
    }
    if (buf[0] == '[') {
        p = strchr(buf, ']');
        if (!p || p[1] != ':')
            return err_make(e, -EINVAL, "expected [IPv6]:HOSTPORT:GUESTPORT");
        *p = '\0';
        ret->host_addr = buf + 1;
        ret->host_port = fwd_spec_publish_port(p + 2);
        return 0;
    }
    first = strrchr(buf, ':');
    if (!first) {
        ret->host_port = fwd_spec_publish_port(buf);
        return 0;
    }
    *first = '\0';
    if (strchr(buf, ':'))
        return err_make(e, -EINVAL, "an IPv6 HOSTADDR goes in brackets: "
                        "[ADDR]:HOSTPORT:GUESTPORT");
    ret->host_addr = buf;
    ret->host_port = fwd_spec_publish_port(first + 1);
    return 0;
}

static const char *const fwd_spec_field_words[] = {
    [FWD_FIELD_NONE] = "value",
    [FWD_FIELD_PROTO] = "protocol",
    [FWD_FIELD_HOST_ADDR] = "host address",
    [FWD_FIELD_HOST_PORT] = "host port",
    [FWD_FIELD_GUEST_ADDR] = "guest address",
    [FWD_FIELD_GUEST_PORT] = "guest port",
    [FWD_FIELD_PATH] = "path",
};

/**
 * fwd_spec_parse_publish() - one --publish spec to a forward
 * @spec:	see fwd_spec_split_publish()
 * @cfg:	the configuration (guest address, IPv6)
 * @ret:	the forward
 * @e:		on failure, one line naming the spec and the problem; the
 *		subject is the field at fault, if one is (an enum fwd_field)
 *
 * The guest side is cidr+100 for an IPv4 or UNIX host address and, since
 * libslirp 4.7 cannot forward IPv6 to IPv4, the guest's own IPv6 address
 * (learned by libslirp from neighbour discovery) for an IPv6 one: TCP only,
 * libslirp does not learn it for UDP.
 *
 * Return: 0, -EINVAL, or -ENOMEM
 */
int fwd_spec_parse_publish(const char *spec, const struct config *cfg,
                           struct fwd_spec *ret, struct err *e)
{
    size_t buflen = strlen(spec) + 1;
    _cleanup_free_ char *buf = malloc(buflen);
    struct err local;
    struct fwd_req req;
    int r;

    if (!e)
        e = &local;     /* the subject picks the words */
    if (!buf)
        return err_make_errno(e, -ENOMEM, "--publish %s", spec);
    r = fwd_spec_split_publish(spec, buf, buflen, &req, e);
    if (r == 0 && req.host_addr && strncmp(req.host_addr, "unix:", 5) &&
        strchr(req.host_addr, ':'))
        req.guest_addr = "::";
    if (r == 0)
        r = fwd_spec_from_req(&req, cfg, ret, e);
    if (r == 0)
        return 0;
    if (e->subject != FWD_FIELD_NONE)
        return err_wrap(e, -EINVAL, "--publish %s: bad %s", spec,
                        fwd_spec_field_words[e->subject]);
    if (!e->msg[0])
        err_make(e, -EINVAL, "cannot parse");
    return err_wrap(e, -EINVAL, "--publish %s", spec);
}

/**
 * fwd_spec_publish_check() - validate every --publish spec (before start-up)
 * @specs:	the specs
 * @n:		how many
 * @cfg:	the configuration
 * @e:		on failure, one line about the first bad spec
 *
 * Return: 0 or -EINVAL
 */
int fwd_spec_publish_check(const char *const *specs, size_t n,
                           const struct config *cfg, struct err *e)
{
    struct fwd_spec s;
    size_t i;

    for (i = 0; i < n; i++) {
        if (fwd_spec_parse_publish(specs[i], cfg, &s, e) < 0)
            return -EINVAL;
    }
    return 0;
}
