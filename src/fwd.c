/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fwd.c - the port-forward rule table shared by --publish and the API */
/*
 * DOC: Theory of Operation
 *
 * Every forward, from --publish or from add_hostfwd, goes through the same
 * three steps:
 *
 *   validate -> fwd_spec_from_req() (fwd_spec.c) turns raw fields into
 *               sockaddrs and refuses everything libslirp would abort on or
 *               cannot carry;
 *   add      -> slirp_add_hostxfwd() binds and listens. It reports neither
 *               the socket nor the port it bound, and removal needs the real
 *               address, so the listener is found right after: socket()
 *               takes the lowest free fd, which is known before the call;
 *               the fd is checked (type, listening, address) and, should a
 *               libslirp ever open something else first, libslirp's socket
 *               list is scanned through slirp_pollfds_fill() instead. Its
 *               getsockname() gives the port chosen for host port 0, and a
 *               second listen() raises libslirp's backlog of 1;
 *   remove   -> slirp_remove_hostxfwd() with that real address.
 *
 * A TCP forward from an IP host address may take the splice path instead
 * (fwd_choose_path(), docs/design.md): splice_listen() binds and listens,
 * and removal is splice_unlisten(). With "auto" (the default) that is a
 * forward bound to a loopback address; wildcard and other addresses stay
 * on libslirp, which keeps the client's real source address. A forward
 * between IPv6 and IPv4, which libslirp 4.7 cannot carry, is served when
 * the splice path is named (per forward or --forward-path=splice).
 *
 * Rules live in one array in insertion order; ids grow from 1 and are
 * never reused, so the array is sorted by id.
 *
 * UNIX socket files (sockpath.c): the directory of the path is opened
 * first, without following a symbolic link anywhere on the way (the path
 * may lie in a directory the namespace's processes can write, such as a
 * volume), and held as an fd for the rule's life. libslirp's bind() gets
 * the address "/proc/self/fd/N/NAME", which creates NAME in that very
 * directory; it is also the listener's getsockname(), unique to the rule,
 * so slirp_remove_hostxfwd() cannot take another rule's listener with the
 * same file name elsewhere. A stale socket file there (nobody accepts on
 * it) is replaced, a live one is "in use"; nothing outside that directory
 * is ever unlinked. The file is unlinked on remove and in fwd_free(),
 * through the directory fd and only if it is still the file we made, so
 * this keeps working inside a sandbox. Once fwd_restrict_unix() is called
 * (after the sandbox's pivot_root, when no new path could be bound) new
 * UNIX forwards are refused: they are accepted from --publish only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "fwd.h"
#include "sockpath.h"
#include "splice.h"
#include "udprelay.h"
#include "util.h"

struct fwd_table {
    Slirp *slirp;
    struct fwd_rule *rules;     /* insertion order, hence id order */
    size_t n, cap, max;
    uint32_t next_id;
    bool unix_restricted;
    struct splice *splice;      /* NULL: libslirp only */
    struct udprelay *relay;     /* NULL: UDP through libslirp only */
    enum fwd_path dflt;         /* for rules that ask for FWD_PATH_AUTO */
};

/**
 * fwd_new() - an empty forward table on a libslirp instance
 * @slirp:	the instance whose listeners the rules are
 * @max:	the most forwards at a time (0: FWD_MAX_DEFAULT)
 * @ret:	the table; free with fwd_free()
 *
 * Return: 0 or -ENOMEM
 */
int fwd_new(Slirp *slirp, size_t max, struct fwd_table **ret)
{
    struct fwd_table *t = calloc(1, sizeof(*t));

    if (!t)
        return -ENOMEM;
    t->slirp = slirp;
    t->max = max ? max : FWD_MAX_DEFAULT;
    t->next_id = 1;
    *ret = t;
    return 0;
}

static const char *fwd_unix_name(const struct fwd_rule *r)
{
    const struct sockaddr_un *sun = (const struct sockaddr_un *)&r->spec.host;
    const char *slash = strrchr(sun->sun_path, '/');

    return slash ? slash + 1 : sun->sun_path;
}

/* unlink the socket file of a UNIX forward, if it is still the one we made */
static void fwd_unix_cleanup(struct fwd_rule *r)
{
    if (r->dirfd < 0)
        return;
    sockpath_unlink_if(r->dirfd, fwd_unix_name(r), r->unix_dev, r->unix_ino);
    close(r->dirfd);
    r->dirfd = -1;
}

/**
 * fwd_free() - forget every rule and unlink the UNIX socket files
 * @t:	the table, or NULL
 *
 * The listeners stay with libslirp; stack_free() closes them. (Removing
 * them one by one would cost a scan of libslirp's socket list each.)
 */
void fwd_free(struct fwd_table *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->n; i++) {
        if (t->rules[i].path == FWD_PATH_SPLICE &&
            t->rules[i].spec.proto == FWD_UDP)
            udprelay_unlisten(t->relay, t->rules[i].fd);
        else if (t->rules[i].path == FWD_PATH_SPLICE)
            splice_unlisten(t->splice, t->rules[i].fd);
        fwd_unix_cleanup(&t->rules[i]);
    }
    free(t->rules);
    free(t);
}

/**
 * fwd_restrict_unix() - refuse new UNIX-socket forwards from now on
 * @t:	the table
 *
 * For the sandbox: after pivot_root no host path can be bound any more, so
 * UNIX forwards are then accepted from --publish (applied before) only.
 */
void fwd_restrict_unix(struct fwd_table *t)
{
    t->unix_restricted = true;
}

/**
 * fwd_set_splice() - let TCP forwards take the splice path
 * @t:		the table
 * @sp:		the splice engine (outlives the table), or NULL
 * @dflt:	the path of rules that ask for FWD_PATH_AUTO (--forward-path)
 */
void fwd_set_splice(struct fwd_table *t, struct splice *sp,
                    enum fwd_path dflt)
{
    t->splice = sp;
    t->dflt = dflt;
}

/**
 * fwd_set_udprelay() - let UDP forwards take the fast path (the relay)
 * @t:		the table
 * @u:		the relay on the splice engine of fwd_set_splice() (outlives
 *		the table), or NULL
 */
void fwd_set_udprelay(struct fwd_table *t, struct udprelay *u)
{
    t->relay = u;
}

/**
 * fwd_default_path() - the path of rules that do not name one
 * @t:	the table
 *
 * Return: what fwd_set_splice() was given (FWD_PATH_AUTO before)
 */
enum fwd_path fwd_default_path(const struct fwd_table *t)
{
    return t->dflt;
}

/**
 * fwd_count_path() - how many rules take @path
 * @t:		the table
 * @path:	FWD_PATH_SPLICE or FWD_PATH_SLIRP
 *
 * Return: the number of rules
 */
size_t fwd_count_path(const struct fwd_table *t, enum fwd_path path)
{
    size_t i, n = 0;

    for (i = 0; i < t->n; i++)
        n += t->rules[i].path == path;
    return n;
}

/**
 * fwd_count() - how many rules the table holds
 * @t:	the table
 *
 * Return: the number of rules
 */
size_t fwd_count(const struct fwd_table *t)
{
    return t->n;
}

/**
 * fwd_max() - the most rules the table takes
 * @t:	the table
 *
 * Return: the limit given to fwd_new()
 */
size_t fwd_max(const struct fwd_table *t)
{
    return t->max;
}

/**
 * fwd_next_id() - the id the next successful fwd_add() will give
 * @t:	the table
 *
 * Return: the id
 */
uint32_t fwd_next_id(const struct fwd_table *t)
{
    return t->next_id;
}

/**
 * fwd_get() - the @i-th rule in insertion (and id) order
 * @t:	the table
 * @i:	0..fwd_count()-1
 *
 * Return: the rule (valid until the next add or remove), NULL past the end
 */
const struct fwd_rule *fwd_get(const struct fwd_table *t, size_t i)
{
    return i < t->n ? &t->rules[i] : NULL;
}

static ssize_t fwd_index(const struct fwd_table *t, uint32_t id)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->rules[mid].id == id)
            return (ssize_t)mid;
        if (t->rules[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/**
 * fwd_find() - the rule with id @id
 * @t:	the table
 * @id:	its id
 *
 * Return: the rule (valid until the next add or remove), or NULL
 */
const struct fwd_rule *fwd_find(const struct fwd_table *t, uint32_t id)
{
    ssize_t i = fwd_index(t, id);

    return i < 0 ? NULL : &t->rules[i];
}

/**
 * fwd_find_unix_bound() - the UNIX rule whose listener has address @ss
 * @t:	the table
 * @ss:	a getsockname() result: the listener's, or that of a connection
 *	it accepted
 *
 * A UNIX listener is bound as "/proc/self/fd/N/NAME" (fwd_add()); this
 * finds the rule, whose spec has the path as it was asked for.
 *
 * Return: the rule (valid until the next add or remove), or NULL
 */
const struct fwd_rule *fwd_find_unix_bound(const struct fwd_table *t,
                                           const struct sockaddr_storage *ss)
{
    const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
    size_t i;

    if (!t || ss->ss_family != AF_UNIX)
        return NULL;
    for (i = 0; i < t->n; i++) {
        const struct fwd_rule *r = &t->rules[i];

        if (r->bound.ss_family == AF_UNIX &&
            !strncmp(((const struct sockaddr_un *)&r->bound)->sun_path,
                     sun->sun_path, sizeof(sun->sun_path)))
            return r;
    }
    return NULL;
}

/**
 * fwd_choose_path() - the data path @spec takes in @t
 * @t:		the table (its default path and splice engine)
 * @spec:	a validated forward
 *
 * UNIX-socket forwards always take libslirp. For UDP the "splice" path is
 * the relay of udprelay.c, with the same rules. A path named by the
 * forward, or the table's default if it is not "auto", is taken as named
 * (a default "splice" leaves a forward to the unspecified guest address,
 * which libslirp resolves to the guest's own, on libslirp); only a named
 * path crosses between IPv6 and IPv4. "auto" takes the splice path, while
 * the engine is available, for a host address on loopback (whose clients
 * libslirp would show as cidr+2 anyway) and for a forward between IPv6 and
 * IPv4, which libslirp 4.7 cannot carry at all (podman#13229: -p [::]:P:Q
 * with the default guest address); libslirp for the rest, which keeps the
 * real source address of remote clients. Without the engine a forward
 * between families is refused with libslirp's reason (fwd_add()).
 *
 * Return: FWD_PATH_SPLICE or FWD_PATH_SLIRP
 */
enum fwd_path fwd_choose_path(const struct fwd_table *t,
                              const struct fwd_spec *spec)
{
    enum fwd_path p = spec->path != FWD_PATH_AUTO ? spec->path : t->dflt;
    bool any = fwd_spec_ip_is_any(&spec->guest), udp = spec->proto == FWD_UDP;
    bool avail = splice_available(t->splice) && (!udp || t->relay);

    if (spec->host.ss_family == AF_UNIX || p == FWD_PATH_SLIRP)
        return FWD_PATH_SLIRP;
    if (p == FWD_PATH_SPLICE)
        return any && spec->path != FWD_PATH_SPLICE ? FWD_PATH_SLIRP :
                                                      FWD_PATH_SPLICE;
    if (!avail || any)
        return FWD_PATH_SLIRP;
    if (fwd_spec_family_check(spec, NULL) < 0)
        return FWD_PATH_SPLICE;
    /* "auto": a forward bound to a loopback address takes the splice path
     * (TCP) or the relay (UDP; udprelay.c, docs/performance.md) */
    return util_addr_is_loopback((const struct sockaddr *)&spec->host) ?
           FWD_PATH_SPLICE : FWD_PATH_SLIRP;
}

static bool fwd_guest_equal(const struct sockaddr_storage *a,
                            const struct sockaddr_storage *b)
{
    return fwd_spec_ip_equal(a, b) &&
           fwd_spec_addr_port(a) == fwd_spec_addr_port(b);
}

/* @code, about @field of the request, with @msg */
static int fwd_bad(struct err *e, int code, enum fwd_field field,
                   const char *msg)
{
    err_make(e, code, "%s", msg);
    if (e)
        e->subject = field;
    return code;
}

/*
 * Would @spec clash with a rule? -EADDRINUSE: it takes a host address a
 * rule holds (the kernel says so for TCP, but libslirp's SO_REUSEADDR lets
 * two UDP sockets share a port). -EEXIST, about the guest port: a second
 * UDP forward through libslirp to the same guest address and port, which
 * libslirp 4.7 cannot tell apart: it matches the guest's replies by the
 * guest side only and sends them all out through the newest listener.
 */
static int fwd_conflicts(const struct fwd_table *t, const struct fwd_spec *spec,
                         enum fwd_path path, struct err *e)
{
    int port = fwd_spec_addr_port(&spec->host);
    size_t i;

    for (i = 0; i < t->n; i++) {
        const struct fwd_rule *r = &t->rules[i];

        if (r->spec.proto != spec->proto)
            continue;
        /* libslirp's; the relay has a socket per flow */
        if (spec->proto == FWD_UDP && path == FWD_PATH_SLIRP &&
            r->path == FWD_PATH_SLIRP &&
            fwd_guest_equal(&r->spec.guest, &spec->guest))
            return fwd_bad(e, -EEXIST, FWD_FIELD_GUEST_PORT,
                           "a UDP forward to the same guest address and "
                           "port exists (libslirp 4.7 would send the replies "
                           "of both through one)");
        if (r->bound.ss_family != spec->host.ss_family)
            continue;
        if (spec->host.ss_family == AF_UNIX) {
            if (!strcmp(((const struct sockaddr_un *)&r->spec.host)->sun_path,
                        ((const struct sockaddr_un *)&spec->host)->sun_path))
                return err_make_errno(e, -EADDRINUSE, NULL);
            continue;
        }
        if (port == 0 || fwd_spec_addr_port(&r->bound) != port)
            continue;
        if (fwd_spec_ip_equal(&r->bound, &spec->host) ||
            fwd_spec_ip_is_any(&r->bound) || fwd_spec_ip_is_any(&spec->host))
            return err_make_errno(e, -EADDRINUSE, NULL);
    }
    return 0;
}

/*
 * The socket file's directory, opened without following symbolic links,
 * and the address that binds NAME in it; a stale socket file there is
 * removed.
 */
static int fwd_unix_prepare(const struct fwd_spec *spec, int *ret_dirfd,
                            struct sockaddr_un *ret_addr, struct err *e)
{
    const struct sockaddr_un *sun = (const struct sockaddr_un *)&spec->host;
    char dir[sizeof(sun->sun_path)];
    _cleanup_close_ int dfd = -1;
    const char *name;
    int r;

    r = sockpath_split(sun->sun_path, dir, sizeof(dir), &name);
    if (r == 0)
        r = sockpath_open_dir(dir, true, &dfd);
    if (r == 0)
        r = sockpath_at(dfd, name, ret_addr);
    if (r == 0)
        r = sockpath_clear(dfd, name, ret_addr);
    if (r == -ENOTSOCK)
        return fwd_bad(e, r, FWD_FIELD_HOST_ADDR,
                       "the path exists and is not a socket");
    if (r == -ELOOP)
        return fwd_bad(e, r, FWD_FIELD_HOST_ADDR,
                       "unix: the path goes through a symbolic link (unix: "
                       "paths are resolved without following any)");
    if (r < 0)
        return err_make_errno(e, r, NULL);
    *ret_dirfd = util_take_fd(&dfd);
    return 0;
}

/* is @fd the listener libslirp just made for @spec? */
static bool fwd_listener_matches(int fd, const struct fwd_spec *spec,
                                 struct sockaddr_storage *ret_bound,
                                 socklen_t *ret_len)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(int);
    int type = 0, accepting = 0, port;

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        type != (spec->proto == FWD_UDP ? SOCK_DGRAM : SOCK_STREAM))
        return false;
    len = sizeof(int);
    if (spec->proto == FWD_TCP &&
        (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0 ||
         !accepting))
        return false;
    memset(&ss, 0, sizeof(ss));
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
        ss.ss_family != spec->host.ss_family)
        return false;
    if (ss.ss_family == AF_UNIX) {
        if (strncmp(((struct sockaddr_un *)&ss)->sun_path,
                    ((const struct sockaddr_un *)&spec->host)->sun_path,
                    sizeof(((struct sockaddr_un *)&ss)->sun_path)))
            return false;
    } else {
        port = fwd_spec_addr_port(&spec->host);
        if (!fwd_spec_ip_equal(&ss, &spec->host) ||
            (port && fwd_spec_addr_port(&ss) != port))
            return false;
    }
    *ret_bound = ss;
    *ret_len = len;
    return true;
}

struct fwd_scan {
    const struct fwd_table *t;
    const struct fwd_spec *spec;
    int fd;
    struct sockaddr_storage bound;
    socklen_t bound_len;
};

/* a SlirpAddPollCb: look at each of libslirp's sockets once */
static int fwd_scan_cb(int fd, int events, void *opaque)
{
    struct fwd_scan *sc = opaque;
    size_t i;

    if (sc->fd >= 0)
        return -1;
    for (i = 0; i < sc->t->n; i++) {
        if (sc->t->rules[i].fd == fd)
            return -1;
    }
    if (fwd_listener_matches(fd, sc->spec, &sc->bound, &sc->bound_len))
        sc->fd = fd;
    return -1;
}

/**
 * fwd_find_listener() - the listener slirp_add_hostxfwd() just made
 * @t:		the table (its rules' fds are not candidates)
 * @spec:	what was added
 * @guess:	the lowest free fd before the call, or -1
 * @ret_bound:	the listener's address (getsockname)
 * @ret_len:	its length
 *
 * @guess if it is that listener; else a scan of libslirp's sockets through
 * slirp_pollfds_fill(). The scan hands back -1 as every poll index, so
 * libslirp leaves its sockets alone for the rest of this loop iteration.
 *
 * Return: the fd, or -1 if there is no such listener
 */
int fwd_find_listener(const struct fwd_table *t, const struct fwd_spec *spec,
                      int guess, struct sockaddr_storage *ret_bound,
                      socklen_t *ret_len)
{
    struct fwd_scan sc = { .t = t, .spec = spec, .fd = -1 };
    uint32_t timeout = UINT32_MAX;

    if (guess >= 0 && fwd_listener_matches(guess, spec, ret_bound, ret_len))
        return guess;
    slirp_pollfds_fill(t->slirp, &timeout, fwd_scan_cb, &sc);
    if (sc.fd >= 0) {
        *ret_bound = sc.bound;
        *ret_len = sc.bound_len;
    }
    return sc.fd;
}

/* the fd the next socket() will get */
static int fwd_lowest_free_fd(void)
{
    int fd = eventfd(0, EFD_CLOEXEC);

    if (fd >= 0)
        close(fd);
    return fd;
}

static int fwd_grow(struct fwd_table *t)
{
    struct fwd_rule *p;
    size_t cap;

    if (t->n < t->cap)
        return 0;
    cap = t->cap ? t->cap * 2 : 16;
    p = realloc(t->rules, cap * sizeof(*p));
    if (!p)
        return -ENOMEM;
    t->rules = p;
    t->cap = cap;
    return 0;
}

/**
 * fwd_full() - is the table at its limit?
 * @t:	the table
 *
 * Return: true if fwd_add() would refuse any forward for want of room
 */
bool fwd_full(const struct fwd_table *t)
{
    return t->n >= t->max || t->next_id == UINT32_MAX;
}

/**
 * fwd_add() - listen on the host side of @spec and add the rule
 * @t:		the table
 * @spec:	a forward from fwd_spec_from_req()
 * @ret:	the new rule (valid until the next add or remove), or NULL
 * @e:		on failure, why; the subject is the request's field at fault
 *		(an enum fwd_field), if one is: the host address for a UNIX
 *		forward after fwd_restrict_unix() or a UNIX path that is not
 *		a socket or goes through a symbolic link, the guest port for
 *		a second UDP forward through libslirp to the same guest
 *		address and port, the guest address for a forward between
 *		IPv6 and IPv4 that takes libslirp, the path if it must take
 *		the splice path and that is not available
 *
 * Return: 0; -ENOSPC at the limit (fwd_full()); -EPERM, -ENOTSOCK,
 *	   -ELOOP, -EEXIST, -EAFNOSUPPORT or -ENOTCONN for the cases above;
 *	   -EADDRINUSE if a rule or a live UNIX socket holds the address;
 *	   the errno of libslirp's (or splice_listen()'s) socket/bind/listen
 *	   (e.g. -EADDRINUSE, -EACCES, -EADDRNOTAVAIL); -EIO if the new
 *	   listener cannot be found
 */
int fwd_add(struct fwd_table *t, const struct fwd_spec *spec,
            const struct fwd_rule **ret, struct err *e)
{
    struct fwd_spec bind_spec;
    struct fwd_rule r;
    int flags = 0, guess, family = spec->host.ss_family, rc;
    enum fwd_path path;

    if (ret)
        *ret = NULL;
    if (fwd_full(t))
        return err_make(e, -ENOSPC, "too many forwards");
    if (family == AF_UNIX && t->unix_restricted)
        return fwd_bad(e, -EPERM, FWD_FIELD_HOST_ADDR,
                       "with the sandbox on, unix: forwards can only be "
                       "given with --publish");
    path = fwd_choose_path(t, spec);
    if (path == FWD_PATH_SLIRP) {
        rc = fwd_spec_family_check(spec, e);
        if (rc < 0)
            return rc;
    }
    if (path == FWD_PATH_SPLICE && (!splice_available(t->splice) ||
                                    (spec->proto == FWD_UDP && !t->relay)))
        return fwd_bad(e, -ENOTCONN, FWD_FIELD_PATH,
                       "the splice path is not available (no helper in the "
                       "namespace)");
    rc = fwd_conflicts(t, spec, path, e);
    if (rc < 0)
        return rc;
    rc = fwd_grow(t);
    if (rc < 0)
        return err_make_errno(e, rc, NULL);

    memset(&r, 0, sizeof(r));
    r.dirfd = -1;
    r.path = path;
    if (path == FWD_PATH_SPLICE) {
        if (spec->proto == FWD_UDP)
            rc = udprelay_listen(t->relay,
                                 (const struct sockaddr *)&spec->host,
                                 spec->host_len,
                                 (const struct sockaddr *)&spec->guest,
                                 spec->guest_len, &r.fd, &r.bound,
                                 &r.bound_len);
        else
            rc = splice_listen(t->splice, (const struct sockaddr *)&spec->host,
                               spec->host_len,
                               (const struct sockaddr *)&spec->guest,
                               spec->guest_len, &r.fd, &r.bound,
                               &r.bound_len);
        if (rc < 0)
            return err_make_errno(e, rc, NULL);
        r.spec = *spec;
        r.id = t->next_id++;
        r.ephemeral = fwd_spec_addr_port(&spec->host) == 0;
        t->rules[t->n++] = r;
        if (ret)
            *ret = &t->rules[t->n - 1];
        return 0;
    }
    /* what libslirp binds: for UNIX, the name in the directory we hold */
    bind_spec = *spec;
    if (family == AF_UNIX) {
        struct sockaddr_un at;

        rc = fwd_unix_prepare(spec, &r.dirfd, &at, e);
        if (rc < 0)
            return rc;
        memcpy(&bind_spec.host, &at, sizeof(at));
        bind_spec.host_len = sizeof(at);
    }
    if (spec->proto == FWD_UDP)
        flags |= SLIRP_HOSTFWD_UDP;
    if (family == AF_INET6)
        flags |= SLIRP_HOSTFWD_V6ONLY;

    guess = fwd_lowest_free_fd();
    errno = 0;
    if (slirp_add_hostxfwd(t->slirp, (const struct sockaddr *)&bind_spec.host,
                           bind_spec.host_len,
                           (const struct sockaddr *)&spec->guest,
                           spec->guest_len, flags) < 0) {
        rc = errno > 0 ? -errno : -EIO;
        util_closep(&r.dirfd);
        return err_make_errno(e, rc, NULL);
    }

    r.fd = fwd_find_listener(t, &bind_spec, guess, &r.bound, &r.bound_len);
    if (r.fd < 0) {
        /* not seen in practice; without the real address only a fully
         * specified listener can be taken back */
        if (family == AF_UNIX || fwd_spec_addr_port(&spec->host))
            slirp_remove_hostxfwd(t->slirp,
                                  (const struct sockaddr *)&bind_spec.host,
                                  bind_spec.host_len, flags);
        util_closep(&r.dirfd);
        return err_make(e, -EIO, "libslirp's new listener cannot be found");
    }
    if (spec->proto == FWD_TCP)
        listen(r.fd, FWD_BACKLOG);   /* best effort: backlog 1 still works */
    r.spec = *spec;
    if (family == AF_UNIX &&
        sockpath_identify(r.dirfd, fwd_unix_name(&r), &r.unix_dev,
                          &r.unix_ino) < 0) {
        util_closep(&r.dirfd);   /* never unlink what we can't identify */
        r.dirfd = -1;
    }
    r.id = t->next_id++;
    r.ephemeral = family != AF_UNIX && fwd_spec_addr_port(&spec->host) == 0;
    t->rules[t->n++] = r;
    if (ret)
        *ret = &t->rules[t->n - 1];
    return 0;
}

/**
 * fwd_remove() - close a forward's listener and drop the rule
 * @t:	the table
 * @id:	the rule's id
 *
 * TCP connections already accepted stay up until they end; the flows of a
 * UDP relay forward are closed with it (their host socket is gone).
 *
 * Return: 0, -ENOENT if there is no such rule, -EIO if libslirp has no
 *	   such listener (the rule is kept, as slirp4netns does)
 */
int fwd_remove(struct fwd_table *t, uint32_t id)
{
    ssize_t i = fwd_index(t, id);
    struct fwd_rule *r;
    int flags;

    if (i < 0)
        return -ENOENT;
    r = &t->rules[i];
    flags = r->spec.proto == FWD_UDP ? SLIRP_HOSTFWD_UDP : 0;
    if (r->path == FWD_PATH_SPLICE && r->spec.proto == FWD_UDP) {
        if (udprelay_unlisten(t->relay, r->fd) < 0)
            return -EIO;
    } else if (r->path == FWD_PATH_SPLICE) {
        if (splice_unlisten(t->splice, r->fd) < 0)
            return -EIO;
    } else if (slirp_remove_hostxfwd(t->slirp, (const struct sockaddr *)&r->bound,
                              r->bound_len, flags) < 0)
        return -EIO;
    fwd_unix_cleanup(r);
    memmove(r, r + 1, (t->n - (size_t)i - 1) * sizeof(*r));
    t->n--;
    return 0;
}

/**
 * fwd_publish() - add the --publish forwards
 * @t:		the table
 * @specs:	the specs
 * @n:		how many
 * @cfg:	the configuration
 * @e:		on failure, one line naming the spec and the reason
 *
 * Return: 0 or the negative errno of the first spec that failed (the ones
 *	   before it stay added)
 */
int fwd_publish(struct fwd_table *t, const char *const *specs, size_t n,
                const struct config *cfg, struct err *e)
{
    struct fwd_spec s;
    size_t i;
    int r;

    for (i = 0; i < n; i++) {
        r = fwd_spec_parse_publish(specs[i], cfg, &s, e);
        if (r < 0)
            return r;
        r = fwd_add(t, &s, NULL, e);
        if (r < 0)
            return err_wrap(e, r, "--publish %s", specs[i]);
    }
    return 0;
}

/**
 * fwd_print() - one banner line per forward ("* Forward:  tcp A:P -> B:Q")
 * @t:	the table
 * @f:	where to print (stdout, after config_print())
 */
void fwd_print(const struct fwd_table *t, FILE *f)
{
    char h[INET6_ADDRSTRLEN + IF_NAMESIZE + sizeof(struct sockaddr_un) + 8];
    char g[INET6_ADDRSTRLEN + 8];
    size_t i;

    for (i = 0; i < t->n; i++) {
        const struct fwd_rule *r = &t->rules[i];
        bool v6h = r->spec.host.ss_family == AF_INET6;
        bool v6g = r->spec.guest.ss_family == AF_INET6;

        if (fwd_spec_format_addr(&r->spec.host, h, sizeof(h)) < 0 ||
            fwd_spec_format_addr(&r->spec.guest, g, sizeof(g)) < 0)
            continue;
        if (r->spec.host.ss_family == AF_UNIX)
            fprintf(f, "* %-17s%s %s -> %s:%d\n", "Forward:",
                    fwd_spec_proto_name(r->spec.proto), h, g,
                    fwd_spec_addr_port(&r->spec.guest));
        else
            fprintf(f, "* %-17s%s %s%s%s:%d -> %s%s%s:%d\n", "Forward:",
                    fwd_spec_proto_name(r->spec.proto), v6h ? "[" : "", h,
                    v6h ? "]" : "", fwd_spec_addr_port(&r->bound),
                    v6g ? "[" : "", g, v6g ? "]" : "",
                    fwd_spec_addr_port(&r->spec.guest));
    }
    fflush(f);
}
